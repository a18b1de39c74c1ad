package breadcrumbs

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// own returns the link the provider makes on its own for these values,
// if it makes one.
func (p *provider) own(v vars) (string, bool) {
	switch p.Type {
	case TypeGrafanaDashboard:
		return p.dashboardURL(v)
	case TypeURL:
		return fillURL(p.URL, v)
	case TypeJaeger:
		return p.jaegerURL(v)
	case TypePrometheus:
		if expr, base, ok := generatorExpr(v); ok {
			return p.prometheusURL(expr, base, v)
		}
	case TypeTempo:
		if p.Query == "" {
			svc, ok := fillQuery(p.serviceTemplate(), v, p.lang)
			if !ok {
				return "", false
			}
			return p.queryURL(fmt.Sprintf("{resource.service.name=%q}", svc), v)
		}
	}
	if p.Query == "" {
		return "", false
	}
	q, ok := fillQuery(p.Query, v, p.lang)
	if !ok {
		return "", false
	}
	return p.queryURL(q, v)
}

func (p *provider) serviceTemplate() string {
	if p.Service != "" {
		return p.Service
	}
	return "{{service}}"
}

// queryURL opens a filled query with the provider.
func (p *provider) queryURL(q string, v vars) (string, bool) {
	if strings.TrimSpace(q) == "" {
		return "", false
	}
	switch p.Type {
	case TypeGrafanaExplore, TypeLoki, TypeTempo:
		return p.exploreURL(q, v)
	case TypePrometheus:
		return p.prometheusURL(q, nil, v)
	case TypeKibana:
		return p.kibanaURL(q, v)
	case TypeDatadog:
		return p.datadogURL(q, v)
	}
	return "", false
}

