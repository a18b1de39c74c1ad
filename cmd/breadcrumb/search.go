package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// cliRunbooks loads the configured runbooks for a command-line tool: the
// sources of the configuration plus --runbooks directories. A source that
// fails is reported on stderr; the others are used.
func cliRunbooks(ctx context.Context, e env, cmd string, cfg *app.Config, dirs []string) (*runbooks.Library, bool) {
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	lib, err := app.NewLibrary(cfg, dirs, e.getenv, logger, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb %s: %v\n", cmd, err)
		return nil, false
	}
	if _, err := lib.Refresh(ctx); err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb %s: warning: %v\n", cmd, err)
	}
	return lib, true
}

// openSearchIndex opens the index under the data directory and brings it
// up to date with the library's pages and what its alert rules say of
// them, with a progress bar when stderr is a terminal.
func openSearchIndex(e env, cmd string, cfg *app.Config, lib *runbooks.Library, showProgress bool) (*search.Index, search.UpdateStats, bool) {
	ix, err := search.Open(search.Config{Dir: filepath.Join(cfg.DataDir, "search")})
	if err != nil {
		if errors.Is(err, search.ErrLocked) {
			fmt.Fprintf(e.stderr, "breadcrumb %s: %v\nUse the running server's /api/search, or point --config at another data_dir.\n", cmd, err)
		} else {
			fmt.Fprintf(e.stderr, "breadcrumb %s: %v\n", cmd, err)
		}
		return nil, search.UpdateStats{}, false
	}
	var progress search.Progress
	if showProgress && isTerminal(e.stderr) {
		progress = progressBar(e.stderr, "indexing")
	}
	st, err := ix.UpdateNoted(lib.Pages(), search.NewMatcher(lib, nil).Notes(), progress)
	if err != nil {
		_ = ix.Close()
		fmt.Fprintf(e.stderr, "breadcrumb %s: %v\n", cmd, err)
		return nil, st, false
	}
	return ix, st, true
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws "indexing [=====>    ] 1200/5000" on one line.
func progressBar(w io.Writer, label string) search.Progress {
	const width = 30
	return func(done, total int) {
		if total == 0 {
			return
		}
		n := done * width / total
		bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
		fmt.Fprintf(w, "\r%s [%s] %d/%d", label, bar, done, total)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

func runIndex(ctx context.Context, e env, args []string) int {
	var cfgFile string
	var dirs stringList
	fs := newFlags(e, "index", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "breadcrumb index: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb index: %v\n", err)
		return exitUsage
	}
	start := time.Now()
	lib, ok := cliRunbooks(ctx, e, "index", cfg, dirs)
	if !ok {
		return exitUsage
	}
	ix, st, ok := openSearchIndex(e, "index", cfg, lib, true)
	if !ok {
		return exitUsage
	}
	defer ix.Close()
	rebuilt := ""
	if ix.Rebuilt() {
		rebuilt = " (new index)"
	}
	fmt.Fprintf(e.stdout, "%d pages in the index%s: %d indexed, %d removed, %d unchanged, in %s\n",
		ix.Len(), rebuilt, st.Indexed, st.Deleted, st.Unchanged, time.Since(start).Round(time.Millisecond))
	return exitOK
}

func runSearch(ctx context.Context, e env, args []string) int {
	var cfgFile string
	var dirs stringList
	var asJSON bool
	var limit int
	fs := newFlags(e, "search", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per hit")
	fs.IntVar(&limit, "limit", 10, "at most `N` hits")
	words, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	text := strings.TrimSpace(strings.Join(words, " "))
	if text == "" || limit <= 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb search: %v\n", err)
		return exitUsage
	}
	lib, ok := cliRunbooks(ctx, e, "search", cfg, dirs)
	if !ok {
		return exitUsage
	}
	ix, _, ok := openSearchIndex(e, "search", cfg, lib, false)
	if !ok {
		return exitUsage
	}
	defer ix.Close()
	hits, err := ix.Search(ctx, search.Query{Text: text, Limit: limit})
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb search: %v\n", err)
		return exitUsage
	}
	if asJSON {
		for _, h := range hits {
			b, _ := json.Marshal(h)
			fmt.Fprintf(e.stdout, "%s\n", b)
		}
		return exitOK
	}
	if len(hits) == 0 {
		fmt.Fprintf(e.stdout, "No runbook matches %q.\n", text)
		return exitOK
	}
	bold := isTerminal(e.stdout)
	for i, h := range hits {
		fuzzy := ""
		if h.Fuzzy {
			fuzzy = " (spelling tolerated)"
		}
		fmt.Fprintf(e.stdout, "%d. %s%s\n   %s:%s\n", i+1, h.Title, fuzzy, h.Source, h.Path)
		if s := renderSnippet(h.Snippet, bold); s != "" {
			fmt.Fprintf(e.stdout, "   %s\n", s)
		}
	}
	return exitOK
}

// renderSnippet marks the matched words in bold on a terminal, and with
// asterisks elsewhere.
func renderSnippet(s search.Snippet, ansi bool) string {
	open, closeMark := "*", "*"
	if ansi {
		open, closeMark = "\x1b[1m", "\x1b[0m"
	}
	var b strings.Builder
	last := 0
	for _, m := range s.Marks {
		if m[0] < last || m[1] > len(s.Text) {
			continue
		}
		b.WriteString(printable(s.Text[last:m[0]]))
		b.WriteString(open + printable(s.Text[m[0]:m[1]]) + closeMark)
		last = m[1]
	}
	b.WriteString(printable(s.Text[last:]))
	return b.String()
}

// printable replaces control characters, so that a runbook cannot send
// escape sequences to the reader's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
