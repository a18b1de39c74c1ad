package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigWithAnExplicitMissingFileFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := LoadConfig(file, fakeEnv(nil))
	if err == nil {
		t.Fatalf("LoadConfig(%q): got no error, want one", file)
	}
	if !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("error: got %q, want it to name the file", err)
	}
}

func TestLoadConfigWithoutAFileUsesTheDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := LoadConfig("", fakeEnv(nil))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.path != "" {
		t.Errorf("path: got %q, want none", cfg.path)
	}
	if cfg.Listen != "127.0.0.1:8080" {
		t.Errorf("listen: got %q, want 127.0.0.1:8080", cfg.Listen)
	}
	if cfg.DataDir != "./breadcrumb-data" {
		t.Errorf("data_dir: got %q, want ./breadcrumb-data", cfg.DataDir)
	}
	if cfg.LogLevel != "info" {
		t.Errorf("log_level: got %q, want %q", cfg.LogLevel, "info")
	}
	if got := time.Duration(cfg.Runbooks.SyncInterval); got != 5*time.Minute {
		t.Errorf("sync_interval: got %v, want 5m", got)
	}
	if cfg.Alertmanager.MaxPending != 50000 || cfg.Redis.Prefix != "breadcrumb:" {
		t.Errorf("alertmanager.max_pending %d, redis.prefix %q: want 50000 and breadcrumb:", cfg.Alertmanager.MaxPending, cfg.Redis.Prefix)
	}
	if len(cfg.Runbooks.Sources) != 0 {
		t.Errorf("sources: got %+v, want none", cfg.Runbooks.Sources)
	}
}

func TestLoadConfigReadsBreadcrumbYAMLInTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "breadcrumb.yaml", `
listen: 127.0.0.1:9999
data_dir: /var/lib/breadcrumb
log_level: debug
runbooks:
  sync_interval: 90s
  max_page_size: 1000
  sources:
    - name: docs
      path: ./docs
      include: ["**/*.md"]
      exclude: ["drafts/**"]
      repo_url: https://github.com/example/docs
      site_urls: [https://runbooks.example.com/]
    - name: team
      git:
        url: https://github.com/example/team.git
        branch: main
        subdir: runbooks
`)
	t.Chdir(dir)
	cfg, err := LoadConfig("", fakeEnv(nil))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.path != defaultConfigFile {
		t.Errorf("path: got %q, want %q", cfg.path, defaultConfigFile)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.DataDir != "/var/lib/breadcrumb" || cfg.LogLevel != "debug" {
		t.Errorf("listen, data_dir, log_level: got %q, %q, %q, want the file's", cfg.Listen, cfg.DataDir, cfg.LogLevel)
	}
	if got, want := time.Duration(cfg.Runbooks.SyncInterval), 90*time.Second; got != want {
		t.Errorf("sync_interval: got %v, want %v", got, want)
	}
	if cfg.Runbooks.MaxPageSize != 1000 {
		t.Errorf("max_page_size: got %d, want 1000", cfg.Runbooks.MaxPageSize)
	}
	if len(cfg.Runbooks.Sources) != 2 {
		t.Fatalf("sources: got %+v, want 2", cfg.Runbooks.Sources)
	}
	docs, team := cfg.Runbooks.Sources[0], cfg.Runbooks.Sources[1]
	if docs.Name != "docs" || docs.Path != "docs" || docs.RepoURL != "https://github.com/example/docs" ||
		len(docs.Include) != 1 || len(docs.Exclude) != 1 || len(docs.SiteURLs) != 1 {
		t.Errorf("first source: got %+v", docs)
	}
	if team.Git == nil || team.Git.URL != "https://github.com/example/team.git" || team.Git.Branch != "main" || team.Git.Subdir != "runbooks" {
		t.Errorf("second source's git: got %+v", team.Git)
	}
}

func TestLoadConfigReadsAnEmptyFile(t *testing.T) {
	file := writeFile(t, t.TempDir(), "empty.yaml", "")
	cfg, err := LoadConfig(file, fakeEnv(nil))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" {
		t.Errorf("listen: got %q, want 127.0.0.1:8080", cfg.Listen)
	}
}

