package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	slackgo "github.com/slack-go/slack"
)

// HTTPConfig configures the HTTP transport.
type HTTPConfig struct {
	InboundConfig
	// SigningSecret is the app's signing secret (SLACK_SIGNING_SECRET).
	SigningSecret secret.String
	// MaxBody caps a request's body (default 1 MiB).
	MaxBody int64
}

// Paths the HTTP transport serves, as the app manifest names them.
const (
	CommandsPath     = "/slack/commands"
	InteractionsPath = "/slack/interactions"
	EventsPath       = "/slack/events"
)

// maxSkew is how far a request's timestamp may be from now, either way.
const maxSkew = 5 * time.Minute

// HTTPHandler is Slack over HTTP: slash commands, interactions and events,
// each request's signature checked on its raw body before anything else.
// One handler serves the three paths (CommandsPath, InteractionsPath,
// EventsPath) and routes by the path's last element, so that it can be
// mounted on each path or below a prefix.
type HTTPHandler struct {
	cfg HTTPConfig
	in  *inbound
}

// NewHTTPHandler returns the handler of Slack's requests to the bot h.
func NewHTTPHandler(cfg HTTPConfig, h bot.Handler) *HTTPHandler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	in := newInbound(cfg.InboundConfig, h)
	cfg.InboundConfig = in.cfg
	return &HTTPHandler{cfg: cfg, in: in}
}

// Wait waits for the work still going on after its request was answered
// (late answers, reactions), or for ctx.
func (s *HTTPHandler) Wait(ctx context.Context) error { return s.in.wait(ctx) }

// ServeHTTP answers one request from Slack.
func (s *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the request", http.StatusBadRequest)
		return
	}
	if err := Verify(s.cfg.SigningSecret, r.Header, body, s.cfg.Now()); err != nil {
		s.cfg.Logger.Warn("slack: request refused", "path", r.URL.Path, "err", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:] {
	case "commands":
		s.commands(w, r, body)
	case "interactions":
		s.interactions(w, r, body)
	case "events":
		s.events(w, r, body)
	default:
		http.NotFound(w, r)
	}
}

func (s *HTTPHandler) commands(w http.ResponseWriter, r *http.Request, body []byte) {
	sc, err := ParseCommand(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reply := s.in.command(r.Context(), sc)
	if reply == nil || reply.Empty() {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, answer(*reply, false))
}

func (s *HTTPHandler) interactions(w http.ResponseWriter, r *http.Request, body []byte) {
	cb, err := ParseInteraction(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ans := s.in.interaction(r.Context(), cb); ans != nil {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ans)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *HTTPHandler) events(w http.ResponseWriter, r *http.Request, body []byte) {
	e, err := parseEvent(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if e.Type == "url_verification" {
		writeJSON(w, map[string]string{"challenge": e.Challenge})
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		s.cfg.Logger.Debug("slack: event delivered again", "event_id", e.EventID, "retry_num", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	s.in.event(r.Context(), e)
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "could not encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// ParseCommand reads a slash command's form body.
func ParseCommand(body []byte) (slackgo.SlashCommand, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return slackgo.SlashCommand{}, fmt.Errorf("slack: command: %w", err)
	}
	sc := slackgo.SlashCommand{
		TeamID: v.Get("team_id"), TeamDomain: v.Get("team_domain"),
		ChannelID: v.Get("channel_id"), ChannelName: v.Get("channel_name"),
		UserID: v.Get("user_id"), UserName: v.Get("user_name"),
		Command: v.Get("command"), Text: v.Get("text"),
		ResponseURL: v.Get("response_url"), TriggerID: v.Get("trigger_id"),
		APIAppID: v.Get("api_app_id"),
	}
	if sc.Command == "" || sc.UserID == "" {
		return slackgo.SlashCommand{}, errors.New("slack: command: no command or user_id")
	}
	return sc, nil
}

// ParseInteraction reads an interaction's form body (payload=JSON).
func ParseInteraction(body []byte) (*slackgo.InteractionCallback, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("slack: interaction: %w", err)
	}
	p := v.Get("payload")
	if p == "" {
		return nil, errors.New("slack: interaction: no payload")
	}
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal([]byte(p), &cb); err != nil {
		return nil, fmt.Errorf("slack: interaction: %w", err)
	}
	if cb.Type == "" {
		return nil, errors.New("slack: interaction: no type")
	}
	return &cb, nil
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("slack: no signature or timestamp")
	ErrBadSignature = errors.New("slack: signature does not match")
	ErrStale        = errors.New("slack: timestamp outside the 5-minute window")
)

// Verify checks Slack's request signature: X-Slack-Signature must be
// "v0=" and the hex HMAC-SHA256, keyed with the signing secret, of
// "v0:" + X-Slack-Request-Timestamp + ":" + body, compared in constant
// time; and the timestamp must be within 5 minutes of now, either way.
func Verify(signingSecret secret.String, h http.Header, body []byte, now time.Time) error {
	tsHeader := h.Get("X-Slack-Request-Timestamp")
	sig := h.Get("X-Slack-Signature")
	if tsHeader == "" || sig == "" || signingSecret.IsZero() {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrNoSignature, truncate(tsHeader, 20))
	}
	skew := now.Sub(time.Unix(ts, 0))
	if skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("%w: %s off", ErrStale, skew.Round(time.Second))
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(signingSecret.Reveal()))
	mac.Write([]byte("v0:" + tsHeader + ":"))
	mac.Write(body)
	if !hmac.Equal(gotMAC, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Slack-Signature of body at ts, as Slack computes it
// (for tests and tools that speak to the HTTP transport).
func Sign(signingSecret secret.String, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(signingSecret.Reveal()))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}
