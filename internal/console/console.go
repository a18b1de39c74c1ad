package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// Library is what the console reads of the runbooks.
type Library interface {
	Pages() []*runbooks.Runbook
	Get(id string) (*runbooks.Runbook, bool)
	Status() []runbooks.SourceStatus
}

// Searcher runs a full-text search.
type Searcher interface {
	Search(ctx context.Context, q search.Query) ([]search.Hit, error)
}

// Memory is what the console reads of past incidents
// (search/memory.Index).
type Memory interface {
	Similar(ctx context.Context, inc *incidents.Incident, limit int) ([]memory.Match, error)
	SeenBefore(ctx context.Context, inc *incidents.Incident) (memory.Seen, error)
	Runbook(ctx context.Context, id string) (memory.RunbookUse, error)
}

// Config is what a Console needs. Incidents, Library and Search are
// required.
type Config struct {
	Incidents *incidents.Service
	Library   Library
	Search    Searcher
	// Token is the write token; when it is zero, nothing can be written
	// through the console.
	Token secret.String
	// LinkURL builds the redirect address of an incident's link n (which
	// records the click); nil links straight to the target.
	LinkURL func(incidentID string, n int) string
	// Chat is the local chat; nil hides it.
	Chat http.Handler
	// Demo sends a sample alert through the real webhook path; nil hides
	// the demo button. DemoFits, when set, says whether the runbook the
	// sample alert is written for is served: the button is shown only
	// then, since on other runbooks it would open an incident that none
	// fits.
	Demo     func(ctx context.Context) error
	DemoFits func() bool
	Logger   *slog.Logger
	Now      func() time.Time
	// Rules returns the alert rules with the runbook each resolves to;
	// nil when there are no rules sources. RulesStatus says how each
	// rules source read.
	Rules       func() []search.RuleReport
	RulesStatus func() []runbooks.RulesStatus
	// Memory finds the past incidents like one, and what a runbook
	// served in; nil leaves them out.
	Memory Memory
	// Warnings are shown on the home page: settings that work but that
	// an operator should know of.
	Warnings []string
	// TokenForRun says that Token was made for this run and printed on
	// the terminal, for the sign-in page to say so.
	TokenForRun bool
	// SecureCookies marks the sign-in cookie Secure even on a plain HTTP
	// request: the service is reached over HTTPS through a proxy that
	// ends TLS (its public_url is https://).
	SecureCookies bool
}

// Console serves the web console's pages.
type Console struct {
	cfg   Config
	pages *template.Template
	md    goldmark.Markdown
}

//go:embed templates/*.html
var templateFS embed.FS

