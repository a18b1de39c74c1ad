package search

import (
	"bytes"
	"slices"
	"testing"
	"unicode/utf8"
)

func TestTheTokenizerCutsRunbookTextIntoWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Restart the node_exporter v1.2.3, then check it.", []string{"Restart", "the", "node_exporter", "v1.2.3", "then", "check", "it"}},
		{"don't `kubectl get pods -n kube-system`", []string{"don't", "kubectl", "get", "pods", "n", "kube", "system"}},
		{"https://grafana.example.com/d/x?from=now-1h", []string{"https", "grafana.example.com", "d", "x", "from", "now", "1h"}},
		{"KubePodCrashLooping: 5xx rate > 2%", []string{"KubePodCrashLooping", "5xx", "rate", "2"}},
		{"trailing dot. and colon: end", []string{"trailing", "dot", "and", "colon", "end"}},
		{"Ünïcödé wörds and 東京 tokyo", []string{"Ünïcödé", "wörds", "and", "東", "京", "tokyo"}},
		{"", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, tok := range (wordTokenizer{}).Tokenize([]byte(tt.text)) {
			got = append(got, string(tok.Term))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// FuzzTokenizer proves that the tokenizer of runbook text and of queries
// (both untrusted) never panics, and that its words are in order, not
// empty, and the bytes of the input they claim.
func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{"a.b:c'd", "x.", "'", "東京", "\xff\xfe", "a_b-c d", "..a..", "a'"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		last := 0
		for i, tok := range (wordTokenizer{}).Tokenize(input) {
			if tok.Start < last || tok.End <= tok.Start || tok.End > len(input) || !bytes.Equal(tok.Term, input[tok.Start:tok.End]) {
				t.Fatalf("token %d %+v of %q: out of order, empty or not the input's", i, tok, input)
			}
			if tok.Position != i+1 {
				t.Fatalf("token %d at position %d", i, tok.Position)
			}
			if utf8.Valid(input) && !utf8.Valid(tok.Term) {
				t.Fatalf("token %q cuts a rune of %q", tok.Term, input)
			}
			last = tok.End
		}
	})
}
