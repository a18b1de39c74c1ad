package runbooks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// SourceConfig describes how a source's pages are chosen and where they are
// published.
type SourceConfig struct {
	// Include lists glob patterns (with ** for any depth) of the pages to
	// read, relative to the source root. Empty means DefaultInclude.
	Include []string
	// Exclude lists glob patterns of pages to skip.
	Exclude []string
	// RepoURL is the web address of the repository (GitHub or GitLab), so
	// that an alert's runbook_url pointing at a blob or tree resolves to a
	// page.
	RepoURL string
	// RepoPath is the path of the source's root inside that repository
	// (a git source's subdir), so that a link to
	// REPO/blob/main/RepoPath/x.md finds the page x.md.
	RepoPath string
	// SiteURLs are base addresses of a rendered site of the pages.
	SiteURLs []string
}

// DefaultInclude is what a source reads when its Include is empty.
var DefaultInclude = []string{"**/*.md", "**/*.markdown"}

// Validate checks the globs.
func (c SourceConfig) Validate() error {
	for _, g := range append(append([]string{}, c.Include...), c.Exclude...) {
		if !doublestar.ValidatePattern(g) {
			return fmt.Errorf("runbooks: invalid glob %q", g)
		}
	}
	return nil
}

// wants reports whether the page at slash path p is selected.
func (c SourceConfig) wants(p string) bool {
	include := c.Include
	if len(include) == 0 {
		include = DefaultInclude
	}
	ok := false
	for _, g := range include {
		if m, _ := doublestar.Match(g, p); m {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for _, g := range c.Exclude {
		if m, _ := doublestar.Match(g, p); m {
			return false
		}
	}
	return true
}

// SourceStatus says how a source's last refresh went.
type SourceStatus struct {
	Name     string    `json:"name"`
	Revision string    `json:"revision,omitempty"`
	Pages    int       `json:"pages"`
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// Error is the last refresh's error. When set, the source keeps
	// serving the pages it read at LoadedAt.
	Error string `json:"error,omitempty"`
}

// Changes lists the IDs of the pages a refresh added, changed or removed,
// and says whether the alert rules changed.
type Changes struct {
	Added   []string
	Changed []string
	Removed []string
	// Rules is true when a rules source's rules changed.
	Rules bool
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return len(c.Added)+len(c.Changed)+len(c.Removed) == 0 && !c.Rules }

// Library holds the pages of every source and keeps them current.
type Library struct {
	logger  *slog.Logger
	opts    ParseOptions
	cache   *pageCache // nil without LibraryOptions.CacheDir
	now     func() time.Time
	mu      sync.RWMutex
	sources []*sourceState
	// ruleSources hold alert rules (see AddRules).
	ruleSources []*ruleState
	// With LibraryOptions.Slim, fresh holds the pages parsed by the last
	// refreshes whole, until ReleaseFresh, and whole the last pages that
	// Get read whole again.
	slim    bool
	fresh   map[string]*Runbook
	whole   *pageLRU
	version uint64 // incremented whenever a page or a rule is added, changed or removed
}

type sourceState struct {
	src    Source
	cfg    SourceConfig
	pages  map[string]*Runbook // by path
	status SourceStatus
	// cacheRead is set once the source's pages have been loaded, with
	// what the parse cache held: later refreshes compare with s.pages.
	cacheRead bool
	// snap is the source as it was last read, for Get to read a slim
	// page whole again.
	snap Snapshot
}

// LibraryOptions configure a Library.
type LibraryOptions struct {
	Logger *slog.Logger
	// MaxPageSize is passed to Parse.
	MaxPageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheDir, when set, keeps each source's parsed pages in a file
	// there (created when missing), so that the first load after a
	// restart parses only the pages whose content changed. The file of a
	// source is rewritten after each refresh that changed its pages. A
	// cache of another ParserVersion, another build of the program or
	// another MaxPageSize is ignored.
	CacheDir string
	// Slim keeps only slim pages in memory (see Runbook.Slim), and in
	// the parse cache: what matching, lists and the index's bookkeeping
	// need. Get reads a page whole again from its source when asked, and
	// keeps the last few it read. The pages parsed by a refresh are kept
	// whole too, for the index to read, until ReleaseFresh.
	Slim bool
}

// NewLibrary returns an empty library.
func NewLibrary(opts LibraryOptions) *Library {
	l := &Library{logger: opts.Logger, opts: ParseOptions{MaxPageSize: opts.MaxPageSize}, now: opts.Now, slim: opts.Slim}
	if l.slim {
		l.whole = newPageLRU(wholePages)
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if opts.CacheDir != "" {
		l.cache = newPageCache(opts.CacheDir)
	}
	return l
}

// Add registers a source. Names must be unique.
func (l *Library) Add(src Source, cfg SourceConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if src.Name() == "" || strings.ContainsAny(src.Name(), ": /") {
		return fmt.Errorf("runbooks: source name %q must be non-empty, without spaces, colons or slashes", src.Name())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.named(src.Name()) {
		return fmt.Errorf("runbooks: two sources are named %q", src.Name())
	}
	l.sources = append(l.sources, &sourceState{src: src, cfg: cfg, pages: map[string]*Runbook{},
		status: SourceStatus{Name: src.Name()}})
	return nil
}

// Refresh syncs every source and reloads the pages whose content changed.
// A source that fails keeps its previous pages; the error names it, and
// the other sources are refreshed all the same.
func (l *Library) Refresh(ctx context.Context) (Changes, error) {
	return l.RefreshWith(ctx, nil)
}

// RefreshWith is Refresh, but syncs only the sources for which fetch
// returns true; the others are read again as they are (a git source at
// the revision it fetched last, a directory as it is now, since its Sync
// does nothing). Replicas sharing one store use it so that only the
// leader asks the remote on every round, and the others fetch a source
// only when the leader has published a revision they do not serve. A
// source that is read without a sync and read well has no error in its
// status, since it serves the copy it was meant to. A nil fetch syncs
// every source.
func (l *Library) RefreshWith(ctx context.Context, fetch func(source string) bool) (Changes, error) {
	l.mu.RLock()
	sources := append([]*sourceState(nil), l.sources...)
	ruleSources := append([]*ruleState(nil), l.ruleSources...)
	l.mu.RUnlock()
	var all Changes
	var errs []error
	for _, s := range sources {
		ch, err := l.refreshSource(ctx, s, fetch == nil || fetch(s.src.Name()))
		all.Added = append(all.Added, ch.Added...)
		all.Changed = append(all.Changed, ch.Changed...)
		all.Removed = append(all.Removed, ch.Removed...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range ruleSources {
		changed, err := l.refreshRules(ctx, s, fetch == nil || fetch(s.src.Name()))
		all.Rules = all.Rules || changed
		if err != nil {
			errs = append(errs, err)
		}
	}
	return all, errors.Join(errs...)
}

func (l *Library) refreshSource(ctx context.Context, s *sourceState, fetch bool) (Changes, error) {
	name := s.src.Name()
	fail := func(err error) (Changes, error) {
		l.mu.Lock()
		s.status.Error = err.Error()
		l.mu.Unlock()
		l.logger.Warn("runbook source not refreshed; serving what was read last", "source", name, "err", err)
		return Changes{}, err
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
	prev := s.current()
	if l.cache != nil && !s.cacheRead {
		prev = l.readCache(name)
	}
	pages, err := l.load(ctx, name, snap, s.cfg, prev)
	if err != nil {
		return fail(err)
	}
	if l.slim {
		fresh := map[string]*Runbook{}
		for p, rb := range pages {
			if !rb.IsSlim() {
				fresh[rb.ID] = rb
				pages[p] = rb.Slim()
			}
		}
		l.mu.Lock()
		if l.fresh == nil {
			l.fresh = map[string]*Runbook{}
		}
		for id, rb := range fresh {
			l.fresh[id] = rb
		}
		l.mu.Unlock()
	}
	ch := l.install(s, snap, pages, syncErr)
	// prev is what the cache holds: written at the last change, or read
	// at the first load.
	if l.cache != nil && changedFrom(prev, pages) {
		if err := l.cache.write(name, l.opts, pages); err != nil {
			l.logger.Warn("parsed pages not cached; the next start will parse them again", "source", name, "err", err)
		}
	}
	return ch, syncErr
}

// readCache returns the parsed pages cached for a source, or nil.
func (l *Library) readCache(source string) map[string]*Runbook {
	pages, err := l.cache.read(source, l.opts)
	switch {
	case errors.Is(err, errStale):
		l.logger.Info("cached pages are of another version; parsing every page", "source", source)
	case err != nil:
		l.logger.Warn("cached pages unreadable; parsing every page", "source", source, "err", err)
	}
	return pages
}

// changedFrom reports whether pages differ from prev: a page added,
// removed or of other content.
func changedFrom(prev, pages map[string]*Runbook) bool {
	if len(prev) != len(pages) {
		return true
	}
	for p, rb := range pages {
		if old := prev[p]; old == nil || old.Hash != rb.Hash {
			return true
		}
	}
	return false
}

// install makes pages the source's pages, and returns what changed.
func (l *Library) install(s *sourceState, snap Snapshot, pages map[string]*Runbook, syncErr error) Changes {
	name := s.src.Name()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ch Changes
	for p, rb := range pages {
		old, ok := s.pages[p]
		switch {
		case !ok:
			ch.Added = append(ch.Added, rb.ID)
		case old.Hash != rb.Hash:
			ch.Changed = append(ch.Changed, rb.ID)
		}
	}
	for p, old := range s.pages {
		if _, ok := pages[p]; !ok {
			ch.Removed = append(ch.Removed, old.ID)
		}
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Changed)
	sort.Strings(ch.Removed)
	s.pages = pages
	s.snap = snap
	s.cacheRead = true
	if !ch.Empty() {
		l.version++
	}
	loadedAt := l.now()
	if syncErr != nil && !s.status.LoadedAt.IsZero() {
		// The copy served is the one read at the last successful sync.
		loadedAt = s.status.LoadedAt
	}
	s.status = SourceStatus{Name: name, Revision: snap.Revision, Pages: len(pages), LoadedAt: loadedAt}
	if syncErr != nil {
		s.status.Error = syncErr.Error()
		l.logger.Warn("runbook source could not be synced; serving the last copy", "source", name, "err", syncErr)
	}
	if !ch.Empty() {
		l.logger.Info("runbooks loaded", "source", name, "revision", snap.Revision, "pages", len(pages),
			"added", len(ch.Added), "changed", len(ch.Changed), "removed", len(ch.Removed))
	}
	return ch
}

func (s *sourceState) current() map[string]*Runbook { return s.pages }

// load reads every selected page of a snapshot. A page whose content hash
// is unchanged is not parsed again. Pages are parsed in parallel.
func (l *Library) load(ctx context.Context, source string, snap Snapshot, cfg SourceConfig, prev map[string]*Runbook) (map[string]*Runbook, error) {
	paths, problems, err := ListPages(snap.FS, cfg)
	if err != nil {
		return nil, fmt.Errorf("runbooks: source %s: %w", source, err)
	}
	for _, d := range problems {
		l.logger.Warn("runbook directory skipped", "source", source, "path", d.Path, "err", d.Message)
	}
	out := make(map[string]*Runbook, len(paths))
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	opts := l.opts
	opts.Source, opts.Commit = source, snap.Revision
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				rb := ReadPage(snap.FS, p, opts, prev[p])
				mu.Lock()
				out[p] = rb
				mu.Unlock()
			}
		}()
	}
	for _, p := range paths {
		select {
		case work <- p:
		case <-ctx.Done():
			close(work)
			wg.Wait()
			return nil, ctx.Err()
		}
	}
	close(work)
	wg.Wait()
	return out, nil
}

// ReadPage reads and parses one page of fsys. When prev has the same
// content hash, it is returned again (with the new commit) instead of
// being parsed. A page that cannot be read becomes a Runbook with an error
// diagnostic, so that it is reported rather than silently missing.
func ReadPage(fsys fs.FS, p string, opts ParseOptions, prev *Runbook) *Runbook {
	// A file of a directory whose size and modification time are those
	// the page was read at is not read again (as git and make judge a
	// file): reading 100,000 files to hash them was most of a restart.
	var stamp fileStamp
	if fi, err := fs.Stat(fsys, p); err == nil && !fi.ModTime().IsZero() {
		stamp = fileStamp{size: fi.Size(), modTime: fi.ModTime().UnixNano()}
		if prev != nil && prev.stamp == stamp && prev.Commit == opts.Commit {
			return prev
		}
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		rb := Parse(p, nil, opts)
		rb.Diagnostics = []Diagnostic{{Path: p, Line: 1, Severity: SeverityError, Rule: "unreadable",
			Message: "cannot read the page: " + err.Error()}}
		return rb
	}
	if prev != nil && prev.Hash == hashOf(data) {
		cp := *prev
		cp.Commit, cp.stamp = opts.Commit, stamp
		return &cp
	}
	rb := Parse(p, data, opts)
	rb.stamp = stamp
	return rb
}

// fileStamp is a file's size and modification time, when its file system
// tells them.
type fileStamp struct {
	size    int64
	modTime int64 // Unix nanoseconds
}

// ListPages returns the slash paths of the pages of fsys that cfg selects,
// in lexical order. Hidden directories (.git, .github) and node_modules are
// skipped. A sub-directory that cannot be read hides only itself: it is
// returned as an "unreadable" diagnostic, and the walk goes on.
func ListPages(fsys fs.FS, cfg SourceConfig) ([]string, []Diagnostic, error) {
	var out []string
	var problems []Diagnostic
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			problems = append(problems, Diagnostic{Path: p, Line: 1, Severity: SeverityError, Rule: "unreadable",
				Message: "cannot read this directory; its pages were skipped: " + err.Error()})
			return nil
		}
		if d.IsDir() {
			base := path.Base(p)
			if p != "." && (strings.HasPrefix(base, ".") || base == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && cfg.wants(p) {
			out = append(out, p)
		}
		return nil
	})
	return out, problems, err
}

// Pages returns every page of every source, ordered by ID.
func (l *Library) Pages() []*Runbook {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*Runbook
	for _, s := range l.sources {
		for _, rb := range s.pages {
			out = append(out, rb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Get returns the page with the given ID, whole. A library that keeps
// pages slim reads the page again from its source (or takes it from the
// pages it read last); when that fails, it returns the slim page, and
// logs why.
func (l *Library) Get(id string) (*Runbook, bool) {
	source, p, ok := strings.Cut(id, ":")
	if !ok {
		return nil, false
	}
	l.mu.RLock()
	var rb *Runbook
	var snap Snapshot
	for _, s := range l.sources {
		if s.src.Name() == source {
			rb, snap = s.pages[p], s.snap
			break
		}
	}
	if rb == nil {
		l.mu.RUnlock()
		return nil, false
	}
	if !rb.IsSlim() {
		l.mu.RUnlock()
		return rb, true
	}
	if whole := l.fresh[id]; whole != nil && whole.Hash == rb.Hash {
		l.mu.RUnlock()
		return whole, true
	}
	l.mu.RUnlock()
	if whole, ok := l.whole.get(id, rb.Hash); ok {
		return whole, true
	}
	whole, err := l.readWhole(snap, rb)
	if err != nil {
		l.logger.Warn("runbook page not read again; showing what is kept of it", "id", id, "err", err)
		return rb, true
	}
	l.whole.put(id, whole)
	return whole, true
}

// readWhole reads a slim page's file again and parses it.
func (l *Library) readWhole(snap Snapshot, rb *Runbook) (*Runbook, error) {
	if snap.FS == nil {
		return nil, errors.New("its source has not been read")
	}
	data, err := fs.ReadFile(snap.FS, rb.Path)
	if err != nil {
		return nil, err
	}
	opts := l.opts
	opts.Source, opts.Commit = rb.Source, rb.Commit
	return Parse(rb.Path, data, opts), nil
}

// ReleaseFresh lets go of the whole pages that the last refreshes parsed
// (see LibraryOptions.Slim), once what needed them (the index) has read
// them.
func (l *Library) ReleaseFresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fresh = nil
}

// wholePages is how many pages a slim library keeps whole after Get
// read them again: the runbooks of the incidents at hand.
const wholePages = 64

// pageLRU keeps the last pages read whole, by ID.
type pageLRU struct {
	mu    sync.Mutex
	max   int
	order []string
	pages map[string]*Runbook
}

func newPageLRU(n int) *pageLRU { return &pageLRU{max: n, pages: map[string]*Runbook{}} }

func (c *pageLRU) get(id, hash string) (*Runbook, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rb, ok := c.pages[id]
	if !ok || rb.Hash != hash {
		return nil, false
	}
	c.touch(id)
	return rb, true
}

func (c *pageLRU) put(id string, rb *Runbook) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[id]; !ok && len(c.pages) >= c.max {
		oldest := c.order[0]
		c.order = c.order[1:]
		delete(c.pages, oldest)
	}
	c.pages[id] = rb
	c.touch(id)
}

// touch moves id to the end of the order. c.mu is held.
func (c *pageLRU) touch(id string) {
	for i, x := range c.order {
		if x == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	c.order = append(c.order, id)
}

// Status reports every source's last refresh, in the order they were
// added.
func (l *Library) Status() []SourceStatus {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]SourceStatus, len(l.sources))
	for i, s := range l.sources {
		out[i] = s.status
	}
	return out
}

// Revisions returns the revision each source serves, by source name: the
// commit of a git source's pages or rules, "" for a source without
// revisions (a directory) or one not read yet.
func (l *Library) Revisions() map[string]string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]string, len(l.sources)+len(l.ruleSources))
	for _, s := range l.sources {
		out[s.src.Name()] = s.status.Revision
	}
	for _, s := range l.ruleSources {
		out[s.src.Name()] = s.status.Revision
	}
	return out
}

// Version changes whenever the set of pages or their content changes, so
// that what is derived from the pages can tell when to derive it again.
func (l *Library) Version() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.version
}

// Config returns the configuration a source was added with.
func (l *Library) Config(source string) (SourceConfig, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, s := range l.sources {
		if s.src.Name() == source {
			return s.cfg, true
		}
	}
	return SourceConfig{}, false
}
