package breadcrumbs

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// A link's host is chosen by whoever wrote its template: the
// configuration or the runbook, both reviewed like code. Alert data
// (labels, annotations, the generator URL) comes from anything that can
// reach a webhook, and must not choose where the redirect /b/ sends a
// responder. So a host that alert data gives (a template that is one
// placeholder alone, a placeholder in the host, Prometheus's generator
// URL) is taken only when it is one the configuration or the runbook
// names: a provider's base_url, a host written in a template, a host in
// the runbook's links, or breadcrumbs.allowed_hosts.

// hostSet is a set of host names, each exact or "*.domain" for every
// name under domain.
type hostSet struct {
	exact   map[string]bool
	domains []string // ".example.com" for "*.example.com"
}

func (h *hostSet) add(pattern string) {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	if d, ok := strings.CutPrefix(pattern, "*."); ok {
		h.domains = append(h.domains, "."+d)
		return
	}
	if h.exact == nil {
		h.exact = map[string]bool{}
	}
	h.exact[pattern] = true
}

// allows reports whether host (a name or an address, with or without a
// port) is in the set.
func (h *hostSet) allows(host string) bool {
	if h == nil || host == "" {
		return false
	}
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	host = strings.ToLower(host)
	if h.exact[host] {
		return true
	}
	for _, d := range h.domains {
		if strings.HasSuffix(host, d) && len(host) > len(d) {
			return true
		}
	}
	return false
}

// checkHostPattern validates an allowed_hosts entry.
func checkHostPattern(p string) error {
	name := strings.TrimPrefix(strings.TrimSpace(p), "*.")
	if !validHost(name) || strings.Contains(name, ":") || !strings.Contains(name, ".") && strings.HasPrefix(strings.TrimSpace(p), "*.") {
		return fmt.Errorf("allowed_hosts: %q is not a host name, or *. and a domain (such as grafana.example.com or *.example.com)", p)
	}
	return nil
}

// literalHost returns the host written in a URL template before any
// placeholder, "" when a placeholder is in the scheme or the host (or
// the template is not an absolute URL).
func literalHost(tmpl string) string {
	tmpl = strings.TrimSpace(tmpl)
	if runbooks.TemplateChoosesHost(tmpl) {
		return ""
	}
	u, err := url.Parse(strings.SplitN(tmpl, "{{", 2)[0])
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// runbookHosts adds the hosts that a runbook names to h: those of its
// absolute links, and those written in its dashboards' and breadcrumbs'
// templates.
func runbookHosts(h *hostSet, rb *runbooks.Runbook) {
	for _, l := range rb.Links {
		if l.Kind == runbooks.LinkAbsolute {
			if host := literalHost(l.URL); host != "" {
				h.add(host)
			}
		}
	}
	for _, list := range [][]runbooks.Breadcrumb{rb.Dashboards, rb.Breadcrumbs} {
		for _, b := range list {
			if host := literalHost(b.URL); host != "" {
				h.add(host)
			}
		}
	}
}