// New returns a console over cfg.
func New(cfg Config) (*Console, error) {
	if cfg.Incidents == nil || cfg.Library == nil || cfg.Search == nil {
		return nil, errors.New("console: incidents, library and search are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{cfg: cfg, md: goldmark.New(goldmark.WithExtensions(extension.GFM))}
	t, err := template.New("").Funcs(template.FuncMap{
		"when":    func(t time.Time) string { return when(t) },
		"ago":     func(t time.Time) string { return ago(cfg.Now(), t) },
		"link":    c.linkURL,
		"esc":     url.PathEscape,
		"query":   url.QueryEscape,
		"marked":  marked,
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"sevText": sevText,
		"list":    func(s ...string) []string { return s },
		"took":    memory.Took,
		"tmpl":    templateHTML,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	c.pages = t
	return c, nil
}

// Register mounts the console's pages on mux: / and below, except the
// paths the API and webhooks own.
func (c *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.home)
	mux.HandleFunc("GET /incidents", c.incidentList)
	mux.HandleFunc("GET /incidents/{id}", c.incident)
	mux.HandleFunc("GET /runbooks", c.runbookList)
	mux.HandleFunc("GET /runbooks/new", c.newRunbook)
	mux.HandleFunc("GET /runbooks/new.md", c.newRunbookFile)
	mux.HandleFunc("GET /runbooks/{id...}", c.runbook)
	mux.HandleFunc("GET /search", c.search)
	mux.HandleFunc("GET /coverage", c.coverage)
	mux.HandleFunc("GET /signin", c.signinForm)
	mux.HandleFunc("POST /signin", c.signin)
	if c.cfg.Demo != nil {
		mux.Handle("POST /demo", c.RequireToken(http.HandlerFunc(c.demo)))
	}
	mux.Handle("POST /incidents/{id}/act", c.RequireToken(http.HandlerFunc(c.act)))
	if c.cfg.Chat != nil {
		mux.Handle("/chat", c.RequireToken(c.cfg.Chat))
		mux.Handle("/chat/", c.RequireToken(c.cfg.Chat))
	}
}

// render executes a page template, buffering it so that a template error
// gives a clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Writable"] = !c.cfg.Token.IsZero()
	data["Chat"] = c.cfg.Chat != nil
	data["Demo"] = c.demoShown()
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, name, data); err != nil {
		c.cfg.Logger.Error("console page failed", "page", name, "err", err)
		http.Error(w, "this page could not be rendered; the log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) linkURL(id string, n int, l incidents.Link) string {
	if c.cfg.LinkURL != nil {
		return c.cfg.LinkURL(id, n)
	}
	return l.URL
}

const cookieName = "breadcrumb_token"

// authorized reports whether the request carries the write token, as a
// bearer token or in the sign-in cookie, and whether it was the bearer.
func (c *Console) authorized(r *http.Request) (ok, bearer bool) {
	if c.cfg.Token.IsZero() {
		return false, false
	}
	want := []byte(c.cfg.Token.Reveal())
	if h, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); isBearer {
		ok := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(h)), want) == 1
		return ok, ok
	}
	if ck, err := r.Cookie(cookieName); err == nil {
		return subtle.ConstantTimeCompare([]byte(ck.Value), want) == 1, false
	}
	return false, false
}

