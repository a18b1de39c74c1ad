package secret

import "log/slog"

// String is a secret value. Its String, GoString and MarshalText methods
// print "<redacted>", so that a secret that reaches a log line, a %v or a
// JSON document by mistake stays hidden. Reveal returns the value for the
// one place that must send it.
type String struct{ v string }

const redacted = "<redacted>"

// New wraps a secret value.
func New(v string) String { return String{v: v} }

// Reveal returns the secret value.
func (s String) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.v == "" }

// String prints "<redacted>", or "" for an empty secret so that a missing
// secret can still be told apart in a message.
func (s String) String() string {
	if s.v == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s String) GoString() string { return "secret.String(" + s.String() + ")" }

// MarshalText hides the value from encoders (JSON, YAML, slog).
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue hides the value from log/slog.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }
