package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable that points the tests at a
// running redis-server, as a redis:// URL.
const EnvURL = "BREADCRUMB_TEST_REDIS_URL"

// Server returns the options of a redis-server that t may use, and a key
// prefix that no other test uses. Every key a test writes must start with
// the prefix: on a shared server (EnvURL) the keys under it are deleted
// when t ends, prefixes made by extending it (prefix + "sub:") included.
// It skips t when there is no server to use, or fails it under CI.
func Server(t testing.TB) (opts *redis.Options, prefix string) {
	t.Helper()
	prefix = Prefix(t)
	if url := os.Getenv(EnvURL); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("redistest: %s: %v", EnvURL, err)
		}
		if err := ping(opts); err != nil {
			t.Fatalf("redistest: %s=%s: %v", EnvURL, url, err)
		}
		t.Cleanup(func() {
			if err := deletePrefix(opts, prefix); err != nil {
				t.Errorf("redistest: deleting the keys under %q: %v", prefix, err)
			}
		})
		return cloneOptions(opts), prefix
	}
	requireRedisServer(t)
	p := startProcess(t, t.TempDir(), "--save", "", "--appendonly", "no")
	t.Cleanup(p.shutdown)
	return &redis.Options{Addr: p.addr()}, prefix
}

// Client returns a client of Server(t), closed when t ends, and t's key
// prefix.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, prefix := Server(t)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c, prefix
}

// Prefix returns a key prefix made of t's name and random bytes, unique
// across tests, runs and processes sharing one server. It has only
// letters, digits, '-', '_' and ':', so it is also a literal SCAN pattern.
func Prefix(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	return "bctest:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

// StartServer starts a redis-server of t's own in a temporary directory,
// with an append-only file fsynced before every reply (--appendonly yes
// --appendfsync always) and then extraArgs, and waits until it answers.
// stop kills it with SIGKILL, as a crash would, and waits for it to exit;
// restart starts it again on the same directory and port (killing it
// first if it still runs) and waits until it has loaded its data and
// answers. Both may be called from any goroutine: restart reports a
// failure with t.Errorf and leaves the server down. The server is killed
// when t ends. StartServer skips t when redis-server is not installed, or
// fails it under CI.
func StartServer(t testing.TB, extraArgs ...string) (addr string, stop func(), restart func()) {
	t.Helper()
	requireRedisServer(t)
	args := append([]string{"--appendonly", "yes", "--appendfsync", "always"}, extraArgs...)
	p := startProcess(t, t.TempDir(), args...)
	t.Cleanup(p.kill)
	return p.addr(), p.kill, func() { p.restart(t) }
}

// requireRedisServer skips t, or fails it under CI, when redis-server is
// not on PATH.
func requireRedisServer(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err == nil {
		return
	}
	if inCI() {
		t.Fatal("redis-server is required in CI")
	}
	t.Skip("redis-server not found: install it (apt-get install redis-server) or set " + EnvURL + " to run the Redis tests")
}

func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

func cloneOptions(o *redis.Options) *redis.Options {
	c := *o
	return &c
}

// ping checks that the server answers, without go-redis's retries.
func ping(o *redis.Options) error {
	opts := cloneOptions(o)
	opts.MaxRetries = -1
	opts.DialTimeout = time.Second
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// deletePrefix deletes every key that starts with prefix. It never
// touches another key: the server may be shared.
func deletePrefix(o *redis.Options, prefix string) error {
	c := redis.NewClient(cloneOptions(o))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

// globEscape quotes the characters that SCAN's MATCH pattern treats
// specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
