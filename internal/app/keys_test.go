package app

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// docsRow is a row of a key table in docs/configuration.md.
var docsRow = regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| (`BREADCRUMB_[A-Z_]+`|none) \\| ([^|]*) \\|")

// The key tables in docs/configuration.md are the interface people read:
// every key of Config is there with its variable and its default, and
// every variable there is one that Config reads.
func TestEveryKeyIsDocumentedWithItsVariableAndDefault(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ env, def string }
	rows := map[string]row{}
	for _, m := range docsRow.FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] = row{env: strings.Trim(m[2], "`"), def: m[3]}
	}
	if len(rows) < 20 {
		t.Fatalf("read %d rows of key tables in docs/configuration.md; has their shape changed?", len(rows))
	}
	known := map[string]bool{}
	for _, k := range keys(&Config{}) {
		known[k.Env] = true
		r, ok := rows[k.Path]
		switch {
		case !ok:
			t.Errorf("%s (%s) is not in docs/configuration.md", k.Path, k.Env)
		case r.env != k.Env:
			t.Errorf("docs/configuration.md gives %s the variable %s, want %s", k.Path, r.env, k.Env)
		case k.Default != "" && !strings.Contains(r.def, "`"+k.Default+"`"):
			t.Errorf("docs/configuration.md gives %s the default %q, want `%s`", k.Path, strings.TrimSpace(r.def), k.Default)
		}
	}
	for path, r := range rows {
		if r.env != "none" && !known[r.env] {
			t.Errorf("docs/configuration.md documents %s for %s, which no key of Config reads", r.env, path)
		}
	}
}

// A key's variable follows from its path, and sets it as the file would.
func TestEachScalarKeyIsSetByItsVariable(t *testing.T) {
	env := map[string]string{
		"BREADCRUMB_ALERTMANAGER_MAX_PENDING":     "7",
		"BREADCRUMB_REMINDERS_ENABLED":            "false",
		"BREADCRUMB_REMINDERS_ACK_AFTER":          "off",
		"BREADCRUMB_SLACK_COMMANDS_INCIDENT":      "inc",
		"BREADCRUMB_ALERTMANAGER_AUTO_RESOLVE":    "true",
		"BREADCRUMB_RUNBOOKS_SYNC_INTERVAL":       "90",
		"BREADCRUMB_REMINDERS_COMMANDER_SEVERITY": "3",
	}
	t.Chdir(t.TempDir())
	cfg, err := LoadConfig("", fakeEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alertmanager.MaxPending != 7 || cfg.Reminders.enabled() || cfg.Reminders.AckAfter != off ||
		cfg.Slack.Commands.Incident != "inc" || !cfg.Alertmanager.AutoResolve || cfg.Runbooks.SyncInterval != duration(90e9) ||
		cfg.Reminders.CommanderSeverity != 3 {
		t.Errorf("got %+v", cfg)
	}
	for name, bad := range map[string]string{
		"BREADCRUMB_ALERTMANAGER_MAX_PENDING":  "many",
		"BREADCRUMB_REMINDERS_ENABLED":         "sometimes",
		"BREADCRUMB_ALERTMANAGER_AUTO_RESOLVE": "yes please",
		"BREADCRUMB_REMINDERS_INTERVAL":        "soon",
	} {
		_, err := LoadConfig("", fakeEnv(map[string]string{name: bad}))
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s=%s: got %v, want an error naming the variable and the value", name, bad, err)
		}
	}
}
