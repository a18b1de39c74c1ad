package slack

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	slackgo "github.com/slack-go/slack"
)

// ClaimFunc records key for ttl and reports whether this call was the
// first to do so, so that several replicas agree on which of them handles
// a delivery (incidents.Store's Claim has this shape).
type ClaimFunc func(ctx context.Context, key string, ttl time.Duration) (bool, error)

// UserResolver reads a user's name and email (Chat.User).
type UserResolver interface {
	User(ctx context.Context, id string) (bot.User, error)
}

// InboundConfig is what both transports share. Zero fields take the
// defaults.
type InboundConfig struct {
	// HelpCommand is the name of the incident command, without its slash,
	// whose help answers a mention of the app (default "incident"; set it
	// when the workspace renamed the command).
	HelpCommand string
	// AckWithin is how long a command or a form waits for the bot's
	// answer before Slack is answered without it (default 2s; Slack's
	// limit is 3s). A later answer goes through response_url.
	AckWithin time.Duration
	// HandlerTimeout bounds the bot's work on one delivery (default 30s).
	HandlerTimeout time.Duration
	// Claim, when set, makes replicas agree on duplicates; an in-memory
	// list of recent deliveries is always kept.
	Claim ClaimFunc
	// Users, when set, fills in names and emails (Chat is one).
	Users UserResolver
	// Chat, when set, answers an app mention with help, as a whisper.
	Chat bot.Chat
	// ResponseClient posts to response_url (default one with a 10s
	// timeout).
	ResponseClient *http.Client
	// ResponseHosts are host names, besides Slack's own (SlackHooksHosts,
	// over https only), that a response_url may point at, over http or
	// https: the host of a test server or of a proxy that SLACK_API_URL
	// names. An answer for any other address is not sent.
	ResponseHosts []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives what fails in the background. Default: discard.
	Logger *slog.Logger
}

func (c InboundConfig) withDefaults() InboundConfig {
	if c.AckWithin <= 0 {
		c.AckWithin = 2 * time.Second
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 30 * time.Second
	}
	if c.ResponseClient == nil {
		c.ResponseClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// dedupeTTL is how long a delivery's key is remembered: Slack retries
// within minutes.
const dedupeTTL = time.Hour

// inbound maps Slack's deliveries to the bot's Handler and its answers
// back, for both transports.
type inbound struct {
	cfg  InboundConfig
	h    bot.Handler
	seen *recent
	wg   sync.WaitGroup
}

func newInbound(cfg InboundConfig, h bot.Handler) *inbound {
	return &inbound{cfg: cfg.withDefaults(), h: h, seen: newRecent(10000)}
}

// first reports whether key is seen for the first time, here and, with
// Claim, on every replica. A Claim that fails lets the delivery through:
// a rare duplicate is better than a lost command.
func (in *inbound) first(ctx context.Context, key string) bool {
	if key == "" {
		return true
	}
	if !in.seen.add(key, in.cfg.Now()) {
		return false
	}
	if in.cfg.Claim == nil {
		return true
	}
	ok, err := in.cfg.Claim(ctx, key, dedupeTTL)
	if err != nil {
		in.cfg.Logger.Warn("slack: could not claim a delivery; handling it", "key", key, "err", err)
		return true
	}
	return ok
}

// background runs f detached from the request, bounded by HandlerTimeout.
// A panic in the bot is logged and ends only that delivery.
func (in *inbound) background(ctx context.Context, f func(ctx context.Context)) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				in.cfg.Logger.Error("slack: the bot failed on a delivery", "panic", fmt.Sprint(p))
			}
		}()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.cfg.HandlerTimeout)
		defer cancel()
		f(ctx)
	}()
}

// wait waits for the background work to end, or for ctx.
func (in *inbound) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { in.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slack: background work still running: %w", ctx.Err())
	}
}

func (in *inbound) user(ctx context.Context, id, name string) bot.User {
	u := bot.User{ID: id, Name: name}
	if in.cfg.Users == nil || id == "" {
		return u
	}
	got, err := in.cfg.Users.User(ctx, id)
	if err != nil {
		in.cfg.Logger.Debug("slack: could not read a user", "user", id, "err", err)
		return u
	}
	if got.Name == "" {
		got.Name = name
	}
	return got
}

