package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// SyncConfig configures a Syncer.
type SyncConfig struct {
	// Client sends the changes. Required.
	Client *Client
	// Incidents records each outcome on the incident's timeline. Required.
	Incidents *incidents.Service
	// FromEmail maps who made a change (the timeline's actor, such as a
	// Slack user) to the email of their PagerDuty user; "" means not
	// mapped. nil maps no one.
	FromEmail func(actor string) string
	// Name returns the name to show for an actor in a note sent as
	// DefaultFrom (a Slack user's display name); nil or "" shows the actor
	// as it is.
	Name func(actor string) string
	// DefaultFrom is the email of the PagerDuty user that changes of
	// unmapped actors are made as; "" refuses them (and says so on the
	// timeline).
	DefaultFrom string
	// Logger receives what could not be recorded; nil discards it.
	Logger *slog.Logger
	// QueueSize bounds the changes waiting to be sent; 0 means 1024.
	QueueSize int
	// MaxAttempts bounds the tries of one change that keeps failing in a
	// way worth retrying (429, 5xx, network); 0 means 5.
	MaxAttempts int
	// Backoff is the wait after the first failed try, doubled after each
	// one, when PagerDuty gives no Retry-After; 0 means 1 s.
	Backoff time.Duration
	// MaxWait caps one wait, Retry-After included; 0 means 1 minute.
	MaxWait time.Duration
	// CallTimeout bounds one call; 0 means 10 s.
	CallTimeout time.Duration
}

// Syncer sends to PagerDuty what responders do in Breadcrumb to incidents
// that came from PagerDuty: acknowledgements, resolutions and notes. It is
// an incidents.Observer: Observe only queues, and Run sends, one change at
// a time in the order they were made, retrying what a retry may fix. Every
// outcome, success or failure, is recorded on the incident's timeline with
// Service.Synced, so that a failure shows where the responders look.
//
// Changes whose source is PagerDuty itself (the Processor's) are not sent
// back. The queue lives in memory: changes queued when the process stops
// are not sent, and Close says how many.
type Syncer struct {
	client      *Client
	svc         *incidents.Service
	fromEmail   func(string) string
	name        func(string) string
	defaultFrom string
	log         *slog.Logger
	maxAttempts int
	backoff     time.Duration
	maxWait     time.Duration
	timeout     time.Duration

	queue chan syncJob

	mu     sync.Mutex
	closed bool
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when Run returns
	// records counts the outcomes being recorded in the background, so
	// that Close waits for them before the store closes.
	records sync.WaitGroup
	running bool
}

var _ incidents.Observer = (*Syncer)(nil)

// syncJob is one change to send.
type syncJob struct {
	incidentID string // Breadcrumb's
	pdID       string // PagerDuty's
	key        string // the timeline event's key
	status     string // "acknowledged" or "resolved"; "" for a note
	note       string // the note's text
	actor      string
}

// NewSyncer returns a Syncer; call Run to start sending. It panics when
// cfg.Client or cfg.Incidents is nil, a wiring mistake.
func NewSyncer(cfg SyncConfig) *Syncer {
	if cfg.Client == nil || cfg.Incidents == nil {
		panic("pagerduty: NewSyncer needs a Client and an incidents.Service")
	}
	s := &Syncer{
		client: cfg.Client, svc: cfg.Incidents, fromEmail: cfg.FromEmail, name: cfg.Name, defaultFrom: strings.TrimSpace(cfg.DefaultFrom),
		log: cfg.Logger, maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, maxWait: cfg.MaxWait, timeout: cfg.CallTimeout,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 5
	}
	if s.backoff <= 0 {
		s.backoff = time.Second
	}
	if s.maxWait <= 0 {
		s.maxWait = time.Minute
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	size := cfg.QueueSize
	if size <= 0 {
		size = 1024
	}
	s.queue = make(chan syncJob, size)
	return s
}

// Observe queues the changes to send for an incident that has a PagerDuty
// incident: a status change to acknowledged or resolved, and a note, made
// anywhere but in PagerDuty. It never blocks; when the queue is full the
// change is not sent, and the timeline says so.
func (s *Syncer) Observe(ctx context.Context, inc *incidents.Incident, events []incidents.Event) {
	pdID := inc.Refs[incidents.RefPagerDutyIncident]
	if pdID == "" {
		return
	}
	for _, e := range events {
		if e.Source == Source {
			continue
		}
		j := syncJob{incidentID: inc.ID, pdID: pdID, key: e.Key, actor: e.Actor}
		switch {
		case e.Type == incidents.EventStatusChanged && (e.Data["to"] == string(incidents.StatusAcknowledged) || e.Data["to"] == string(incidents.StatusResolved)):
			j.status = e.Data["to"]
		case e.Type == incidents.EventNote && strings.TrimSpace(e.Text) != "":
			j.note = e.Text
		default:
			continue
		}
		s.enqueue(ctx, j)
	}
}

func (s *Syncer) enqueue(ctx context.Context, j syncJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.recordLater(ctx, j, "Not sent to PagerDuty: Breadcrumb is shutting down")
		return
	}
	select {
	case s.queue <- j:
	default:
		s.recordLater(ctx, j, fmt.Sprintf("Not sent to PagerDuty: %d changes are already waiting", cap(s.queue)))
	}
}

// recordLater records an outcome without holding up Observe's caller.
func (s *Syncer) recordLater(ctx context.Context, j syncJob, text string) {
	ctx = context.WithoutCancel(ctx)
	s.records.Add(1)
	go func() {
		defer s.records.Done()
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		s.record(ctx, j, "pagerduty-sync:"+j.key, text)
	}()
}

