package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// diag is the part of a diagnostic the tests compare: the message is the
// runbooks package's business and is only checked where it names paths.
type diag struct {
	path     string
	line     int
	severity string
	rule     string
}

func (d diag) String() string {
	return fmt.Sprintf("%s:%d: %s (%s)", d.path, d.line, d.severity, d.rule)
}

func sortDiags(ds []diag) []diag {
	sort.Slice(ds, func(i, j int) bool { return ds[i].String() < ds[j].String() })
	return ds
}

var textDiag = regexp.MustCompile(`^(.+):(\d+): (error|warning|note): (.+) \(([a-z0-9-]+)\)$`)

// parseTextDiags reads `file:line: severity: message (rule)` lines; a
// line of any other shape fails the test.
func parseTextDiags(t *testing.T, out string) ([]diag, map[diag]string) {
	t.Helper()
	var ds []diag
	msgs := map[diag]string{}
	for _, l := range lines(out) {
		m := textDiag.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("output line %q is not `file:line: severity: message (rule)`", l)
			continue
		}
		n, _ := strconv.Atoi(m[2])
		d := diag{path: m[1], line: n, severity: m[3], rule: m[5]}
		ds = append(ds, d)
		msgs[d] = m[4]
	}
	return sortDiags(ds), msgs
}

// problems is what testdata/problems holds, with paths relative to it.
var problems = []diag{
	{"dup/first.md", 4, "warning", "duplicate-alert"},
	{"dup/second.md", 4, "warning", "duplicate-alert"},
	{"fence.md", 7, "error", "unclosed-fence"},
	{"links.md", 11, "error", "broken-link"},
	{"templates.md", 6, "error", "unknown-variable"}, // the line of the query itself
	{"todo.md", 6, "warning", "todo"},
}

// under returns ds with their paths joined to dir, as lint prints them.
func under(dir string, ds []diag) []diag {
	var out []diag
	for _, d := range ds {
		d.path = filepath.Join(dir, filepath.FromSlash(d.path))
		out = append(out, d)
	}
	return sortDiags(out)
}

func TestLintExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"a clean directory passes", []string{"lint", "testdata/clean"}, exitOK, "2 pages checked: 0 errors, 0 warnings"},
		{"a directory with problems fails", []string{"lint", "testdata/problems"}, exitProblems, "6 pages checked: 3 errors, 3 warnings"},
		{"warnings fail by default", []string{"lint", "testdata/problems/dup"}, exitProblems, "2 pages checked: 0 errors, 2 warnings"},
		{"warnings pass with --fail-on error", []string{"lint", "--fail-on", "error", "testdata/problems/dup"}, exitOK, "0 errors, 2 warnings"},
		{"errors fail with --fail-on error", []string{"lint", "--fail-on", "error", "testdata/problems"}, exitProblems, "3 errors, 3 warnings"},
		{"a missing path is an I/O error", []string{"lint", "testdata/no-such-dir"}, exitUsage, "no-such-dir"},
		{"a missing path among good ones is an I/O error", []string{"lint", "testdata/clean", "testdata/no-such.md"}, exitUsage, "no-such.md"},
		{"no path is a usage error", []string{"lint"}, exitUsage, "Usage: breadcrumb lint"},
		{"an unknown format is a usage error", []string{"lint", "--format", "xml", "testdata/clean"}, exitUsage, `--format "xml"`},
		{"an unknown --fail-on is a usage error", []string{"lint", "--fail-on", "note", "testdata/clean"}, exitUsage, `--fail-on "note"`},
		{"a missing config file is a usage error", []string{"lint", "--config", "testdata/no-such.yaml", "testdata/clean"}, exitUsage, "no-such.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", res.stderr, tt.wantStderr)
			}
			if res.code == exitUsage && res.stdout != "" {
				t.Errorf("stdout after a usage error: got %q, want nothing", res.stdout)
			}
		})
	}
}

