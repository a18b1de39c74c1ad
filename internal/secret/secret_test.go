package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	s := New("xoxb-very-secret")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "token", s, "wrapped", struct{ T String }{s})
	js, err := json.Marshal(map[string]any{"token": s})
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s), //lint:ignore S1025 the verb itself is under test
		"%+v":  fmt.Sprintf("%+v", struct{ T String }{s}),
		"%#v":  fmt.Sprintf("%#v", s),
		"json": string(js),
		"slog": logs.String(),
	} {
		if strings.Contains(out, "very-secret") {
			t.Errorf("%s printed the secret: %s", name, out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s = %q, want it to say <redacted>", name, out)
		}
	}
	if got := s.Reveal(); got != "xoxb-very-secret" {
		t.Errorf("Reveal() = %q, want the value", got)
	}
}

func TestEmptySecretPrintsNothing(t *testing.T) {
	var s String
	if !s.IsZero() || s.String() != "" {
		t.Errorf("zero secret: IsZero=%v String=%q", s.IsZero(), s.String())
	}
}
