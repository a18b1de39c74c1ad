package app

import (
	"context"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// registerMetrics adds the gauges read from the server's parts.
func (s *server) registerMetrics() {
	m := s.metrics
	m.Gauge("breadcrumb_runbook_pages", "Runbook pages loaded.", func() float64 { return float64(len(s.lib.Pages())) })
	m.Gauge("breadcrumb_search_index_documents", "Documents in the search index.", func() float64 { return float64(s.ix.Len()) })
	m.Gauge("breadcrumb_runbook_sync_age_seconds", "Seconds since the oldest source was last read successfully.", func() float64 {
		oldest := time.Time{}
		for _, st := range s.lib.Status() {
			if oldest.IsZero() || st.LoadedAt.Before(oldest) {
				oldest = st.LoadedAt
			}
		}
		if oldest.IsZero() {
			return 0
		}
		return time.Since(oldest).Seconds()
	})
	m.Gauge("breadcrumb_runbook_sources_failing", "Sources whose last refresh failed.", func() float64 {
		n := 0
		for _, st := range s.lib.Status() {
			if st.Error != "" {
				n++
			}
		}
		return float64(n)
	})
	if in := s.intake; in != nil {
		m.Gauge("breadcrumb_inbox_pending", "Deliveries stored and not yet processed.", func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := in.inbox.Pending(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		})
		m.Counter("breadcrumb_inbox_processed_total", "Deliveries processed.", func() float64 { return float64(in.worker.Stats().Processed) })
		m.Counter("breadcrumb_inbox_failures_total", "Attempts that failed and were left for a retry.", func() float64 { return float64(in.worker.Stats().Failed) })
		m.Counter("breadcrumb_inbox_dropped_total", "Deliveries given up on (undecodable, or failing on every attempt).", func() float64 { return float64(in.worker.Stats().Dropped) })
	}
	if c := s.chats; c != nil && c.slack != nil {
		m.Counter("breadcrumb_slack_api_calls_total", "Slack Web API calls made.", func() float64 { return float64(c.slack.Stats().Calls) })
		m.Counter("breadcrumb_slack_api_errors_total", "Slack Web API calls that failed.", func() float64 { return float64(c.slack.Stats().Errors) })
		m.Counter("breadcrumb_slack_rate_limited_total", "Slack Web API calls answered 429.", func() float64 { return float64(c.slack.Stats().RateLimited) })
		m.Gauge("breadcrumb_slack_outbox_depth", "Slack writes waiting in the outbox, all channels.", func() float64 {
			n := 0
			for _, q := range c.slack.Stats().Queued {
				n += q
			}
			return float64(n)
		})
	}
	if s.elector != nil {
		m.Gauge("breadcrumb_leader", "1 when this replica holds the leader lease (and sends the reminders), else 0.", func() float64 {
			if s.elector.Leading() {
				return 1
			}
			return 0
		})
	}
	openCount := &cachedValue{ttl: openIncidentsTTL, read: func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n := 0
		err := s.incidents.Each(ctx, incidents.Filter{Open: true}, func(*incidents.Incident) error {
			n++
			return nil
		})
		if err != nil {
			return -1
		}
		return float64(n)
	}}
	m.Gauge("breadcrumb_incidents_open", "Incidents not resolved (counted at most every 30 seconds).", openCount.get)
}

// openIncidentsTTL is how long a count of open incidents is reused:
// counting reads the incidents (on Redis, every incident), a page at a
// time, which scrapes every few seconds should not repeat.
const openIncidentsTTL = 30 * time.Second

// cachedValue is a gauge's reading, taken again once it is older than ttl.
type cachedValue struct {
	ttl  time.Duration
	read func() float64

	mu    sync.Mutex
	at    time.Time
	value float64
}

func (c *cachedValue) get() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= c.ttl {
		c.value, c.at = c.read(), time.Now()
	}
	return c.value
}
