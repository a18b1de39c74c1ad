package slack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	slackgo "github.com/slack-go/slack"
)

// APIConfig says how to reach Slack's Web API.
type APIConfig struct {
	// BotToken is the bot's token (xoxb-…), SLACK_BOT_TOKEN.
	BotToken secret.String
	// AppToken is the app-level token (xapp-…) that Socket Mode needs,
	// SLACK_APP_TOKEN; empty for the HTTP transport.
	AppToken secret.String
	// APIURL replaces https://slack.com/api/ (SLACK_API_URL), for a proxy
	// or a test server. It ends with a slash.
	APIURL string
	// HTTPClient is the client the calls go through (default one with a
	// 15-second timeout).
	HTTPClient *http.Client
}

// NewAPI returns a slack-go client for cfg. It makes no call.
func NewAPI(cfg APIConfig) *slackgo.Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	opts := []slackgo.Option{slackgo.OptionHTTPClient(hc)}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slackgo.OptionAPIURL(u))
	}
	if !cfg.AppToken.IsZero() {
		opts = append(opts, slackgo.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	return slackgo.New(cfg.BotToken.Reveal(), opts...)
}

// ChatConfig tunes a Chat. Zero fields take the defaults.
type ChatConfig struct {
	Outbox OutboxConfig
	// Logger receives what fails with nobody to return it to (a queued
	// update, an invitation). Default: discard.
	Logger *slog.Logger
	// UserTTL is how long a user's name and email are kept (default 1h).
	UserTTL time.Duration
}

// Chat is bot.Chat on Slack: it renders the bot's messages as Block Kit
// and sends its writes through an Outbox.
type Chat struct {
	api    *slackgo.Client
	out    *Outbox
	log    *slog.Logger
	ttl    time.Duration
	clock  Clock
	mu     sync.Mutex
	users  map[string]cachedUser
	nextID func() string
}

type cachedUser struct {
	u  bot.User
	at time.Time
}

var _ bot.Chat = (*Chat)(nil)

// NewChat returns a Chat over api. Close it to drain its outbox.
func NewChat(api *slackgo.Client, cfg ChatConfig) *Chat {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Outbox.Logger == nil {
		cfg.Outbox.Logger = cfg.Logger
	}
	if cfg.UserTTL <= 0 {
		cfg.UserTTL = time.Hour
	}
	out := NewOutbox(cfg.Outbox)
	return &Chat{api: api, out: out, log: cfg.Logger, ttl: cfg.UserTTL, clock: out.cfg.Clock, users: map[string]cachedUser{}, nextID: randomID}
}

// Stats returns the outbox's counters.
func (c *Chat) Stats() Stats { return c.out.Stats() }

// Flush waits until the writes queued so far are sent, or until ctx ends.
func (c *Chat) Flush(ctx context.Context) error { return c.out.Flush(ctx) }

// Close sends what is queued, until ctx ends.
func (c *Chat) Close(ctx context.Context) error { return c.out.Close(ctx) }

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// postMarker is the event type of the metadata every post carries, so
// that a post whose call failed can be looked for before it is sent
// again.
const postMarker = "breadcrumb_post"

// Post sends m to a place, split over several messages when it is over
// Slack's limits, and returns the first message's reference.
//
// A post is never sent twice: each carries metadata with an ID of its
// own, and after a failure that may have reached Slack (a timeout, a
// 5xx) the outbox reads the channel's (or the thread's) latest messages
// and takes the one with that ID instead of posting again.
func (c *Chat) Post(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	if to.Channel == "" {
		return bot.MessageRef{}, fmt.Errorf("slack: chat.postMessage: no channel")
	}
	var first bot.MessageRef
	for i, r := range RenderPost(m) {
		ref, err := c.postOne(ctx, to, r)
		if err != nil {
			if i > 0 {
				return first, fmt.Errorf("slack: post to %s: part %d: %w", to.Channel, i+1, err)
			}
			return bot.MessageRef{}, err
		}
		if i == 0 {
			first = ref
		}
	}
	return first, nil
}

func (c *Chat) postOne(ctx context.Context, to bot.Place, r Rendered) (bot.MessageRef, error) {
	id := c.nextID()
	channel := to.Channel
	opts := []slackgo.MsgOption{
		slackgo.MsgOptionText(r.Text, false),
		slackgo.MsgOptionBlocks(r.Blocks...),
		slackgo.MsgOptionDisableLinkUnfurl(),
		slackgo.MsgOptionMetadata(slackgo.SlackMetadata{EventType: postMarker, EventPayload: map[string]any{"post_id": id}}),
	}
	if to.Thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(to.Thread))
	}
	var gotChannel string
	var mu sync.Mutex
	started := c.clock.Now()
	j := &job{
		method: "chat.postMessage",
		target: to.Channel,
		call: func(ctx context.Context) (string, error) {
			ch, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
			if err == nil {
				mu.Lock()
				gotChannel = ch
				mu.Unlock()
			}
			return ts, err
		},
		check: func(ctx context.Context) (string, bool, error) {
			return c.findPost(ctx, to, id, started)
		},
	}
	ts, err := c.out.do(ctx, channel, j)
	if err != nil {
		return bot.MessageRef{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	if gotChannel == "" {
		gotChannel = channel
	}
	return bot.MessageRef{Channel: gotChannel, TS: ts}, nil
}

// findPost looks for the post with ID id among the messages sent since a
// minute before started.
func (c *Chat) findPost(ctx context.Context, to bot.Place, id string, started time.Time) (string, bool, error) {
	oldest := tsOf(started.Add(-time.Minute))
	var msgs []slackgo.Message
	if to.Thread != "" {
		got, _, _, err := c.api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{
			ChannelID: to.Channel, Timestamp: to.Thread, Oldest: oldest, Limit: 200, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", false, apiError("conversations.replies", to.Channel, err)
		}
		msgs = got
	} else {
		got, err := c.api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{
			ChannelID: to.Channel, Oldest: oldest, Limit: 200, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", false, apiError("conversations.history", to.Channel, err)
		}
		msgs = got.Messages
	}
	for _, m := range msgs {
		if m.Metadata.EventType == postMarker && fmt.Sprint(m.Metadata.EventPayload["post_id"]) == id {
			return m.Timestamp, true, nil
		}
	}
	return "", false, nil
}

func tsOf(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + ".000000"
}

// Update replaces a message; it returns once the update is queued. A
// later update of the same message that arrives while this one waits
// replaces it, and a failure is logged.
func (c *Chat) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	j, err := c.updateJob(ref, m)
	if err != nil {
		return err
	}
	j.parent = trace.SpanContextFromContext(ctx)
	if err := c.out.enqueue(ref.Channel, j); err != nil {
		return fmt.Errorf("slack: chat.update %s/%s: %w", ref.Channel, ref.TS, err)
	}
	return nil
}

