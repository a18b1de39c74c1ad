package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// Secrets are the credentials the service is given, each from its
// variable or from the file its NAME_FILE variable names. They are never
// read from the configuration file. A git source's credentials are read
// with the source, since its variables' names are configured.
type Secrets struct {
	// RedisURL selects the Redis store; it may hold a password.
	RedisURL           secret.String
	PagerDutyToken     secret.String
	PagerDutyWebhooks  secret.String
	AlertmanagerToken  secret.String
	SlackBotToken      secret.String
	SlackAppToken      secret.String
	SlackSigningSecret secret.String
	ConsoleToken       secret.String
}

// ReadSecrets reads every secret of Secrets from getenv. An error names
// the variable whose file cannot be read, never a value.
func ReadSecrets(getenv func(string) string) (Secrets, error) {
	var s Secrets
	for _, v := range []struct {
		name string
		dst  *secret.String
	}{
		{"BREADCRUMB_REDIS_URL", &s.RedisURL},
		{"PAGERDUTY_API_TOKEN", &s.PagerDutyToken},
		{"PAGERDUTY_WEBHOOK_SECRETS", &s.PagerDutyWebhooks},
		{"ALERTMANAGER_WEBHOOK_TOKEN", &s.AlertmanagerToken},
		{"SLACK_BOT_TOKEN", &s.SlackBotToken},
		{"SLACK_APP_TOKEN", &s.SlackAppToken},
		{"SLACK_SIGNING_SECRET", &s.SlackSigningSecret},
		{"BREADCRUMB_CONSOLE_TOKEN", &s.ConsoleToken},
	} {
		val, err := ReadSecret(getenv, v.name)
		if err != nil {
			return Secrets{}, configError(err)
		}
		*v.dst = val
	}
	return s, nil
}

// ReadSecret returns the secret in the variable name, or in the file named
// by name_FILE. The value is trimmed of surrounding whitespace.
func ReadSecret(getenv func(string) string, name string) (secret.String, error) {
	if v := getenv(name); v != "" {
		return secret.New(strings.TrimSpace(v)), nil
	}
	if f := getenv(name + "_FILE"); f != "" {
		data, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			return secret.String{}, fmt.Errorf("%s_FILE: %w", name, err)
		}
		return secret.New(strings.TrimSpace(string(data))), nil
	}
	return secret.String{}, nil
}