// RequireToken lets through the requests that carry the write token, and
// sends the others to the sign-in page (or answers 401 to a script).
func (c *Console) RequireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, bearer := c.authorized(r); ok {
			if bearer {
				r = withBearer(r)
			}
			next.ServeHTTP(w, r)
			return
		}
		if c.cfg.Token.IsZero() {
			http.Error(w, "writing through the console is off: set BREADCRUMB_CONSOLE_TOKEN to turn it on", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="breadcrumb"`)
		http.Error(w, "this needs the console's write token", http.StatusUnauthorized)
	})
}

func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if tok := r.URL.Query().Get("token"); tok != "" {
		// The link the service prints on the embedded defaults.
		c.setToken(w, r, tok, next)
		return
	}
	c.render(w, http.StatusOK, "signin.html", map[string]any{"Next": next, "Title": "Sign in", "ForRun": c.cfg.TokenForRun})
}

// setToken signs in with tok, or shows the form again.
func (c *Console) setToken(w http.ResponseWriter, r *http.Request, tok, next string) {
	if c.cfg.Token.IsZero() || subtle.ConstantTimeCompare([]byte(tok), []byte(c.cfg.Token.Reveal())) != 1 {
		c.render(w, http.StatusUnauthorized, "signin.html", map[string]any{"Next": next, "Title": "Sign in", "Failed": true, "ForRun": c.cfg.TokenForRun})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secureRequest(r, c.cfg.SecureCookies), MaxAge: 12 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	c.setToken(w, r, r.PostFormValue("token"), safeNext(r.PostFormValue("next")))
}

// safeNext returns where to go once signed in: next when it is a path on
// this site, "/" otherwise. http.Redirect cleans a path before it writes
// Location (path.Clean, keeping a trailing slash), and a browser then
// drops tabs and newlines and reads a backslash as a slash, so that
// "/./\evil.example" and "/\t/evil.example" leave the site once
// written. The path is therefore cleaned the same way first and checked
// after: printable ASCII only (the console's own links are escaped), no
// backslash anywhere, one leading slash and never two.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	p, query := next, ""
	if i := strings.IndexByte(next, '?'); i >= 0 {
		p, query = next[:i], next[i:]
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(clean, "/") {
		clean += "/"
	}
	clean += query
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return "/"
	}
	return clean
}

// demoShown reports whether the demo button has a runbook to lead to.
func (c *Console) demoShown() bool {
	return c.cfg.Demo != nil && (c.cfg.DemoFits == nil || c.cfg.DemoFits())
}

// demo sends the sample alert; its form is guarded as the chat's are.
func (c *Console) demo(w http.ResponseWriter, r *http.Request) {
	if !checkForm(w, r, 4096) {
		return
	}
	if !c.demoShown() {
		http.Error(w, "the sample alert is written for the bundled example runbooks, which this server does not serve", http.StatusConflict)
		return
	}
	if err := c.cfg.Demo(r.Context()); err != nil {
		c.cfg.Logger.Error("demo alert failed", "err", err)
		http.Error(w, "the demo alert could not be sent: "+err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, "/incidents?demo=1", http.StatusSeeOther)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	open, err := c.cfg.Incidents.List(r.Context(), incidents.Filter{Open: true, Limit: 50})
	if err != nil {
		c.fail(w, "listing incidents", err)
		return
	}
	recent, err := c.cfg.Incidents.List(r.Context(), incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}, Limit: 10})
	if err != nil {
		c.fail(w, "listing incidents", err)
		return
	}
	pages := c.cfg.Library.Pages()
	problems := 0
	for _, p := range pages {
		if p.Problems() > 0 {
			problems++
		}
	}
	data := map[string]any{"Title": "Breadcrumb", "Open": open, "Recent": recent,
		"Sources": c.cfg.Library.Status(), "Pages": len(pages), "PagesWithProblems": problems, "Warnings": c.cfg.Warnings}
	if c.demoShown() && !c.cfg.Token.IsZero() {
		data["CSRF"] = formToken(w, r, secureRequest(r, c.cfg.SecureCookies))
	}
	c.render(w, http.StatusOK, "home.html", data)
}

func (c *Console) fail(w http.ResponseWriter, what string, err error) {
	c.cfg.Logger.Error("console: "+what, "err", err)
	http.Error(w, what+" failed; the log says why", http.StatusInternalServerError)
}

func (c *Console) incidentList(w http.ResponseWriter, r *http.Request) {
	f := incidents.Filter{Limit: 200, Service: r.URL.Query().Get("service")}
	if st := r.URL.Query().Get("status"); st != "" {
		if st == "open" {
			f.Open = true
		} else if incidents.Status(st).Valid() {
			f.Statuses = []incidents.Status{incidents.Status(st)}
		}
	}
	list, err := c.cfg.Incidents.List(r.Context(), f)
	if err != nil {
		c.fail(w, "listing incidents", err)
		return
	}
	// The page's script asks the API for the same list, to see a change.
	q := url.Values{}
	if st := r.URL.Query().Get("status"); st == "open" || incidents.Status(st).Valid() {
		q.Set("status", st)
	}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	query := ""
	if len(q) > 0 {
		query = "&" + q.Encode()
	}
	c.render(w, http.StatusOK, "incidents.html", map[string]any{"Title": "Incidents", "Incidents": list, "Status": r.URL.Query().Get("status"),
		"Service": f.Service, "Demoed": r.URL.Query().Get("demo") != "", "Query": query})
}

// timelineLimit bounds the events one incident page shows at first; the
// page's script fetches the rest as they come.
const timelineLimit = 500

func (c *Console) incident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	inc, err := c.cfg.Incidents.Get(r.Context(), id)
	if errors.Is(err, incidents.ErrNotFound) {
		c.render(w, http.StatusNotFound, "notfound.html", map[string]any{"Title": "Not found", "What": "incident " + id})
		return
	}
	if err != nil {
		c.fail(w, "reading an incident", err)
		return
	}
	events, err := c.cfg.Incidents.Timeline(r.Context(), id, 0, timelineLimit)
	if err != nil {
		c.fail(w, "reading a timeline", err)
		return
	}
	var last int64
	if len(events) > 0 {
		last = events[len(events)-1].Seq
	}
	// Shown in the order things happened: an alert's event carries when
	// it fired, which may be before the events recorded ahead of it.
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	data := map[string]any{"Title": inc.ID + " " + inc.Title, "Inc": inc, "Events": events, "Last": last,
		"Refused": r.URL.Query().Get("refused")}
	// The step to do now comes first, on a phone above all.
	if inc.Status.Open() {
		for i, st := range inc.Steps {
			if st.State == incidents.StepPending {
				data["Current"], data["CurrentOf"] = inc.Steps[i], len(inc.Steps)
				break
			}
		}
	}
	if ok, _ := c.authorized(r); ok {
		data["CanAct"] = true
		data["CSRF"] = formToken(w, r, secureRequest(r, c.cfg.SecureCookies))
	}
	if c.cfg.Memory != nil {
		// The past is a help, not the page: when it cannot be read, the
		// page is shown without it.
		if similar, err := c.cfg.Memory.Similar(r.Context(), inc, 5); err == nil {
			data["Similar"] = similar
		} else {
			c.cfg.Logger.Warn("console: past incidents not read", "incident_id", inc.ID, "err", err)
		}
		if seen, err := c.cfg.Memory.SeenBefore(r.Context(), inc); err == nil && seen.Count > 0 {
			data["Seen"] = seen
		}
	}
	c.render(w, http.StatusOK, "incident.html", data)
}

type sourcePages struct {
	Status runbooks.SourceStatus
	Pages  []*runbooks.Runbook
}

func (c *Console) runbookList(w http.ResponseWriter, _ *http.Request) {
	bySource := map[string]*sourcePages{}
	var order []string
	for _, st := range c.cfg.Library.Status() {
		bySource[st.Name] = &sourcePages{Status: st}
		order = append(order, st.Name)
	}
	for _, p := range c.cfg.Library.Pages() {
		sp := bySource[p.Source]
		if sp == nil {
			sp = &sourcePages{Status: runbooks.SourceStatus{Name: p.Source}}
			bySource[p.Source] = sp
			order = append(order, p.Source)
		}
		sp.Pages = append(sp.Pages, p)
	}
	var list []*sourcePages
	for _, name := range order {
		sp := bySource[name]
		sort.Slice(sp.Pages, func(i, j int) bool { return sp.Pages[i].Path < sp.Pages[j].Path })
		list = append(list, sp)
	}
	c.render(w, http.StatusOK, "runbooks.html", map[string]any{"Title": "Runbooks", "Sources": list})
}

func (c *Console) runbook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rb, ok := c.cfg.Library.Get(id)
	if !ok {
		c.render(w, http.StatusNotFound, "notfound.html", map[string]any{"Title": "Not found", "What": "runbook " + id})
		return
	}
	body, err := c.renderRunbook(rb)
	if err != nil {
		c.fail(w, "rendering a runbook", err)
		return
	}
	data := map[string]any{"Title": rb.Title, "RB": rb, "Body": template.HTML(body)} //nolint:gosec // goldmark output without raw HTML
	if c.cfg.Memory != nil {
		if use, err := c.cfg.Memory.Runbook(r.Context(), rb.ID); err == nil && use.Incidents > 0 {
			data["Use"] = use
		}
	}
	c.render(w, http.StatusOK, "runbook.html", data)
}

func (c *Console) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	data := map[string]any{"Title": "Search", "Q": q}
	if q != "" {
		hits, err := c.cfg.Search.Search(r.Context(), search.Query{Text: q, Limit: 20})
		if err != nil && !errors.Is(err, search.ErrEmptyQuery) {
			c.fail(w, "searching", err)
			return
		}
		data["Hits"] = hits
		data["Searched"] = true
	}
	c.render(w, http.StatusOK, "search.html", data)
}
