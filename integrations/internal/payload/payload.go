package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// TooLarge is the error for a payload over limit bytes: a fault.Error
// whose message is for the sender.
func TooLarge(prefix string, kind error, limit int64) error {
	return &fault.Error{Op: prefix, Kind: kind, Msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
}

// Describe says in a sentence what is wrong with JSON that json.Unmarshal
// refused; what names the document ("the body", "the data of event X").
func Describe(what string, err error) string {
	if pe, ok := errors.AsType[*time.ParseError](err); ok {
		return fmt.Sprintf("%s has a time that is not RFC 3339: %q", what, Short(pe.Value))
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s is not valid JSON: %s (at byte %d)", what, se.Error(), se.Offset)
	}
	if ue, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if ue.Field == "" {
			return fmt.Sprintf("%s is a JSON %s, want an object", what, ue.Value)
		}
		return fmt.Sprintf("%s: field %q is a JSON %s, want %s", what, ue.Field, ue.Value, kindOf(ue.Type.Kind().String()))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return what + " is not valid JSON: it ends too early"
	}
	return what + " is not valid JSON: " + err.Error()
}

func kindOf(k string) string {
	switch k {
	case "map", "struct", "ptr":
		return "an object"
	case "slice":
		return "an array"
	case "int", "int64", "uint", "float64":
		return "a number"
	default:
		return "a " + k
	}
}

// Short keeps an echoed value from making an error message long.
func Short(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
