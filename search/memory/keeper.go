package memory

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Keeper keeps an Index current. Subscribed to the incident Service, it
// hears of every change this process makes, and indexes the incident
// again a moment later (a burst of changes to one incident is indexed
// once). Changes made by another replica are not heard: every
// CatchUpEvery, the incidents opened in the last CatchUpSpan whose
// version moved are indexed again.
type Keeper struct {
	ix  *Index
	src Source
	log *slog.Logger

	mu      sync.Mutex
	dirty   map[string]bool
	indexed map[string]int64 // the version indexed, for the catch-up
	kick    chan struct{}
}

// Keeper timings.
const (
	// Settle is how long a Keeper waits after a change before indexing,
	// so that the changes of one action are indexed together.
	Settle = 500 * time.Millisecond
	// CatchUpEvery and CatchUpSpan: see Keeper.
	CatchUpEvery = 5 * time.Minute
	CatchUpSpan  = 7 * 24 * time.Hour
)

// NewKeeper returns a Keeper of ix that reads from src.
func NewKeeper(ix *Index, src Source, logger *slog.Logger) *Keeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Keeper{ix: ix, src: src, log: logger, dirty: map[string]bool{}, indexed: map[string]int64{}, kick: make(chan struct{}, 1)}
}

// Observe marks the incident for indexing; it never blocks.
func (k *Keeper) Observe(_ context.Context, inc *incidents.Incident, _ []incidents.Event) {
	k.mu.Lock()
	k.dirty[inc.ID] = true
	k.mu.Unlock()
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// Run rebuilds the index when it needs it, then indexes what changes,
// until ctx is done.
func (k *Keeper) Run(ctx context.Context) {
	if k.ix.NeedsRebuild() {
		start := time.Now()
		n, err := k.ix.Rebuild(ctx, k.src)
		if err != nil && ctx.Err() == nil {
			k.log.Error("the index of past incidents was not rebuilt", "err", err)
		} else if err == nil {
			k.log.Info("index of past incidents rebuilt", "incidents", n, "took", time.Since(start).Round(time.Millisecond).String())
		}
	}
	ticker := time.NewTicker(CatchUpEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			k.Flush(context.Background())
			return
		case <-ticker.C:
			k.CatchUp(ctx)
		case <-k.kick:
			select {
			case <-time.After(Settle):
			case <-ctx.Done():
			}
			k.Flush(ctx)
		}
	}
}

// Flush indexes the incidents marked so far, at once.
func (k *Keeper) Flush(ctx context.Context) {
	k.mu.Lock()
	ids := make([]string, 0, len(k.dirty))
	for id := range k.dirty {
		ids = append(ids, id)
	}
	k.dirty = map[string]bool{}
	k.mu.Unlock()
	for _, id := range ids {
		if err := k.reindex(ctx, id); err != nil && ctx.Err() == nil {
			k.log.Warn("a past incident was not indexed", "incident_id", id, "err", err)
		}
	}
}

// reindex indexes one incident as the store holds it.
func (k *Keeper) reindex(ctx context.Context, id string) error {
	inc, err := k.src.Get(ctx, id)
	if errors.Is(err, incidents.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return k.put(ctx, inc)
}

func (k *Keeper) put(ctx context.Context, inc *incidents.Incident) error {
	events, err := k.src.Timeline(ctx, inc.ID, 0, 0)
	if err != nil {
		return err
	}
	if err := k.ix.Put(NewRecord(inc, events)); err != nil {
		return err
	}
	k.mu.Lock()
	k.indexed[inc.ID] = inc.Version
	k.mu.Unlock()
	return nil
}

// CatchUp indexes again the recent incidents (opened in the last
// CatchUpSpan) whose version is not the one indexed: those another
// replica changed, which this process never heard of. Run calls it every
// CatchUpEvery.
func (k *Keeper) CatchUp(ctx context.Context) {
	from := time.Now().Add(-CatchUpSpan)
	seen := map[string]bool{}
	err := k.src.EachAfter(ctx, incidents.Filter{From: from}, incidents.Position{}, func(inc *incidents.Incident) error {
		seen[inc.ID] = true
		k.mu.Lock()
		v, ok := k.indexed[inc.ID]
		k.mu.Unlock()
		if ok && v == inc.Version {
			return nil
		}
		return k.put(ctx, inc)
	})
	if err != nil && ctx.Err() == nil {
		k.log.Warn("past incidents not caught up", "err", err)
	}
	// Forget the versions of incidents now out of the span.
	k.mu.Lock()
	for id := range k.indexed {
		if !seen[id] {
			delete(k.indexed, id)
		}
	}
	k.mu.Unlock()
}
