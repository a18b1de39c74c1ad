package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Incidents is what the bot needs of the incident domain;
// *incidents.Service implements it. Its errors wrap incidents.ErrNotFound,
// ErrInvalid (a change the rules refuse) and ErrConflict.
type Incidents interface {
	Declare(ctx context.Context, d incidents.Declaration, a incidents.Action) (*incidents.Incident, bool, error)
	Transition(ctx context.Context, id string, to incidents.Status, a incidents.Action) (*incidents.Incident, error)
	Step(ctx context.Context, id string, number int, state incidents.StepState, a incidents.Action) (*incidents.Incident, error)
	AssignRole(ctx context.Context, id, role, user string, a incidents.Action) (*incidents.Incident, error)
	SetSeverity(ctx context.Context, id string, severity int, a incidents.Action) (*incidents.Incident, error)
	AttachRunbook(ctx context.Context, id string, rb incidents.RunbookRef, steps []incidents.StepProgress, a incidents.Action) (*incidents.Incident, error)
	SetHome(ctx context.Context, id string, home incidents.Home) (*incidents.Incident, error)
	Note(ctx context.Context, id string, a incidents.Action) error
	Pin(ctx context.Context, id string, m incidents.PinnedMessage, a incidents.Action) error
	Unpin(ctx context.Context, id, messageID string, a incidents.Action) error
	Get(ctx context.Context, id string) (*incidents.Incident, error)
	Timeline(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error)
	List(ctx context.Context, f incidents.Filter) ([]*incidents.Incident, error)
	Each(ctx context.Context, f incidents.Filter, fn func(*incidents.Incident) error) error
}

// Hit is a runbook found by a Searcher.
type Hit struct {
	RunbookID string
	Title     string
	// Path is the page's path in its source.
	Path string
	// Reason says why the page matched, for the responder.
	Reason string
	Score  float64
	// Snippet is a short passage of the page, as plain text.
	Snippet string
}

// Searcher finds runbooks for what a responder typed, best first.
// SearchIndex adapts a search.Index.
type Searcher interface {
	Search(ctx context.Context, query string, limit int) ([]Hit, error)
}

// Runbooks looks a runbook up by ID; *runbooks.Library implements it.
type Runbooks interface {
	Get(id string) (*runbooks.Runbook, bool)
}

// Deps are what the bot talks to.
type Deps struct {
	Incidents Incidents
	Search    Searcher
	Runbooks  Runbooks
	Chat      Chat
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives what goes wrong in the background; nil discards.
	Logger *slog.Logger
	// LinkURL builds the address of Breadcrumb's redirect for the link
	// numbered n (its index in Incident.Links) of an incident, which
	// records the click on the timeline; user is empty for a message all
	// responders share. Nil links straight to Link.URL.
	LinkURL func(incidentID string, n int, user string) string
	// PageURL is where a runbook's page, at an anchor, can be read; nil
	// means the bot shows no Open buttons.
	PageURL func(runbookID, anchor string) string
	// NewRunbookURL is where a responder can start writing a runbook for
	// an incident that has none (a template made from its alert); nil
	// hides the link.
	NewRunbookURL func(incidentID string) string
	// Memory finds past incidents like a new one (for "seen before",
	// /incident similar and the use of a runbook); nil leaves them out.
	Memory Memory
	// IncidentURL is where an incident's page can be read; nil names
	// incidents without a link.
	IncidentURL func(incidentID string) string
	// TracerProvider makes the "bot work" spans of the work a traced
	// change queues (Observe); nil means the global provider, a no-op
	// unless the process set one.
	TracerProvider trace.TracerProvider
}

// Home modes.
const (
	// HomeChannel gives each incident a channel of its own.
	HomeChannel = "channel"
	// HomeThread gives each incident a thread in its service's channel.
	HomeThread = "thread"
)

// CommandNames are the names of the bot's slash commands, without the
// slash.
type CommandNames struct {
	Runbook  string
	Incident string
}

