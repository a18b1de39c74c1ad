package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersionPrintsNameCommitAndGoVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := runCLI(t, nil, args...)
			if res.code != exitOK {
				t.Fatalf("exit code: got %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
			}
			got := lines(res.stdout)
			if len(got) != 3 {
				t.Fatalf("lines: got %q, want 3 lines", got)
			}
			if want := "breadcrumb " + version; got[0] != want {
				t.Errorf("first line: got %q, want %q", got[0], want)
			}
			if !strings.HasPrefix(got[1], "commit ") || len(got[1]) <= len("commit ") {
				t.Errorf("second line: got %q, want \"commit <revision>\"", got[1])
			}
			if want := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH; got[2] != want {
				t.Errorf("third line: got %q, want %q", got[2], want)
			}
		})
	}
}

func TestRunDispatchesCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{
			name:       "no command prints usage and is a usage error",
			args:       nil,
			wantCode:   exitUsage,
			wantStderr: []string{"Usage:", "breadcrumb lint", "breadcrumb serve"},
		},
		{
			name:       "an unknown command is named and followed by usage",
			args:       []string{"frobnicate"},
			wantCode:   exitUsage,
			wantStderr: []string{`unknown command "frobnicate"`, "Usage:"},
		},
		{
			name:       "help prints usage of every command on stdout",
			args:       []string{"help"},
			wantCode:   exitOK,
			wantStdout: []string{"Usage:", "breadcrumb serve", "breadcrumb lint", "breadcrumb show", "breadcrumb index", "breadcrumb search", "breadcrumb match", "breadcrumb incidents", "breadcrumb version"},
		},
		{
			name:       "-h is help",
			args:       []string{"-h"},
			wantCode:   exitOK,
			wantStdout: []string{"Usage:"},
		},
		{
			name:       "--help is help",
			args:       []string{"--help"},
			wantCode:   exitOK,
			wantStdout: []string{"Usage:"},
		},
		{
			name:       "a command's -h prints its flags and succeeds",
			args:       []string{"lint", "-h"},
			wantCode:   exitOK,
			wantStderr: []string{"Usage: breadcrumb lint", "-format", "-fail-on", "-config"},
		},
		{
			name:       "an unknown flag is a usage error",
			args:       []string{"lint", "--colour", "testdata/clean"},
			wantCode:   exitUsage,
			wantStderr: []string{"-colour"},
		},
		{
			name:       "serve rejects a positional argument",
			args:       []string{"serve", "extra"},
			wantCode:   exitUsage,
			wantStderr: []string{`unexpected argument "extra"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout: got\n%s\nwant it to contain %q", res.stdout, want)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr: got\n%s\nwant it to contain %q", res.stderr, want)
				}
			}
		})
	}
}

func TestParseFlagsMixesFlagsAndArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantRest []string
		wantFmt  string
	}{
		{"flags before arguments", []string{"--format", "json", "a", "b"}, []string{"a", "b"}, "json"},
		{"flags after arguments", []string{"a", "b", "--format", "json"}, []string{"a", "b"}, "json"},
		{"flags between arguments", []string{"a", "--format=github", "b"}, []string{"a", "b"}, "github"},
		{"a double dash ends the flags", []string{"--", "-a", "--format", "json"}, []string{"-a", "--format", "json"}, "text"},
		{"a double dash after an argument ends the flags", []string{"a", "--", "-b", "-c"}, []string{"a", "-b", "-c"}, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg, format string
			fs := newFlags(env{getenv: fakeEnv(nil), stderr: &syncBuffer{}}, "lint", &cfg)
			fs.StringVar(&format, "format", "text", "")
			rest, code, ok := parseFlags(fs, tt.args)
			if !ok {
				t.Fatalf("parseFlags(%q): got code %d, want success", tt.args, code)
			}
			if strings.Join(rest, "|") != strings.Join(tt.wantRest, "|") {
				t.Errorf("arguments: got %q, want %q", rest, tt.wantRest)
			}
			if format != tt.wantFmt {
				t.Errorf("--format: got %q, want %q", format, tt.wantFmt)
			}
		})
	}
}
