package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// consoleOrigin is the host the sign-in requests below are made to.
const consoleOrigin = "console.example"

// resolveHost resolves a Location header against
// http://console.example/signin the way a WHATWG URL parser does, far
// enough to tell which host the browser goes to: leading and trailing
// controls and spaces are trimmed, tabs and newlines removed anywhere, a
// backslash is a slash in an http URL, two slashes start an authority,
// and "http:" without them stays relative to the base. Any other scheme
// is another origin.
func resolveHost(loc string) string {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, loc)
	if i := strings.IndexByte(loc, ':'); i > 0 && isScheme(loc[:i]) {
		if !strings.EqualFold(loc[:i], "http") {
			return "scheme " + strings.ToLower(loc[:i])
		}
		loc = loc[i+1:]
	}
	slash := func(i int) bool { return i < len(loc) && (loc[i] == '/' || loc[i] == '\\') }
	if !slash(0) || !slash(1) {
		return consoleOrigin // a path, or a path relative to /signin
	}
	rest := strings.TrimLeft(loc, `/\`)
	if end := strings.IndexAny(rest, `/\?#`); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	return strings.ToLower(rest)
}

func isScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// signInHandler is the console's mux, for requests made in the process.
func signInHandler(t testing.TB) http.Handler {
	t.Helper()
	f := newFixture(t, "s3cret")
	c, err := console.New(console.Config{Incidents: f.svc, Library: f.lib, Search: f.ix, Token: secret.New("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	return mux
}

// signInLocations signs in with next through the form and through the
// printed link, and returns where each answer sends the browser.
func signInLocations(t testing.TB, h http.Handler, next string) []string {
	body := url.Values{"token": {"s3cret"}, "next": {next}}.Encode()
	form := httptest.NewRequest("POST", "http://"+consoleOrigin+"/signin", strings.NewReader(body))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	link := httptest.NewRequest("GET", "http://"+consoleOrigin+"/signin?"+url.Values{"token": {"s3cret"}, "next": {next}}.Encode(), nil)
	var locs []string
	for _, req := range []*http.Request{form, link} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusSeeOther:
			locs = append(locs, rec.Header().Get("Location"))
		case rec.Code == http.StatusUnauthorized && req.Method == http.MethodPost && len(body) > 4096:
			// A form over the sign-in's 4 KiB is not read, and nobody is
			// signed in or sent anywhere.
		default:
			t.Fatalf("%s /signin with next %.80q: got %d, want 303", req.Method, next, rec.Code)
		}
	}
	return locs
}

func TestSignInNeverRedirectsOffTheSite(t *testing.T) {
	h := signInHandler(t)
	for _, tc := range []struct{ next, want string }{
		{"/chat", "/chat"},
		{"/incidents?status=open", "/incidents?status=open"},
		{"/runbooks/examples:checkout/", "/runbooks/examples:checkout/"},
		{"/runbooks/x/../chat", "/runbooks/chat"},
		{"/./\\evil.example", "/"}, // the review's first finding
		{"/\t/evil.example", "/"},  // its second, through the link
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"/.//evil.example", "/evil.example"},
		{"/..//evil.example", "/evil.example"},
		{"/\n/evil.example", "/"},
		{" //evil.example", "/"},
		{"http://evil.example/", "/"},
		{"http:\\\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/%09/evil.example", "/%09/evil.example"}, // escaped, it stays a path
		{"", "/"},
	} {
		for _, loc := range signInLocations(t, h, tc.next) {
			if loc != tc.want {
				t.Errorf("next %q: redirected to %q, want %q", tc.next, loc, tc.want)
			}
			if host := resolveHost(loc); host != consoleOrigin {
				t.Errorf("next %q: a browser goes to %q", tc.next, host)
			}
		}
	}
}

// FuzzSignInRedirect signs in with any next: wherever the answer sends
// the browser, a WHATWG-style resolution of it stays on the console.
func FuzzSignInRedirect(f *testing.F) {
	for _, s := range []string{"/chat", "/./\\evil.example", "/\t/evil.example", "//x", "/\\x", "http:\\\\x",
		"/..//x", "/a/./b/../../c?d=//e#f", " /x", "\x00//x", "/\u3000/x", "/\uff0f/x", "/" + strings.Repeat("\a", 4500)} {
		f.Add(s)
	}
	h := signInHandler(f)
	f.Fuzz(func(t *testing.T, next string) {
		for _, loc := range signInLocations(t, h, next) {
			if host := resolveHost(loc); host != consoleOrigin {
				t.Fatalf("next %q: redirected to %q, which a browser opens at %q", next, loc, host)
			}
		}
	})
}