// UpdateNow replaces a message like Update, and returns once the update
// reached Slack (or failed): its caller can then read the state again
// and know that whatever it sends next lands after. A later update of the
// same message merged into this one answers for it.
func (c *Chat) UpdateNow(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	j, err := c.updateJob(ref, m)
	if err != nil {
		return err
	}
	_, err = c.out.do(ctx, ref.Channel, j)
	return err
}

// updateJob is the outbox job of a chat.update, merged with the other
// updates of the same message that wait in the queue.
func (c *Chat) updateJob(ref bot.MessageRef, m bot.Message) (*job, error) {
	if ref.Channel == "" || ref.TS == "" {
		return nil, fmt.Errorf("slack: chat.update: incomplete message reference %q/%q", ref.Channel, ref.TS)
	}
	r := RenderOne(m)
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(r.Text, false), slackgo.MsgOptionBlocks(r.Blocks...)}
	return &job{
		method:   "chat.update",
		target:   ref.Channel + "/" + ref.TS,
		mergeKey: ref.Channel + "/" + ref.TS,
		call: func(ctx context.Context) (string, error) {
			_, ts, _, err := c.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, opts...)
			return ts, err
		},
	}, nil
}

// Whisper sends m that only user sees, in place.
func (c *Chat) Whisper(ctx context.Context, to bot.Place, user bot.User, m bot.Message) error {
	r := RenderOne(m)
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(r.Text, false), slackgo.MsgOptionBlocks(r.Blocks...)}
	if to.Thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(to.Thread))
	}
	j := &job{
		method: "chat.postEphemeral",
		target: to.Channel + "/" + user.ID,
		call: func(ctx context.Context) (string, error) {
			return c.api.PostEphemeralContext(ctx, to.Channel, user.ID, opts...)
		},
	}
	_, err := c.out.do(ctx, to.Channel, j)
	return err
}

