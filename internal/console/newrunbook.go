package console

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// newRunbookPage is what the new-runbook page shows: a page to start
// from, made from an incident's first alert (?incident=ID) or from an
// alert's name (?alert=NAME), and where to keep it.
type newRunbookPage struct {
	alert    runbooks.Alert
	incident string
	path     string // where to save it, relative to the source
	source   string
}

// newRunbookFor reads the request's incident or alert name. ok is false
// when the page has already been answered (not found, or a bad request).
func (c *Console) newRunbookFor(w http.ResponseWriter, r *http.Request) (p newRunbookPage, ok bool) {
	q := r.URL.Query()
	if id := q.Get("incident"); id != "" {
		inc, err := c.cfg.Incidents.Get(r.Context(), id)
		if errors.Is(err, incidents.ErrNotFound) {
			c.render(w, http.StatusNotFound, "notfound.html", map[string]any{"Title": "Not found", "What": "incident " + id})
			return p, false
		}
		if err != nil {
			c.fail(w, "reading an incident", err)
			return p, false
		}
		p.incident = inc.ID
		p.alert = alertOf(inc)
		p.source, p.path = placeFor(inc, p.alert.Name)
		return p, true
	}
	name := strings.TrimSpace(q.Get("alert"))
	if name == "" || len(name) > 200 {
		http.Error(w, "name an incident (?incident=ID) or an alert (?alert=NAME)", http.StatusBadRequest)
		return p, false
	}
	p.alert = runbooks.Alert{Name: name, Labels: map[string]string{"alertname": name}}
	p.path = runbooks.NewPagePath("", name)
	return p, true
}

// alertOf is the incident's first alert as the matcher saw it, or an
// alert named after the incident's title when it has none.
func alertOf(inc *incidents.Incident) runbooks.Alert {
	if len(inc.Alerts) > 0 {
		a := inc.Alerts[0]
		labels := map[string]string{}
		for k, v := range a.Labels {
			labels[k] = v
		}
		if labels["alertname"] == "" {
			labels["alertname"] = a.Name
		}
		return runbooks.Alert{Name: a.Name, Labels: labels, Summary: a.Summary}
	}
	name := strings.Join(strings.Fields(inc.Title), "")
	return runbooks.Alert{Name: name, Labels: map[string]string{"alertname": name}, Summary: inc.Summary}
}

// placeFor suggests where the new page goes: beside the runbook that came
// closest, else at the root of its source.
func placeFor(inc *incidents.Incident, alert string) (source, p string) {
	if len(inc.Suggestions) > 0 {
		s := inc.Suggestions[0]
		return s.Source, runbooks.NewPagePath(path.Dir(s.Path), alert)
	}
	return "", runbooks.NewPagePath("", alert)
}

// newRunbook shows a page to start from, with how to add it.
func (c *Console) newRunbook(w http.ResponseWriter, r *http.Request) {
	p, ok := c.newRunbookFor(w, r)
	if !ok {
		return
	}
	download := "/runbooks/new.md?" + r.URL.RawQuery
	c.render(w, http.StatusOK, "newrunbook.html", map[string]any{
		"Title": "Write the runbook for " + p.alert.Name, "Alert": p.alert.Name, "Incident": p.incident,
		"Path": p.path, "Source": p.source, "File": path.Base(p.path), "Download": download,
		"Markdown": runbooks.NewPage(p.alert),
	})
}

// newRunbookFile answers the page to start from as a markdown file.
func (c *Console) newRunbookFile(w http.ResponseWriter, r *http.Request) {
	p, ok := c.newRunbookFor(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(path.Base(p.path)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(runbooks.NewPage(p.alert)))
}
