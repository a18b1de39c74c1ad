package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// runRules prints every alert rule of the rules sources with the runbook
// it resolves to. With --missing it prints only the rules without one,
// and exits 1 when there is such a rule or a rule file that is not YAML,
// so that CI catches an alert nobody wrote a runbook for.
func runRules(ctx context.Context, e env, args []string) int {
	var cfgFile string
	var dirs, ruleDirs stringList
	fs := newFlags(e, "rules", &cfgFile)
	asJSON := fs.Bool("json", false, "print one JSON object per rule")
	missing := fs.Bool("missing", false, "print only the rules without a runbook, and exit 1 when there is one")
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	fs.Var(&ruleDirs, "rules", "add a `DIR` of rule files as a rules source (repeatable)")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "breadcrumb rules: unexpected argument %q (rule directories go after --rules)\n", rest[0])
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb rules: %v\n", err)
		return exitUsage
	}
	for _, d := range ruleDirs {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			fmt.Fprintf(e.stderr, "breadcrumb rules: --rules %s: not a directory\n", d)
			return exitUsage
		}
		cfg.AddRulesDir(d)
	}
	if len(cfg.Rules.Sources) == 0 {
		fmt.Fprintln(e.stderr, "breadcrumb rules: no rules source: add rules.sources to the configuration, or give --rules DIR")
		return exitUsage
	}
	lib, ok := cliRunbooks(ctx, e, "rules", cfg, dirs)
	if !ok {
		return exitUsage
	}
	reports := search.NewMatcher(lib, nil).Rules()
	broken := 0
	for _, st := range lib.RulesStatus() {
		broken += st.Broken
		for _, d := range st.Diagnostics {
			fmt.Fprintf(e.stderr, "%s/%s\n", st.Name, d)
		}
	}
	without := 0
	for _, r := range reports {
		if r.Runbook == nil {
			without++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, r := range reports {
			if *missing && r.Runbook != nil {
				continue
			}
			if err := enc.Encode(r); err != nil {
				return exitUsage
			}
		}
	} else {
		printRules(e.stdout, reports, *missing)
		printRulesSummary(e.stdout, lib.RulesStatus(), len(reports), without, reports)
	}
	if *missing && (without > 0 || broken > 0) {
		return exitProblems
	}
	return exitOK
}

func printRules(w io.Writer, reports []search.RuleReport, missing bool) {
	for _, r := range reports {
		if missing && r.Runbook != nil {
			continue
		}
		where := fmt.Sprintf("%s/%s:%d", r.Source, r.Path, r.Line)
		switch {
		case r.Runbook != nil:
			target := r.Runbook.Source + ":" + r.Runbook.Path
			if r.Runbook.Anchor != "" {
				target += "#" + r.Runbook.Anchor
			}
			fmt.Fprintf(w, "%s: %s → %s (%s)\n", where, r.Alert, target, r.Runbook.Reason)
		case r.BrokenLink != "":
			fmt.Fprintf(w, "%s: %s has no runbook: its link %s leads to no page of the runbook sources\n", where, r.Alert, r.BrokenLink)
		default:
			fmt.Fprintf(w, "%s: %s has no runbook: no runbook annotation, and no page is bound to it or named after it\n", where, r.Alert)
		}
	}
}

func printRulesSummary(w io.Writer, status []runbooks.RulesStatus, n, without int, reports []search.RuleReport) {
	files, skipped, templates, broken := 0, 0, 0, 0
	for _, st := range status {
		files += st.Files
		skipped += st.Skipped
		templates += st.Templates
		broken += st.Broken
	}
	links := 0
	for _, r := range reports {
		if r.BrokenLink != "" {
			links++
		}
	}
	fmt.Fprintf(w, "%d %s in %d %s: %d with a runbook, %d without", n, plural(n, "alert rule", "alert rules"),
		files, plural(files, "file", "files"), n-without, without)
	if links > 0 {
		fmt.Fprintf(w, "; %d %s to no page", links, plural(links, "link leads", "links lead"))
	}
	if skipped+templates+broken > 0 {
		fmt.Fprintf(w, "; skipped %d other YAML %s, %d %s, %d broken", skipped, plural(skipped, "file", "files"),
			templates, plural(templates, "template", "templates"), broken)
	}
	fmt.Fprintln(w)
}