// command runs a slash command. It returns the answer when the bot gives
// it within AckWithin; otherwise nil, and the answer goes to responseURL
// when it comes. A duplicate gets nil and does nothing.
func (in *inbound) command(ctx context.Context, sc slackgo.SlashCommand) *bot.Message {
	key := "slack:command:" + sc.TriggerID
	if sc.TriggerID == "" {
		key = ""
	}
	if !in.first(ctx, key) {
		return nil
	}
	at := in.cfg.Now()
	res := make(chan bot.Message, 1)
	in.background(ctx, func(ctx context.Context) {
		// Closed however the bot ends, so that nobody waits for an
		// answer that will not come.
		defer close(res)
		c := bot.Command{
			Name:    strings.TrimPrefix(sc.Command, "/"),
			Text:    strings.TrimSpace(sc.Text),
			User:    in.user(ctx, sc.UserID, sc.UserName),
			Place:   bot.Place{Channel: sc.ChannelID},
			Trigger: sc.TriggerID,
			Key:     key,
			At:      at,
		}
		res <- in.h.Command(ctx, c)
	})
	return in.waitOrLater(ctx, res, sc.ResponseURL, false)
}

// waitOrLater returns the answer on res if it comes within AckWithin;
// otherwise it arranges for the answer to go to responseURL.
func (in *inbound) waitOrLater(ctx context.Context, res <-chan bot.Message, responseURL string, click bool) *bot.Message {
	t := time.NewTimer(in.cfg.AckWithin)
	defer t.Stop()
	select {
	case m, ok := <-res:
		if !ok {
			return nil
		}
		return &m
	case <-t.C:
	case <-ctx.Done():
	}
	in.background(ctx, func(ctx context.Context) {
		select {
		case m, ok := <-res:
			if ok {
				in.respond(ctx, responseURL, m, click)
			}
		case <-ctx.Done():
		}
	})
	return nil
}

// responsePayload is a message for response_url or an immediate answer.
type responsePayload struct {
	ResponseType    string          `json:"response_type,omitempty"`
	ReplaceOriginal bool            `json:"replace_original"`
	Text            string          `json:"text"`
	Blocks          []slackgo.Block `json:"blocks,omitempty"`
}

// answer renders m for a response_url or an immediate answer; a click's
// answer replaces the clicked message when m asks for it.
func answer(m bot.Message, click bool) responsePayload {
	r := RenderOne(m)
	p := responsePayload{ResponseType: "ephemeral", Text: r.Text, Blocks: r.Blocks}
	if click && m.Replace {
		p.ResponseType = ""
		p.ReplaceOriginal = true
	}
	return p
}

// SlackHooksHosts are the hosts of Slack's response_url addresses: the
// commercial cloud's and GovSlack's.
var SlackHooksHosts = []string{"hooks.slack.com", "hooks.slack-gov.com"}

// responseURLAllowed reports whether an answer may be posted to raw: an
// https address on one of Slack's hosts, or an address on a host of
// ResponseHosts.
func (in *inbound) responseURLAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "https" && slices.Contains(SlackHooksHosts, host) {
		return true
	}
	for _, h := range in.cfg.ResponseHosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// respond posts m to a response_url.