// Config is how the bot behaves. The zero value is usable: a channel per
// incident named "inc-{{date}}-{{slug}}", pins by :pushpin:, the commands
// /runbook and /incident.
type Config struct {
	// Home is HomeChannel (the default) or HomeThread.
	Home string
	// ChannelName is the template of a new incident channel's name, with
	// {{date}} (YYYYMMDD), {{slug}} (the title in lower case, words
	// joined by "-"), {{id}}, {{service}} and {{sev}}. The result is made
	// a valid Slack channel name (lower case letters, digits, "-" and
	// "_", at most 80 characters). Default "inc-{{date}}-{{slug}}".
	ChannelName string
	// Channels maps a service to the channel whose threads hold its
	// incidents (HomeThread); DefaultChannel takes the others and is
	// required in that mode.
	Channels       map[string]string
	DefaultChannel string
	// PinEmoji is the reaction, without colons, that pins a message to
	// the timeline. Default "pushpin".
	PinEmoji string
	// Invite lists the users invited to every new incident channel, in
	// addition to the person who declared it.
	Invite []string
	// Commands are the slash commands' names. Default "runbook" and
	// "incident".
	Commands CommandNames
	// Hits is the number of runbooks /runbook shows. Default 5.
	Hits int
	// Source names the chat on the timeline ("slack", "web"). Default
	// "slack".
	Source string
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Home == "" {
		c.Home = HomeChannel
	}
	c.Home = strings.ToLower(c.Home)
	if c.Home != HomeChannel && c.Home != HomeThread {
		return c, fmt.Errorf("bot: home %q (want %q or %q)", c.Home, HomeChannel, HomeThread)
	}
	if c.Home == HomeThread && c.DefaultChannel == "" {
		return c, errors.New("bot: home \"thread\" needs a default channel")
	}
	if c.ChannelName == "" {
		c.ChannelName = "inc-{{date}}-{{slug}}"
	}
	if err := checkTemplate(c.ChannelName); err != nil {
		return c, err
	}
	c.PinEmoji = strings.Trim(c.PinEmoji, ": ")
	if c.PinEmoji == "" {
		c.PinEmoji = "pushpin"
	}
	c.Commands.Runbook = strings.TrimPrefix(c.Commands.Runbook, "/")
	c.Commands.Incident = strings.TrimPrefix(c.Commands.Incident, "/")
	if c.Commands.Runbook == "" {
		c.Commands.Runbook = "runbook"
	}
	if c.Commands.Incident == "" {
		c.Commands.Incident = "incident"
	}
	if c.Hits <= 0 {
		c.Hits = 5
	}
	if c.Hits > 10 {
		c.Hits = 10
	}
	if c.Source == "" {
		c.Source = "slack"
	}
	return c, nil
}

// Bot is the conversation. It implements Handler for a chat adapter and
// incidents.Observer for the incident Service, whose changes it shows in
// each incident's home. Close it to wait for its background work.
type Bot struct {
	cfg     Config
	inc     Incidents
	search  Searcher
	books   Runbooks
	chat    Chat
	now     func() time.Time
	log     *slog.Logger
	linkURL func(string, int, string) string
	pageURL func(string, string) string
	newURL  func(string) string
	incURL  func(string) string
	memory  Memory

	q *queue

	mu sync.Mutex
	// homes maps an incident's home to its ID: {Channel} for a channel,
	// {Channel, Thread} for a thread. It keeps the maxHomes used last; an
	// older home is found again in the store (incidentAt).
	homes *lru[Place, string]
	// channels counts the homes in each channel, for reactions.
	channels map[string]int
	// state holds, by incident ID, what the bot posted for the maxStates
	// incidents it changed last; an older incident's cards and checklist
	// are no longer kept current.
	state *lru[string, *incState]
}

// The most homes and incident states the bot keeps in memory.
const (
	maxHomes  = 5000
	maxStates = 500
)

// incState is what the bot posted for an incident, beyond its header
// (which the incident records): the guided cards and the checklist, and
// the last rendering of every message it keeps current, so that an
// unchanged message is not updated again.
type incState struct {
	cards     []MessageRef
	checklist MessageRef
	rendered  map[MessageRef]string
}

