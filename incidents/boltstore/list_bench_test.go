package boltstore

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// BenchmarkList measures List over 10,000 incidents, the size doc.go
// promises to serve, resolved but for the newest 20.
func BenchmarkList(b *testing.B) {
	s := openTemp(b)
	const n = 10_000
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.db.Update(func(tx *bolt.Tx) error { // one transaction: 10,000 Creates would take 10,000 syncs
		for i := range n {
			inc := &incidents.Incident{
				ID: fmt.Sprintf("INC-%05d", i), Title: "Checkout is slow", Source: "alertmanager", Service: "checkout",
				Status: incidents.StatusResolved, CreatedAt: start.Add(time.Duration(i) * time.Hour), Version: 1,
				Refs: map[string]string{incidents.RefAlertmanagerGroup: fmt.Sprint(i)},
			}
			if i >= n-20 {
				inc.Status = incidents.StatusTriggered
			}
			if err := putIncident(tx, nil, inc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}

	tests := []struct {
		name string
		f    incidents.Filter
		want int
	}{
		{"the newest 50", incidents.Filter{Limit: 50}, 50},
		{"open ones, scanning all", incidents.Filter{Open: true}, 20},
		{"one week", incidents.Filter{From: start.Add(5000 * time.Hour), To: start.Add(5168 * time.Hour)}, 168},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.List(b.Context(), tt.f)
				if err != nil || len(got) != tt.want {
					b.Fatalf("List = %d incidents, %v, want %d", len(got), err, tt.want)
				}
			}
		})
	}
}