func (in *inbound) respond(ctx context.Context, responseURL string, m bot.Message, click bool) {
	if m.Empty() {
		return
	}
	if responseURL == "" {
		in.cfg.Logger.Warn("slack: an answer came late and there is no response_url to send it to")
		return
	}
	body, err := json.Marshal(answer(m, click))
	if err != nil {
		in.cfg.Logger.Error("slack: could not encode an answer", "err", err)
		return
	}
	if !in.responseURLAllowed(responseURL) {
		// The address came in the delivery; a signed one always names
		// Slack, so this is a forgery or a misconfiguration. Its text is
		// not logged: it may carry a token of its own.
		in.cfg.Logger.Error("slack: an answer was not sent: its response_url is not Slack's (set SLACK_API_URL to allow a proxy's host)")
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		in.cfg.Logger.Error("slack: bad response_url", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.cfg.ResponseClient.Do(req)
	if err != nil {
		in.cfg.Logger.Error("slack: could not post to response_url", "err", err)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		in.cfg.Logger.Error("slack: response_url refused an answer", "status", resp.StatusCode)
	}
}

// interaction handles an interactive payload. For a form it returns the
// body of the immediate answer (nil for none); every other kind is
// answered empty at once, and the bot's reply goes to response_url.
func (in *inbound) interaction(ctx context.Context, cb *slackgo.InteractionCallback) []byte {
	switch cb.Type {
	case slackgo.InteractionTypeBlockActions:
		in.click(ctx, cb)
		return nil
	case slackgo.InteractionTypeViewSubmission:
		return in.submit(ctx, cb)
	default:
		return nil
	}
}

func (in *inbound) click(ctx context.Context, cb *slackgo.InteractionCallback) {
	for i, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		key := "slack:click:" + cb.TriggerID + ":" + a.ActionTs + ":" + a.ActionID
		if cb.TriggerID == "" && a.ActionTs == "" {
			key = ""
		}
		if !in.first(ctx, key) {
			continue
		}
		channel := cb.Container.ChannelID
		if channel == "" {
			channel = cb.Channel.ID
		}
		msgTS := cb.Container.MessageTs
		if msgTS == "" {
			msgTS = cb.Message.Timestamp
		}
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		at := timeOfTS(a.ActionTs)
		if at.IsZero() {
			at = in.cfg.Now()
		}
		trigger := ""
		if i == 0 {
			trigger = cb.TriggerID
		}
		action := *a
		in.background(ctx, func(ctx context.Context) {
			c := bot.Click{
				Action:  ActionOf(action.ActionID),
				Value:   action.Value,
				User:    in.user(ctx, cb.User.ID, cb.User.Name),
				Place:   bot.Place{Channel: channel, Thread: thread},
				Message: bot.MessageRef{Channel: channel, TS: msgTS},
				Trigger: trigger,
				Key:     key,
				At:      at,
			}
			if reply := in.h.Click(ctx, c); reply != nil {
				in.respond(ctx, cb.ResponseURL, *reply, true)
			}
		})
	}
}

// errBotFailed stands for the answer of a bot that panicked.
var errBotFailed = errors.New("slack: the bot failed")

// formErrors is the answer that sends the user back to the form.
type formErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

func (in *inbound) submit(ctx context.Context, cb *slackgo.InteractionCallback) []byte {
	key := "slack:submit:" + cb.View.ID + ":" + cb.View.Hash
	if cb.View.ID == "" {
		key = ""
	}
	if !in.first(ctx, key) {
		return nil
	}
	at := in.cfg.Now()
	res := make(chan error, 1)
	in.background(ctx, func(ctx context.Context) {
		defer close(res)
		s := bot.Submission{
			Form:   cb.View.CallbackID,
			State:  cb.View.PrivateMetadata,
			Values: submissionValues(cb.View.State),
			User:   in.user(ctx, cb.User.ID, cb.User.Name),
			Key:    key,
			At:     at,
		}
		res <- in.h.Submit(ctx, s)
	})
	t := time.NewTimer(in.cfg.AckWithin)
	defer t.Stop()
	select {
	case err, ok := <-res:
		if !ok {
			err = errBotFailed
		}
		return in.formAnswer(cb, err)
	case <-t.C:
	case <-ctx.Done():
	}
	in.background(ctx, func(ctx context.Context) {
		select {
		case err, ok := <-res:
			if !ok {
				err = errBotFailed
			}
			if err != nil {
				in.cfg.Logger.Error("slack: a form submission failed after its modal closed", "form", cb.View.CallbackID, "err", err)
				in.tellLate(ctx, cb.User.ID, err)
			}
		case <-ctx.Done():
		}
	})
	return nil
}

func (in *inbound) formAnswer(cb *slackgo.InteractionCallback, err error) []byte {
	if err == nil {
		return nil
	}
	var fe *bot.FormError
	ans := formErrors{ResponseAction: "errors", Errors: map[string]string{}}
	if errors.As(err, &fe) {
		for k, v := range fe.Fields {
			ans.Errors[k] = truncate(v, 150)
		}
	} else {
		in.cfg.Logger.Error("slack: a form submission failed", "form", cb.View.CallbackID, "err", err)
		for _, b := range cb.View.Blocks.BlockSet {
			if ib, ok := b.(*slackgo.InputBlock); ok && ib.BlockID != "" {
				ans.Errors[ib.BlockID] = "Something went wrong; please try again."
				break
			}
		}
	}
	if len(ans.Errors) == 0 {
		return nil
	}
	body, _ := json.Marshal(ans)
	return body
}

// eventEnvelope is the part of an Events API delivery the bot reads.
type eventEnvelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	EventID   string `json:"event_id"`
	EventTime int64  `json:"event_time"`
	Event     struct {
		Type     string `json:"type"`
		User     string `json:"user"`
		BotID    string `json:"bot_id"`
		Reaction string `json:"reaction"`
		Item     struct {
			Type    string `json:"type"`
			Channel string `json:"channel"`
			TS      string `json:"ts"`
		} `json:"item"`
		Text     string `json:"text"`
		Channel  string `json:"channel"`
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
		EventTS  string `json:"event_ts"`
	} `json:"event"`
}

