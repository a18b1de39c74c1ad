package alertmanager

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// Path is where the webhook handler is meant to be mounted.
const Path = "/webhooks/alertmanager"

// Source is the delivery source and the incident source of everything this
// package stores.
const Source = "alertmanager"

// DefaultMaxBody is the body size the webhook accepts when
// WebhookConfig.MaxBody is zero: 4 MiB. An alert of kube-prometheus, with
// its labels, annotations and generator URL, takes 1 to 2 KB of JSON, so
// this holds a group of two to four thousand alerts, well beyond the 1,000
// alerts an incident keeps (incidents.MaxAlerts). A larger body is
// answered 413; set max_alerts on the receiver to stay under it.
const DefaultMaxBody = 4 << 20

// RetryAfter is the delay, in seconds, that a 503 answer suggests.
// Alertmanager itself ignores the header and retries with its own
// backoff; other senders may honour it.
const RetryAfter = 5

// WebhookConfig configures the webhook handler.
type WebhookConfig struct {
	// Token, when set, is the bearer token every request must carry in
	// "Authorization: Bearer <token>" (Alertmanager's http_config
	// authorization). When empty, requests are not authenticated.
	Token secret.String
	// Inbox keeps each notification until it is processed; required.
	Inbox inbox.Inbox
	// Kick, when set, is called after a notification is stored, so that
	// the worker takes it at once instead of at its next poll.
	Kick func()
	// MaxBody caps the request body; zero or less means DefaultMaxBody.
	MaxBody int64
	// MaxPending, when positive, is the number of pending deliveries at or
	// over which the handler answers 503 instead of storing more, so that
	// a storm waits in Alertmanager's retries rather than on disk.
	MaxPending int
	// Logger receives store failures; nil discards.
	Logger *slog.Logger
	// Now is the clock that stamps ReceivedAt; nil means time.Now.
	Now func() time.Time
	// TracerProvider makes the "webhook alertmanager" span of each
	// request, whose context the stored delivery carries to the worker
	// (Meta[inbox.TraceParentKey]); nil means the global provider, a
	// no-op unless the process set one.
	TracerProvider trace.TracerProvider
}

// webhook is the handler NewWebhookHandler returns.
type webhook struct {
	cfg       WebhookConfig
	tracer    trace.Tracer
	tokenHash [sha256.Size]byte
}

// NewWebhookHandler returns the handler of POST /webhooks/alertmanager. It
// checks the bearer token, reads and checks the body, and puts it in the
// inbox; the processing happens later, in a Processor, so that the answer
// goes out as soon as the notification is durable. It answers:
//
//   - 200 when the notification is stored, or was already stored (a
//     repeated notification);
//   - 400 when the body is not an Alertmanager v4 webhook, with the
//     reason in the body;
//   - 401 when a token is configured and the request lacks it;
//   - 405 for a method other than POST;
//   - 413 when the body is over the size limit;
//   - 503, with Retry-After, when the inbox is full, over MaxPending, or
//     fails. Never 429: Alertmanager's webhook notifier retries a 5xx
//     answer and drops a notification answered with any 4xx, 429
//     included, so an overloaded receiver must say 503 to get it again.
func NewWebhookHandler(cfg WebhookConfig) http.Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	h := &webhook{cfg: cfg, tracer: tp.Tracer("github.com/breadcrumb-oncall/breadcrumb/integrations/alertmanager")}
	if !cfg.Token.IsZero() {
		h.tokenHash = sha256.Sum256([]byte(cfg.Token.Reveal()))
	}
	return h
}

// serverSpan are the options of the webhook's span, made once: with no
// TracerProvider set, a request then costs the no-op span and its
// context only.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, span := h.tracer.Start(r.Context(), "webhook "+Source, serverSpan...)
	outcome := h.serve(ctx, w, r)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("breadcrumb.webhook.source", Source), attribute.String("breadcrumb.webhook.outcome", outcome))
	}
	span.End()
}

