package localchat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
)

// ErrNotFound is returned for a channel, a message or a form trigger the
// chat does not know.
var ErrNotFound = errors.New("localchat: not found")

// BotUser is the author of the messages the bot posts.
var BotUser = bot.User{ID: "B0BREADCRUMB", Name: "breadcrumb"}

// Options configure a Chat.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PermalinkBase starts the permalink of every message, which ends in
	// "/CHANNEL/TS"; empty means "localchat:".
	PermalinkBase string
	// MaxChannels is how many channels the chat keeps: past it, making a
	// channel forgets the one used least recently, with its messages, so
	// that a chat holding a channel per incident does not grow with the
	// incidents. 0 means DefaultMaxChannels.
	MaxChannels int
	// MaxMessages is how many messages a channel keeps, replies
	// included: past it, the oldest is forgotten. 0 means
	// DefaultMaxMessages.
	MaxMessages int
}

// The defaults of Options.
const (
	DefaultMaxChannels = 200
	DefaultMaxMessages = 1000
)

// Chat is an in-memory chat. The zero value is not usable; call New.
type Chat struct {
	now         func() time.Time
	permalink   string
	maxChannels int
	maxMessages int

	mu       sync.Mutex
	seq      int64
	version  uint64
	changed  chan struct{} // closed and replaced on every change
	channels map[string]*channel
	byName   map[string]string // channel name → ID
	order    []string          // channel IDs in creation order
	made     int               // channels made, forgotten ones included
	messages map[bot.MessageRef]*Posted
	whispers []Ephemeral
	forms    []OpenedForm
	uploads  []Upload
}

type channel struct {
	info ChannelInfo
	msgs []bot.MessageRef // in order, replies included
	// used is the chat's version when the channel last changed.
	used uint64
}

// ChannelInfo describes a channel.
type ChannelInfo struct {
	ID      string
	Name    string
	Topic   string
	Members []string
}

// Posted is a message held by the chat.
type Posted struct {
	Ref    bot.MessageRef
	Author bot.User
	// Thread is the parent's TS for a reply, empty otherwise.
	Thread  string
	Message bot.Message
	// Edits counts the updates the message received.
	Edits int
	At    time.Time
}

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	To      bot.Place
	User    string
	Message bot.Message
	At      time.Time
}

// OpenedForm is a form shown to the user whose action carried Trigger.
type OpenedForm struct {
	Trigger string
	Form    bot.Form
	At      time.Time
}

// Upload is a file shared in a place.
type Upload struct {
	To   bot.Place
	File bot.File
	At   time.Time
}

var _ bot.Chat = (*Chat)(nil)

// New returns an empty chat.
func New(opts Options) *Chat {
	c := &Chat{now: opts.Now, permalink: opts.PermalinkBase, changed: make(chan struct{}),
		maxChannels: opts.MaxChannels, maxMessages: opts.MaxMessages,
		channels: map[string]*channel{}, byName: map[string]string{}, messages: map[bot.MessageRef]*Posted{}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxChannels <= 0 {
		c.maxChannels = DefaultMaxChannels
	}
	if c.maxMessages <= 0 {
		c.maxMessages = DefaultMaxMessages
	}
	if c.permalink == "" {
		c.permalink = "localchat:"
	}
	return c
}

// touch records a change; callers hold c.mu.
func (c *Chat) touch() {
	c.version++
	close(c.changed)
	c.changed = make(chan struct{})
}

// Version counts the changes the chat has seen.
func (c *Chat) Version() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Wait returns when the chat's version is past after, or when ctx ends,
// with the version then: a long poll for a console that shows the chat.
func (c *Chat) Wait(ctx context.Context, after uint64) uint64 {
	for {
		c.mu.Lock()
		v, ch := c.version, c.changed
		c.mu.Unlock()
		if v > after {
			return v
		}
		select {
		case <-ctx.Done():
			return v
		case <-ch:
		}
	}
}

// nextTS returns a new message ID in Slack's style ("1764039600.000042"),
// unique in the chat and increasing; callers hold c.mu.
func (c *Chat) nextTS() string {
	c.seq++
	return fmt.Sprintf("%d.%06d", c.now().Unix(), c.seq)
}

// CreateChannel makes a channel, or returns the one of that name.
func (c *Chat) CreateChannel(name, topic string, members ...string) ChannelInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.createChannel(name, topic, members)
}

func (c *Chat) createChannel(name, topic string, members []string) ChannelInfo {
	if id, ok := c.byName[name]; ok {
		ch := c.channels[id]
		for _, m := range members {
			if !slices.Contains(ch.info.Members, m) {
				ch.info.Members = append(ch.info.Members, m)
			}
		}
		return cloneInfo(ch.info)
	}
	if len(c.order) >= c.maxChannels {
		c.forgetChannel()
	}
	c.made++
	id := fmt.Sprintf("C%04d", c.made)
	ch := &channel{info: ChannelInfo{ID: id, Name: name, Topic: topic}}
	for _, m := range members {
		if !slices.Contains(ch.info.Members, m) {
			ch.info.Members = append(ch.info.Members, m)
		}
	}
	c.channels[id] = ch
	c.byName[name] = id
	c.order = append(c.order, id)
	c.touch()
	ch.used = c.version
	return cloneInfo(ch.info)
}