// Run sends the queued changes until Close (after which it sends what is
// left in the queue, then returns nil) or until ctx is done (it returns
// ctx's error, leaving the queue). Call it once.
func (s *Syncer) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("pagerduty: syncer already running")
	}
	s.running = true
	s.mu.Unlock()
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			s.abandon(ctx)
			return ctx.Err()
		case j := <-s.queue:
			s.send(ctx, j)
		case <-s.stop:
			for {
				select {
				case j := <-s.queue:
					s.send(ctx, j)
				default:
					return nil
				}
			}
		}
	}
}

// abandon records on their timelines the changes left in the queue.
func (s *Syncer) abandon(ctx context.Context) {
	for {
		select {
		case j := <-s.queue:
			s.recordLater(ctx, j, "Not sent to PagerDuty: Breadcrumb stopped first")
		default:
			return
		}
	}
}

// Close stops taking changes and waits until Run has sent those already
// queued (or until Run's context ends), and until the changes it could not
// send are recorded as such. It returns at once when Run was
// never started.
func (s *Syncer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	running := s.running
	s.mu.Unlock()
	if running {
		<-s.done
	}
	s.records.Wait()
	if n := len(s.queue); n > 0 {
		s.log.Warn("pagerduty changes not sent at shutdown", "count", n)
	}
	return nil
}

// send makes one change in PagerDuty, retrying what may succeed later, and
// records the outcome.
func (s *Syncer) send(ctx context.Context, j syncJob) {
	what := map[string]string{"acknowledged": "acknowledge", "resolved": "resolve", "": "add the note"}[j.status]
	from, mapped := s.from(j.actor)
	var (
		noteID string
		err    error
	)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		if j.status != "" {
			err = s.client.SetStatus(cctx, j.pdID, j.status, from)
		} else {
			noteID, err = s.client.AddNote(cctx, j.pdID, from, NoteContent(s.display(j.actor), j.note, mapped))
		}
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			s.recordLater(ctx, j, "Not sent to PagerDuty: Breadcrumb stopped first")
			return
		}
		if !IsRetryable(err) {
			text := "PagerDuty refused to " + what + ": " + describe(err)
			if e, ok := errors.AsType[*Error](err); ok && e.StatusCode == 0 {
				text = "Could not " + what + " in PagerDuty: " + describe(err)
			}
			s.record(ctx, j, "pagerduty-sync:"+j.key, text)
			return
		}
		if attempt >= s.maxAttempts {
			s.record(ctx, j, "pagerduty-sync:"+j.key, fmt.Sprintf("PagerDuty did not %s after %d attempts: %s", what, attempt, describe(err)))
			return
		}
		wait := s.backoff << (attempt - 1)
		if e, ok := errors.AsType[*Error](err); ok && e.RetryAfter > 0 {
			wait = e.RetryAfter
		}
		wait = min(wait, s.maxWait)
		s.log.Debug("pagerduty change failed; trying again", "incident_id", j.incidentID, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.recordLater(ctx, j, "Not sent to PagerDuty: Breadcrumb stopped first")
			return
		case <-t.C:
		}
	}
	as := ""
	if from != "" {
		as = " as " + from
	}
	switch {
	case j.status == "acknowledged":
		s.record(ctx, j, "pagerduty-sync:"+j.key, "Acknowledged in PagerDuty"+as)
	case j.status == "resolved":
		s.record(ctx, j, "pagerduty-sync:"+j.key, "Resolved in PagerDuty"+as)
	case noteID != "":
		// The key the Processor gives this note when PagerDuty's webhook
		// brings it back, so that it is not added twice.
		s.record(ctx, j, NoteKey(noteID), "Note added in PagerDuty"+as)
	default:
		s.record(ctx, j, "pagerduty-sync:"+j.key, "Note added in PagerDuty"+as)
	}
}

// display is the name an unmapped actor signs a note with.
func (s *Syncer) display(actor string) string {
	if s.name != nil {
		if n := strings.TrimSpace(s.name(actor)); n != "" {
			return n
		}
	}
	return actor
}

// from returns the email a change of actor is made as, and whether it is
// the actor's own.
func (s *Syncer) from(actor string) (string, bool) {
	if s.fromEmail != nil && actor != "" {
		if e := strings.TrimSpace(s.fromEmail(actor)); e != "" {
			return e, true
		}
	}
	return s.defaultFrom, false
}

func (s *Syncer) record(ctx context.Context, j syncJob, key, text string) {
	a := incidents.Action{Key: key, Actor: j.actor, Source: "breadcrumb"}
	if err := s.svc.Synced(ctx, j.incidentID, text, a); err != nil {
		s.log.Error("pagerduty sync outcome not recorded", "incident_id", j.incidentID, "outcome", text, "err", err)
	}
}

// describe says in a few words why a call failed, for the timeline: the
// status and PagerDuty's message, never a token.
func describe(err error) string {
	if ae, ok := errors.AsType[pd.APIError](err); ok {
		msg := ""
		if ae.APIError.Valid {
			msg = ae.APIError.ErrorObject.Message
			if len(ae.APIError.ErrorObject.Errors) > 0 {
				msg += " (" + strings.Join(ae.APIError.ErrorObject.Errors, "; ") + ")"
			}
		}
		return strings.TrimSpace(fmt.Sprintf("%d %s", ae.StatusCode, clip(msg, 200)))
	}
	if e, ok := errors.AsType[*Error](err); ok {
		if e.Retry && e.StatusCode == 0 {
			return "PagerDuty could not be reached"
		}
		return e.Err.Error()
	}
	return err.Error()
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
