package app

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks/gitsource"
)

// NewLibrary builds the runbook library from the configured sources plus
// the --runbooks directories. With neither, it reads ./runbooks when that
// holds pages and the bundled examples otherwise. With cache, parsed pages
// are kept under the data directory for the next start; only serve uses
// it, so that a command-line tool of another build, run beside the
// server, does not overwrite the server's cache.
func NewLibrary(cfg *Config, extraDirs []string, getenv func(string) string, logger *slog.Logger, cache bool) (*runbooks.Library, error) {
	opts := runbooks.LibraryOptions{Logger: logger, MaxPageSize: cfg.Runbooks.MaxPageSize}
	if cache {
		// The service keeps its pages slim, and in a cache for the next
		// start: only the pages of incidents and readers are read whole.
		opts.CacheDir = filepath.Join(cfg.DataDir, "pages")
		opts.Slim = true
	}
	lib := runbooks.NewLibrary(opts)
	for _, s := range cfg.Runbooks.Sources {
		src, err := newSource(cfg, s, getenv, logger)
		if err != nil {
			return nil, err
		}
		sc := runbooks.SourceConfig{Include: s.Include, Exclude: s.Exclude, RepoURL: s.RepoURL, RepoPath: s.RepoPath, SiteURLs: s.SiteURLs}
		if s.Git != nil && sc.RepoPath == "" {
			sc.RepoPath = s.Git.Subdir
		}
		if err := lib.Add(src, sc); err != nil {
			return nil, err
		}
	}
	for _, s := range cfg.Rules.Sources {
		src, err := newSource(cfg, s, getenv, logger)
		if err != nil {
			return nil, err
		}
		sc := runbooks.SourceConfig{Include: s.Include, Exclude: s.Exclude}
		if err := lib.AddRules(src, sc); err != nil {
			return nil, err
		}
	}
	used := map[string]bool{}
	for _, s := range cfg.Runbooks.Sources {
		used[s.Name] = true
	}
	for _, s := range cfg.Rules.Sources {
		used[s.Name] = true
	}
	for _, dir := range extraDirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("--runbooks: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--runbooks %s: not a directory", dir)
		}
		name := uniqueName(used, sourceName(dir))
		if err := lib.Add(runbooks.NewDirSource(name, dir), runbooks.SourceConfig{}); err != nil {
			return nil, err
		}
	}
	if len(cfg.Runbooks.Sources) == 0 && len(extraDirs) == 0 {
		if holdsRunbooks(defaultRunbooksDir) {
			_ = lib.Add(runbooks.NewDirSource("runbooks", defaultRunbooksDir), runbooks.SourceConfig{})
		} else {
			_ = lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{})
			if len(cfg.Rules.Sources) == 0 {
				_ = lib.AddRules(runbooks.NewFSSource("example-rules", examples.Rules()), runbooks.SourceConfig{})
			}
		}
	}
	return lib, nil
}

func newSource(cfg *Config, s sourceConfig, getenv func(string) string, logger *slog.Logger) (runbooks.Source, error) {
	if s.Git == nil {
		return runbooks.NewDirSource(s.Name, s.Path), nil
	}
	tokenEnv, keyEnv := "GIT_TOKEN", "GIT_SSH_KEY_FILE"
	if s.Git.TokenEnv != "" {
		tokenEnv = s.Git.TokenEnv
	}
	if s.Git.SSHKeyEnv != "" {
		keyEnv = s.Git.SSHKeyEnv
	}
	token, err := ReadSecret(getenv, tokenEnv)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	pass, err := ReadSecret(getenv, "GIT_SSH_KEY_PASSPHRASE")
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	// The credentials in the environment serve every git source: give each
	// one only those its URL can use.
	var auth gitsource.Auth
	switch gitTransport(s.Git.URL) {
	case "http":
		if !token.IsZero() {
			auth.Token, auth.Username = token, getenv("GIT_USERNAME")
		}
	case "ssh":
		auth.SSHKeyFile = getenv(keyEnv)
		if auth.SSHKeyFile != "" {
			auth.SSHKeyPassphrase = pass
		}
	}
	src, err := gitsource.New(gitsource.Config{
		Name:   s.Name,
		URL:    s.Git.URL,
		Branch: s.Git.Branch,
		Subdir: s.Git.Subdir,
		Dir:    filepath.Join(cfg.DataDir, "git", s.Name),
		Auth:   auth,
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	return src, nil
}

var scpLike = regexp.MustCompile(`^[\w.-]+@[\w.-]+:`)

// gitTransport tells which credentials a git URL takes: "http", "ssh" or
// "" (a local path or file:// URL).
func gitTransport(u string) string {
	switch {
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return "http"
	case strings.HasPrefix(u, "ssh://"), scpLike.MatchString(u):
		return "ssh"
	}
	return ""
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// sourceName names a --runbooks directory after its last element.
func sourceName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	n := strings.Trim(nonName.ReplaceAllString(filepath.Base(abs), "-"), "-.")
	if n == "" {
		n = "runbooks"
	}
	return n
}

func uniqueName(used map[string]bool, n string) string {
	name := n
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d", n, i)
	}
	used[name] = true
	return name
}

// holdsRunbooks reports whether dir holds at least one markdown page
// outside testdata, hidden, vendor and node_modules directories: a
// ./runbooks that is something else (a Go package of that name, an empty
// directory) does not hide the bundled examples.
func holdsRunbooks(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".md", ".markdown":
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// AddRulesDir adds a directory given on the command line (--rules) as a
// rules source, named after its last element apart from the configured
// sources.
func (c *Config) AddRulesDir(dir string) {
	used := map[string]bool{}
	for _, s := range c.Runbooks.Sources {
		used[s.Name] = true
	}
	for _, s := range c.Rules.Sources {
		used[s.Name] = true
	}
	c.Rules.Sources = append(c.Rules.Sources, sourceConfig{Name: uniqueName(used, sourceName(dir)), Path: dir})
}
