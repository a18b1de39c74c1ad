package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const showPage = "testdata/show/ApiPodRestarting.md"

func TestShowPrintsWhatItUnderstood(t *testing.T) {
	res := runCLI(t, nil, "show", filepath.FromSlash(showPage))
	if res.code != exitOK {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	for _, want := range []string{
		"API pods restarting",
		"ApiPodRestarting (from front matter)",
		"## Diagnosis",
		"## Mitigation",
		"Steps (3",
		"1. Read the last termination reason",
		"2. Check the memory against the limit",
		"3. Roll back the last deploy",
		"kubectl -n api get pods -o wide",
		`container_memory_working_set_bytes{namespace="api"}`,
		"kubectl -n api rollout undo deploy/api",
		"Diagnostics (0)",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output: got\n%s\nwant it to contain %q", res.stdout, want)
		}
	}
}

// shownRunbook is the part of `show --json` that scripts rely on.
type shownRunbook struct {
	Title  string `json:"title"`
	Alerts []struct {
		Name string `json:"name"`
		From string `json:"from"`
		Line int    `json:"line"`
	} `json:"alerts"`
	Sections []struct {
		Heading string `json:"heading"`
		Level   int    `json:"level"`
		Kind    string `json:"kind"`
		Line    int    `json:"line"`
	} `json:"sections"`
	Steps []struct {
		Title    string `json:"title"`
		Body     string `json:"body"`
		Commands []struct {
			Lang string `json:"lang"`
			Code string `json:"code"`
		} `json:"commands"`
		Line int `json:"line"`
	} `json:"steps"`
	Diagnostics []struct {
		Path     string `json:"path"`
		Line     int    `json:"line"`
		Severity string `json:"severity"`
		Rule     string `json:"rule"`
	} `json:"diagnostics"`
}

func TestShowJSONIsOneObjectWithTheDocumentedFields(t *testing.T) {
	res := runCLI(t, nil, "show", "--json", filepath.FromSlash(showPage))
	if res.code != exitOK {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	if got := lines(res.stdout); len(got) != 1 {
		t.Fatalf("output: got %d lines, want one JSON value on one line:\n%s", len(got), res.stdout)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.stdout), &fields); err != nil {
		t.Fatalf("output is not a JSON object: %v", err)
	}
	for _, k := range []string{"title", "alerts", "sections", "steps", "links", "diagnostics"} {
		v, ok := fields[k]
		if !ok {
			t.Errorf("field %q: missing", k)
		} else if string(v) == "null" {
			t.Errorf("field %q: got null, want a value (an empty list when there is nothing)", k)
		}
	}

	var rb shownRunbook
	if err := json.Unmarshal([]byte(res.stdout), &rb); err != nil {
		t.Fatal(err)
	}
	if want := "API pods restarting"; rb.Title != want {
		t.Errorf("title: got %q, want %q", rb.Title, want)
	}
	if len(rb.Alerts) != 1 || rb.Alerts[0].Name != "ApiPodRestarting" || rb.Alerts[0].From != "front_matter" || rb.Alerts[0].Line != 6 {
		t.Errorf("alerts: got %+v, want ApiPodRestarting from front_matter on line 6", rb.Alerts)
	}
	var headings []string
	for _, s := range rb.Sections {
		headings = append(headings, s.Heading)
	}
	if want := []string{"API pods restarting", "Meaning", "Diagnosis", "Mitigation"}; !reflect.DeepEqual(headings, want) {
		t.Errorf("sections: got %q, want %q", headings, want)
	}
	type cmd struct{ lang, code string }
	type step struct {
		title string
		line  int
		cmds  []cmd
	}
	var got []step
	for _, s := range rb.Steps {
		st := step{title: s.Title, line: s.Line}
		for _, c := range s.Commands {
			st.cmds = append(st.cmds, cmd{c.Lang, c.Code})
		}
		if !strings.Contains(s.Body, s.Title) {
			t.Errorf("step %q: body %q does not hold its title", s.Title, s.Body)
		}
		got = append(got, st)
	}
	want := []step{
		{"Read the last termination reason", 17, []cmd{{"bash", "kubectl -n api get pods -o wide"}}},
		{"Check the memory against the limit", 23, []cmd{{"promql", `container_memory_working_set_bytes{namespace="api"}`}}},
		{"Roll back the last deploy", 31, []cmd{{"bash", "kubectl -n api rollout undo deploy/api"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\ngot  %+v\nwant %+v", got, want)
	}
	if len(rb.Diagnostics) != 0 {
		t.Errorf("diagnostics: got %+v, want none", rb.Diagnostics)
	}
}

func TestShowListsDiagnosticsInLineOrder(t *testing.T) {
	res := runCLI(t, nil, "show", "--json", filepath.FromSlash("testdata/show/Unsorted.md"))
	if res.code != exitOK {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	var rb shownRunbook
	if err := json.Unmarshal([]byte(res.stdout), &rb); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range rb.Diagnostics {
		got = append(got, d.Rule)
	}
	// The broken link (line 3) is found after the page is parsed, the TODO
	// (line 8) while it is; the output is in the order of the page.
	if want := []string{"broken-link", "todo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics: got %q, want %q", got, want)
	}
}

func TestShowFailsOnAnythingButOnePage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"a missing file", []string{"show", "testdata/show/NoSuchPage.md"}, "NoSuchPage.md"},
		{"a directory", []string{"show", "testdata/show"}, "is a directory"},
		{"no file", []string{"show"}, "Usage: breadcrumb show"},
		{"two files", []string{"show", showPage, showPage}, "Usage: breadcrumb show"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != exitUsage {
				t.Errorf("exit code: got %d, want %d", res.code, exitUsage)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", res.stderr, tt.wantStderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
		})
	}
}