// serve answers the request and says how it went, for the trace: stored,
// duplicate, method_not_allowed, unauthorized, unsupported_media_type,
// too_large, bad_request, overloaded or unavailable. ctx is the request's, with the span.
func (h *webhook) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "alertmanager: use POST")
		return "method_not_allowed"
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="breadcrumb"`)
		plain(w, http.StatusUnauthorized, "alertmanager: a valid bearer token is required")
		return "unauthorized"
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		plain(w, http.StatusUnsupportedMediaType, "alertmanager: the body must be sent as Content-Type: application/json, as Alertmanager does")
		return "unsupported_media_type"
	}
	if h.cfg.MaxPending > 0 {
		n, err := h.cfg.Inbox.Pending(ctx)
		if err != nil {
			h.cfg.Logger.Error("alertmanager webhook: counting pending deliveries", "err", err)
			unavailable(w, "alertmanager: the inbox is unavailable, send again later")
			return "unavailable"
		}
		if n >= h.cfg.MaxPending {
			h.cfg.Logger.Warn("alertmanager webhook: refused while overloaded", "pending", n, "max_pending", h.cfg.MaxPending)
			unavailable(w, "alertmanager: too many notifications waiting, send again later")
			return "overloaded"
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		plain(w, http.StatusRequestEntityTooLarge, tooLarge(h.cfg.MaxBody).Error())
		return "too_large"
	}
	if err != nil {
		h.cfg.Logger.Debug("alertmanager webhook: reading the body", "err", err)
		plain(w, http.StatusBadRequest, "alertmanager: the body could not be read")
		return "bad_request"
	}
	m, err := Decode(bytes.NewReader(body), h.cfg.MaxBody)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		plain(w, status, err.Error())
		return refusal(status)
	}
	if strings.TrimSpace(m.GroupKey) == "" {
		plain(w, http.StatusBadRequest, `alertmanager: the body has no "groupKey", which names the incident`)
		return "bad_request"
	}
	d := inbox.Delivery{
		ID:         DeliveryID(m),
		Source:     Source,
		Body:       body,
		Meta:       map[string]string{inbox.OrderKey: OrderKey(m.GroupKey)},
		ReceivedAt: h.cfg.Now().UTC(),
	}
	inbox.InjectTrace(ctx, d.Meta)
	stored, err := h.cfg.Inbox.Put(ctx, d)
	switch {
	case errors.Is(err, inbox.ErrFull):
		h.cfg.Logger.Warn("alertmanager webhook: inbox full", "delivery_id", d.ID)
		unavailable(w, "alertmanager: too many notifications waiting, send again later")
		return "overloaded"
	case err != nil && ctx.Err() != nil:
		// The sender went away; it will send again.
		h.cfg.Logger.Debug("alertmanager webhook: request ended before the notification was stored", "delivery_id", d.ID, "err", err)
		unavailable(w, "alertmanager: the notification was not stored, send again")
		return "unavailable"
	case err != nil:
		h.cfg.Logger.Error("alertmanager webhook: storing the notification", "delivery_id", d.ID, "err", err)
		unavailable(w, "alertmanager: the notification was not stored, send again later")
		return "unavailable"
	}
	if stored && h.cfg.Kick != nil {
		h.cfg.Kick()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(struct {
		Delivery string `json:"delivery"`
		Stored   bool   `json:"stored"`
	}{d.ID, stored})
	if !stored {
		return "duplicate"
	}
	return "stored"
}

// refusal is the outcome of a body refused with status.
func refusal(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "too_large"
	}
	return "bad_request"
}

// authorized reports whether the request carries the configured token, or
// whether none is configured. Both sides are hashed first, so that the
// comparison takes the same time whatever the length of what was sent.
func (h *webhook) authorized(r *http.Request) bool {
	if h.cfg.Token.IsZero() {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
	plain(w, http.StatusServiceUnavailable, msg)
}

// OrderKey is the value of a notification's inbox.OrderKey: an
// inbox.Worker processes the notifications of one group one at a
// time, in the order they arrived.
func OrderKey(groupKey string) string { return Source + ":" + groupKey }

// DeliveryID identifies a notification for the inbox's deduplication:
// "alertmanager:" and a hash of the group key and of each alert's
// fingerprint, status, start and end, in a fixed order. A notification
// that Alertmanager repeats (a retry, a repeat_interval, another
// Alertmanager of a cluster) gets the same ID and is stored once; one in
// which an alert joined, left, resolved or fired again gets another. An
// alert without a fingerprint is identified by its labels instead.
// Annotations do not count: a summary whose value changed is the same
// notification.
func DeliveryID(m *Message) string {
	parts := make([]string, 0, len(m.AlertList))
	for _, a := range m.AlertList {
		status := a.Status
		if status == "" {
			status = m.Status
		}
		parts = append(parts, strings.Join([]string{
			identity(a), status,
			a.StartsAt.UTC().Format(time.RFC3339Nano), a.EndsAt.UTC().Format(time.RFC3339Nano),
		}, "\x1f"))
	}
	sort.Strings(parts)
	h := sha256.New()
	_, _ = io.WriteString(h, m.GroupKey)
	for _, p := range parts {
		_, _ = io.WriteString(h, "\x1e"+p)
	}
	return Source + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// identity is an alert's fingerprint, or, without one, its labels.
func identity(a Alert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("labels")
	for _, k := range keys {
		b.WriteString("\x1d" + k + "=" + a.Labels[k])
	}
	return b.String()
}

// isJSON reports whether a Content-Type is application/json, with or
// without parameters. Alertmanager always sends it; a web page cannot
// post it to another site without the site's leave (a CORS preflight),
// while it can post text/plain or a form. Requiring it keeps a local
// instance without a token out of reach of the pages its users open.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