// forgetChannel forgets the channel used least recently, and its
// messages; callers hold c.mu.
func (c *Chat) forgetChannel() {
	oldest := 0
	for i, id := range c.order {
		if c.channels[id].used < c.channels[c.order[oldest]].used {
			oldest = i
		}
	}
	id := c.order[oldest]
	ch := c.channels[id]
	for _, ref := range ch.msgs {
		delete(c.messages, ref)
	}
	delete(c.channels, id)
	delete(c.byName, ch.info.Name)
	c.order = slices.Delete(c.order, oldest, oldest+1)
}

// keepMessages forgets a channel's oldest messages past the most it
// keeps; callers hold c.mu.
func (c *Chat) keepMessages(ch *channel) {
	if over := len(ch.msgs) - c.maxMessages; over > 0 {
		for _, ref := range ch.msgs[:over] {
			delete(c.messages, ref)
		}
		ch.msgs = slices.Delete(ch.msgs, 0, over)
	}
}

func cloneInfo(i ChannelInfo) ChannelInfo {
	i.Members = slices.Clone(i.Members)
	return i
}

// lookup finds a channel by ID or by name; callers hold c.mu.
func (c *Chat) lookup(idOrName string) (*channel, bool) {
	if ch, ok := c.channels[idOrName]; ok {
		return ch, true
	}
	if id, ok := c.byName[strings.TrimPrefix(idOrName, "#")]; ok {
		return c.channels[id], true
	}
	return nil, false
}

// Channels lists the channels in the order they were made.
func (c *Chat) Channels() []ChannelInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ChannelInfo, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, cloneInfo(c.channels[id].info))
	}
	return out
}

// Channel returns a channel by ID or by name.
func (c *Chat) Channel(idOrName string) (ChannelInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.lookup(idOrName)
	if !ok {
		return ChannelInfo{}, false
	}
	return cloneInfo(ch.info), true
}

// Say posts a message written by a person, as if typed in place; the
// console uses it for what its user writes.
func (c *Chat) Say(to bot.Place, author bot.User, text string) (bot.MessageRef, error) {
	return c.post(to, author, bot.Message{Text: text, Blocks: []bot.Block{&bot.Section{Text: bot.Text{bot.P(text)}}}})
}

// Post adds a message by the bot to a channel or a thread.
func (c *Chat) Post(_ context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	return c.post(to, BotUser, m)
}

func (c *Chat) post(to bot.Place, author bot.User, m bot.Message) (bot.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.lookup(to.Channel)
	if !ok {
		return bot.MessageRef{}, fmt.Errorf("localchat: post to %q: %w", to.Channel, ErrNotFound)
	}
	if to.Thread != "" {
		if _, ok := c.messages[bot.MessageRef{Channel: ch.info.ID, TS: to.Thread}]; !ok {
			return bot.MessageRef{}, fmt.Errorf("localchat: post in thread %s of %s: %w", to.Thread, ch.info.ID, ErrNotFound)
		}
	}
	ref := bot.MessageRef{Channel: ch.info.ID, TS: c.nextTS()}
	c.messages[ref] = &Posted{Ref: ref, Author: author, Thread: to.Thread, Message: cloneMessage(m), At: c.now()}
	ch.msgs = append(ch.msgs, ref)
	c.keepMessages(ch)
	c.touch()
	ch.used = c.version
	return ref, nil
}

// Update replaces a message.
func (c *Chat) Update(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.messages[ref]
	if !ok {
		return fmt.Errorf("localchat: update %s/%s: %w", ref.Channel, ref.TS, ErrNotFound)
	}
	p.Message = cloneMessage(m)
	p.Edits++
	c.touch()
	if ch, ok := c.channels[ref.Channel]; ok {
		ch.used = c.version
	}
	return nil
}

// Whisper keeps a message for one user.
func (c *Chat) Whisper(_ context.Context, to bot.Place, user bot.User, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.whispers = append(c.whispers, Ephemeral{To: to, User: user.ID, Message: cloneMessage(m), At: c.now()})
	c.touch()
	return nil
}

// OpenHome makes the incident's channel (or finds the one of that name),
// or, for a thread, checks that its channel exists; a thread's channel is
// made when missing too, so that a local setup needs no preparation.
func (c *Chat) OpenHome(_ context.Context, h bot.Home) (bot.Place, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.Channel != "" {
		ch, ok := c.lookup(h.Channel)
		if !ok {
			info := c.createChannel(strings.TrimPrefix(h.Channel, "#"), "", nil)
			return bot.Place{Channel: info.ID}, nil
		}
		return bot.Place{Channel: ch.info.ID}, nil
	}
	if h.Name == "" {
		return bot.Place{}, errors.New("localchat: open home: neither a channel nor a name")
	}
	info := c.createChannel(h.Name, h.Topic, h.Invite)
	return bot.Place{Channel: info.ID}, nil
}