// parseEvent reads an Events API body.
func parseEvent(body []byte) (*eventEnvelope, error) {
	var e eventEnvelope
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("slack: event: %w", err)
	}
	if e.Type == "" {
		return nil, errors.New("slack: event: no type")
	}
	return &e, nil
}

// event handles an event_callback in the background; a duplicate (a
// retry, a redelivery) does nothing.
func (in *inbound) event(ctx context.Context, e *eventEnvelope) {
	if e.Type != "event_callback" {
		return
	}
	key := "slack:event:" + e.EventID
	if e.EventID == "" {
		key = ""
	}
	if !in.first(ctx, key) {
		return
	}
	ev := e.Event
	switch ev.Type {
	case "reaction_added", "reaction_removed":
		if ev.Item.Type != "message" || ev.Item.Channel == "" || ev.Item.TS == "" {
			return
		}
		at := timeOfTS(ev.EventTS)
		if at.IsZero() {
			at = in.cfg.Now()
		}
		in.background(ctx, func(ctx context.Context) {
			in.h.React(ctx, bot.Reaction{
				Emoji:   ev.Reaction,
				Added:   ev.Type == "reaction_added",
				User:    in.user(ctx, ev.User, ""),
				Message: bot.MessageRef{Channel: ev.Item.Channel, TS: ev.Item.TS},
				Key:     key,
				At:      at,
			})
		})
	case "app_mention":
		if in.cfg.Chat == nil || ev.BotID != "" || ev.User == "" {
			return
		}
		in.background(ctx, func(ctx context.Context) {
			u := in.user(ctx, ev.User, "")
			place := bot.Place{Channel: ev.Channel, Thread: ev.ThreadTS}
			name := in.cfg.HelpCommand
			if name == "" {
				name = "incident"
			}
			m := in.h.Command(ctx, bot.Command{Name: name, Text: "help", User: u, Place: place, Key: key, At: timeOfTS(ev.TS)})
			if m.Empty() {
				return
			}
			if err := in.cfg.Chat.Whisper(ctx, place, u, m); err != nil {
				in.cfg.Logger.Warn("slack: could not answer a mention", "channel", ev.Channel, "err", err)
			}
		})
	}
}

// recent is a bounded list of keys seen lately, oldest out first.
type recent struct {
	mu    sync.Mutex
	max   int
	order *list.List
	keys  map[string]*list.Element
}

type recentEntry struct {
	key string
	at  time.Time
}

func newRecent(max int) *recent {
	return &recent{max: max, order: list.New(), keys: map[string]*list.Element{}}
}

// add reports whether key is new within dedupeTTL, and remembers it.
func (r *recent) add(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.keys[key]; ok {
		if now.Sub(e.Value.(recentEntry).at) < dedupeTTL {
			return false
		}
		r.order.Remove(e)
		delete(r.keys, key)
	}
	r.keys[key] = r.order.PushFront(recentEntry{key: key, at: now})
	for r.order.Len() > r.max {
		old := r.order.Back()
		r.order.Remove(old)
		delete(r.keys, old.Value.(recentEntry).key)
	}
	return true
}

// tellLate tells a user, in a direct message, what went wrong with a form
// whose modal had already closed, so that the submission is not believed
// done.
func (in *inbound) tellLate(ctx context.Context, user string, err error) {
	if in.cfg.Chat == nil || user == "" {
		return
	}
	text := "Your form could not be completed: something went wrong on Breadcrumb's side. Please try again."
	var fe *bot.FormError
	if errors.As(err, &fe) {
		var problems []string
		for _, k := range slices.Sorted(maps.Keys(fe.Fields)) {
			problems = append(problems, fe.Fields[k])
		}
		text = "Your form could not be completed: " + strings.Join(problems, " ")
	}
	m := bot.Message{Text: text, Blocks: []bot.Block{&bot.Section{Text: bot.Text{bot.P(text)}}}}
	if _, perr := in.cfg.Chat.Post(ctx, bot.Place{Channel: user}, m); perr != nil {
		in.cfg.Logger.Warn("slack: could not tell a user that their form failed", "err", perr)
	}
}
