package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
)

// stepClock is a clock whose waits pass at once: After moves the time on
// by d. It records every wait.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newStepClock() *stepClock { return &stepClock{now: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *stepClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func TestOneChannelGetsAboutOneWriteASecond(t *testing.T) {
	clock := newStepClock()
	o := NewOutbox(OutboxConfig{Interval: time.Second, Burst: 2, Clock: clock})
	defer o.Close(context.Background())
	var mu sync.Mutex
	var at []time.Time
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := o.do(context.Background(), "C1", &job{method: "chat.postMessage", target: fmt.Sprint(i), call: func(context.Context) (string, error) {
				mu.Lock()
				at = append(at, clock.Now())
				mu.Unlock()
				return "1.0", nil
			}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(at) != n {
		t.Fatalf("got %d calls, want %d", len(at), n)
	}
	// In any one second, at most Burst writes.
	for i := range at {
		in := 0
		for j := range at {
			if !at[j].Before(at[i]) && at[j].Sub(at[i]) < time.Second {
				in++
			}
		}
		if in > 2 {
			t.Errorf("got %d writes in the second from %s, want at most 2", in, at[i].Format(time.StampMilli))
		}
	}
	if span, want := at[n-1].Sub(at[0]), time.Duration(n-2)*time.Second; span < want {
		t.Errorf("got %d writes over %s, want at least %s", n, span, want)
	}
}

func TestUpdatesOfOneMessageWaitingInTheQueueAreMerged(t *testing.T) {
	o := NewOutbox(OutboxConfig{Clock: newStepClock()})
	defer o.Close(context.Background())
	gate, inFlight := make(chan struct{}), make(chan struct{})
	blocker := &job{method: "chat.postMessage", call: func(context.Context) (string, error) {
		close(inFlight)
		<-gate
		return "1.0", nil
	}}
	if err := o.enqueue("C1", blocker); err != nil {
		t.Fatal(err)
	}
	<-inFlight
	var mu sync.Mutex
	var sent []int
	done := make(chan struct{})
	for i := 1; i <= 5; i++ {
		err := o.enqueue("C1", &job{method: "chat.update", mergeKey: "C1/1.0", call: func(context.Context) (string, error) {
			mu.Lock()
			sent = append(sent, i)
			mu.Unlock()
			if i == 5 {
				close(done)
			}
			return "1.0", nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := o.Stats().Queued["C1"]; got != 1 {
		t.Errorf("got %d writes queued, want the 1 merged update", got)
	}
	close(gate)
	<-done
	if err := o.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0] != 5 {
		t.Errorf("got updates %v sent, want only the last, [5]", sent)
	}
	if got := o.Stats().Merged; got != 4 {
		t.Errorf("got %d merged, want 4", got)
	}
}

func TestARateLimitIsWaitedOutForRetryAfter(t *testing.T) {
	clock := newStepClock()
	o := NewOutbox(OutboxConfig{Clock: clock})
	defer o.Close(context.Background())
	calls := 0
	ts, err := o.do(context.Background(), "C1", &job{method: "chat.postMessage", call: func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", &slackgo.RateLimitedError{RetryAfter: 7 * time.Second}
		}
		return "2.0", nil
	}})
	if err != nil || ts != "2.0" {
		t.Fatalf("got %q, %v, want 2.0 and no error", ts, err)
	}
	found := false
	for _, w := range clock.Waits() {
		if w == 7*time.Second {
			found = true
		}
	}
	if !found {
		t.Errorf("got waits %v, want one of 7s", clock.Waits())
	}
	if s := o.Stats(); s.RateLimited != 1 || s.Calls != 2 {
		t.Errorf("got %d 429s in %d calls, want 1 in 2", s.RateLimited, s.Calls)
	}
}

func TestAFailureThatMayHaveLandedIsCheckedBeforeTheWriteIsRepeated(t *testing.T) {
	tests := []struct {
		name      string
		landed    bool
		wantCalls int
	}{
		{"a post that landed is found and not sent again", true, 1},
		{"a post that did not land is sent again", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOutbox(OutboxConfig{Clock: newStepClock()})
			defer o.Close(context.Background())
			calls, checks := 0, 0
			ts, err := o.do(context.Background(), "C1", &job{
				method: "chat.postMessage",
				call: func(context.Context) (string, error) {
					calls++
					if calls == 1 {
						return "", context.DeadlineExceeded
					}
					return "2.0", nil
				},
				check: func(context.Context) (string, bool, error) {
					checks++
					if tt.landed {
						return "1.0", true, nil
					}
					return "", false, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if calls != tt.wantCalls || checks != 1 {
				t.Errorf("got %d calls and %d checks, want %d and 1", calls, checks, tt.wantCalls)
			}
			if want := map[bool]string{true: "1.0", false: "2.0"}[tt.landed]; ts != want {
				t.Errorf("got ts %q, want %q", ts, want)
			}
		})
	}
}

func TestAWriteThatCannotBeCheckedIsNotRepeated(t *testing.T) {
	o := NewOutbox(OutboxConfig{Clock: newStepClock()})
	defer o.Close(context.Background())
	calls := 0
	_, err := o.do(context.Background(), "C1", &job{method: "files.completeUploadExternal", once: true, call: func(context.Context) (string, error) {
		calls++
		return "", slackgo.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}
	}})
	var e *Error
	if !errors.As(err, &e) || !e.Retryable() {
		t.Fatalf("got %v, want a retryable *Error", err)
	}
	if calls != 1 {
		t.Errorf("got %d calls, want 1", calls)
	}
}

func TestErrorsSayWhetherARetryMakesSense(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry bool
	}{
		{"a 429 is worth a retry", &slackgo.RateLimitedError{RetryAfter: time.Second}, true},
		{"a 500 is worth a retry", slackgo.StatusCodeError{Code: 500}, true},
		{"a timeout is worth a retry", context.DeadlineExceeded, true},
		{"Slack's internal_error is worth a retry", slackgo.SlackErrorResponse{Err: "internal_error"}, true},
		{"a channel not found is not", slackgo.SlackErrorResponse{Err: "channel_not_found"}, false},
		{"a 400 is not", slackgo.StatusCodeError{Code: 400}, false},
		{"a canceled call is not", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apiError("chat.postMessage", "C1", tt.err)
			var r interface{ Retryable() bool }
			if !errors.As(err, &r) {
				t.Fatalf("got %T, want a Retryable", err)
			}
			if r.Retryable() != tt.retry {
				t.Errorf("got Retryable %v, want %v", r.Retryable(), tt.retry)
			}
			if !errors.Is(err, tt.err) && !errors.As(err, new(slackgo.StatusCodeError)) && !errors.As(err, new(slackgo.SlackErrorResponse)) {
				t.Errorf("got %v, want it to wrap %v", err, tt.err)
			}
		})
	}
}

func TestCloseSendsWhatIsQueuedAndThenRefuses(t *testing.T) {
	o := NewOutbox(OutboxConfig{Clock: newStepClock()})
	sent := 0
	var mu sync.Mutex
	for range 3 {
		if err := o.enqueue("C1", &job{method: "chat.update", call: func(context.Context) (string, error) {
			mu.Lock()
			sent++
			mu.Unlock()
			return "", nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sent != 3 {
		t.Errorf("got %d sent, want 3", sent)
	}
	if err := o.enqueue("C1", &job{}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

func TestCloseGivesUpAtItsDeadline(t *testing.T) {
	o := NewOutbox(OutboxConfig{Clock: newStepClock()})
	gate := make(chan struct{})
	defer close(gate)
	for range 2 {
		_ = o.enqueue("C1", &job{method: "chat.update", call: func(ctx context.Context) (string, error) {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return "", ctx.Err()
		}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := o.Close(ctx); err == nil {
		t.Error("got no error, want one that says writes were left")
	}
}

func TestAWaitedUpdateMergedIntoALaterOneLearnsItsResult(t *testing.T) {
	o := NewOutbox(OutboxConfig{Clock: newStepClock()})
	defer o.Close(context.Background())
	gate, inFlight := make(chan struct{}), make(chan struct{})
	blocker := &job{method: "chat.postMessage", call: func(context.Context) (string, error) {
		close(inFlight)
		<-gate
		return "1.0", nil
	}}
	if err := o.enqueue("C1", blocker); err != nil {
		t.Fatal(err)
	}
	<-inFlight
	results := make(chan error, 2)
	var calls atomic.Int32
	update := func() *job {
		return &job{method: "chat.update", mergeKey: "C1/1.0", call: func(context.Context) (string, error) {
			calls.Add(1)
			return "1.0", errors.New("message_not_found")
		}}
	}
	go func() { _, err := o.do(context.Background(), "C1", update()); results <- err }()
	for o.Stats().Queued["C1"] != 1 {
		time.Sleep(time.Millisecond)
	}
	go func() { _, err := o.do(context.Background(), "C1", update()); results <- err }()
	for o.Stats().Merged != 1 {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	for i := 0; i < 2; i++ {
		select {
		case err := <-results:
			if err == nil || !strings.Contains(err.Error(), "message_not_found") {
				t.Errorf("waiter %d: got %v, want the merged update's error", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("waiter %d never learned the result of the update that replaced its own", i)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("got %d calls to Slack, want 1 for the two merged updates", got)
	}
}