func TestLintTextNamesFileAndLineOfEachProblem(t *testing.T) {
	dir := filepath.Join("testdata", "problems")
	res := runCLI(t, nil, "lint", dir)
	if res.code != exitProblems {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitProblems, res.stderr)
	}
	got, msgs := parseTextDiags(t, res.stdout)
	if want := under(dir, problems); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\ngot  %v\nwant %v\noutput:\n%s", got, want, res.stdout)
	}
	// A duplicate binding names the other page with the path as printed.
	first := diag{filepath.Join(dir, "dup", "first.md"), 4, "warning", "duplicate-alert"}
	if want := filepath.Join(dir, "dup", "second.md") + ":4"; !strings.Contains(msgs[first], want) {
		t.Errorf("message of %v: got %q, want it to name %q", first, msgs[first], want)
	}
	if want := "{{region}}"; !strings.Contains(msgs[diag{filepath.Join(dir, "templates.md"), 6, "error", "unknown-variable"}], want) {
		t.Errorf("unknown-variable message: got %q, want it to name %q", msgs, want)
	}
}

func TestLintJSONPrintsOneObjectPerLine(t *testing.T) {
	dir := filepath.Join("testdata", "problems")
	for _, args := range [][]string{
		{"lint", "--format", "json", dir},
		{"lint", dir, "--format", "json"},
		{"lint", dir, "--format=json"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			res := runCLI(t, nil, args...)
			if res.code != exitProblems {
				t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitProblems, res.stderr)
			}
			var got []diag
			for _, l := range lines(res.stdout) {
				var obj map[string]any
				if err := json.Unmarshal([]byte(l), &obj); err != nil {
					t.Fatalf("line %q is not a JSON object: %v", l, err)
				}
				var keys []string
				for k := range obj {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if want := []string{"line", "message", "path", "rule", "severity"}; !reflect.DeepEqual(keys, want) {
					t.Errorf("keys of %s: got %q, want %q", l, keys, want)
				}
				var d struct {
					Path     string `json:"path"`
					Line     int    `json:"line"`
					Severity string `json:"severity"`
					Rule     string `json:"rule"`
					Message  string `json:"message"`
				}
				if err := json.Unmarshal([]byte(l), &d); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if d.Message == "" {
					t.Errorf("line %q: got an empty message, want one", l)
				}
				got = append(got, diag{d.Path, d.Line, d.Severity, d.Rule})
			}
			if want := under(dir, problems); !reflect.DeepEqual(sortDiags(got), want) {
				t.Errorf("diagnostics:\ngot  %v\nwant %v", got, want)
			}
			if strings.Contains(res.stderr, "pages checked") {
				t.Errorf("stderr: got %q, want no text summary in JSON mode", res.stderr)
			}
		})
	}
}

func TestLintGitHubPrintsWorkflowCommands(t *testing.T) {
	dir := filepath.Join("testdata", "problems")
	res := runCLI(t, nil, "lint", "--format", "github", dir)
	if res.code != exitProblems {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitProblems, res.stderr)
	}
	re := regexp.MustCompile(`^::(error|warning) file=([^,:]+),line=(\d+),title=breadcrumb ([a-z0-9-]+)::(.+)$`)
	var got []diag
	for _, l := range lines(res.stdout) {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q is not `::severity file=...,line=N,title=...::message`", l)
			continue
		}
		n, _ := strconv.Atoi(m[3])
		got = append(got, diag{filepath.FromSlash(m[2]), n, m[1], m[4]})
	}
	if want := under(dir, problems); !reflect.DeepEqual(sortDiags(got), want) {
		t.Errorf("annotations:\ngot  %v\nwant %v\noutput:\n%s", got, want, res.stdout)
	}
}

func TestGitHubAnnotationsEscapeTheirProperties(t *testing.T) {
	tests := []struct {
		name, in, property, data string
	}{
		{"plain text is kept", "runbooks/a.md", "runbooks/a.md", "runbooks/a.md"},
		{"a comma and a colon end a property", "a,b:c.md", "a%2Cb%3Ac.md", "a,b:c.md"},
		{"newlines and percent signs are encoded", "50%\r\nnext", "50%25%0D%0Anext", "50%25%0D%0Anext"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ghProperty(tt.in); got != tt.property {
				t.Errorf("ghProperty(%q): got %q, want %q", tt.in, got, tt.property)
			}
			if got := ghData(tt.in); got != tt.data {
				t.Errorf("ghData(%q): got %q, want %q", tt.in, got, tt.data)
			}
		})
	}
}

