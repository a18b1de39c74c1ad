package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func runLint(_ context.Context, e env, args []string) int {
	var cfgFile, format, failOn string
	var notes bool
	fs := newFlags(e, "lint", &cfgFile)
	fs.StringVar(&format, "format", "text", "output `format`: text, json (one diagnostic per line) or github (Actions annotations)")
	fs.StringVar(&failOn, "fail-on", "warning", "lowest `severity` that makes the exit code 1: error or warning")
	fs.BoolVar(&notes, "notes", false, "also print notes (such as a page with no steps), which never fail the run")
	paths, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if format != "text" && format != "json" && format != "github" {
		fmt.Fprintf(e.stderr, "breadcrumb lint: --format %q: want text, json or github\n", format)
		return exitUsage
	}
	if failOn != "error" && failOn != "warning" {
		fmt.Fprintf(e.stderr, "breadcrumb lint: --fail-on %q: want error or warning\n", failOn)
		return exitUsage
	}
	if len(paths) == 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb lint: %v\n", err)
		return exitUsage
	}
	res, err := lintPaths(paths, cfg.Runbooks.MaxPageSize)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb lint: %v\n", err)
		return exitUsage
	}
	var errs, warns int
	for _, d := range res.diags {
		switch d.Severity {
		case runbooks.SeverityError:
			errs++
		case runbooks.SeverityWarning:
			warns++
		case runbooks.SeverityNote:
			if !notes {
				continue
			}
		}
		writeDiagnostic(e.stdout, format, d)
	}
	if format == "text" {
		fmt.Fprintf(e.stderr, "%d %s checked: %d %s, %d %s\n", res.pages, plural(res.pages, "page", "pages"),
			errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
	}
	if errs > 0 || (failOn == "warning" && warns > 0) {
		return exitProblems
	}
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type lintResult struct {
	pages int
	diags []runbooks.Diagnostic
}

// lintPaths lints every page under the given files and directories. Pages
// are checked in groups that share a root (each directory argument, and
// the directory of each file argument), so that relative links resolve as
// they do in the repository; duplicate alerts are found across all of
// them. Paths in the diagnostics are the arguments joined with each page's
// path, as a user or a CI annotation expects.
func lintPaths(args []string, maxPageSize int) (lintResult, error) {
	type group struct {
		root  string
		files []string          // slash paths relative to root; nil = every page
		shown map[string]string // how a file argument was written
	}
	var groups []*group
	byRoot := map[string]*group{}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return lintResult{}, err
		}
		if st.IsDir() {
			groups = append(groups, &group{root: a})
			continue
		}
		root, rel, err := pageRoot(a)
		if err != nil {
			return lintResult{}, err
		}
		g := byRoot[root]
		if g == nil {
			g = &group{root: root, files: []string{}, shown: map[string]string{}}
			byRoot[root] = g
			groups = append(groups, g)
		}
		g.files = append(g.files, rel)
		g.shown[rel] = a
	}
	var res lintResult
	var all []*runbooks.Runbook
	// A page named twice (a file and its directory, overlapping
	// directories, a glob and a file) is read once: otherwise it would be
	// counted twice and bind its own alerts a second time.
	seen := map[string]bool{}
	for _, g := range groups {
		fsys := os.DirFS(g.root)
		display := func(p string) string {
			if shown, ok := g.shown[p]; ok {
				return shown
			}
			if g.root == "." {
				return filepath.FromSlash(p)
			}
			return filepath.Join(g.root, filepath.FromSlash(p))
		}
		files := g.files
		if files == nil {
			var problems []runbooks.Diagnostic
			var err error
			if files, problems, err = runbooks.ListPages(fsys, runbooks.SourceConfig{}); err != nil {
				return lintResult{}, fmt.Errorf("%s: %w", g.root, err)
			}
			for _, d := range problems {
				d.Path = display(d.Path)
				res.diags = append(res.diags, d)
			}
		}
		var pages []*runbooks.Runbook
		for _, f := range files {
			abs, err := filepath.Abs(filepath.Join(g.root, filepath.FromSlash(f)))
			if err != nil {
				return lintResult{}, err
			}
			if seen[abs] {
				continue
			}
			seen[abs] = true
			// An unreadable page is an error diagnostic like any other, so
			// that it does not hide the problems of the other pages.
			pages = append(pages, runbooks.ReadPage(fsys, f, runbooks.ParseOptions{Source: "lint", MaxPageSize: maxPageSize}, nil))
		}
		for _, d := range runbooks.LintLinks(pages, fsys) {
			d.Path = display(d.Path)
			res.diags = append(res.diags, d)
		}
		for _, rb := range pages {
			cp := *rb
			cp.Path = display(rb.Path)
			all = append(all, &cp)
		}
		res.pages += len(pages)
	}
	res.diags = append(res.diags, runbooks.DuplicateAlerts(all)...)
	runbooks.SortDiagnostics(res.diags)
	return res, nil
}

// pageRoot finds the directory that a single page's links are relative to:
// the root of the git work tree holding it (where a link starting with "/"
// points), else the page's own directory. It returns that root and the
// page's slash path inside it.
func pageRoot(file string) (root, rel string, err error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", "", err
	}
	root = filepath.Dir(abs)
	for dir := root; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			root = dir
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	rel, err = filepath.Rel(root, abs)
	if err != nil {
		return "", "", err
	}
	return root, filepath.ToSlash(rel), nil
}

func hasRule(rb *runbooks.Runbook, rule string) bool {
	for _, d := range rb.Diagnostics {
		if d.Rule == rule {
			return true
		}
	}
	return false
}

func writeDiagnostic(w io.Writer, format string, d runbooks.Diagnostic) {
	switch format {
	case "json":
		b, _ := json.Marshal(d)
		fmt.Fprintf(w, "%s\n", b)
	case "github":
		level := map[runbooks.Severity]string{runbooks.SeverityError: "error", runbooks.SeverityWarning: "warning"}[d.Severity]
		if level == "" {
			level = "notice"
		}
		fmt.Fprintf(w, "::%s file=%s,line=%d,title=%s::%s\n", level, ghProperty(filepath.ToSlash(d.Path)), max(d.Line, 1),
			ghProperty("breadcrumb "+d.Rule), ghData(d.Message))
	default:
		fmt.Fprintln(w, d.String())
	}
}

// ghData escapes a GitHub Actions workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
