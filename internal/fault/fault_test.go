package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

var errInvalid = errors.New("invalid")

type chatError struct{ retry bool }

func (e chatError) Error() string   { return "chat: failed" }
func (e chatError) Retryable() bool { return e.retry }

func TestAnErrorKeepsItsKindItsMessageAndItsCause(t *testing.T) {
	cause := errors.New("disk full")
	err := fmt.Errorf("while resolving: %w", &fault.Error{Op: "incidents: transition INC-1", Kind: errInvalid, Msg: "it is already resolved", Cause: cause})
	if !errors.Is(err, errInvalid) || !errors.Is(err, cause) {
		t.Errorf("errors.Is: kind %v, cause %v; want both", errors.Is(err, errInvalid), errors.Is(err, cause))
	}
	if msg, ok := fault.Message(err); !ok || msg != "it is already resolved" {
		t.Errorf("Message: %q %v, want the sentence for people", msg, ok)
	}
	if got := err.Error(); got != "while resolving: incidents: transition INC-1: it is already resolved" {
		t.Errorf("Error: %q", got)
	}
	if _, ok := fault.Message(cause); ok {
		t.Error("a plain error has no message for people")
	}
	if errors.Is(fault.New("op", nil, "no kind"), errInvalid) {
		t.Error("an Error without a kind is of every kind")
	}
}

func TestRetryableReadsTheFirstVerdictInTheChain(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		retry, known bool
	}{
		{"nil", nil, false, false},
		{"a plain error says nothing", errors.New("x"), false, false},
		{"a chat error that may be retried", fmt.Errorf("post: %w", chatError{true}), true, true},
		{"a chat error that may not", chatError{false}, false, true},
		{"permanent", fault.Permanent(errors.New("bad body")), false, true},
		{"permanent over a retryable cause: the outer verdict wins", fault.Permanent(chatError{true}), false, true},
		{"temporary", fmt.Errorf("store: %w", fault.Temporary(errors.New("timeout"))), true, true},
		{"joined: the first that says", errors.Join(errors.New("x"), chatError{true}), true, true},
	}
	for _, tt := range tests {
		retry, known := fault.Retryable(tt.err)
		if retry != tt.retry || known != tt.known {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, retry, known, tt.retry, tt.known)
		}
		if fault.IsPermanent(tt.err) != (tt.known && !tt.retry) || fault.IsTemporary(tt.err) != (tt.known && tt.retry) {
			t.Errorf("%s: IsPermanent %v, IsTemporary %v", tt.name, fault.IsPermanent(tt.err), fault.IsTemporary(tt.err))
		}
	}
	if fault.Permanent(nil) != nil || fault.Temporary(nil) != nil {
		t.Error("marking nil gives an error")
	}
}
