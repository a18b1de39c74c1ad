package breadcrumbs

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// RedirectPath is the pattern the redirect answers, for an http.ServeMux.
// The handler reads the last three segments of the path itself, so it may
// be mounted at "/b/" as well.
const RedirectPath = "GET /b/{incident}/{n}"

// ClickWindow is how long a second click on the same link by the same
// person is taken for the first one (a double click, a retried load).
const ClickWindow = 5 * time.Second

// RedirectURL returns the address of the redirect to the incident's link
// number n (its index in Incident.Links), under base, Breadcrumb's public
// address ("https://breadcrumb.example.com", with any path prefix).
func RedirectURL(base, incidentID string, n int) string {
	return strings.TrimRight(base, "/") + "/b/" + url.PathEscape(incidentID) + "/" + strconv.Itoa(n)
}

// RedirectURLFor is RedirectURL with the user who will click it (a Slack
// user ID), so that the timeline names them.
func RedirectURLFor(base, incidentID string, n int, user string) string {
	u := RedirectURL(base, incidentID, n)
	if user == "" {
		return u
	}
	return u + "?u=" + url.QueryEscape(user)
}

// redirect is the handler of NewRedirect.
type redirect struct {
	svc    *incidents.Service
	logger *slog.Logger
	window time.Duration // ClickWindow
}

// NewRedirect returns the handler of GET /b/{incident}/{n}: it records on
// the incident's timeline that link n was opened (by the user the u query
// parameter names, else "someone"), then redirects (302) to the URL stored
// on the incident. An unknown incident or link number gets a 404 page:
// the handler never sends a browser anywhere but to a stored link. Mount
// it at RedirectPath or at "/b/", without stripping the prefix. A HEAD
// request, or a link preview's fetch, is answered without a record.
func NewRedirect(svc *incidents.Service, logger *slog.Logger) http.Handler {
	return newRedirect(svc, logger, ClickWindow)
}

func newRedirect(svc *incidents.Service, logger *slog.Logger, window time.Duration) *redirect {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &redirect{svc: svc, logger: logger, window: window}
}

// parsePath reads ".../b/{incident}/{n}" from an escaped path.
func parsePath(p string) (id string, n int, ok bool) {
	segs := strings.Split(p, "/")
	if len(segs) < 4 || segs[len(segs)-3] != "b" {
		return "", 0, false
	}
	id, err := url.PathUnescape(segs[len(segs)-2])
	if err != nil || id == "" {
		return "", 0, false
	}
	raw := segs[len(segs)-1]
	n, err = strconv.Atoi(raw)
	if err != nil || n < 0 || raw != strconv.Itoa(n) {
		return "", 0, false
	}
	return id, n, true
}

func (h *redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		page(w, http.StatusMethodNotAllowed, "Method not allowed", "A breadcrumb is opened with GET.")
		return
	}
	id, n, ok := parsePath(r.URL.EscapedPath())
	if !ok {
		notFound(w, "There is no breadcrumb at this address.")
		return
	}
	ctx := r.Context()
	inc, err := h.svc.Get(ctx, id)
	if errors.Is(err, incidents.ErrNotFound) {
		notFound(w, "There is no incident "+id+".")
		return
	}
	if err != nil {
		h.logger.Error("breadcrumb redirect: read incident", "incident_id", id, "err", err)
		page(w, http.StatusServiceUnavailable, "Breadcrumb is unavailable", "The incident could not be read. Try again in a moment.")
		return
	}
	if n >= len(inc.Links) {
		notFound(w, "Incident "+id+" has no breadcrumb number "+strconv.Itoa(n)+".")
		return
	}
	link := inc.Links[n]
	target, ok := checkURL(link.URL)
	if !ok {
		notFound(w, "This breadcrumb has no address that can be opened.")
		return
	}
	if r.Method == http.MethodGet && !isPreview(r.UserAgent()) {
		h.record(ctx, inc.ID, n, link, actor(r.URL.Query().Get("u")))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}

// record puts the click on the timeline, once per person and link within
// ClickWindow (clicks with no u parameter count as one person's). A failure is logged, not shown: the responder still gets
// the link.
func (h *redirect) record(ctx context.Context, id string, n int, link incidents.Link, who string) {
	// The click is recorded even when the browser goes away meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	first, err := h.svc.Claim(ctx, "breadcrumb-click:"+id+":"+strconv.Itoa(n)+":"+who, h.window)
	if err != nil {
		h.logger.Warn("breadcrumb redirect: claim click", "incident_id", id, "link", n, "err", err)
		first = true // better a click recorded twice than not at all
	}
	if !first {
		return
	}
	a := incidents.Action{Actor: who, Source: "web"}
	if link.Step > 0 {
		a.Text = "from step " + strconv.Itoa(link.Step)
	}
	if err := h.svc.BreadcrumbOpened(ctx, id, link.Name, link.URL, a); err != nil {
		h.logger.Error("breadcrumb redirect: record click", "incident_id", id, "link", n, "err", err)
	}
}

// actor returns who clicked: the u parameter when it looks like a user ID
// or a name (letters, digits, ".", "_", "-", "@"; up to 64), else
// "someone". The parameter is what the link was made with, not proof of
// who followed it.
func actor(u string) string {
	if u == "" || len(u) > 64 {
		return "someone"
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)) {
			return "someone"
		}
	}
	return u
}

// isPreview recognises the fetchers that load a link to show a preview
// of it rather than for a person.
func isPreview(ua string) bool {
	for _, s := range []string{"Slackbot-LinkExpanding", "Slack-ImgProxy", "Twitterbot", "Discordbot", "facebookexternalhit"} {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

func notFound(w http.ResponseWriter, msg string) {
	page(w, http.StatusNotFound, "Breadcrumb not found", msg)
}

// page writes a small HTML page; msg may hold untrusted text (the
// incident ID from the path) and is escaped.
func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		"</title></head>\n<body><h1>" + html.EscapeString(title) + "</h1>\n<p>" + html.EscapeString(msg) +
		"</p></body></html>\n"))
}
