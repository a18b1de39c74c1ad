package breadcrumbs

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Config lists the breadcrumb providers, configured once for every
// incident (the YAML key breadcrumbs.providers).
type Config struct {
	Providers []ProviderConfig `yaml:"providers"`
	// AllowedHosts are hosts that alert data may choose for a link (a
	// template that is one placeholder alone, such as
	// {{annotations.dashboard}}, or a placeholder in the host), besides
	// those the providers and the runbook name: exact names, or
	// "*.example.com" for every name under a domain.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// ProviderConfig is one provider. Name, Type and (except for datadog and
// url) BaseURL are needed; the other fields belong to some types only, as
// docs/breadcrumbs.md shows.
type ProviderConfig struct {
	// Name identifies the provider; a runbook breadcrumb's datasource may
	// name it. Names are unique, compared without regard to case.
	Name string `yaml:"name"`
	// Type is one of the Type constants.
	Type string `yaml:"type"`
	// Title is the name of the links this provider makes on its own;
	// the default is Name.
	Title string `yaml:"title"`
	// Kind overrides the kind of the links (logs, metrics, traces,
	// dashboard, link); the default follows from the type.
	Kind string `yaml:"kind"`
	// BaseURL is the address of the tool as a browser reaches it
	// (https://grafana.example.com, with any path prefix).
	BaseURL string `yaml:"base_url"`
	// Matchers restrict the provider to alerts whose labels match all of
	// them (Prometheus syntax: label=value, !=, =~, !~). None means every
	// alert.
	Matchers []string `yaml:"matchers"`
	// Default makes the provider the one that opens a runbook query of
	// its kind that names no datasource; without it the first provider
	// of that kind in the list does.
	Default bool `yaml:"default"`
	// Query is a query template (with {{variables}}) that the provider
	// opens for every matching alert. Without it, grafana-explore, loki,
	// kibana and datadog providers only open the queries of runbooks;
	// tempo searches by service and prometheus graphs the alert's own
	// expression.
	Query string `yaml:"query"`

	// OrgID is the Grafana organisation (orgId); 0 leaves it out.
	OrgID int `yaml:"org_id"`
	// DatasourceUID is the Grafana data source that Explore opens.
	DatasourceUID string `yaml:"datasource_uid"`
	// DatasourceType is the plugin type of that data source for
	// grafana-explore: loki, prometheus or tempo (others are passed as
	// written, their query as "expr").
	DatasourceType string `yaml:"datasource_type"`
	// ExploreFormat is "panes" (Grafana 10 and later, the default) or
	// "left" (the older form, still read by newer versions).
	ExploreFormat string `yaml:"explore_format"`
	// DashboardUID is the dashboard that a grafana-dashboard provider
	// opens, and Vars its variables: the name of each (without "var-")
	// and a template for its value.
	DashboardUID string            `yaml:"dashboard_uid"`
	Vars         map[string]string `yaml:"vars"`

	// Index is the Kibana data view (index pattern) ID that Discover
	// opens; QueryLanguage is "kuery" (KQL, the default) or "lucene".
	Index         string `yaml:"index"`
	QueryLanguage string `yaml:"query_language"`

	// Service is the template of the service that tempo and jaeger search
	// traces of; the default is {{service}}.
	Service string `yaml:"service"`

	// Site is the Datadog site (datadoghq.com, the default, datadoghq.eu,
	// us3.datadoghq.com, ...), used when BaseURL is empty; View is "logs"
	// (the default) or "traces".
	Site string `yaml:"site"`
	View string `yaml:"view"`

	// URL is the link template of a url provider.
	URL string `yaml:"url"`
}

// Provider types.
const (
	TypeGrafanaDashboard = "grafana-dashboard"
	TypeGrafanaExplore   = "grafana-explore"
	TypePrometheus       = "prometheus"
	TypeLoki             = "loki"
	TypeTempo            = "tempo"
	TypeJaeger           = "jaeger"
	TypeKibana           = "kibana"
	TypeElasticsearch    = "elasticsearch" // the same as kibana
	TypeDatadog          = "datadog"
	TypeURL              = "url"
)

var providerTypes = []string{TypeGrafanaDashboard, TypeGrafanaExplore, TypePrometheus, TypeLoki, TypeTempo,
	TypeJaeger, TypeKibana, TypeElasticsearch, TypeDatadog, TypeURL}

// ErrConfig is wrapped by every error of New: the configuration cannot be
// used as written.
var ErrConfig = errors.New("invalid breadcrumbs configuration")

// provider is a validated ProviderConfig.
type provider struct {
	ProviderConfig
	matchers []runbooks.Matcher
	kind     string
	// dsType is the Grafana data source type of an Explore-based provider
	// ("loki", "prometheus", "tempo", ...).
	dsType string
	// lang is the query language family, for escaping values.
	lang queryLang
	base *url.URL
}

// New validates cfg and returns the Set it describes. A provider with an
// unknown type, no base URL, a bad matcher, or a template that uses an
// unknown variable is an error that names it, wrapping ErrConfig.
func New(cfg Config) (*Set, error) {
	s := &Set{}
	seen := map[string]bool{}
	for i, pc := range cfg.Providers {
		p, err := newProvider(pc)
		if err != nil {
			name := pc.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			return nil, fmt.Errorf("breadcrumbs: provider %s: %w: %w", name, ErrConfig, err)
		}
		key := strings.ToLower(p.Name)
		if seen[key] {
			return nil, fmt.Errorf("breadcrumbs: provider %s: %w: the name is used twice", p.Name, ErrConfig)
		}
		seen[key] = true
		s.providers = append(s.providers, p)
		if p.base != nil {
			s.trusted.add(p.base.Hostname())
		}
		if host := literalHost(p.URL); host != "" {
			s.trusted.add(host)
		}
	}
	for _, h := range cfg.AllowedHosts {
		if err := checkHostPattern(h); err != nil {
			return nil, fmt.Errorf("breadcrumbs: %w: %w", ErrConfig, err)
		}
		s.trusted.add(h)
	}
	return s, nil
}

func newProvider(pc ProviderConfig) (*provider, error) {
	p := &provider{ProviderConfig: pc}
	p.Name = strings.TrimSpace(p.Name)
	p.Type = strings.ToLower(strings.TrimSpace(p.Type))
	if p.Name == "" {
		return nil, errors.New("a name is needed")
	}
	if !contains(providerTypes, p.Type) {
		return nil, fmt.Errorf("unknown type %q (want one of %s)", pc.Type, strings.Join(providerTypes, ", "))
	}
	if p.Type == TypeElasticsearch {
		p.Type = TypeKibana
	}
	if p.Title == "" {
		p.Title = p.Name
	}
	for _, s := range p.Matchers {
		m, err := runbooks.ParseMatcher(s)
		if err != nil {
			return nil, err
		}
		p.matchers = append(p.matchers, m)
	}
	if err := p.checkBase(); err != nil {
		return nil, err
	}
	if err := p.checkTypeFields(); err != nil {
		return nil, err
	}
	if p.Kind != "" {
		p.Kind = strings.ToLower(p.Kind)
		if !contains(kinds, p.Kind) {
			return nil, fmt.Errorf("unknown kind %q (want one of %s)", pc.Kind, strings.Join(kinds, ", "))
		}
		p.kind = p.Kind
	}
	// Every template must use known variables: a typo here would leave a
	// link out of every incident, silently.
	templates := [][2]string{{"query", p.Query}, {"service", p.Service}, {"url", p.URL}}
	for _, name := range sortedKeys(p.Vars) {
		templates = append(templates, [2]string{"vars." + name, p.Vars[name]})
	}
	for _, t := range templates {
		if _, err := runbooks.ParseTemplate(t[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", t[0], err)
		}
	}
	return p, nil
}

// checkBase parses BaseURL, which every type but datadog and url needs.
func (p *provider) checkBase() error {
	if p.BaseURL == "" {
		switch p.Type {
		case TypeURL, TypeDatadog, TypePrometheus:
			// prometheus may use the address of the alert's generator URL.
			return nil
		}
		return errors.New("base_url is needed")
	}
	u, err := url.Parse(strings.TrimSpace(p.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base_url %q is not an http or https address", p.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base_url %q has a query or fragment: give the address only", p.BaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	p.base = u
	return nil
}

func (p *provider) checkTypeFields() error {
	switch p.Type {
	case TypeGrafanaDashboard:
		if p.DashboardUID == "" {
			return errors.New("dashboard_uid is needed")
		}
		p.kind = runbooks.KindDashboard
	case TypeGrafanaExplore, TypeLoki, TypeTempo:
		if p.DatasourceUID == "" {
			return errors.New("datasource_uid is needed")
		}
		switch p.Type {
		case TypeLoki:
			p.dsType = "loki"
		case TypeTempo:
			p.dsType = "tempo"
		default:
			p.dsType = strings.ToLower(p.DatasourceType)
			if p.dsType == "" {
				return errors.New("datasource_type is needed (loki, prometheus, tempo, ...)")
			}
		}
		switch p.ExploreFormat {
		case "", "panes", "left":
		default:
			return fmt.Errorf("explore_format %q: want panes or left", p.ExploreFormat)
		}
		switch p.dsType {
		case "loki":
			p.kind = runbooks.KindLogs
		case "tempo", "jaeger", "zipkin":
			p.kind = runbooks.KindTraces
		default:
			p.kind = runbooks.KindMetrics
		}
	case TypePrometheus:
		p.kind = runbooks.KindMetrics
	case TypeJaeger:
		p.kind = runbooks.KindTraces
	case TypeKibana:
		switch strings.ToLower(p.QueryLanguage) {
		case "", "kuery", "kql":
			p.QueryLanguage = "kuery"
		case "lucene":
			p.QueryLanguage = "lucene"
		default:
			return fmt.Errorf("query_language %q: want kuery or lucene", p.QueryLanguage)
		}
		p.kind = runbooks.KindLogs
	case TypeDatadog:
		switch p.View {
		case "", "logs":
			p.View = "logs"
			p.kind = runbooks.KindLogs
		case "traces":
			p.kind = runbooks.KindTraces
		default:
			return fmt.Errorf("view %q: want logs or traces", p.View)
		}
		if p.base == nil {
			site := strings.ToLower(strings.TrimSpace(p.Site))
			if site == "" {
				site = "datadoghq.com"
			}
			if !validHost(site) {
				return fmt.Errorf("site %q is not a host name", p.Site)
			}
			// The two-label sites are served from app.SITE; the others
			// (us3.datadoghq.com, ap1.datadoghq.com) from SITE itself.
			if strings.Count(site, ".") == 1 {
				site = "app." + site
			}
			p.base = &url.URL{Scheme: "https", Host: site}
		}
	case TypeURL:
		if strings.TrimSpace(p.URL) == "" {
			return errors.New("url is needed")
		}
		p.kind = runbooks.KindLink
	}
	if p.Query != "" && !p.takesQueries() {
		return fmt.Errorf("a %s provider takes no query", p.Type)
	}
	p.lang = langPromQL
	if p.Type == TypeKibana || p.Type == TypeDatadog {
		p.lang = langLucene
	}
	return nil
}

// applies reports whether the provider's matchers hold for the labels.
func (p *provider) applies(labels map[string]string) bool {
	for _, m := range p.matchers {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// takesQueries reports whether a runbook's query can be opened with the
// provider.
func (p *provider) takesQueries() bool {
	switch p.Type {
	case TypeGrafanaDashboard, TypeURL, TypeJaeger:
		return false
	}
	return true
}

var kinds = []string{runbooks.KindLogs, runbooks.KindMetrics, runbooks.KindTraces, runbooks.KindDashboard, runbooks.KindLink}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
