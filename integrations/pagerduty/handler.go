package pagerduty

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// DefaultMaxBody is the largest webhook body the handler reads when
// WebhookConfig.MaxBody is 0.
const DefaultMaxBody = 2 << 20

// WebhookConfig configures the handler of PagerDuty's webhooks.
type WebhookConfig struct {
	// Secrets are the signing secrets of the webhook subscriptions
	// (PAGERDUTY_WEBHOOK_SECRETS); a delivery signed with any of them is
	// authentic. With none, every delivery is refused.
	Secrets []secret.String
	// Inbox keeps each delivery until it is processed. Required.
	Inbox inbox.Inbox
	// Kick, when set, is called after a delivery is stored, to wake the
	// worker that processes the inbox.
	Kick func()
	// Logger receives refused deliveries; nil discards them.
	Logger *slog.Logger
	// MaxBody caps the body; 0 means DefaultMaxBody.
	MaxBody int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TracerProvider makes the "webhook pagerduty" span of each request,
	// whose context the stored delivery carries to the worker
	// (Meta[inbox.TraceParentKey]); nil means the global provider, a
	// no-op unless the process set one.
	TracerProvider trace.TracerProvider
}

// Headers that PagerDuty sends with every delivery, kept in the
// delivery's Meta.
const (
	headerWebhookID    = "X-Webhook-Id"
	headerSubscription = "X-Webhook-Subscription"
)

type webhookHandler struct {
	cfg    WebhookConfig
	log    *slog.Logger
	tracer trace.Tracer
}

// NewWebhookHandler returns the handler of POST /webhooks/pagerduty. It
// checks the method (405), the size (413), the signature (401 when there
// is none, 403 when it matches no secret or no secret is configured) and
// the body (400, with a short reason), answers pagey.ping with 200, and
// stores every other event in the inbox before answering 202 (200 for a
// delivery already stored). A full inbox or a store that fails is 503, so
// that PagerDuty sends the delivery again. It makes no call to PagerDuty:
// the Processor does the rest, later. It panics when cfg.Inbox is nil, a
// wiring mistake.
func NewWebhookHandler(cfg WebhookConfig) http.Handler {
	if cfg.Inbox == nil {
		panic("pagerduty: NewWebhookHandler without an Inbox")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	h := &webhookHandler{cfg: cfg, log: cfg.Logger, tracer: tp.Tracer("github.com/breadcrumb-oncall/breadcrumb/integrations/pagerduty")}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// serverSpan are the options of the webhook's span, made once: with no
// TracerProvider set, a request then costs the no-op span and its
// context only.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, span := h.tracer.Start(r.Context(), "webhook "+Source, serverSpan...)
	outcome := h.serve(ctx, w, r)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("breadcrumb.webhook.source", Source), attribute.String("breadcrumb.webhook.outcome", outcome))
	}
	span.End()
}

// serve answers the request and says how it went, for the trace: stored,
// duplicate, ping, method_not_allowed, unauthorized, too_large,
// bad_request or unavailable. ctx is the request's, with the span.
func (h *webhookHandler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) string {
	log := h.log.With("remote_addr", r.RemoteAddr, "webhook_id", clip(r.Header.Get(headerWebhookID), 100))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: send POST", http.StatusMethodNotAllowed)
		return "method_not_allowed"
	}
	if !hasSecret(h.cfg.Secrets) {
		log.Error("pagerduty webhook refused: PAGERDUTY_WEBHOOK_SECRETS is unset, so no delivery can be authenticated")
		http.Error(w, "webhook signing is not configured", http.StatusForbidden)
		return "unauthorized"
	}
	if r.ContentLength > h.cfg.MaxBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return "too_large"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return "too_large"
		}
		log.Info("pagerduty webhook body not read", "err", err)
		http.Error(w, "body not read", http.StatusBadRequest)
		return "bad_request"
	}
	switch err := VerifySignature(body, r.Header.Get(SignatureHeader), h.cfg.Secrets); {
	case errors.Is(err, ErrNoSignature):
		log.Warn("pagerduty webhook refused: no signature")
		http.Error(w, "missing "+SignatureHeader, http.StatusUnauthorized)
		return "unauthorized"
	case err != nil:
		log.Warn("pagerduty webhook refused: the signature matches no configured secret")
		http.Error(w, "invalid signature", http.StatusForbidden)
		return "unauthorized"
	}
	ev, err := DecodeWebhook(bytes.NewReader(body), h.cfg.MaxBody)
	if err != nil {
		log.Info("pagerduty webhook refused", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return "bad_request"
	}
	if ev.EventType == "pagey.ping" {
		w.WriteHeader(http.StatusOK)
		return "ping"
	}
	meta := map[string]string{"event_type": clip(ev.EventType, 100)}
	if v := r.Header.Get(headerWebhookID); v != "" {
		meta["webhook_id"] = clip(v, 200)
	}
	if v := r.Header.Get(headerSubscription); v != "" {
		meta["webhook_subscription"] = clip(v, 200)
	}
	if strings.HasPrefix(ev.EventType, "incident.") {
		inc, err := ev.Incident()
		if err != nil {
			log.Info("pagerduty webhook refused", "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return "bad_request"
		}
		// One incident's events are processed in the order they came.
		meta[inbox.OrderKey] = "pagerduty:" + clip(inc.ID, 100)
	}
	d := inbox.Delivery{
		ID:         deliveryID(ev, r.Header.Get(headerWebhookID), body),
		Source:     Source,
		Body:       body,
		Meta:       meta,
		ReceivedAt: h.cfg.Now().UTC(),
	}
	inbox.InjectTrace(ctx, d.Meta)
	stored, err := h.cfg.Inbox.Put(ctx, d)
	if err != nil {
		if errors.Is(err, inbox.ErrFull) {
			log.Warn("pagerduty webhook not stored: the inbox is full", "delivery_id", d.ID)
		} else {
			log.Error("pagerduty webhook not stored", "delivery_id", d.ID, "err", err)
		}
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable, send again", http.StatusServiceUnavailable)
		return "unavailable"
	}
	if !stored {
		log.Debug("pagerduty webhook already stored", "delivery_id", d.ID)
		w.WriteHeader(http.StatusOK)
		return "duplicate"
	}
	if h.cfg.Kick != nil {
		h.cfg.Kick()
	}
	w.WriteHeader(http.StatusAccepted)
	return "stored"
}

// deliveryID identifies a delivery for deduplication: PagerDuty's event ID,
// which its retries keep; without one, the webhook ID and a hash of the
// body, which a retry repeats.
func deliveryID(ev *Event, webhookID string, body []byte) string {
	if ev.ID != "" {
		return "pagerduty:" + clip(ev.ID, 200)
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:16])
	if webhookID != "" {
		return "pagerduty:" + clip(webhookID, 200) + ":" + h
	}
	return "pagerduty:" + h
}

func hasSecret(secrets []secret.String) bool {
	for _, s := range secrets {
		if !s.IsZero() {
			return true
		}
	}
	return false
}

// ParseSecrets reads PAGERDUTY_WEBHOOK_SECRETS: secrets separated by
// commas (two during a rotation), blanks around them ignored.
func ParseSecrets(v string) []secret.String {
	var out []secret.String
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, secret.New(s))
		}
	}
	return out
}
