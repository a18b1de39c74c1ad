package alertmanager

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

func FuzzDecode(f *testing.F) {
	f.Add(documentedSample(f))
	for _, name := range []string{"firing_and_resolved.json", "several_alerts.json", "missing_fields.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"version":"4","alerts":[{"startsAt":"","endsAt":null,"labels":null}]}`))
	f.Add([]byte(`{"version":"4","alerts":[{}],"commonLabels":{"alertname":"X"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(bytes.NewReader(body), 1<<16)
		if err != nil {
			if m != nil {
				t.Fatalf("got a message and an error %v", err)
			}
			return
		}
		if m.Version != Version || m.AlertList == nil {
			t.Fatalf("accepted version %q with alerts %v", m.Version, m.AlertList)
		}
		alerts := m.Alerts()
		if len(alerts) != len(m.AlertList) {
			t.Fatalf("got %d alerts from %d", len(alerts), len(m.AlertList))
		}
		for _, a := range alerts {
			if a.Source != "alertmanager" {
				t.Fatalf("got source %q", a.Source)
			}
		}
	})
}

func FuzzGroup(f *testing.F) {
	for _, name := range []string{"firing_and_resolved.json", "several_alerts.json", "missing_fields.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"version":"4","groupKey":"g","commonAnnotations":{"summary":"\u00e9\u00e9\u00e9"},"alerts":[{"status":"firing","labels":{"severity":"CRIT"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(bytes.NewReader(body), 1<<16)
		if err != nil {
			return
		}
		g := Group(m)
		if g.Severity < 0 || g.Severity > 5 {
			t.Fatalf("got severity %d, want 0 to 5", g.Severity)
		}
		if strings.Join(strings.Fields(g.Title), " ") != g.Title || !utf8.ValidString(g.Title) {
			t.Fatalf("got title %q, want UTF-8 with its spaces made single", g.Title)
		}
		if capped := incidents.CapTitle(g.Title); utf8.RuneCountInString(capped) > incidents.MaxTitleRunes || !strings.HasPrefix(g.Title, strings.TrimSuffix(capped, "…")) {
			t.Fatalf("got title %q capped to %q, want at most %d characters of it", g.Title, capped, incidents.MaxTitleRunes)
		}
		if g.Refs[incidents.RefAlertmanagerGroup] != m.GroupKey || len(g.Alerts) != len(m.AlertList) {
			t.Fatalf("got refs %v and %d alerts, want the group key and %d", g.Refs, len(g.Alerts), len(m.AlertList))
		}
		id := DeliveryID(m)
		slices.Reverse(m.AlertList)
		if again := DeliveryID(m); again != id {
			t.Fatalf("got %s for the alerts reversed, want %s", again, id)
		}
	})
}

// FuzzWebhook sends arbitrary bodies and Authorization headers through the
// handler into a real inbox.
func FuzzWebhook(f *testing.F) {
	f.Add("Bearer "+testToken, readTestdata(f, "firing_and_resolved.json"))
	f.Add("Bearer "+testToken, readTestdata(f, "several_alerts.json"))
	f.Add("Bearer x", readTestdata(f, "several_alerts.json"))
	f.Add("", []byte(`{"version":"4","groupKey":"g","alerts":[]}`))
	f.Add("Bearer "+testToken, []byte(`{"version":"4","groupKey":" ","alerts":[{}]}`))
	st, err := boltstore.Open(filepath.Join(f.TempDir(), "inbox.db"), boltstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	h := NewWebhookHandler(WebhookConfig{Token: secret.New(testToken), Inbox: st, MaxBody: 1 << 16})
	f.Fuzz(func(t *testing.T, auth string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// The scheme is case-insensitive; the token is not.
		scheme, token, _ := strings.Cut(auth, " ")
		authorized := strings.EqualFold(scheme, "bearer") && token == testToken
		m, err := Decode(bytes.NewReader(body), 1<<16)
		want := http.StatusOK
		switch {
		case !authorized && !strings.HasPrefix(strings.ToLower(auth), "bearer "):
			want = http.StatusUnauthorized
		case !authorized:
			want = 0 // a header of odd spaces may still carry the token
		case errors.Is(err, ErrTooLarge):
			want = http.StatusRequestEntityTooLarge
		case err != nil || strings.TrimSpace(m.GroupKey) == "":
			want = http.StatusBadRequest
		}
		if want != 0 && rec.Code != want {
			t.Fatalf("got %d %q, want %d", rec.Code, rec.Body, want)
		}
		if strings.Contains(rec.Body.String(), testToken) {
			t.Fatalf("the answer %q holds the token", rec.Body)
		}
	})
}
