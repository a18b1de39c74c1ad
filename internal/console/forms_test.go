package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// post sends a form to path with the given headers.
func post(t *testing.T, c *http.Client, target string, form url.Values, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Finding: the chat's form check was skipped for any Authorization
// header, and the sign-in cookie then accepted. A browser behind a
// proxy that asks for Basic credentials sends them with every request,
// another site's forms included.
func TestTheChatSkipsItsFormCheckOnlyForAValidBearerToken(t *testing.T) {
	w := newChatWorld(t)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		client  *http.Client
		want    int
	}{
		{"signed in, Basic credentials, from another site", map[string]string{"Authorization": "Basic dXNlcjpwYXNz", "Origin": "https://evil.example"}, w.client, http.StatusForbidden},
		{"signed in, a wrong bearer token", map[string]string{"Authorization": "Bearer wrong"}, w.client, http.StatusUnauthorized},
		{"signed in, a Negotiate header, from another site", map[string]string{"Authorization": "Negotiate", "Origin": "https://evil.example"}, w.client, http.StatusForbidden},
		{"no cookie, the bearer token", map[string]string{"Authorization": "Bearer " + chatToken}, http.DefaultClient, http.StatusOK},
	} {
		form := url.Values{"channel": {"C0001"}, "text": {"hello from " + tc.name}}
		if got := post(t, tc.client, w.srv.URL+"/chat/say", form, tc.headers); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

var demoTokenRE = regexp.MustCompile(`action="/demo"><input type="hidden" name="csrf" value="([0-9a-f]{32})"`)

// Finding: POST /demo had no origin or form-token check, so another site
// could make a signed-in browser send the sample alert.
func TestTheDemoFormIsGuardedLikeTheChats(t *testing.T) {
	f := newFixture(t, "s3cret")
	sent := 0
	c, err := console.New(console.Config{Incidents: f.svc, Library: f.lib, Search: f.ix, Token: secret.New("s3cret"),
		Demo: func(context.Context) error { sent++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if got := post(t, browser, srv.URL+"/signin", url.Values{"token": {"s3cret"}, "next": {"/"}}, nil); got != http.StatusSeeOther {
		t.Fatalf("sign-in: got %d", got)
	}
	if got := post(t, browser, srv.URL+"/demo", nil, map[string]string{"Origin": "https://evil.example"}); got != http.StatusForbidden || sent != 0 {
		t.Errorf("a signed-in browser posting from another site: got %d and %d demos, want 403 and none", got, sent)
	}
	if got := post(t, browser, srv.URL+"/demo", nil, nil); got != http.StatusForbidden || sent != 0 {
		t.Errorf("a post without the form token: got %d and %d demos, want 403 and none", got, sent)
	}
	resp, err := browser.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := demoTokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the home page has no demo form with a form token:\n%s", body)
	}
	if got := post(t, browser, srv.URL+"/demo", url.Values{"csrf": {string(m[1])}}, map[string]string{"Origin": srv.URL}); got != http.StatusSeeOther || sent != 1 {
		t.Errorf("the home page's own form: got %d and %d demos, want 303 and one", got, sent)
	}
}
