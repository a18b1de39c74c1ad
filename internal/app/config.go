package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Config is the YAML configuration file. Secrets are not part of it: they
// come from the environment (see secrets), and a secret-looking key in the
// file is rejected as unknown.
type Config struct {
	Listen   string `yaml:"listen" default:"127.0.0.1:8080"`
	DataDir  string `yaml:"data_dir" default:"./breadcrumb-data"`
	LogLevel string `yaml:"log_level" default:"info"`
	// PublicURL is the address people reach this service at (for the
	// links the bot posts); the default is http:// plus listen.
	PublicURL    string             `yaml:"public_url"`
	Runbooks     runbooksConfig     `yaml:"runbooks"`
	Rules        rulesConfig        `yaml:"rules"`
	Redis        redisConfig        `yaml:"redis"`
	PagerDuty    pagerdutyConfig    `yaml:"pagerduty"`
	Alertmanager alertmanagerConfig `yaml:"alertmanager"`
	Breadcrumbs  breadcrumbs.Config `yaml:"breadcrumbs"`
	Slack        slackConfig        `yaml:"slack"`
	Reminders    remindersConfig    `yaml:"reminders"`
	HTTP         httpConfig         `yaml:"http"`

	// path is the file the configuration was read from, "" for defaults.
	path string
}

// redisConfig tunes the Redis store, which BREADCRUMB_REDIS_URL selects.
type redisConfig struct {
	// Prefix is put before every key, so that several deployments can
	// share one Redis.
	Prefix string `yaml:"prefix" default:"breadcrumb:"`
}

// pagerdutyConfig tunes PagerDuty; its secrets (PAGERDUTY_API_TOKEN,
// PAGERDUTY_WEBHOOK_SECRETS) come from the environment.
type pagerdutyConfig struct {
	// FromEmail is the PagerDuty user that changes made in Slack are made
	// as when their author has no mapped email.
	FromEmail string `yaml:"from_email"`
	// UserEmails maps chat user IDs to PagerDuty users' emails.
	UserEmails map[string]string `yaml:"user_emails"`
}

// slackConfig is how the bot behaves in Slack (and in the console's local
// chat); the tokens (SLACK_BOT_TOKEN, SLACK_APP_TOKEN,
// SLACK_SIGNING_SECRET) come from the environment.
type slackConfig struct {
	// Home is "channel" (a channel per incident) or "thread" (a thread in
	// the service's channel).
	Home           string            `yaml:"home"`
	ChannelName    string            `yaml:"channel_name"`
	Channels       map[string]string `yaml:"channels"`
	DefaultChannel string            `yaml:"default_channel"`
	PinEmoji       string            `yaml:"pin_emoji"`
	Invite         []string          `yaml:"invite"`
	Commands       struct {
		Runbook  string `yaml:"runbook"`
		Incident string `yaml:"incident"`
	} `yaml:"commands"`
}

// remindersConfig says when the bot nudges an incident's home. Each
// duration may be "off".
type remindersConfig struct {
	// Enabled turns reminders on (the default) or off.
	Enabled *bool `yaml:"enabled"`
	// AckAfter: no acknowledgement after this long; UpdateAfter: nothing
	// new on the timeline for this long; CommanderAfter: no commander
	// after this long, on incidents of severity CommanderSeverity or
	// worse.
	AckAfter          duration `yaml:"ack_after"`
	UpdateAfter       duration `yaml:"update_after"`
	CommanderAfter    duration `yaml:"commander_after"`
	CommanderSeverity int      `yaml:"commander_severity"`
	// Interval is how often the leader looks for reminders due.
	Interval duration `yaml:"interval"`
}

func (r remindersConfig) enabled() bool { return r.Enabled == nil || *r.Enabled }

// alertmanagerConfig tunes the Alertmanager webhook; its token
// (ALERTMANAGER_WEBHOOK_TOKEN) comes from the environment.
type alertmanagerConfig struct {
	// AutoResolve resolves an incident when its last alert resolves.
	AutoResolve bool `yaml:"auto_resolve"`
	// MaxPending is the inbox depth at which the webhook answers 503:
	// far above a storm of thousands of alerts, far below what fills a
	// disk.
	MaxPending int `yaml:"max_pending" default:"50000"`
}

// httpConfig bounds how long a client may hold a connection without
// making progress (guard.go).
type httpConfig struct {
	// BodyTimeout is the time a request has to send its body, once its
	// headers are in.
	BodyTimeout duration `yaml:"body_timeout" default:"20s"`
	// IdleTimeout closes a keep-alive connection that sends nothing for
	// this long.
	IdleTimeout duration `yaml:"idle_timeout" default:"2m"`
}

type runbooksConfig struct {
	// SyncInterval is how often git sources are fetched.
	SyncInterval duration       `yaml:"sync_interval" default:"5m"`
	MaxPageSize  int            `yaml:"max_page_size"`
	Sources      []sourceConfig `yaml:"sources"`
}

// rulesConfig lists the sources of Prometheus alert rules: paths or git
// repositories, as runbook sources are, whose YAML files are read.
type rulesConfig struct {
	Sources []sourceConfig `yaml:"sources"`
}

type sourceConfig struct {
	Name     string     `yaml:"name"`
	Path     string     `yaml:"path"`
	Git      *gitConfig `yaml:"git"`
	Include  []string   `yaml:"include"`
	Exclude  []string   `yaml:"exclude"`
	RepoURL  string     `yaml:"repo_url"`
	RepoPath string     `yaml:"repo_path"`
	SiteURLs []string   `yaml:"site_urls"`
}

