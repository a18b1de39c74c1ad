package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
)

// DefaultInboxRetention is Options.InboxRetention's default: a sender
// that retries for up to a week is still recognised.
const DefaultInboxRetention = 7 * 24 * time.Hour

// DefaultInboxMaxPending is Options.InboxMaxPending's default.
const DefaultInboxMaxPending = 100_000

// inboxGroup is the consumer group that every replica reads the inbox
// stream through, so that each entry goes to one consumer at a time.
const inboxGroup = "workers"

// codeFull starts the error of a Put into a full inbox.
const codeFull = "FULL"

var _ inbox.Inbox = (*Store)(nil)

// Put implements inbox.Inbox with one script: the dedupe checks, the
// XADD and the SET NX of the seen key with the retention as its expiry.
// With appendfsync always, the delivery is on disk when Put returns.
//
// When go-redis resends the script after a broken connection and the
// first one ran, the second finds the ID and Put reports a duplicate:
// the delivery is stored all the same.
func (s *Store) Put(ctx context.Context, d inbox.Delivery) (bool, error) {
	if err := d.Validate(); err != nil {
		return false, fmt.Errorf("redisstore: inbox put: %w", err)
	}
	var meta string
	if len(d.Meta) > 0 {
		b, err := json.Marshal(d.Meta)
		if err != nil {
			return false, fmt.Errorf("redisstore: inbox put %.80s: encoding meta: %w", d.ID, err)
		}
		meta = string(b)
	}
	keys := []string{s.inboxStreamKey(), s.inboxIDsKey(), s.inboxSeenKey(d.ID)}
	args := []any{
		inboxGroup, d.ID, ceilMillis(s.inboxRetention), s.inboxMaxPending,
		d.Source, d.Body, meta, d.ReceivedAt.UTC().Format(time.RFC3339Nano),
	}
	n, err := inboxPutScript.Run(ctx, s.client, keys, args...).Int()
	switch {
	case redis.HasErrorPrefix(err, codeFull):
		msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), codeFull))
		return false, fmt.Errorf("redisstore: inbox put %.80s: %s: %w", d.ID, msg, inbox.ErrFull)
	case err != nil:
		return false, fmt.Errorf("redisstore: inbox put %.80s: %w", d.ID, err)
	}
	return n == 1, nil
}

// Take implements inbox.Inbox with one script over the consumer
// group: XCLAIM of the leased entries (XPENDING lists them, in order,
// with their idle time and delivery count) that have been idle for the
// lease they were taken for, then XREADGROUP of new ones. A lease is an
// idle time on the server's clock, in milliseconds.
func (s *Store) Take(ctx context.Context, consumer string, n int, lease time.Duration) ([]inbox.Delivery, error) {
	if consumer == "" || lease <= 0 {
		return nil, fmt.Errorf("redisstore: inbox take for %q: a take needs a consumer and a lease above 0, got %v: %w", consumer, lease, incidents.ErrInvalid)
	}
	taken := []inbox.Delivery{}
	if n < 1 {
		return taken, nil
	}
	res, err := inboxTakeScript.Run(ctx, s.client, []string{s.inboxStreamKey(), s.inboxLeasesKey()},
		inboxGroup, consumer, n, ceilMillis(lease)).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: inbox take for %s: %w", consumer, err)
	}
	for _, r := range res {
		d, err := decodeDelivery(r)
		if err != nil {
			return nil, fmt.Errorf("redisstore: inbox take for %s: %w", consumer, err)
		}
		taken = append(taken, d)
	}
	return taken, nil
}

// Done implements inbox.Inbox: XACK and XDEL of the delivery's
// entry, in one script with the removal of its ID from the pending ones.
func (s *Store) Done(ctx context.Context, id string) error {
	keys := []string{s.inboxStreamKey(), s.inboxIDsKey(), s.inboxLeasesKey()}
	if err := inboxDoneScript.Run(ctx, s.client, keys, inboxGroup, id).Err(); err != nil {
		return fmt.Errorf("redisstore: inbox done %.80s: %w", id, err)
	}
	return nil
}

// Pending implements inbox.Inbox: the length of the hash of pending
// IDs.
func (s *Store) Pending(ctx context.Context) (int, error) {
	n, err := s.client.HLen(ctx, s.inboxIDsKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: inbox pending: %w", err)
	}
	return int(n), nil
}

// decodeDelivery reads one {entry ID, fields, attempts} of the take
// script.
func decodeDelivery(r any) (inbox.Delivery, error) {
	var d inbox.Delivery
	item, ok := r.([]any)
	if !ok || len(item) != 3 {
		return d, fmt.Errorf("the take script returned %T %v, want {entry, fields, attempts}", r, r)
	}
	entry, _ := item[0].(string)
	fields, ok := item[1].([]any)
	if !ok || len(fields)%2 != 0 {
		return d, fmt.Errorf("inbox entry %s: fields %v are not pairs", entry, item[1])
	}
	attempts, ok := item[2].(int64)
	if !ok {
		return d, fmt.Errorf("inbox entry %s: attempts %v is not a number", entry, item[2])
	}
	d.Attempts = int(attempts)
	for i := 0; i < len(fields); i += 2 {
		name, _ := fields[i].(string)
		value, _ := fields[i+1].(string)
		switch name {
		case "id":
			d.ID = value
		case "src":
			d.Source = value
		case "body":
			d.Body = []byte(value)
		case "meta":
			if value == "" {
				continue
			}
			if err := json.Unmarshal([]byte(value), &d.Meta); err != nil {
				return d, fmt.Errorf("inbox entry %s: meta: %w", entry, err)
			}
		case "at":
			t, err := time.Parse(time.RFC3339Nano, value)
			if err != nil {
				return d, fmt.Errorf("inbox entry %s: received at: %w", entry, err)
			}
			d.ReceivedAt = t.UTC()
		}
	}
	if d.ID == "" {
		return d, fmt.Errorf("inbox entry %s has no id", entry)
	}
	return d, nil
}

// ceilMillis returns d in milliseconds, rounded up.
func ceilMillis(d time.Duration) string {
	ms := d.Milliseconds()
	if time.Duration(ms)*time.Millisecond < d {
		ms++
	}
	return strconv.FormatInt(ms, 10)
}

func (s *Store) inboxStreamKey() string        { return s.prefix + "inbox:stream" }
func (s *Store) inboxIDsKey() string           { return s.prefix + "inbox:ids" }
func (s *Store) inboxLeasesKey() string        { return s.prefix + "inbox:leases" }
func (s *Store) inboxSeenKey(id string) string { return s.prefix + "inbox:seen:" + id }