func TestLoadConfigRejectsUnknownKeys(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"a secret is never read from the file", "slack_bot_token: xoxb-do-not-print\n", "slack_bot_token"},
		{"a misspelt key is named", "listen: :8080\ndatadir: /tmp\n", "datadir"},
		{"a secret inside a source is never read from the file", "runbooks:\n  sources:\n    - name: a\n      git:\n        url: https://example.com/a.git\n        token: do-not-print\n", "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "breadcrumb.yaml", tt.yaml)
			_, err := LoadConfig(file, fakeEnv(nil))
			if err == nil {
				t.Fatalf("loadConfig: got no error, want one naming %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %q, want it to name %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "do-not-print") {
				t.Errorf("error: got %q, want it without the value", err)
			}
		})
	}
}

func TestEnvironmentOverridesTheFile(t *testing.T) {
	file := writeFile(t, t.TempDir(), "breadcrumb.yaml", "listen: 127.0.0.1:1111\ndata_dir: ./from-file\nlog_level: warn\nrunbooks:\n  sync_interval: 10m\n  max_page_size: 10\n")
	cfg, err := LoadConfig(file, fakeEnv(map[string]string{
		"BREADCRUMB_LISTEN":                  "0.0.0.0:2222",
		"BREADCRUMB_DATA_DIR":                "/data",
		"BREADCRUMB_LOG_LEVEL":               "debug",
		"BREADCRUMB_RUNBOOKS_SYNC_INTERVAL":  "45",
		"BREADCRUMB_RUNBOOKS_MAX_PAGE_SIZE":  "2048",
		"BREADCRUMB_SOMETHING_NOT_CONFIGURE": "ignored",
	}))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Listen != "0.0.0.0:2222" {
		t.Errorf("listen: got %q, want %q", cfg.Listen, "0.0.0.0:2222")
	}
	if cfg.DataDir != "/data" {
		t.Errorf("data_dir: got %q, want %q", cfg.DataDir, "/data")
	}
	if cfg.LogLevel != "debug" {
		t.Errorf("log_level: got %q, want %q", cfg.LogLevel, "debug")
	}
	if got, want := time.Duration(cfg.Runbooks.SyncInterval), 45*time.Second; got != want {
		t.Errorf("sync_interval: got %v, want %v", got, want)
	}
	if cfg.Runbooks.MaxPageSize != 2048 {
		t.Errorf("max_page_size: got %d, want 2048", cfg.Runbooks.MaxPageSize)
	}
}

func TestBadValuesAreErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr string
	}{
		{"a sync interval that is no duration", "runbooks:\n  sync_interval: soon\n", nil, `"soon" is not a duration`},
		{"a sync interval in the environment that is no duration", "", map[string]string{"BREADCRUMB_RUNBOOKS_SYNC_INTERVAL": "soon"}, "BREADCRUMB_RUNBOOKS_SYNC_INTERVAL"},
		{"a page size in the environment that is no number", "", map[string]string{"BREADCRUMB_RUNBOOKS_MAX_PAGE_SIZE": "1MB"}, "BREADCRUMB_RUNBOOKS_MAX_PAGE_SIZE"},
		{"an unknown log level", "log_level: loud\n", nil, `log_level "loud"`},
		{"a log level in the environment is checked too", "", map[string]string{"BREADCRUMB_LOG_LEVEL": "chatty"}, `log_level "chatty"`},
		{"YAML that does not parse", "listen: [\n", nil, "breadcrumb.yaml"},
		{"a sync interval that is off", "runbooks:\n  sync_interval: \"off\"\n", nil, "runbooks.sync_interval"},
		{"a negative page size in the file", "runbooks:\n  max_page_size: -1\n", nil, "runbooks.max_page_size -1"},
		{"a negative inbox limit in the file", "alertmanager:\n  max_pending: -1\n", nil, "alertmanager.max_pending -1"},
		{"a commander severity out of range in the file", "reminders:\n  commander_severity: 9\n", nil, "reminders.commander_severity 9"},
		{"a source name that could leave the data directory", "runbooks:\n  sources:\n    - name: ../x\n      path: .\n", nil, `the name "../x" may hold`},
		{"a reminder interval that is off", "reminders:\n  interval: \"off\"\n", nil, "reminders.interval"},
		{"a listen address without a port", "listen: localhost\n", nil, `listen "localhost": want HOST:PORT`},
		{"a listen port that is no number", "", map[string]string{"BREADCRUMB_LISTEN": "127.0.0.1:http-alt"}, "the port is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "breadcrumb.yaml", tt.yaml)
			_, err := LoadConfig(file, fakeEnv(tt.env))
			if err == nil {
				t.Fatalf("loadConfig: got no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %q is not marked ErrConfig: serve would not exit with its usage status", err)
			}
		})
	}
}

