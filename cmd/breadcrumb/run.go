package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitProblems = 1 // lint found problems
	exitUsage    = 2 // bad usage, unreadable input, or a command not built yet
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

// env is what every subcommand gets from run.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "serve [--config FILE] [--runbooks DIR]...", "run the service: HTTP endpoints, webhooks, Slack, runbook sync", runServe},
		{"lint", "lint [--config FILE] [--format text|json|github] [--fail-on error|warning] [--notes] PATH...", "check runbooks; exit 0 clean, 1 problems, 2 usage or I/O error", runLint},
		{"show", "show [--config FILE] [--json] FILE", "print what breadcrumb understood of one runbook", runShow},
		{"index", "index [--config FILE] [--runbooks DIR]...", "build or update the search index", runIndex},
		{"search", "search [--config FILE] [--json] [--limit N] [--runbooks DIR]... QUERY", "full-text search over the runbooks", runSearch},
		{"match", "match [--config FILE] [--json] [--limit N] [--runbooks DIR]... [--alerts] FILE", "rank runbooks for the alerts of a webhook body", runMatch},
		{"rules", "rules [--config FILE] [--json] [--missing] [--rules DIR]... [--runbooks DIR]...", "every alert rule with the runbook it resolves to; --missing exits 1 when one has none", runRules},
		{"incidents", "incidents [--config FILE] list [--status S] [--service NAME] [--limit N] [--json] | show ID [--json] | export ID [--format md|html|json] [--out FILE]", "read the incident store", runIncidents},
		{"version", "version", "print version, commit and Go version", runVersion},
	}
}

// run is the whole program: it returns the process's exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(app.BuildGOGC)
	}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	case "--version", "-version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "breadcrumb: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Breadcrumb: on-call runbooks and incidents in Slack.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  breadcrumb %-72s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config FILE. Run 'breadcrumb COMMAND -h' for its flags.")
}

// newFlags makes a flag set for a subcommand that prints its usage line and
// reports errors to stderr; every subcommand accepts --config.
func newFlags(e env, c string, configFile *string) *flag.FlagSet {
	fs := flag.NewFlagSet("breadcrumb "+c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	for _, cmd := range commands() {
		if cmd.name == c {
			fs.Usage = func() {
				fmt.Fprintf(e.stderr, "Usage: breadcrumb %s\n\n%s.\n\nFlags:\n", cmd.usage, cmd.summary)
				fs.PrintDefaults()
			}
		}
	}
	fs.StringVar(configFile, "config", "", "configuration `FILE` (default breadcrumb.yaml when present)")
	return fs
}

// parseFlags parses args, letting flags and positional arguments mix
// ("lint docs/ --format json"). It returns the positional arguments and
// whether to go on; on -h or an error it has already printed usage.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		remaining := fs.Args()
		// Parse consumes the "--" that ends the flags, so it is seen as
		// the last argument it took: everything after it is positional,
		// even what looks like a flag.
		if n := len(args) - len(remaining); n > 0 && args[n-1] == "--" {
			return append(rest, remaining...), 0, true
		}
		if len(remaining) == 0 {
			return rest, 0, true
		}
		rest = append(rest, remaining[0])
		args = remaining[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runVersion(_ context.Context, e env, args []string) int {
	var cfg string
	fs := newFlags(e, "version", &cfg)
	if _, code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c := commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	fmt.Fprintf(e.stdout, "breadcrumb %s\ncommit %s\n%s %s/%s\n", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
