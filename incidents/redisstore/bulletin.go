package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

var _ replica.Bulletin = (*Store)(nil)

// Publish implements replica.Bulletin with a SET of the key
// "board:KEY" under the store's prefix, without expiry: the value stays
// until the next Publish replaces it.
func (s *Store) Publish(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("redisstore: publish: a key is needed: %w", incidents.ErrInvalid)
	}
	if err := s.client.Set(ctx, s.boardKey(key), value, 0).Err(); err != nil {
		return fmt.Errorf("redisstore: publish %s: %w", key, err)
	}
	return nil
}

// Read implements replica.Bulletin with a GET of "board:KEY".
func (s *Store) Read(ctx context.Context, key string) (string, bool, error) {
	if key == "" {
		return "", false, fmt.Errorf("redisstore: read: a key is needed: %w", incidents.ErrInvalid)
	}
	v, err := s.client.Get(ctx, s.boardKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redisstore: read %s: %w", key, err)
	}
	return v, true, nil
}

func (s *Store) boardKey(key string) string { return s.prefix + "board:" + key }
