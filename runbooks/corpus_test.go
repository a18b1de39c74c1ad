package runbooks

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestSharedCorpus loads every page of a corpus of runbooks written by
// others and reports what was understood: pages, steps, commands, and the
// pages with no steps and why. It needs the corpora beside the repository
// (../shared/corpora) or a directory named by BREADCRUMB_CORPUS, and is
// skipped without them. Run it with -v to read the report.
func TestSharedCorpus(t *testing.T) {
	dir := os.Getenv("BREADCRUMB_CORPUS")
	if dir == "" {
		dir = "../../shared/corpora"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s: set BREADCRUMB_CORPUS to a directory of runbooks to run this check", dir)
	}
	lib := NewLibrary(LibraryOptions{})
	if err := lib.Add(NewDirSource("corpus", dir), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	pages := lib.Pages()
	if len(pages) == 0 {
		t.Fatalf("no pages loaded from %s", dir)
	}
	var steps, commands, withSteps int
	rules := map[StepRule]int{}
	var noSteps []string
	for _, rb := range pages {
		steps += len(rb.Steps)
		for _, s := range rb.Steps {
			commands += len(s.Commands)
		}
		if len(rb.Steps) > 0 {
			withSteps++
			rules[rb.StepsFrom.Rule]++
			continue
		}
		why := "no procedure section and no numbered list"
		switch {
		case rb.Index:
			why = "a Hugo section index page"
		case findRule(rb, "empty-file") != nil:
			why = "empty file"
		case hasEmptyProcedureSections(rb):
			why = "its procedure sections are empty"
		}
		noSteps = append(noSteps, rb.Path+": "+why)
	}
	var ruleList []string
	for r, n := range rules {
		ruleList = append(ruleList, string(r)+"="+itoa(n))
	}
	sort.Strings(ruleList)
	problems := Lint(pages, os.DirFS(dir))
	bySeverity := map[Severity]int{}
	for _, d := range problems {
		bySeverity[d.Severity]++
	}
	t.Logf("%d pages loaded; %d with steps (%s); %d steps with %d commands; lint: %d errors, %d warnings, %d notes",
		len(pages), withSteps, strings.Join(ruleList, " "), steps, commands,
		bySeverity[SeverityError], bySeverity[SeverityWarning], bySeverity[SeverityNote])
	for _, p := range noSteps {
		t.Logf("no steps: %s", p)
	}
}

func hasEmptyProcedureSections(rb *Runbook) bool {
	for _, s := range rb.Sections {
		if s.Kind == SectionProcedure {
			return true
		}
	}
	return false
}