// channelID is the shape of a Slack conversation ID.
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,20}$`)

// OpenHome makes the incident's channel, or finds the thread channel.
// A name that is taken by a channel the bot can see is that channel;
// a name taken by one it cannot see (archived, private) gets a suffix
// (-2, -3, …). The topic is set and the responders invited; a failed
// invitation is logged, since the channel stands.
func (c *Chat) OpenHome(ctx context.Context, h bot.Home) (bot.Place, error) {
	if h.Channel != "" {
		ch := strings.TrimPrefix(h.Channel, "#")
		if channelID.MatchString(ch) {
			return bot.Place{Channel: ch}, nil
		}
		found, err := c.findChannel(ctx, ch, true)
		if err != nil {
			return bot.Place{}, err
		}
		if found == nil {
			return bot.Place{}, fmt.Errorf("slack: home channel #%s: not found among the channels the bot can see", ch)
		}
		return bot.Place{Channel: found.ID}, nil
	}
	name := ChannelName(h.Name)
	if name == "" {
		return bot.Place{}, fmt.Errorf("slack: conversations.create: the name %q has no usable character", h.Name)
	}
	var ch *slackgo.Channel
	created := false
	for i := 1; i <= 10 && ch == nil; i++ {
		try := name
		if i > 1 {
			suffix := "-" + strconv.Itoa(i)
			try = strings.TrimRight(name[:min(len(name), 80-len(suffix))], "-") + suffix
		}
		got, err := c.api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: try})
		switch {
		case err == nil:
			ch, created = got, true
		case slackErrorIs(err, "name_taken"):
			found, ferr := c.findChannel(ctx, try, false)
			if ferr != nil {
				return bot.Place{}, ferr
			}
			if found != nil && !found.IsArchived {
				ch = found
			}
		default:
			return bot.Place{}, apiError("conversations.create", try, err)
		}
	}
	if ch == nil {
		return bot.Place{}, fmt.Errorf("slack: conversations.create %s: the name and ten suffixes are taken", name)
	}
	if created && h.Topic != "" {
		if _, err := c.api.SetTopicOfConversationContext(ctx, ch.ID, truncate(h.Topic, 250)); err != nil {
			c.log.Warn("slack: could not set the channel's topic", "channel", ch.ID, "err", apiError("conversations.setTopic", ch.ID, err))
		}
	}
	c.invite(ctx, ch.ID, h.Invite)
	return bot.Place{Channel: ch.ID}, nil
}

func (c *Chat) invite(ctx context.Context, channel string, users []string) {
	var ids []string
	for _, u := range users {
		if userID.MatchString(u) {
			ids = append(ids, u)
		}
	}
	if len(ids) == 0 {
		return
	}
	if _, err := c.api.InviteUsersToConversationContext(ctx, channel, ids...); err == nil || len(ids) == 1 && ignorableInvite(err) {
		return
	}
	// One bad user fails the whole call: invite one by one.
	for _, id := range ids {
		if _, err := c.api.InviteUsersToConversationContext(ctx, channel, id); err != nil && !ignorableInvite(err) {
			c.log.Warn("slack: could not invite a responder", "channel", channel, "user", id, "err", apiError("conversations.invite", channel, err))
		}
	}
}

func ignorableInvite(err error) bool {
	return slackErrorIs(err, "already_in_channel") || slackErrorIs(err, "cant_invite_self")
}

// findChannel looks for a public channel by name (a private one would
// need the groups:read scope; it is named by its ID instead).
func (c *Chat) findChannel(ctx context.Context, name string, excludeArchived bool) (*slackgo.Channel, error) {
	cursor := ""
	for page := 0; page < 50; page++ {
		chans, next, err := c.api.GetConversationsContext(ctx, &slackgo.GetConversationsParameters{
			Cursor: cursor, Limit: 1000, ExcludeArchived: excludeArchived, Types: []string{"public_channel"},
		})
		if err != nil {
			return nil, apiError("conversations.list", name, err)
		}
		for i := range chans {
			if chans[i].Name == name {
				return &chans[i], nil
			}
		}
		if next == "" {
			return nil, nil
		}
		cursor = next
	}
	return nil, nil
}

var notChannelChars = regexp.MustCompile(`[^a-z0-9_-]+`)

// ChannelName makes name a valid Slack channel name: lower case letters,
// digits, - and _, at most 80 characters.
func ChannelName(name string) string {
	n := notChannelChars.ReplaceAllString(strings.ToLower(name), "-")
	n = strings.Trim(n, "-_")
	for strings.Contains(n, "--") {
		n = strings.ReplaceAll(n, "--", "-")
	}
	if len(n) > 80 {
		n = strings.TrimRight(n[:80], "-_")
	}
	return n
}

// OpenForm opens f as a modal for the user whose action carried trigger.
// It does not queue: a trigger lives three seconds.
func (c *Chat) OpenForm(ctx context.Context, trigger string, f bot.Form) error {
	v, err := RenderForm(f)
	if err != nil {
		return fmt.Errorf("slack: views.open: %w", err)
	}
	if _, err := c.api.OpenViewContext(ctx, trigger, v); err != nil {
		return apiError("views.open", f.ID, err)
	}
	return nil
}

// Upload shares a file in a place with Slack's external upload flow
// (files.getUploadURLExternal, the upload, files.completeUploadExternal).
// An upload is not repeated after a failure that may have taken effect.
func (c *Chat) Upload(ctx context.Context, to bot.Place, file bot.File) error {
	if len(file.Content) == 0 {
		return fmt.Errorf("slack: upload %s to %s: the file is empty", file.Name, to.Channel)
	}
	name := file.Name
	if name == "" {
		name = "file"
	}
	title := file.Title
	if title == "" {
		title = name
	}
	j := &job{
		method: "files.completeUploadExternal",
		target: to.Channel + "/" + name,
		once:   true,
		call: func(ctx context.Context) (string, error) {
			_, err := c.api.UploadFileContext(ctx, slackgo.UploadFileParameters{
				Reader: strings.NewReader(string(file.Content)), FileSize: len(file.Content),
				Filename: name, Title: title, Channel: to.Channel, ThreadTimestamp: to.Thread,
			})
			return "", err
		},
	}
	_, err := c.out.do(ctx, to.Channel, j)
	return err
}

// Message reads one message, its author and its permalink.
func (c *Chat) Message(ctx context.Context, ref bot.MessageRef) (bot.ChatMessage, error) {
	hist, err := c.api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{
		ChannelID: ref.Channel, Latest: ref.TS, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return bot.ChatMessage{}, apiError("conversations.history", ref.Channel+"/"+ref.TS, err)
	}
	var msg *slackgo.Message
	for i := range hist.Messages {
		if hist.Messages[i].Timestamp == ref.TS {
			msg = &hist.Messages[i]
		}
	}
	if msg == nil {
		// A reply in a thread is not in the channel's history. The
		// thread's parent always comes first, then the reply.
		replies, _, _, err := c.api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{
			ChannelID: ref.Channel, Timestamp: ref.TS, Oldest: ref.TS, Latest: ref.TS, Inclusive: true, Limit: 2,
		})
		if err != nil {
			return bot.ChatMessage{}, apiError("conversations.replies", ref.Channel+"/"+ref.TS, err)
		}
		for i := range replies {
			if replies[i].Timestamp == ref.TS {
				msg = &replies[i]
			}
		}
	}
	if msg == nil {
		return bot.ChatMessage{}, fmt.Errorf("slack: message %s/%s: %w", ref.Channel, ref.TS, errNoMessage)
	}
	link, err := c.api.GetPermalinkContext(ctx, &slackgo.PermalinkParameters{Channel: ref.Channel, Ts: ref.TS})
	if err != nil {
		return bot.ChatMessage{}, apiError("chat.getPermalink", ref.Channel+"/"+ref.TS, err)
	}
	author := bot.User{ID: msg.User, Name: msg.Username}
	if msg.User != "" {
		if u, err := c.User(ctx, msg.User); err == nil {
			author = u
		} else {
			c.log.Warn("slack: could not read a message author", "user", msg.User, "err", err)
		}
	} else if msg.BotID != "" {
		author = bot.User{ID: msg.BotID, Name: msg.Username}
	}
	out := bot.ChatMessage{Ref: ref, Author: author, Text: msg.Text, Permalink: link, At: timeOfTS(ref.TS)}
	if msg.ThreadTimestamp != "" && msg.ThreadTimestamp != msg.Timestamp {
		out.Thread = msg.ThreadTimestamp
	}
	return out, nil
}

var errNoMessage = errors.New("no such message")

// timeOfTS reads a Slack ts ("1531420618.000200") as a time.
func timeOfTS(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		us, _ = strconv.ParseInt(frac, 10, 64)
	}
	return time.Unix(s, us*1000).UTC()
}

// User returns a user's name and email (users.info), kept for UserTTL.
func (c *Chat) User(ctx context.Context, id string) (bot.User, error) {
	now := c.clock.Now()
	c.mu.Lock()
	if cu, ok := c.users[id]; ok && now.Sub(cu.at) < c.ttl {
		c.mu.Unlock()
		return cu.u, nil
	}
	c.mu.Unlock()
	info, err := c.api.GetUserInfoContext(ctx, id)
	if err != nil {
		return bot.User{ID: id}, apiError("users.info", id, err)
	}
	u := bot.User{ID: id, Name: info.Profile.DisplayName, Email: info.Profile.Email}
	if u.Name == "" {
		u.Name = info.RealName
	}
	if u.Name == "" {
		u.Name = info.Name
	}
	c.mu.Lock()
	if len(c.users) > 10000 {
		c.users = map[string]cachedUser{}
	}
	c.users[id] = cachedUser{u: u, at: now}
	c.mu.Unlock()
	return u, nil
}
