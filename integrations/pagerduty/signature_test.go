package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// signatureVector is one of PagerDuty's own signed examples.
type signatureVector struct {
	File        string `json:"file"`
	Secret      string `json:"secret"`
	HeaderName  string `json:"header_name"`
	HeaderValue string `json:"header_value"`
	ExpectValid bool   `json:"expect_valid"`
	Source      string `json:"source"`
}

func readVectors(t testing.TB) []signatureVector {
	t.Helper()
	var vs []signatureVector
	if err := json.Unmarshal(readTestdata(t, "signature_vectors.json"), &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no signature vectors")
	}
	return vs
}

func TestVerifySignatureWithPagerDutysVectors(t *testing.T) {
	for i, v := range readVectors(t) {
		t.Run(fmt.Sprintf("vector %d (%s)", i, v.Source[strings.LastIndex(v.Source, " ")+1:]), func(t *testing.T) {
			if v.HeaderName != SignatureHeader {
				t.Fatalf("got header %q, want %q", v.HeaderName, SignatureHeader)
			}
			err := VerifySignature(readTestdata(t, v.File), v.HeaderValue, []secret.String{secret.New(v.Secret)})
			if got := err == nil; got != v.ExpectValid {
				t.Errorf("got valid %v (%v), want %v", got, err, v.ExpectValid)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Errorf("got %v, want ErrBadSignature", err)
			}
			if err != nil && strings.Contains(err.Error(), v.Secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	v := readVectors(t)[0]
	body := readTestdata(t, v.File)
	oldSecret, newSecret, other := secret.New(v.Secret), secret.New("a-new-secret-after-rotation"), secret.New("someone-elses")
	tampered := []byte(strings.Replace(string(body), `"P1"`, `"P5"`, 1))
	if string(tampered) == string(body) {
		t.Fatal("the body was not tampered with")
	}
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets []secret.String
		want    error
	}{
		{"PagerDuty's signature with its secret is authentic", body, v.HeaderValue, []secret.String{oldSecret}, nil},
		{"two signatures during a rotation, the old secret held, is authentic", body, Sign(body, oldSecret, newSecret), []secret.String{oldSecret}, nil},
		{"two signatures during a rotation, the new secret held, is authentic", body, Sign(body, oldSecret, newSecret), []secret.String{newSecret}, nil},
		{"one signature and both secrets held is authentic", body, Sign(body, newSecret), []secret.String{oldSecret, newSecret}, nil},
		{"blanks around the items are allowed", body, " v1=00 , " + v.HeaderValue + " ", []secret.String{oldSecret}, nil},
		{"a signature with another secret is forged", body, Sign(body, other), []secret.String{oldSecret, newSecret}, ErrBadSignature},
		{"a tampered body is refused", tampered, v.HeaderValue, []secret.String{oldSecret}, ErrBadSignature},
		{"no header is unsigned", body, "", []secret.String{oldSecret}, ErrNoSignature},
		{"a blank header is unsigned", body, "  ", []secret.String{oldSecret}, ErrNoSignature},
		{"another version only is not a signature that verifies", body, strings.Replace(v.HeaderValue, "v1=", "v2=", 1), []secret.String{oldSecret}, ErrBadSignature},
		{"a signature that is not hex is forged", body, "v1=" + strings.Repeat("zz", 32), []secret.String{oldSecret}, ErrBadSignature},
		{"a truncated signature is forged", body, v.HeaderValue[:40], []secret.String{oldSecret}, ErrBadSignature},
		{"the signature in upper case hex is authentic", body, "v1=" + strings.ToUpper(v.HeaderValue[3:]), []secret.String{oldSecret}, nil},
		{"a version in upper case is another version, which does not verify", body, "V1=" + v.HeaderValue[3:], []secret.String{oldSecret}, ErrBadSignature},
		{"no secret refuses everything", body, v.HeaderValue, nil, ErrNoSecret},
		{"only empty secrets refuse everything", body, v.HeaderValue, []secret.String{secret.New("")}, ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.body, tt.header, tt.secrets)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSignatures(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"one signature", "v1=" + sig, 1},
		{"two signatures", "v1=" + sig + ",v1=" + sig, 2},
		{"other versions are skipped", "v0=" + sig + ",v1=" + sig + ",v2=" + sig, 1},
		{"empty items are skipped", ",,v1=" + sig + ",", 1},
		{"an item without = is skipped", "v1" + sig, 0},
		{"a value of the wrong length is skipped", "v1=" + sig + "ab", 0},
		{"at most 16 are read", strings.Repeat("v1="+sig+",", 40), 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseSignatures(tt.header); len(got) != tt.want {
				t.Errorf("got %d signatures, want %d", len(got), tt.want)
			}
		})
	}
}

func TestSignMakesWhatVerifyAccepts(t *testing.T) {
	body := readTestdata(t, "v3_incident.triggered.json")
	s := secret.New("whsec-test")
	if err := VerifySignature(body, Sign(body, s), []secret.String{s}); err != nil {
		t.Errorf("got %v, want the body's own signature accepted", err)
	}
	if h := Sign(body, s); strings.Contains(h, "whsec-test") || !strings.HasPrefix(h, "v1=") || len(h) != 3+64 {
		t.Errorf("got header %q, want v1= and 64 hex digits", h)
	}
}

// FuzzParseSignatures reads headers of any shape: a signature it returns
// is always 32 bytes, and no header makes verification panic or accept a
// body that was not signed with the secret.
func FuzzParseSignatures(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.HeaderValue)
	}
	f.Add("")
	f.Add(",,,")
	f.Add("v1=,v1==,=v1")
	f.Add("v1=" + strings.Repeat("0", 63) + "g")
	body := []byte(`{"event":{"event_type":"pagey.ping"}}`)
	key := []secret.String{secret.New("fuzz-secret")}
	good := Sign(body, key[0])
	f.Fuzz(func(t *testing.T, header string) {
		sigs := ParseSignatures(header)
		if len(sigs) > maxSignatures {
			t.Fatalf("got %d signatures, want at most %d", len(sigs), maxSignatures)
		}
		for _, s := range sigs {
			if len(s) != 32 {
				t.Fatalf("got a signature of %d bytes", len(s))
			}
		}
		err := VerifySignature(body, header, key)
		if err == nil && !strings.Contains(strings.ToLower(header), good[3:]) {
			t.Fatalf("accepted header %q that holds no signature made with the secret", header)
		}
	})
}
