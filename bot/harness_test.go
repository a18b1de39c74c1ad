package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

var ctx = context.Background()

// The example runbooks and their search index are shared by the tests:
// building the index takes a while, and nothing changes it.
var (
	libOnce sync.Once
	lib     *runbooks.Library
	index   *search.Index
	libErr  error
	tmpDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if index != nil {
		_ = index.Close()
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

func exampleLibrary(t testing.TB) (*runbooks.Library, *search.Index) {
	t.Helper()
	libOnce.Do(func() {
		lib = runbooks.NewLibrary(runbooks.LibraryOptions{})
		if libErr = lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); libErr != nil {
			return
		}
		if _, libErr = lib.Refresh(context.Background()); libErr != nil {
			return
		}
		if tmpDir, libErr = os.MkdirTemp("", "bot-search-"); libErr != nil {
			return
		}
		if index, libErr = search.Open(search.Config{Dir: tmpDir}); libErr != nil {
			return
		}
		_, libErr = index.Update(lib.Pages(), nil)
	})
	if libErr != nil {
		t.Fatal(libErr)
	}
	return lib, index
}

// clock is a clock the tests move by hand.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// world is a bot over a real incident service (bbolt in a temporary
// directory), the example runbooks with their search index, and a local
// chat.
type world struct {
	t     testing.TB
	clock *clock
	svc   *incidents.Service
	store *boltstore.Store
	chat  *localchat.Chat
	bot   *bot.Bot
	cfg   bot.Config
	keys  atomic.Int64
}

const payments5xx = "examples:payments/PaymentsAPIHigh5xxRate.md"

func newWorld(t testing.TB, cfg bot.Config) *world {
	t.Helper()
	lib, ix := exampleLibrary(t)
	w := &world{t: t, clock: newClock(), cfg: cfg}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.store = st
	var n atomic.Int64
	w.svc = incidents.NewService(st, incidents.Options{Now: w.clock.Now, NewID: func(now time.Time) string {
		return fmt.Sprintf("INC-%s-%05d", now.UTC().Format("20060102"), n.Add(1))
	}})
	w.chat = localchat.New(localchat.Options{Now: w.clock.Now, PermalinkBase: "https://chat.example/archives"})
	w.bot = w.newBot(lib, ix)
	t.Cleanup(func() {
		_ = w.bot.Close()
		_ = st.Close()
	})
	return w
}

func (w *world) newBot(lib *runbooks.Library, ix *search.Index) *bot.Bot {
	w.t.Helper()
	b, err := bot.New(w.cfg, bot.Deps{
		Incidents: w.svc, Search: bot.SearchIndex(ix), Runbooks: lib, Chat: w.chat, Now: w.clock.Now,
		LinkURL: func(id string, n int, user string) string {
			return fmt.Sprintf("https://breadcrumb.example/r/%s/%d", id, n)
		},
		PageURL: func(id, anchor string) string {
			u := "https://breadcrumb.example/runbooks/" + id
			if anchor != "" {
				u += "#" + anchor
			}
			return u
		},
		NewRunbookURL: func(id string) string { return "https://breadcrumb.example/runbooks/new?incident=" + id },
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.svc.Subscribe(b)
	return b
}

func (w *world) key() string { return fmt.Sprintf("k%d", w.keys.Add(1)) }

var (
	alice = bot.User{ID: "UALICE", Name: "alice"}
	bob   = bot.User{ID: "UBOB", Name: "bob"}
)

// command types a slash command and waits for the bot's background work.
func (w *world) command(u bot.User, place bot.Place, name, text string) bot.Message {
	w.t.Helper()
	m := w.bot.Command(ctx, bot.Command{Name: name, Text: text, User: u, Place: place, Trigger: "trigger-" + w.key(), Key: w.key(), At: w.clock.Now()})
	w.bot.Flush()
	return m
}

// click presses the button with label on a posted message.
func (w *world) click(u bot.User, ref bot.MessageRef, label string) *bot.Message {
	w.t.Helper()
	p, ok := w.chat.Get(ref)
	if !ok {
		w.t.Fatalf("no message %v", ref)
	}
	btn, ok := button(p.Message, label)
	if !ok {
		w.t.Fatalf("no button %q on:\n%s", label, localchat.Text(p.Message))
	}
	return w.press(u, ref, btn)
}

func (w *world) press(u bot.User, ref bot.MessageRef, btn bot.Button) *bot.Message {
	w.t.Helper()
	place := bot.Place{Channel: ref.Channel}
	if p, ok := w.chat.Get(ref); ok {
		place.Thread = p.Thread
	}
	m := w.bot.Click(ctx, bot.Click{Action: btn.Action, Value: btn.Value, User: u, Place: place, Message: ref,
		Trigger: "trigger-" + w.key(), Key: w.key(), At: w.clock.Now()})
	w.bot.Flush()
	return m
}

func button(m bot.Message, label string) (bot.Button, bool) {
	for _, b := range m.Blocks {
		if a, ok := b.(*bot.Actions); ok {
			for _, btn := range a.Buttons {
				if btn.Label == label {
					return btn, true
				}
			}
		}
	}
	return bot.Button{}, false
}

func (w *world) incident(id string) *incidents.Incident {
	w.t.Helper()
	inc, err := w.svc.Get(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *world) timeline(id string) []incidents.Event {
	w.t.Helper()
	evs, err := w.svc.Timeline(ctx, id, 0, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

// text renders a message for assertions.
func text(m bot.Message) string { return localchat.Text(m) }

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s: got\n%s\nwant it to contain %q", what, got, want)
		}
	}
}

// posted returns the text of the message at ref.
func (w *world) posted(ref bot.MessageRef) string {
	w.t.Helper()
	p, ok := w.chat.Get(ref)
	if !ok {
		w.t.Fatalf("no message %v", ref)
	}
	return text(p.Message)
}

// lastWith returns the last message of a channel whose text holds s.
func (w *world) lastWith(channel, s string) (localchat.Posted, bool) {
	all := w.chat.All(channel)
	for i := len(all) - 1; i >= 0; i-- {
		if strings.Contains(text(all[i].Message), s) {
			return all[i], true
		}
	}
	return localchat.Posted{}, false
}
