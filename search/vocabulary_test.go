package search

import (
	"strings"
	"testing"
)

func TestTheBundledVocabularyParses(t *testing.T) {
	v, errs := ParseVocabulary("vocabulary.txt", builtinVocabulary)
	for _, err := range errs {
		t.Error(err)
	}
	if v.Len() < 500 {
		t.Errorf("%d entries, want the whole vocabulary (over 500)", v.Len())
	}
}

func TestVocabularyExpandsPhrasesOfTheQuery(t *testing.T) {
	v, errs := ParseVocabulary("v.txt", `# comment
too many open files, fd leak => file descriptors, ulimit
box is swapping => memory pressure, swap
cert = certificate
df -i => inodes
x509: certificate has expired => certificate expiry
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct{ query, want string }{
		{"too many open files on the api", "descriptors ulimit"}, // "file" is typed already
		{"Too Many Open Files!", "descriptors ulimit"},
		{"the box is swapping again", "memory pressure"}, // "swap" is the stem of "swapping"
		{"cert expiring", "certificate"},
		{"certificate renewal", "cert"},
		{"certs", "certificate"}, // stems match
		{"df -i says 100%", "inodes"},
		{"x509: certificate has expired for api.example.com", "expiry cert"},
		{"too many pods", ""},    // half a phrase is not the phrase
		{"cert certificate", ""}, // what the query holds is not added again
	}
	for _, tt := range tests {
		if got := v.Expand(tt.query); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestVocabularyErrorsNameTheirLine(t *testing.T) {
	_, errs := ParseVocabulary("v.txt", "good => fine\n\nno arrow here\n => nothing on the left\nword = \n")
	var got []string
	for _, e := range errs {
		got = append(got, strings.SplitN(e.Error(), ": ", 2)[0])
	}
	if strings.Join(got, " ") != "v.txt:3 v.txt:4 v.txt:5" {
		t.Errorf("errors at %v, want lines 3, 4 and 5", got)
	}
}

func TestVocabularyExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("w" + strings.Repeat("x", i%7+1) + string(rune('a'+i%26)) + " => ")
		b.WriteString("a" + string(rune('a'+i%26)) + ", b" + string(rune('a'+i%26)) + "\n")
	}
	v, _ := ParseVocabulary("v.txt", b.String())
	var q []string
	for i := 0; i < 100; i++ {
		q = append(q, "w"+strings.Repeat("x", i%7+1)+string(rune('a'+i%26)))
	}
	if n := len(strings.Fields(v.Expand(strings.Join(q, " ")))); n > maxExpansion {
		t.Errorf("a query gained %d words, want at most %d", n, maxExpansion)
	}
}
