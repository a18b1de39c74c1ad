package fault

import "errors"

// Error is an error with a side for people.
type Error struct {
	// Op says where it happened, for the log: "incidents: transition
	// INC-1", "alertmanager".
	Op string
	// Kind is a sentinel that errors.Is finds.
	Kind error
	// Msg is a sentence for the person who asked, without a final period:
	// "it is already acknowledged".
	Msg string
	// Cause is the underlying error, for the log; nil when Msg says all.
	Cause error
}

// Error joins Op and Msg.
func (e *Error) Error() string {
	if e.Op == "" {
		return e.Msg
	}
	return e.Op + ": " + e.Msg
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Unwrap returns the Cause.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an Error of kind with a message for people.
func New(op string, kind error, msg string) error {
	return &Error{Op: op, Kind: kind, Msg: msg}
}

// Message returns the sentence for people that err carries, and whether
// it carries one: the Msg of the first Error in its chain.
func Message(err error) (string, bool) {
	if e, ok := errors.AsType[*Error](err); ok && e.Msg != "" {
		return e.Msg, true
	}
	return "", false
}

// Retryable reports whether trying again may succeed, as the first error
// in err's chain with a Retryable() bool method says; known is false when
// none says (nil included), and each caller then keeps its own default.
func Retryable(err error) (retry, known bool) {
	for e := err; e != nil; {
		if r, ok := e.(interface{ Retryable() bool }); ok {
			return r.Retryable(), true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if retry, known := Retryable(inner); known {
					return retry, true
				}
			}
			return false, false
		default:
			return false, false
		}
	}
	return false, false
}

// Permanent marks err as one that trying again will not fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return verdict{err, false}
}

// Temporary marks err as one that trying again later may fix.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return verdict{err, true}
}

// IsPermanent reports whether err says that trying again will not fix it.
func IsPermanent(err error) bool {
	retry, known := Retryable(err)
	return known && !retry
}

// IsTemporary reports whether err says that trying again may fix it.
func IsTemporary(err error) bool {
	retry, known := Retryable(err)
	return known && retry
}

type verdict struct {
	err   error
	retry bool
}

func (v verdict) Error() string   { return v.err.Error() }
func (v verdict) Unwrap() error   { return v.err }
func (v verdict) Retryable() bool { return v.retry }