// at joins the provider's base URL and a path, and encodes the query.
func (p *provider) at(base *url.URL, path string, q url.Values) string {
	u := *base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	// Spaces as %20 rather than "+": every reader decodes that alike.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// grafanaTime writes a window end as Grafana reads it in a URL: Unix
// milliseconds, or "now" while the alert fires.
func grafanaTime(t time.Time, now bool) string {
	if now {
		return "now"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// dashboardURL opens /d/UID with the window and the dashboard's
// variables; a variable with no value is left out, so that the dashboard
// uses its own default.
func (p *provider) dashboardURL(v vars) (string, bool) {
	q := url.Values{}
	if p.OrgID > 0 {
		q.Set("orgId", strconv.Itoa(p.OrgID))
	}
	q.Set("from", grafanaTime(v.win.from, false))
	q.Set("to", grafanaTime(v.win.to, v.win.open))
	for _, name := range sortedKeys(p.Vars) {
		val, ok := fillQuery(p.Vars[name], v, langPromQL)
		if ok && val != "" {
			q.Set("var-"+name, val)
		}
	}
	return checkURL(p.at(p.base, "/d/"+url.PathEscape(p.DashboardUID), q))
}

// exploreURL opens Grafana Explore on the provider's data source with one
// query. The state is JSON in the panes parameter (schemaVersion=1,
// Grafana 10 and later) or in the older left parameter.
func (p *provider) exploreURL(expr string, v vars) (string, bool) {
	ds := map[string]string{"type": p.dsType, "uid": p.DatasourceUID}
	query := map[string]any{"refId": "A", "datasource": ds}
	switch p.dsType {
	case "tempo":
		query["queryType"] = "traceql"
		query["query"] = expr
		query["limit"] = 20
	case "loki":
		query["expr"] = expr
		query["queryType"] = "range"
	case "prometheus":
		query["expr"] = expr
		query["range"] = true
		query["instant"] = false
	default:
		query["expr"] = expr
		query["query"] = expr
	}
	pane := map[string]any{
		"datasource": p.DatasourceUID,
		"queries":    []any{query},
		"range": map[string]string{
			"from": grafanaTime(v.win.from, false),
			"to":   grafanaTime(v.win.to, v.win.open),
		},
	}
	q := url.Values{}
	if p.OrgID > 0 {
		q.Set("orgId", strconv.Itoa(p.OrgID))
	}
	if p.ExploreFormat == "left" {
		q.Set("left", mustJSON(pane))
	} else {
		q.Set("schemaVersion", "1")
		q.Set("panes", mustJSON(map[string]any{"bc": pane}))
	}
	return checkURL(p.at(p.base, "/explore", q))
}

// mustJSON marshals maps of strings, numbers and lists, which cannot fail;
// map keys come out sorted, so the result is deterministic. "&", "<" and
// ">" are kept as they are: the URL encoding carries them.
func mustJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("breadcrumbs: marshal %T: %v", v, err))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// generatorExpr takes the expression out of the alert's generator URL
// (Prometheus writes it as g0.expr), with the URL's own address.
func generatorExpr(v vars) (string, *url.URL, bool) {
	if v.alert == nil || v.alert.GeneratorURL == "" {
		return "", nil, false
	}
	u, err := url.Parse(v.alert.GeneratorURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, false
	}
	expr := strings.TrimSpace(q.Get("g0.expr"))
	if expr == "" {
		return "", nil, false
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/graph")}
	return expr, base, true
}

// prometheusURL opens Prometheus's graph of expr over the window, at the
// configured address, else at genBase (the generator URL's address).
func (p *provider) prometheusURL(expr string, genBase *url.URL, v vars) (string, bool) {
	base := p.base
	if base == nil && genBase != nil && v.trust.allows(genBase.Host) {
		// The generator URL comes with the alert: its address is used
		// only when the configuration or the runbook names it.
		base = genBase
	}
	if base == nil {
		return "", false
	}
	end := v.win.to.UTC().Format("2006-01-02 15:04:05")
	q := url.Values{}
	q.Set("g0.expr", expr)
	q.Set("g0.tab", "0")
	q.Set("g0.range_input", promDuration(v.win.to.Sub(v.win.from)))
	q.Set("g0.end_input", end)
	q.Set("g0.moment_input", end)
	return checkURL(p.at(base, "/graph", q))
}

// promDuration writes d, rounded up to a minute, as Prometheus's UI reads
// a range: "1h30m", "2d3h".
func promDuration(d time.Duration) string {
	mins := int64((d + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	var b strings.Builder
	for _, u := range []struct {
		n    int64
		unit string
	}{{60 * 24, "d"}, {60, "h"}, {1, "m"}} {
		if mins >= u.n {
			b.WriteString(strconv.FormatInt(mins/u.n, 10) + u.unit)
			mins %= u.n
		}
	}
	return b.String()
}

// kibanaURL opens Discover with the query and the window, in the rison
// state Kibana keeps in the URL's fragment.
func (p *provider) kibanaURL(query string, v vars) (string, bool) {
	to := "now"
	if !v.win.open {
		to = v.win.to.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	g := risonObj{{"time", risonObj{
		{"from", v.win.from.UTC().Format("2006-01-02T15:04:05.000Z")},
		{"to", to},
	}}}
	a := risonObj{}
	if p.Index != "" {
		a = append(a, risonPair{"index", p.Index})
	}
	a = append(a, risonPair{"query", risonObj{{"language", p.QueryLanguage}, {"query", query}}})
	u := *p.base
	u.Path = strings.TrimRight(u.Path, "/") + "/app/discover"
	u.RawPath = ""
	s := u.String() + "#/?_g=" + escapeRisonForURL(rison(g)) + "&_a=" + escapeRisonForURL(rison(a))
	return checkURL(s)
}

// jaegerURL opens Jaeger's search for the service over the window
// (microseconds).
func (p *provider) jaegerURL(v vars) (string, bool) {
	svc, ok := fillQuery(p.serviceTemplate(), v, langPromQL)
	if !ok || strings.TrimSpace(svc) == "" {
		return "", false
	}
	q := url.Values{}
	q.Set("service", svc)
	q.Set("start", strconv.FormatInt(v.win.from.UnixMicro(), 10))
	q.Set("end", strconv.FormatInt(v.win.to.UnixMicro(), 10))
	q.Set("lookback", "custom")
	q.Set("limit", "20")
	return checkURL(p.at(p.base, "/search", q))
}

// datadogURL opens the Log Explorer or the trace search with the query
// over the window (Unix milliseconds).
func (p *provider) datadogURL(query string, v vars) (string, bool) {
	from := strconv.FormatInt(v.win.from.UnixMilli(), 10)
	to := strconv.FormatInt(v.win.to.UnixMilli(), 10)
	q := url.Values{}
	q.Set("query", query)
	if p.View == "traces" {
		q.Set("start", from)
		q.Set("end", to)
		q.Set("paused", "true")
		return checkURL(p.at(p.base, "/apm/traces", q))
	}
	q.Set("from_ts", from)
	q.Set("to_ts", to)
	q.Set("live", "false")
	return checkURL(p.at(p.base, "/logs", q))
}
