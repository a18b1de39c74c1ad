package runbooks

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// DefaultRulesInclude is what a rules source reads when its Include is
// empty.
var DefaultRulesInclude = []string{"**/*.yaml", "**/*.yml"}

// RulesStatus says how a rules source's last refresh went, and what its
// files held.
type RulesStatus struct {
	Name     string    `json:"name"`
	Revision string    `json:"revision,omitempty"`
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// Files is how many YAML files were read; Rules how many alerting
	// rules they held.
	Files int `json:"files"`
	Rules int `json:"rules"`
	// Skipped counts the files that hold YAML of another kind; Templates
	// the Helm or Go templates, whose rules are not read until rendered;
	// Broken the files that are not YAML.
	Skipped   int `json:"skipped"`
	Templates int `json:"templates"`
	Broken    int `json:"broken"`
	// Diagnostics say, with file and line, what could not be read.
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Error is the last refresh's error. When set, the source keeps its
	// rules of LoadedAt.
	Error string `json:"error,omitempty"`
}

type ruleState struct {
	src    Source
	cfg    SourceConfig
	files  map[string]ruleFile // by path
	rules  []Rule
	status RulesStatus
}

// ruleFile is what one file held, kept so that an unchanged file is not
// parsed again.
type ruleFile struct {
	hash  string
	rules []Rule
	diags []Diagnostic
	kind  RuleFileKind
}

// AddRules registers a source of alert rules: Prometheus rule files and
// PrometheusRule objects, chosen by cfg's globs (DefaultRulesInclude when
// it has none). Its name must differ from every other source's, of pages
// or of rules.
func (l *Library) AddRules(src Source, cfg SourceConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if src.Name() == "" || strings.ContainsAny(src.Name(), ": /") {
		return fmt.Errorf("runbooks: rules source name %q must be non-empty, without spaces, colons or slashes", src.Name())
	}
	if len(cfg.Include) == 0 {
		cfg.Include = DefaultRulesInclude
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.named(src.Name()) {
		return fmt.Errorf("runbooks: two sources are named %q (a runbooks source and a rules source need different names)", src.Name())
	}
	l.ruleSources = append(l.ruleSources, &ruleState{src: src, cfg: cfg, files: map[string]ruleFile{},
		status: RulesStatus{Name: src.Name()}})
	return nil
}

// named reports whether a source of pages or rules has the name. l.mu is
// held.
func (l *Library) named(name string) bool {
	for _, s := range l.sources {
		if s.src.Name() == name {
			return true
		}
	}
	for _, s := range l.ruleSources {
		if s.src.Name() == name {
			return true
		}
	}
	return false
}

// refreshRules syncs a rules source when fetch is set, and reads its
// files again, parsing only those whose content changed. It reports
// whether the source's rules changed.
func (l *Library) refreshRules(ctx context.Context, s *ruleState, fetch bool) (bool, error) {
	name := s.src.Name()
	fail := func(err error) (bool, error) {
		l.mu.Lock()
		s.status.Error = err.Error()
		l.mu.Unlock()
		l.logger.Warn("rules source not refreshed; keeping the rules read last", "source", name, "err", err)
		return false, err
	}
	var syncErr error
	if fetch {
		syncErr = s.src.Sync(ctx)
	}
	snap, err := s.src.Snapshot(ctx)
	if err != nil {
		if syncErr != nil {
			err = syncErr
		}
		return fail(err)
	}
	paths, problems, err := ListPages(snap.FS, s.cfg)
	if err != nil {
		return fail(fmt.Errorf("runbooks: rules source %s: %w", name, err))
	}
	files := make(map[string]ruleFile, len(paths))
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		files[p] = readRuleFile(snap.FS, p, s.files[p])
	}
	st := RulesStatus{Name: name, Revision: snap.Revision, Files: len(paths), Diagnostics: problems}
	var rules []Rule
	for _, p := range paths {
		f := files[p]
		switch f.kind {
		case RuleFileOther:
			st.Skipped++
		case RuleFileTemplate:
			st.Templates++
		case RuleFileBroken:
			st.Broken++
		}
		for _, r := range f.rules {
			r.Source = name
			rules = append(rules, r)
		}
		st.Diagnostics = append(st.Diagnostics, f.diags...)
	}
	st.Rules = len(rules)
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := !sameRules(s.rules, rules)
	s.files, s.rules = files, rules
	st.LoadedAt = l.now()
	if syncErr != nil {
		st.Error = syncErr.Error()
		if !s.status.LoadedAt.IsZero() {
			st.LoadedAt = s.status.LoadedAt
		}
		l.logger.Warn("rules source could not be synced; serving the last copy", "source", name, "err", syncErr)
	}
	s.status = st
	if changed {
		l.version++
		l.logger.Info("alert rules loaded", "source", name, "revision", snap.Revision, "files", st.Files,
			"rules", st.Rules, "skipped", st.Skipped, "templates", st.Templates, "broken", st.Broken)
	}
	return changed, syncErr
}

// readRuleFile parses one file, or returns prev when its content is the
// same.
func readRuleFile(fsys fs.FS, p string, prev ruleFile) ruleFile {
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return ruleFile{kind: RuleFileBroken, diags: []Diagnostic{{Path: p, Line: 1, Severity: SeverityError,
			Rule: "unreadable", Message: "cannot read the file: " + err.Error()}}}
	}
	h := hashOf(data)
	if prev.hash == h && prev.kind != "" {
		return prev
	}
	rules, diags, kind := ParseRules(p, data)
	return ruleFile{hash: h, rules: rules, diags: diags, kind: kind}
}

func sameRules(a, b []Rule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Path != y.Path || x.Line != y.Line || x.Alert != y.Alert || x.Expr != y.Expr || x.Group != y.Group ||
			x.For != y.For || !sameMap(x.Labels, y.Labels) || !sameMap(x.Annotations, y.Annotations) {
			return false
		}
	}
	return true
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Rules returns the alert rules of every rules source, by source, file
// and line.
func (l *Library) Rules() []Rule {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Rule
	for _, s := range l.ruleSources {
		out = append(out, s.rules...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	return out
}

// RulesStatus reports every rules source's last refresh, in the order
// they were added.
func (l *Library) RulesStatus() []RulesStatus {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]RulesStatus, len(l.ruleSources))
	for i, s := range l.ruleSources {
		out[i] = s.status
	}
	return out
}