func TestLintFilesAreGroupedByDirectory(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		wantCode  int
		wantDiags []diag
		wantPages string
	}{
		{
			name:      "a page's relative link resolves against its own directory",
			files:     []string{"testdata/clean/NodeDiskFull.md"},
			wantCode:  exitOK,
			wantPages: "1 page checked",
		},
		{
			name:     "pages of two directories are checked together for duplicate alerts",
			files:    []string{"testdata/problems/links.md", "testdata/problems/dup/first.md", "testdata/problems/fence.md", "testdata/problems/dup/second.md"},
			wantCode: exitProblems,
			wantDiags: under("testdata/problems", []diag{
				{"dup/first.md", 4, "warning", "duplicate-alert"},
				{"dup/second.md", 4, "warning", "duplicate-alert"},
				{"fence.md", 7, "error", "unclosed-fence"},
				{"links.md", 11, "error", "broken-link"},
			}),
			wantPages: "4 pages checked",
		},
		{
			name:      "a file and a directory mix",
			files:     []string{"testdata/problems/todo.md", "testdata/clean"},
			wantCode:  exitProblems,
			wantDiags: under("testdata/problems", []diag{{"todo.md", 6, "warning", "todo"}}),
			wantPages: "3 pages checked",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"lint"}
			for _, f := range tt.files {
				args = append(args, filepath.FromSlash(f))
			}
			res := runCLI(t, nil, args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.stderr)
			}
			got, _ := parseTextDiags(t, res.stdout)
			if !reflect.DeepEqual(got, tt.wantDiags) {
				t.Errorf("diagnostics:\ngot  %v\nwant %v", got, tt.wantDiags)
			}
			if !strings.Contains(res.stderr, tt.wantPages) {
				t.Errorf("summary: got %q, want it to contain %q", res.stderr, tt.wantPages)
			}
		})
	}
}

func TestLintInTheWorkingDirectoryPrintsBarePaths(t *testing.T) {
	t.Chdir(absPath(t, "testdata/problems"))
	res := runCLI(t, nil, "lint", ".")
	if res.code != exitProblems {
		t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitProblems, res.stderr)
	}
	got, _ := parseTextDiags(t, res.stdout)
	if want := under("", problems); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\ngot  %v\nwant %v", got, want)
	}
}

func TestLintTakesFilesThatLookLikeFlagsAfterDoubleDash(t *testing.T) {
	dir := t.TempDir()
	page := "# Restart the worker\n\n## Mitigation\n\n1. Restart it.\n\n   ```bash\n   systemctl restart worker\n   ```\n"
	writeFile(t, dir, "-first.md", page)
	writeFile(t, dir, "-second.md", page)
	t.Chdir(dir)
	res := runCLI(t, nil, "lint", "--format", "text", "--", "-first.md", "-second.md")
	if res.code != exitOK {
		t.Fatalf("exit code: got %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, exitOK, res.stdout, res.stderr)
	}
	if want := "2 pages checked"; !strings.Contains(res.stderr, want) {
		t.Errorf("summary: got %q, want it to contain %q", res.stderr, want)
	}
}

func TestLintReadsAPageNamedTwiceOnce(t *testing.T) {
	dup := []diag{
		{"testdata/problems/dup/first.md", 4, "warning", "duplicate-alert"},
		{"testdata/problems/dup/second.md", 4, "warning", "duplicate-alert"},
	}
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantDiags []diag
		wantPages string
	}{
		{"the same file twice", []string{"testdata/problems/dup/first.md", "testdata/problems/dup/first.md"}, exitOK, nil, "1 page checked"},
		{"a directory and a file in it", []string{"testdata/problems/dup", "testdata/problems/dup/first.md"}, exitProblems, dup, "2 pages checked"},
		{"one directory spelt two ways", []string{"testdata/problems/dup/", "./testdata/problems/dup"}, exitProblems, dup, "2 pages checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"lint"}
			for _, a := range tt.args {
				args = append(args, filepath.FromSlash(a))
			}
			res := runCLI(t, nil, args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d; stdout:\n%s", res.code, tt.wantCode, res.stdout)
			}
			got, msgs := parseTextDiags(t, res.stdout)
			if want := under("", tt.wantDiags); !reflect.DeepEqual(got, want) {
				t.Errorf("diagnostics:\ngot  %v\nwant %v", got, want)
			}
			for d, m := range msgs {
				if strings.Contains(m, d.path+":") {
					t.Errorf("%v: message %q names the page itself", d, m)
				}
			}
			if !strings.Contains(res.stderr, tt.wantPages) {
				t.Errorf("summary: got %q, want it to contain %q", res.stderr, tt.wantPages)
			}
		})
	}
}
