package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/redisstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

// TestTwoReplicasRecordEveryEventOnce runs two Services, each with its own
// Redis client (two replicas of breadcrumb), on one redis-server, and
// sends both the same 1,000 actions, concurrently, shuffled, each twice.
// Every action must be recorded exactly once, and no change lost.
func TestTwoReplicasRecordEveryEventOnce(t *testing.T) {
	opts, prefix := redistest.Server(t)
	ctx := context.Background()
	newReplica := func() *incidents.Service {
		c := redis.NewClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		return incidents.NewService(redisstore.New(c, redisstore.Options{Prefix: prefix}), incidents.Options{})
	}
	a, b := newReplica(), newReplica()

	// One incident, opened by both replicas from the same delivery.
	const steps = 200
	d := incidents.Declaration{Title: "Storm", Refs: map[string]string{incidents.RefAlertmanagerGroup: "storm"}}
	for i := 1; i <= steps; i++ {
		d.Steps = append(d.Steps, incidents.StepProgress{Number: i, Title: fmt.Sprintf("step %d", i)})
	}
	var incA, incB *incidents.Incident
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); incA, _, _ = a.Declare(ctx, d, incidents.Action{Key: "delivery-0"}) }()
	go func() { defer wg.Done(); incB, _, _ = b.Declare(ctx, d, incidents.Action{Key: "delivery-0"}) }()
	wg.Wait()
	if incA == nil || incB == nil || incA.ID != incB.ID {
		t.Fatalf("the two replicas opened %v and %v, want one incident", incA, incB)
	}
	id := incA.ID

	// 1,000 actions: 200 step changes (state changes: lost updates would
	// show) and 800 notes (timeline only).
	type action func(svc *incidents.Service) error
	var actions []action
	for i := 1; i <= 1000; i++ {
		key := fmt.Sprintf("event-%04d", i)
		if i <= steps {
			n := i
			actions = append(actions, func(svc *incidents.Service) error {
				_, err := svc.Step(ctx, id, n, incidents.StepDone, incidents.Action{Key: key, Actor: "dana"})
				return err
			})
			continue
		}
		actions = append(actions, func(svc *incidents.Service) error {
			return svc.Note(ctx, id, incidents.Action{Key: key, Actor: "dana", Text: key})
		})
	}
	// Each action goes to both replicas, in a shuffled order each.
	for _, svc := range []*incidents.Service{a, b} {
		order := rand.Perm(len(actions))
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := w; k < len(order); k += 4 {
					if err := actions[order[k]](svc); err != nil {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()

	inc, err := a.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range inc.Steps {
		if s.State != incidents.StepDone {
			t.Errorf("step %d is %s: an update was lost", s.Number, s.State)
		}
	}
	events, err := b.Timeline(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, e := range events {
		seen[e.Key]++
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the timeline has a gap", i, e.Seq)
		}
	}
	for i := 1; i <= 1000; i++ {
		if n := seen[fmt.Sprintf("event-%04d", i)]; n != 1 {
			t.Errorf("event-%04d recorded %d times, want once", i, n)
		}
	}
	if want := 1000 + 1; len(events) != want { // and the declaration
		t.Errorf("%d events, want %d", len(events), want)
	}
}
