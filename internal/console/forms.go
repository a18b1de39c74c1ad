package console

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// Every console form that writes (the chat's and the demo's) is guarded
// the same way against a post made on another site's behalf: the request
// must come from this origin and carry back the form token of its cookie
// (double submit). Only a request that RequireToken let through on a
// valid bearer token skips both, since a browser never adds that header
// for another site; any other Authorization header (an SSO proxy's Basic
// credentials, which the browser sends with every request) does not.

// formCookie holds the form token; it is the console's, for every form.
const (
	formCookie = "breadcrumb_csrf"
	formField  = "csrf"
)

// bearerKey marks a request's context when RequireToken let it through
// on the bearer token.
type bearerKey struct{}

// viaBearer reports whether RequireToken let r through on a valid bearer
// token.
func viaBearer(r *http.Request) bool {
	ok, _ := r.Context().Value(bearerKey{}).(bool)
	return ok
}

// withBearer marks r as let through on a valid bearer token.
func withBearer(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), bearerKey{}, true))
}

// secureRequest reports whether cookies set in answer to r should be
// Secure: r came over TLS, to Breadcrumb or to a proxy that says so, or
// the service's public address is https (always).
func secureRequest(r *http.Request, always bool) bool {
	return r.TLS != nil || always || r.Header.Get("X-Forwarded-Proto") == "https"
}

// formToken returns the request's form token, setting a new one in a
// cookie when it carries none.
func formToken(w http.ResponseWriter, r *http.Request, secure bool) string {
	if ck, err := r.Cookie(formCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	tok := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure})
	return tok
}

// checkForm reads r's form, at most limit bytes of it, and checks that it
// may write: a valid bearer token, or this origin and the form token. It
// answers 400 or 403 itself and returns false when not.
func checkForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return false
	}
	if viaBearer(r) {
		return true
	}
	if !sameOrigin(r) {
		http.Error(w, "this form was sent from another site", http.StatusForbidden)
		return false
	}
	ck, err := r.Cookie(formCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue(formField))) != 1 {
		http.Error(w, "this form has expired: reload the page and try again", http.StatusForbidden)
		return false
	}
	return true
}

// sameOrigin reports whether a request's Origin, else its Referer, names
// the host it was sent to. A request with neither (an old browser, a
// privacy setting) passes on the form token alone.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" || from == "null" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return r.Header.Get("Origin") != "null"
	}
	u, err := url.Parse(from)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}
