package search

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// The operations vocabulary: what a paged responder types, and the words
// that runbooks and alerts use for the same thing. It is data, documented
// in docs/search.md, and kept in vocabulary.txt beside this file.
//
//go:embed vocabulary.txt
var builtinVocabulary string

// Vocabulary maps the phrases of a query to the words they stand for.
type Vocabulary struct {
	// byFirst holds the phrases by the stem of their first word, longest
	// first.
	byFirst map[string][]vocabPhrase
	entries int
}

// vocabPhrase is one left-hand phrase, as the stems of its words, and the
// words it adds.
type vocabPhrase struct {
	stems []string
	adds  []string
}

// maxExpansion bounds the words a query gains from the vocabulary: the
// phrases matched first (the longest, most specific ones) give theirs.
const maxExpansion = 24

// ParseVocabulary reads a vocabulary. Each line is a comment (#), blank,
// "PHRASE, PHRASE => WORDS, WORDS" (a query holding one of the phrases
// gains the words) or "WORD = WORD = WORD" (each one gains the others).
// Errors name the line; the lines that parse are kept.
func ParseVocabulary(name, text string) (*Vocabulary, []error) {
	v := &Vocabulary{byFirst: map[string][]vocabPhrase{}}
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(msg string) { errs = append(errs, fmt.Errorf("%s:%d: %s", name, i+1, msg)) }
		if lhs, rhs, ok := strings.Cut(line, "=>"); ok {
			adds := splitList(rhs)
			phrases := splitList(lhs)
			if len(adds) == 0 || len(phrases) == 0 {
				bad("want PHRASE, PHRASE => WORDS, WORDS")
				continue
			}
			for _, p := range phrases {
				v.add(p, adds)
			}
			v.entries++
			continue
		}
		if strings.Contains(line, "=") {
			words := strings.Split(line, "=")
			for j := range words {
				words[j] = strings.ToLower(strings.TrimSpace(words[j]))
			}
			if len(words) < 2 || slicesContain(words, "") {
				bad("want WORD = WORD")
				continue
			}
			for j, w := range words {
				others := make([]string, 0, len(words)-1)
				others = append(others, words[:j]...)
				others = append(others, words[j+1:]...)
				v.add(w, others)
			}
			v.entries++
			continue
		}
		bad("neither PHRASE => WORDS nor WORD = WORD")
	}
	for k, ps := range v.byFirst {
		sort.SliceStable(ps, func(a, b int) bool { return len(ps[a].stems) > len(ps[b].stems) })
		v.byFirst[k] = ps
	}
	return v, errs
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (v *Vocabulary) add(phrase string, adds []string) {
	stems := vocabStems(phrase)
	if len(stems) == 0 {
		return
	}
	v.byFirst[stems[0]] = append(v.byFirst[stems[0]], vocabPhrase{stems: stems, adds: adds})
}

// Len returns the number of entries.
func (v *Vocabulary) Len() int {
	if v == nil {
		return 0
	}
	return v.entries
}

// vocabStems returns the stems of the words of a phrase or query: lower
// case, trimmed of the punctuation around them, Porter-stemmed.
func vocabStems(s string) []string {
	fields := strings.Fields(strings.ToLower(s))
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		f = strings.Trim(f, ".,;:!?\"'()[]{}`*")
		if f == "" {
			continue
		}
		out = append(out, string(porterstemmer.StemWithoutLowerCasing([]rune(f))))
	}
	return out
}

// Expand returns the words the phrases of text stand for, each once and
// none that text already holds (compared by stem: "failed" does not add
// "failing" again), at most maxExpansion of them.
func (v *Vocabulary) Expand(text string) string {
	if v == nil {
		return ""
	}
	stems := vocabStems(text)
	have := make(map[string]bool, len(stems))
	for _, st := range stems {
		have[st] = true
	}
	var out []string
	for i := range stems {
		for _, p := range v.byFirst[stems[i]] {
			if i+len(p.stems) > len(stems) || !equalStems(stems[i:i+len(p.stems)], p.stems) {
				continue
			}
			for _, add := range p.adds {
				for _, w := range strings.Fields(add) {
					st := vocabStems(w)
					if len(st) != 1 || have[st[0]] {
						continue
					}
					have[st[0]] = true
					out = append(out, w)
					if len(out) >= maxExpansion {
						return strings.Join(out, " ")
					}
				}
			}
		}
	}
	return strings.Join(out, " ")
}

func equalStems(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	vocabOnce sync.Once
	vocab     *Vocabulary
)

// builtin returns the bundled vocabulary, parsed once.
func builtin() *Vocabulary {
	vocabOnce.Do(func() {
		v, errs := ParseVocabulary("vocabulary.txt", builtinVocabulary)
		if len(errs) > 0 {
			// A test holds the file free of errors.
			panic(errs[0])
		}
		vocab = v
	})
	return vocab
}
