package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

var _ replica.Bulletin = (*Store)(nil)

// bucketBoard holds the bulletin: key → value. It is made by the first
// Publish, so that a file written before it existed needs no upgrade.
var bucketBoard = []byte("board")

// Publish implements replica.Bulletin. Publishing the value a key
// holds already writes nothing.
func (s *Store) Publish(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("boltstore: publish: a key is needed: %w", incidents.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: publish %s: %w", key, err)
	}
	err := s.write(func(tx *bolt.Tx) (bool, error) {
		b, err := tx.CreateBucketIfNotExists(bucketBoard)
		if err != nil {
			return false, err
		}
		if v := b.Get([]byte(key)); v != nil && string(v) == value {
			return false, nil
		}
		return true, b.Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("boltstore: publish %s: %w", key, err)
	}
	return nil
}

// Read implements replica.Bulletin.
func (s *Store) Read(ctx context.Context, key string) (string, bool, error) {
	if key == "" {
		return "", false, fmt.Errorf("boltstore: read: a key is needed: %w", incidents.ErrInvalid)
	}
	var value string
	var ok bool
	err := s.read(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBoard)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			value, ok = string(v), true
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("boltstore: read %s: %w", key, err)
	}
	return value, ok, nil
}
