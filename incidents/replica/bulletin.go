package replica

import (
	"context"
)

// Bulletin is a small board of facts that the replicas sharing one store
// tell each other, such as the revision of the runbooks the leader has
// fetched, so that the others follow it without asking the remote
// themselves. A value stays until it is overwritten; the board keeps no
// history. The embedded store implements it for the one process that
// holds it, so that the same code runs over either store.
type Bulletin interface {
	// Publish sets key's value, replacing what was there. An empty key
	// is ErrInvalid; an empty value is a value like any other.
	Publish(ctx context.Context, key, value string) error

	// Read returns key's value and true, or "" and false when nothing
	// was published under key. An empty key is ErrInvalid.
	Read(ctx context.Context, key string) (string, bool, error)
}
