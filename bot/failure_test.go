package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// flakyChat injects failures into a local chat: the first posts fail
// with a rate limit, posts may block until released, and updates of
// chosen messages fail for good.
type flakyChat struct {
	*localchat.Chat
	mu          sync.Mutex
	failPosts   int
	block       chan struct{}
	deleted     map[bot.MessageRef]bool
	updateTries map[bot.MessageRef]int
}

type rateLimited struct{}

func (rateLimited) Error() string   { return "rate limited" }
func (rateLimited) Retryable() bool { return true }

func (c *flakyChat) Post(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	c.mu.Lock()
	block := c.block
	fail := c.failPosts > 0
	if fail {
		c.failPosts--
	}
	c.mu.Unlock()
	if block != nil {
		<-block
	}
	if fail {
		return bot.MessageRef{}, rateLimited{}
	}
	return c.Chat.Post(ctx, to, m)
}

func (c *flakyChat) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updateTries[ref]++
	if c.deleted[ref] {
		return errors.New("message_not_found")
	}
	return c.Chat.Update(ctx, ref, m)
}

func newFlakyWorld(t *testing.T) (*world, *flakyChat) {
	t.Helper()
	w := newWorld(t, bot.Config{})
	_ = w.bot.Close()
	fc := &flakyChat{Chat: w.chat, deleted: map[bot.MessageRef]bool{}, updateTries: map[bot.MessageRef]int{}}
	b, err := bot.New(bot.Config{}, bot.Deps{Incidents: w.svc, Chat: fc, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The service keeps the first bot as an observer; it is closed and
	// drops what it is given.
	w.svc.Subscribe(b)
	w.bot = b
	return w, fc
}

func TestARateLimitedPostIsRetriedOnce(t *testing.T) {
	w, fc := newFlakyWorld(t)
	fc.failPosts = 1
	inc, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: "Disk full"}, incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc = w.incident(inc.ID)
	if inc.Home.Header == "" {
		t.Fatal("no header after a rate limit")
	}
	if got := len(w.chat.All(inc.Home.Channel)); got != 1 {
		t.Errorf("got %d messages in the home, want one header", got)
	}
}

func TestObserveReturnsWhileTheChatIsSlow(t *testing.T) {
	w, fc := newFlakyWorld(t)
	fc.block = make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: "Disk full"}, incidents.Action{Key: "d1"})
		if err == nil {
			_, err = w.svc.SetSeverity(ctx, "INC-20261125-00001", 2, incidents.Action{Key: "s1"})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the service's changes waited for the chat")
	}
	close(fc.block)
	w.bot.Flush()
	if inc := w.incident("INC-20261125-00001"); inc.Home.Header == "" {
		t.Error("no header once the chat answered")
	}
}

func TestACardThatCannotBeUpdatedIsLetGo(t *testing.T) {
	w, fc := newFlakyWorld(t)
	lib, _ := exampleLibrary(t)
	_ = w.bot.Close()
	b, err := bot.New(bot.Config{}, bot.Deps{Incidents: w.svc, Chat: fc, Runbooks: lib, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	w.svc.Subscribe(b)
	w.bot = b
	rb, _ := lib.Get(payments5xx)
	var steps []incidents.StepProgress
	for _, st := range rb.Steps {
		steps = append(steps, incidents.StepProgress{Number: st.Number, Title: st.Title})
	}
	inc, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: "Payments", Runbook: &incidents.RunbookRef{ID: rb.ID, Title: rb.Title}, Steps: steps}, incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc = w.incident(inc.ID)
	w.click(alice, bot.MessageRef{Channel: inc.Home.Channel, TS: inc.Home.Header}, "Start guided")
	card, ok := w.lastWith(inc.Home.Channel, "Step 1 of 8")
	if !ok {
		t.Fatal("no card")
	}
	fc.mu.Lock()
	fc.deleted[card.Ref] = true
	fc.mu.Unlock()
	w.click(alice, card.Ref, "Done")
	w.command(alice, bot.Place{Channel: inc.Home.Channel}, "incident", "severity 2")
	fc.mu.Lock()
	tries := fc.updateTries[card.Ref]
	fc.mu.Unlock()
	if tries != 1 {
		t.Errorf("the deleted card was updated %d times, want one try and then none", tries)
	}
	if got := w.incident(inc.ID).Steps[0].State; got != incidents.StepDone {
		t.Errorf("step 1 is %s, want done", got)
	}
}
