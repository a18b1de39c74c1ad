package pagerduty

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// BenchmarkVerifySignature checks a real body against one secret, and
// against two secrets with two signatures (a rotation); the baseline is
// one bare HMAC-SHA256 of the same body.
func BenchmarkVerifySignature(b *testing.B) {
	body := readTestdata(b, "v3_incident.triggered.json")
	one := []secret.String{secret.New(webhookSecret)}
	two := []secret.String{secret.New(webhookSecret), secret.New(rotatedSecret)}
	b.Run("baseline-hmac", func(b *testing.B) {
		for b.Loop() {
			h := hmac.New(sha256.New, []byte(webhookSecret))
			h.Write(body)
			h.Sum(nil)
		}
	})
	b.Run("one-secret", func(b *testing.B) {
		header := Sign(body, one...)
		for b.Loop() {
			if err := VerifySignature(body, header, one); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rotation", func(b *testing.B) {
		header := Sign(body, two...)
		for b.Loop() {
			if err := VerifySignature(body, header, two); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWebhookHandler serves signed deliveries, each a new event, into
// a bbolt inbox, against a baseline of the bare inbox Put of the same
// bodies: the difference is what the handler adds.
func BenchmarkWebhookHandler(b *testing.B) {
	template := readTestdata(b, "v3_incident.triggered.json")
	key := secret.New(webhookSecret)
	bodies := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = bytes.Replace(template, []byte("01EVN6CUSDOHWYQ3M3D5IFVG4K"), fmt.Appendf(nil, "01BENCH%019d", i), 1)
		}
		return out
	}
	open := func(b *testing.B) *boltstore.Store {
		st, err := boltstore.Open(filepath.Join(b.TempDir(), "inbox.db"), boltstore.Options{InboxMaxPending: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	b.Run("baseline-inbox-put", func(b *testing.B) {
		st := open(b)
		in := bodies(b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := st.Put(b.Context(), inbox.Delivery{ID: fmt.Sprint("pagerduty:", i), Source: Source, Body: in[i], ReceivedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handler", func(b *testing.B) {
		h := NewWebhookHandler(WebhookConfig{Secrets: []secret.String{key}, Inbox: open(b)})
		in := bodies(b.N)
		sigs := make([]string, b.N)
		for i := range in {
			sigs[i] = Sign(in[i], key)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty", bytes.NewReader(in[i]))
			req.Header.Set(SignatureHeader, sigs[i])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Fatalf("got %d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkProcessTriggered opens one incident per delivery from the
// webhook alone (no REST call), over a bbolt store.
func BenchmarkProcessTriggered(b *testing.B) {
	template := readTestdata(b, "v3_incident.triggered.json")
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	p := NewProcessor(ProcessorConfig{Incidents: incidents.NewService(st, incidents.Options{})})
	in := make([]inbox.Delivery, b.N)
	for i := range in {
		body := bytes.ReplaceAll(template, []byte(pdIncidentID), fmt.Appendf(nil, "QBENCH%08d", i))
		in[i] = inbox.Delivery{ID: fmt.Sprint("pagerduty:", i), Source: Source, Body: body, ReceivedAt: time.Now()}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.HandleDelivery(b.Context(), in[i]); err != nil {
			b.Fatal(err)
		}
	}
}
