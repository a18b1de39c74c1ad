package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func runShow(_ context.Context, e env, args []string) int {
	var cfgFile string
	var asJSON bool
	fs := newFlags(e, "show", &cfgFile)
	fs.BoolVar(&asJSON, "json", false, "print the runbook as one JSON object (documented in docs/show-json.md)")
	files, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb show: %v\n", err)
		return exitUsage
	}
	file := files[0]
	if st, err := os.Stat(file); err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb show: %v\n", err)
		return exitUsage
	} else if st.IsDir() {
		fmt.Fprintf(e.stderr, "breadcrumb show: %s is a directory; show takes one page (lint takes directories)\n", file)
		return exitUsage
	}
	root, rel, err := pageRoot(file)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb show: %v\n", err)
		return exitUsage
	}
	fsys := os.DirFS(root)
	rb := runbooks.ReadPage(fsys, rel, runbooks.ParseOptions{Source: "file", MaxPageSize: cfg.Runbooks.MaxPageSize}, nil)
	if hasRule(rb, "unreadable") {
		fmt.Fprintf(e.stderr, "breadcrumb show: %s: %s\n", file, rb.Diagnostics[0].Message)
		return exitUsage
	}
	rb.Diagnostics = runbooks.LintLinks([]*runbooks.Runbook{rb}, fsys)
	runbooks.SortDiagnostics(rb.Diagnostics)
	if asJSON {
		b, err := json.Marshal(rb)
		if err != nil {
			fmt.Fprintf(e.stderr, "breadcrumb show: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return exitOK
	}
	printRunbook(e.stdout, rb)
	return exitOK
}

// printRunbook writes what was understood of a page for a person to read.
func printRunbook(w io.Writer, rb *runbooks.Runbook) {
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-13s %s\n", name+":", value)
		}
	}
	field("Title", rb.Title)
	if rb.H1 != "" && rb.H1 != rb.Title {
		field("H1", rb.H1)
	}
	field("File name", rb.Name)
	field("Front matter", rb.FrontMatter)
	field("Description", rb.Description)
	field("Service", rb.Service)
	field("Team", rb.Team)
	field("Owners", strings.Join(rb.Owners, ", "))
	field("Severity", rb.Severity)
	field("Tags", strings.Join(rb.Tags, ", "))
	field("Aliases", strings.Join(rb.Aliases, ", "))
	if len(rb.Alerts) == 0 {
		field("Alerts", "none (the page is not bound to an alert)")
	}
	for i, a := range rb.Alerts {
		var ms []string
		for _, m := range a.Matchers {
			ms = append(ms, m.String())
		}
		desc := a.Name
		if len(ms) > 0 {
			desc = strings.TrimSpace(desc + " {" + strings.Join(ms, ", ") + "}")
		}
		label := ""
		if i == 0 {
			label = "Alerts"
		}
		fmt.Fprintf(w, "%-13s %s (from %s)\n", label+map[bool]string{true: ":", false: ""}[label != ""], desc, strings.ReplaceAll(a.From, "_", " "))
	}
	for _, list := range []struct {
		title string
		items []runbooks.Breadcrumb
	}{{"Dashboards", rb.Dashboards}, {"Breadcrumbs", rb.Breadcrumbs}} {
		if len(list.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", list.title)
		for _, b := range list.items {
			target := b.URL
			if b.Query != "" {
				target = b.Query
				if b.Datasource != "" {
					target = b.Datasource + ": " + target
				}
			}
			fmt.Fprintf(w, "  %-10s %s  %s\n", b.Kind, b.Name, target)
		}
	}
	fmt.Fprintf(w, "\nSections (%d):\n", len(rb.Sections))
	for _, s := range rb.Sections {
		fmt.Fprintf(w, "  line %-5d %s %s  [%s]\n", s.Line, strings.Repeat("#", s.Level), s.Heading, s.Kind)
	}
	how := ""
	if rb.StepsFrom != nil {
		how = " from " + string(rb.StepsFrom.Rule)
		if len(rb.StepsFrom.Sections) > 0 {
			how += " in " + strings.Join(rb.StepsFrom.Sections, ", ")
		}
	}
	fmt.Fprintf(w, "\nSteps (%d%s):\n", len(rb.Steps), how)
	for _, s := range rb.Steps {
		section := ""
		if s.Section != "" {
			section = "  [" + s.Section + "]"
		}
		fmt.Fprintf(w, "  %2d. %s%s  (line %d)\n", s.Number, s.Title, section, s.Line)
		for _, c := range s.Commands {
			lang := c.Lang
			if c.Inline {
				lang = "inline"
			} else if lang == "" {
				lang = "code"
			}
			lines := strings.Split(c.Code, "\n")
			for i, l := range lines {
				prefix := fmt.Sprintf("      %-8s", lang)
				if i > 0 {
					prefix = strings.Repeat(" ", 14)
				}
				fmt.Fprintf(w, "%s %s\n", prefix, l)
			}
			if c.Output != "" {
				n := strings.Count(c.Output, "\n") + 1
				fmt.Fprintf(w, "%s (and %d %s of sample output)\n", strings.Repeat(" ", 14), n, plural(n, "line", "lines"))
			}
		}
	}
	if len(rb.Links) > 0 {
		fmt.Fprintf(w, "\nLinks (%d):\n", len(rb.Links))
		for _, l := range rb.Links {
			target := l.URL
			if l.Target != "" && l.Target != l.URL {
				target += " -> " + l.Target
			}
			fmt.Fprintf(w, "  line %-5d %-8s %s\n", l.Line, l.Kind, target)
		}
	}
	fmt.Fprintf(w, "\nDiagnostics (%d):\n", len(rb.Diagnostics))
	if len(rb.Diagnostics) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, d := range rb.Diagnostics {
		fmt.Fprintf(w, "  %s\n", d)
	}
}