// OpenForm records a form shown to a user.
func (c *Chat) OpenForm(_ context.Context, trigger string, f bot.Form) error {
	if trigger == "" {
		return errors.New("localchat: open form: no trigger")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f.Fields = slices.Clone(f.Fields)
	c.forms = append(c.forms, OpenedForm{Trigger: trigger, Form: f, At: c.now()})
	c.touch()
	return nil
}

// Upload records a file shared in a place.
func (c *Chat) Upload(_ context.Context, to bot.Place, f bot.File) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lookup(to.Channel); !ok {
		return fmt.Errorf("localchat: upload %s to %q: %w", f.Name, to.Channel, ErrNotFound)
	}
	f.Content = slices.Clone(f.Content)
	c.uploads = append(c.uploads, Upload{To: to, File: f, At: c.now()})
	c.touch()
	return nil
}

// Message returns one message as a chat platform stores it: its author,
// its text (the rendering of its blocks when it has any), its time and
// its permalink.
func (c *Chat) Message(_ context.Context, ref bot.MessageRef) (bot.ChatMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.messages[ref]
	if !ok {
		return bot.ChatMessage{}, fmt.Errorf("localchat: message %s/%s: %w", ref.Channel, ref.TS, ErrNotFound)
	}
	text := p.Message.Text
	if len(p.Message.Blocks) > 0 {
		text = Text(bot.Message{Blocks: p.Message.Blocks})
	}
	return bot.ChatMessage{Ref: ref, Author: p.Author, Text: text, Thread: p.Thread,
		Permalink: c.permalink + "/" + ref.Channel + "/" + ref.TS, At: p.At}, nil
}

// Get returns a message held by the chat.
func (c *Chat) Get(ref bot.MessageRef) (Posted, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.messages[ref]
	if !ok {
		return Posted{}, false
	}
	return clonePosted(p), true
}

// Conversation returns the messages of a channel (by ID or name) in the
// order they were posted, thread replies left out.
func (c *Chat) Conversation(idOrName string) []Posted {
	return c.list(idOrName, func(p *Posted) bool { return p.Thread == "" })
}

// Thread returns a thread: its parent, then its replies in order.
func (c *Chat) Thread(idOrName, ts string) []Posted {
	return c.list(idOrName, func(p *Posted) bool { return p.Ref.TS == ts || p.Thread == ts })
}

// All returns every message of a channel, replies included, in order.
func (c *Chat) All(idOrName string) []Posted {
	return c.list(idOrName, func(*Posted) bool { return true })
}

func (c *Chat) list(idOrName string, keep func(*Posted) bool) []Posted {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.lookup(idOrName)
	if !ok {
		return nil
	}
	var out []Posted
	for _, ref := range ch.msgs {
		if p := c.messages[ref]; keep(p) {
			out = append(out, clonePosted(p))
		}
	}
	return out
}

// Ephemerals returns the messages kept for one user, oldest first; an
// empty user returns everyone's.
func (c *Chat) Ephemerals(user string) []Ephemeral {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Ephemeral
	for _, e := range c.whispers {
		if user == "" || e.User == user {
			e.Message = cloneMessage(e.Message)
			out = append(out, e)
		}
	}
	return out
}

// Forms returns the forms opened, oldest first.
func (c *Chat) Forms() []OpenedForm {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.forms)
	for i := range out {
		out[i].Form.Fields = slices.Clone(out[i].Form.Fields)
	}
	return out
}

// Uploads returns the files shared, oldest first.
func (c *Chat) Uploads() []Upload {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.uploads)
	for i := range out {
		out[i].File.Content = slices.Clone(out[i].File.Content)
	}
	return out
}

func clonePosted(p *Posted) Posted {
	c := *p
	c.Message = cloneMessage(p.Message)
	return c
}

// cloneMessage copies a message deeply enough that neither its sender nor
// a reader can change what the chat holds.
func cloneMessage(m bot.Message) bot.Message {
	out := m
	out.Blocks = make([]bot.Block, 0, len(m.Blocks))
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *bot.Header:
			c := *b
			out.Blocks = append(out.Blocks, &c)
		case *bot.Section:
			c := bot.Section{Text: slices.Clone(b.Text)}
			for _, f := range b.Fields {
				c.Fields = append(c.Fields, slices.Clone(f))
			}
			out.Blocks = append(out.Blocks, &c)
		case *bot.Code:
			c := *b
			out.Blocks = append(out.Blocks, &c)
		case *bot.Context:
			c := bot.Context{Text: slices.Clone(b.Text)}
			out.Blocks = append(out.Blocks, &c)
		case *bot.Actions:
			c := bot.Actions{Buttons: slices.Clone(b.Buttons)}
			out.Blocks = append(out.Blocks, &c)
		case *bot.Divider:
			out.Blocks = append(out.Blocks, &bot.Divider{})
		default:
			out.Blocks = append(out.Blocks, b)
		}
	}
	if len(m.Blocks) == 0 {
		out.Blocks = nil
	}
	return out
}
