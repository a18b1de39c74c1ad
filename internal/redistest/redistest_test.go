package redistest_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestServerAnswersAndGivesAPrefixOfItsOwn(t *testing.T) {
	c, prefix := redistest.Client(t)
	if err := c.Set(t.Context(), prefix+"k", "v", 0).Err(); err != nil {
		t.Fatalf("SET = %v, want nil", err)
	}
	got, err := c.Get(t.Context(), prefix+"k").Result()
	if err != nil || got != "v" {
		t.Errorf("GET = %q, %v, want %q, nil", got, err, "v")
	}
	if other := redistest.Prefix(t); other == prefix {
		t.Errorf("two prefixes for one test are both %q, want them to differ", prefix)
	}
	if !regexp.MustCompile(`^bctest:[A-Za-z0-9_-]+:[0-9a-f]{12}:$`).MatchString(prefix) {
		t.Errorf("prefix %q has characters that SCAN's MATCH would read as a pattern", prefix)
	}
}

func TestSharedServerKeysAreDeletedWhenTheTestEnds(t *testing.T) {
	if os.Getenv(redistest.EnvURL) == "" {
		t.Skip(redistest.EnvURL + " is not set: a server of the test's own goes away whole")
	}
	var opts *redis.Options
	var prefix string
	t.Run("writer", func(t *testing.T) {
		opts, prefix = redistest.Server(t)
		c := redis.NewClient(opts)
		defer c.Close()
		for _, k := range []string{"a", "b", "sub:c"} {
			if err := c.Set(t.Context(), prefix+k, "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	c := redis.NewClient(opts)
	defer c.Close()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("after the test, keys %q remain, want none", keys)
	}
}

func TestStartServerKeepsAcknowledgedWritesAcrossAKill(t *testing.T) {
	addr, stop, restart := redistest.StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		if err := c.RPush(ctx, "list", k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	restart()
	got, err := c.LRange(ctx, "list", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("after a kill and a restart, list = %q, want [a b c]", got)
	}
}