var (
	_ Handler            = (*Bot)(nil)
	_ incidents.Observer = (*Bot)(nil)
)

// New returns a bot. It reads the open incidents, to know which place is
// whose home.
func New(cfg Config, deps Deps) (*Bot, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if deps.Incidents == nil || deps.Chat == nil {
		return nil, errors.New("bot: the incidents and a chat are required")
	}
	b := &Bot{cfg: cfg, inc: deps.Incidents, search: deps.Search, books: deps.Runbooks, chat: deps.Chat,
		now: deps.Now, log: deps.Logger, linkURL: deps.LinkURL, pageURL: deps.PageURL, newURL: deps.NewRunbookURL,
		incURL: deps.IncidentURL, memory: deps.Memory,
		channels: map[string]int{}, state: newLRU[string, *incState](maxStates, nil)}
	b.homes = newLRU(maxHomes, func(k Place, _ string) {
		if b.channels[k.Channel]--; b.channels[k.Channel] <= 0 {
			delete(b.channels, k.Channel)
		}
	})
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	tp := deps.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	b.q = newQueue(b.idle, b.log, tp.Tracer("github.com/breadcrumb-oncall/breadcrumb/bot"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = b.inc.Each(ctx, incidents.Filter{Open: true}, func(inc *incidents.Incident) error {
		b.remember(inc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bot: read the open incidents: %w", err)
	}
	return b, nil
}

// Close waits for the work queued in the background to finish; work
// queued after Close is dropped.
func (b *Bot) Close() error {
	b.q.close()
	return nil
}

// Flush waits until the background work queued so far (homes opened,
// messages kept current, reports uploaded) is done.
func (b *Bot) Flush() { b.q.wait() }

// remember records an incident's home.
func (b *Bot) remember(inc *incidents.Incident) {
	if inc == nil || inc.Home.Channel == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := homeKey(inc.Home)
	if _, ok := b.homes.get(k); !ok {
		b.channels[k.Channel]++
	}
	b.homes.put(k, inc.ID)
}

func homeKey(h incidents.Home) Place {
	return Place{Channel: h.Channel, Thread: h.Thread}
}

// lookupHome returns the incident whose home is place: a thread's own
// home first, then its channel's.
func (b *Bot) lookupHome(place Place) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, ok := b.homes.get(place); ok {
		return id, true
	}
	if place.Thread != "" {
		id, ok := b.homes.get(Place{Channel: place.Channel})
		return id, ok
	}
	return "", false
}

// maxFallback bounds the incidents read to find a home the bot does not
// remember (a resolved incident after a restart).
const maxFallback = 1000

// incidentAt returns the incident whose home is place, from memory, else
// from the store.
func (b *Bot) incidentAt(ctx context.Context, place Place) (*incidents.Incident, error) {
	if place.Channel == "" {
		return nil, nil
	}
	if id, ok := b.lookupHome(place); ok {
		return b.inc.Get(ctx, id)
	}
	var found *incidents.Incident
	err := b.inc.Each(ctx, incidents.Filter{Limit: maxFallback}, func(inc *incidents.Incident) error {
		h := inc.Home
		if h.Channel != place.Channel {
			return nil
		}
		if h.Thread == place.Thread {
			found = inc
			return errFound
		}
		if h.Thread == "" && found == nil {
			found = inc
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	b.remember(found)
	return found, nil
}

// errFound stops a walk through the incidents once it found what it
// looked for.
var errFound = errors.New("found")

// stateOf returns the incident's posted state; callers hold b.mu.
func (b *Bot) stateOf(id string) *incState {
	st, ok := b.state.get(id)
	if !ok {
		st = &incState{rendered: map[MessageRef]string{}}
		b.state.put(id, st)
	}
	return st
}

// action builds the incidents.Action of a user's command or click.
func (b *Bot) action(key string, u User, text string) incidents.Action {
	return incidents.Action{Key: key, Actor: u.ID, Source: b.cfg.Source, Text: text}
}
