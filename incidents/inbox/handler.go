package inbox

import (
	"context"
	"errors"
)

// Handler processes one delivery taken from an Inbox. Returning
// nil marks it done; an error marked Permanent (a body that will never
// decode) drops it, with a log line; any other error leaves it for
// another attempt later.
type Handler interface {
	HandleDelivery(ctx context.Context, d Delivery) error
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying will not fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