func TestInvalidSourcesAreNamed(t *testing.T) {
	tests := []struct {
		name    string
		sources string
		wantErr []string
	}{
		{
			name:    "a source without a name",
			sources: "    - path: ./docs\n",
			wantErr: []string{"runbooks.sources[0]: name is required"},
		},
		{
			name:    "a source with both path and git",
			sources: "    - name: docs\n      path: ./docs\n      git:\n        url: https://example.com/docs.git\n",
			wantErr: []string{"runbooks.sources[0] (docs): set either path or git"},
		},
		{
			name:    "a source with neither path nor git",
			sources: "    - name: docs\n",
			wantErr: []string{"runbooks.sources[0] (docs): set either path or git"},
		},
		{
			name:    "a git source without a url",
			sources: "    - name: team\n      git:\n        branch: main\n",
			wantErr: []string{"runbooks.sources[0] (team): git.url is required"},
		},
		{
			name:    "two sources with one name",
			sources: "    - name: docs\n      path: ./a\n    - name: docs\n      path: ./b\n",
			wantErr: []string{`runbooks.sources[1]: the name "docs" is used twice`},
		},
		{
			name:    "a bad include glob",
			sources: "    - name: docs\n      path: ./docs\n      include: [\"runbooks/[.md\"]\n",
			wantErr: []string{"runbooks.sources[0] (docs)", "runbooks/[.md"},
		},
		{
			name:    "a bad exclude glob",
			sources: "    - name: ok\n      path: ./ok\n    - name: docs\n      path: ./docs\n      exclude: [\"{drafts\"]\n",
			wantErr: []string{"runbooks.sources[1] (docs)", "{drafts"},
		},
		{
			name:    "every bad source is reported at once",
			sources: "    - path: ./a\n    - name: b\n",
			wantErr: []string{"runbooks.sources[0]: name is required", "runbooks.sources[1] (b): set either path or git"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "sources.yaml", "runbooks:\n  sources:\n"+tt.sources)
			_, err := LoadConfig(file, fakeEnv(nil))
			if err == nil {
				t.Fatalf("loadConfig: got no error, want %q", tt.wantErr)
			}
			for _, want := range append([]string{"sources.yaml"}, tt.wantErr...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error: got %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "  from-file\n\n")
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"unset is empty", nil, "", ""},
		{"the variable is trimmed", map[string]string{"SLACK_BOT_TOKEN": " xoxb-1\n"}, "xoxb-1", ""},
		{"the file named by _FILE is read and trimmed", map[string]string{"SLACK_BOT_TOKEN_FILE": tokenFile}, "from-file", ""},
		{"the variable wins over the file", map[string]string{"SLACK_BOT_TOKEN": "xoxb-2", "SLACK_BOT_TOKEN_FILE": tokenFile}, "xoxb-2", ""},
		{"a missing file is an error naming the variable", map[string]string{"SLACK_BOT_TOKEN_FILE": filepath.Join(dir, "missing")}, "", "SLACK_BOT_TOKEN_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecret(fakeEnv(tt.env), "SLACK_BOT_TOKEN")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readSecret: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readSecret: %v", err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("secret: got %q, want %q", got.Reveal(), tt.want)
			}
			if tt.want != "" && strings.Contains(got.String(), tt.want) {
				t.Errorf("String(): got %q, want the value hidden", got.String())
			}
		})
	}
}

func TestSourcePathsAreRelativeToTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "etc", "breadcrumb.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "runbooks:\n  sources:\n    - name: rel\n      path: ../runbooks\n    - name: abs\n      path: /srv/runbooks\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(file, fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Runbooks.Sources[0].Path, filepath.Join(dir, "runbooks"); got != want {
		t.Errorf("relative path: got %q, want %q", got, want)
	}
	if got, want := cfg.Runbooks.Sources[1].Path, "/srv/runbooks"; got != want {
		t.Errorf("absolute path: got %q, want %q", got, want)
	}
}

func TestTheCompleteFileInTheDocsLoads(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete file")
	if !ok {
		t.Fatal(`docs/configuration.md has no "## A complete file" section`)
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("the complete file section has no yaml block")
	}
	body, _, _ := strings.Cut(rest, "```")
	path := filepath.Join(t.TempDir(), "breadcrumb.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, fakeEnv(nil))
	if err != nil {
		t.Fatalf("the documented file does not load: %v", err)
	}
	if time.Duration(cfg.Reminders.CommanderAfter) != off || cfg.Slack.PinEmoji == "" || len(cfg.Breadcrumbs.Providers) == 0 {
		t.Errorf("got %+v, want every section of the documented file read", cfg)
	}
}
