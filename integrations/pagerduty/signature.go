package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// SignatureHeader is the header in which PagerDuty signs a v3 webhook.
const SignatureHeader = "X-PagerDuty-Signature"

// Signature errors. VerifySignature's errors match one of them.
var (
	// ErrNoSignature: the request carries no signature header at all.
	ErrNoSignature = errors.New("pagerduty: the request has no signature")
	// ErrBadSignature: the request carries a signature header, but no
	// signature in it verifies with a secret we hold (a malformed one
	// included).
	ErrBadSignature = errors.New("pagerduty: no signature matches a configured secret")
	// ErrNoSecret: there is no secret to check a signature against.
	ErrNoSecret = errors.New("pagerduty: no webhook secret is configured")
)

// maxSignatures bounds the signatures read from one header: PagerDuty sends
// one per secret of the subscription, two during a rotation.
const maxSignatures = 16

// ParseSignatures reads the v1 signatures of an X-PagerDuty-Signature
// header: comma-separated "v1=<hex>" items, of which those of another
// version, or whose value is not 32 bytes of hex, are skipped. It returns
// at most 16 of them, and none for an empty or unreadable header.
func ParseSignatures(header string) [][]byte {
	var out [][]byte
	for item := range strings.SplitSeq(header, ",") {
		version, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || version != "v1" || len(value) != 2*sha256.Size {
			continue
		}
		sig, err := hex.DecodeString(value)
		if err != nil {
			continue
		}
		out = append(out, sig)
		if len(out) == maxSignatures {
			break
		}
	}
	return out
}

// Sign returns the X-PagerDuty-Signature value that PagerDuty sends for body
// under the given secrets: one "v1=" signature per secret, comma-separated.
func Sign(body []byte, secrets ...secret.String) string {
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		parts = append(parts, "v1="+hex.EncodeToString(mac(body, s)))
	}
	return strings.Join(parts, ",")
}

// VerifySignature checks that header holds a v1 signature of body made
// with one of the secrets; during a rotation either side may hold several.
// The comparison takes the same time whatever the signatures hold. It
// returns nil for an authentic body, and otherwise an error matching
// ErrNoSecret (no secret to check with), ErrNoSignature (no header, or
// an empty one) or ErrBadSignature (no signature in it that verifies,
// malformed ones included). The errors never show a secret.
func VerifySignature(body []byte, header string, secrets []secret.String) error {
	var keys []secret.String
	for _, s := range secrets {
		if !s.IsZero() {
			keys = append(keys, s)
		}
	}
	if len(keys) == 0 {
		return ErrNoSecret
	}
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	// A header that holds no v1 signature Breadcrumb can read (another
	// version only, text that is not hex, a truncated value) is a
	// signature that does not verify, as a wrong one is: 403, not 401.
	sigs := ParseSignatures(header)
	if len(sigs) == 0 {
		return ErrBadSignature
	}
	match := 0
	for _, k := range keys {
		want := mac(body, k)
		for _, sig := range sigs {
			// Every pair is compared, so that the time taken says nothing
			// about which one matched.
			match |= subtle.ConstantTimeCompare(want, sig)
		}
	}
	if match == 0 {
		return ErrBadSignature
	}
	return nil
}

func mac(body []byte, key secret.String) []byte {
	h := hmac.New(sha256.New, []byte(key.Reveal()))
	h.Write(body)
	return h.Sum(nil)
}
