package breadcrumbs

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Set is the configured providers, ready to fill links. It is safe for
// concurrent use. The zero Set has no provider and still fills the
// runbook's own links.
type Set struct {
	providers []*provider
	// trusted is the hosts the configuration names: allowed_hosts, the
	// providers' base URLs and the hosts written in their templates.
	trusted hostSet
}

// Provider values of incidents.Link for the links that do not come from a
// configured provider.
const (
	FromRunbook = "runbook"
	FromStep    = "step"
)

// Links fills the incident's links, in this order: the runbook's
// dashboards, its breadcrumbs, the template links of its text outside the
// steps, the configured providers' own links (in the order of the
// configuration), then the template links of the runbook's steps (with
// Link.Step set). A link that cannot be filled is left out; a
// URL already given at the same place (the home, or the same step) is
// given once. The same input always gives the same links.
func (s *Set) Links(in Input) []incidents.Link {
	v := newVars(in)
	trust := &hostSet{}
	if s != nil {
		for h := range s.trusted.exact {
			trust.add(h)
		}
		trust.domains = append(trust.domains, s.trusted.domains...)
	}
	if in.Runbook != nil {
		runbookHosts(trust, in.Runbook)
	}
	v.trust = trust
	var providers []*provider
	if s != nil {
		for _, p := range s.providers {
			if p.applies(v.labels()) {
				providers = append(providers, p)
			}
		}
	}
	var out []incidents.Link
	seen := map[string]bool{}
	add := func(l incidents.Link, ok bool) {
		if !ok {
			return
		}
		key := strconv.Itoa(l.Step) + " " + l.URL
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, l)
	}
	if rb := in.Runbook; rb != nil {
		for _, list := range [][]runbooks.Breadcrumb{rb.Dashboards, rb.Breadcrumbs} {
			for _, b := range list {
				u, ok := entryURL(b, providers, v)
				add(incidents.Link{Name: b.Name, Kind: entryKind(b), URL: u, Provider: FromRunbook}, ok)
			}
		}
		// Template links in the text outside the steps (a "Dashboards"
		// section) belong to the whole incident.
		for _, l := range templateLinks(rb) {
			if !inAnyStep(rb, l.URL) {
				u, ok := fillURL(l.URL, v)
				add(incidents.Link{Name: textLinkName(l, u), Kind: runbooks.KindLink, URL: u, Provider: FromRunbook}, ok)
			}
		}
	}
	for _, p := range providers {
		u, ok := p.own(v)
		add(incidents.Link{Name: p.Title, Kind: p.kind, URL: u, Provider: p.Name}, ok)
	}
	if rb := in.Runbook; rb != nil {
		links := templateLinks(rb)
		for _, st := range rb.Steps {
			for _, l := range links {
				if strings.Contains(st.Body, l.URL) {
					u, ok := fillURL(l.URL, v)
					add(incidents.Link{Name: textLinkName(l, u), Kind: runbooks.KindLink, URL: u, Provider: FromStep, Step: st.Number}, ok)
				}
			}
		}
	}
	return out
}

func entryKind(b runbooks.Breadcrumb) string {
	if contains(kinds, b.Kind) {
		return b.Kind
	}
	return runbooks.KindLink
}

// entryURL fills a front-matter entry: its url template, else its query
// through the provider its datasource names (or the default one of its
// kind when it names none).
func entryURL(b runbooks.Breadcrumb, providers []*provider, v vars) (string, bool) {
	if strings.TrimSpace(b.URL) != "" {
		return fillURL(b.URL, v)
	}
	if strings.TrimSpace(b.Query) == "" {
		return "", false
	}
	p := resolve(providers, b.Datasource, entryKind(b))
	if p == nil {
		return "", false
	}
	q, ok := fillQuery(b.Query, v, p.lang)
	if !ok {
		return "", false
	}
	return p.queryURL(q, v)
}

// resolve finds the provider that opens a runbook query: the one the
// datasource names; else, by type, the first whose type or Grafana data
// source type is the datasource ("loki", "prometheus", "tempo", "kibana");
// else, when no datasource is given, the default provider of the kind,
// or the first of that kind. Only providers that apply to the alert are
// given.
func resolve(providers []*provider, datasource, kind string) *provider {
	ds := strings.ToLower(strings.TrimSpace(datasource))
	if ds != "" {
		for _, p := range providers {
			if p.takesQueries() && strings.ToLower(p.Name) == ds {
				return p
			}
		}
		if ds == TypeElasticsearch {
			ds = TypeKibana
		}
		for _, p := range providers {
			if p.takesQueries() && (p.Type == ds || p.dsType == ds) {
				return p
			}
		}
		return nil
	}
	var first *provider
	for _, p := range providers {
		if !p.takesQueries() || p.kind != kind {
			continue
		}
		if p.Default {
			return p
		}
		if first == nil {
			first = p
		}
	}
	return first
}

// templateLinks returns the links of the page's text whose URL holds
// variables.
func templateLinks(rb *runbooks.Runbook) []runbooks.Link {
	var out []runbooks.Link
	for _, l := range rb.Links {
		if l.Kind == runbooks.LinkAbsolute && strings.Contains(l.URL, "{{") {
			out = append(out, l)
		}
	}
	return out
}

func inAnyStep(rb *runbooks.Runbook, u string) bool {
	for _, st := range rb.Steps {
		if strings.Contains(st.Body, u) {
			return true
		}
	}
	return false
}

// textLinkName names a link of the page's text by its text, else by the
// host it opens.
func textLinkName(l runbooks.Link, filled string) string {
	if t := strings.TrimSpace(l.Text); t != "" && t != l.URL {
		return t
	}
	if u, err := url.Parse(filled); err == nil && u.Host != "" {
		return u.Host
	}
	return "link"
}