type gitConfig struct {
	URL    string `yaml:"url"`
	Branch string `yaml:"branch"`
	Subdir string `yaml:"subdir"`
	// TokenEnv names the environment variable holding this source's HTTPS
	// token, for repositories that need a token of their own; the default
	// is GIT_TOKEN.
	TokenEnv string `yaml:"token_env"`
	// SSHKeyEnv names the variable holding the path of this source's SSH
	// key file; the default is GIT_SSH_KEY_FILE.
	SSHKeyEnv string `yaml:"ssh_key_env"`
}

// validSourceName is what a source's name may be.
var validSourceName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// duration reads "5m", "90s" or a number of seconds.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = duration(v)
	return nil
}

// off is how "off" reads where a duration turns something off.
const off = -1

func parseDuration(s string) (time.Duration, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return off, nil
	}
	if secs, err := strconv.Atoi(s); err == nil {
		return time.Duration(secs) * time.Second, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 5m or 30s", s)
	}
	return v, nil
}

const (
	defaultConfigFile  = "breadcrumb.yaml"
	defaultRunbooksDir = "./runbooks"
)

// LoadConfig reads the configuration: the file named by --config (which
// must exist), else breadcrumb.yaml when present, else nothing; then the
// BREADCRUMB_* variables; then the defaults for whatever is still unset.
func LoadConfig(file string, getenv func(string) string) (*Config, error) {
	cfg, err := loadConfig(file, getenv)
	return cfg, configError(err)
}

func loadConfig(file string, getenv func(string) string) (*Config, error) {
	cfg := &Config{}
	explicit := file != ""
	if !explicit {
		file = defaultConfigFile
	}
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		cfg.path = file
		// A source's path in the file is relative to the file, so that a
		// configuration kept beside its runbooks works from any directory.
		for _, list := range [][]sourceConfig{cfg.Runbooks.Sources, cfg.Rules.Sources} {
			for i, src := range list {
				if src.Path != "" && !filepath.IsAbs(src.Path) {
					list[i].Path = filepath.Join(filepath.Dir(file), src.Path)
				}
			}
		}
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return nil, err
	}
	cfg.applyDefaults()
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	var errs []error
	names := map[string]bool{}
	all := make([]sourceConfig, 0, len(c.Runbooks.Sources)+len(c.Rules.Sources))
	all = append(append(all, c.Runbooks.Sources...), c.Rules.Sources...)
	for i, s := range all {
		where := fmt.Sprintf("runbooks.sources[%d]", i)
		if i >= len(c.Runbooks.Sources) {
			where = fmt.Sprintf("rules.sources[%d]", i-len(c.Runbooks.Sources))
		}
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		} else if !validSourceName.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("%s: the name %q may hold letters, digits, '_', '.' and '-' only, and not start with '.' or '-' (it starts every page's ID, and names files in the data directory)", where, s.Name))
		} else if names[s.Name] {
			errs = append(errs, fmt.Errorf("%s: the name %q is used twice (runbooks and rules sources need names of their own)", where, s.Name))
		}
		names[s.Name] = true
		if (s.Path == "") == (s.Git == nil) {
			errs = append(errs, fmt.Errorf("%s (%s): set either path or git", where, s.Name))
		}
		if s.Git != nil && s.Git.URL == "" {
			errs = append(errs, fmt.Errorf("%s (%s): git.url is required", where, s.Name))
		}
		if err := (runbooks.SourceConfig{Include: s.Include, Exclude: s.Exclude}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", where, s.Name, err))
		}
	}
	if c.Runbooks.SyncInterval < 0 {
		errs = append(errs, errors.New("runbooks.sync_interval: want a duration such as 5m (it cannot be off)"))
	}
	if c.Runbooks.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("runbooks.max_page_size %d: want a number of bytes, 0 for the default", c.Runbooks.MaxPageSize))
	}
	if c.Alertmanager.MaxPending < 0 {
		errs = append(errs, fmt.Errorf("alertmanager.max_pending %d: want a number of deliveries, 0 for the default", c.Alertmanager.MaxPending))
	}
	if n := c.Reminders.CommanderSeverity; n < 0 || n > 5 {
		errs = append(errs, fmt.Errorf("reminders.commander_severity %d: want 1 to 5 (0 for the default)", n))
	}
	if c.HTTP.BodyTimeout < 0 {
		errs = append(errs, errors.New("http.body_timeout: want a duration such as 20s (it cannot be off)"))
	}
	if c.HTTP.IdleTimeout < 0 {
		errs = append(errs, errors.New("http.idle_timeout: want a duration such as 2m (it cannot be off)"))
	}
	if c.Reminders.Interval < 0 {
		errs = append(errs, errors.New("reminders.interval: want a duration such as 1m (to turn reminders off, set reminders.enabled: false)"))
	}
	switch c.Slack.Home {
	case "", "channel":
	case "thread":
		if c.Slack.DefaultChannel == "" {
			errs = append(errs, errors.New("slack.home is thread: slack.default_channel is required (the channel of incidents whose service has none in slack.channels)"))
		}
	default:
		errs = append(errs, fmt.Errorf("slack.home %q: want channel or thread", c.Slack.Home))
	}
	if _, err := breadcrumbs.New(c.Breadcrumbs); err != nil {
		errs = append(errs, err)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("public_url %q: want an http:// or https:// address", c.PublicURL))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: want HOST:PORT, such as 127.0.0.1:8080", c.Listen))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("listen %q: the port is a number from 0 to 65535", c.Listen))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	if len(errs) > 0 {
		prefix := "config"
		if c.path != "" {
			prefix = "config " + c.path
		}
		return fmt.Errorf("%s: %w", prefix, errors.Join(errs...))
	}
	return nil
}
