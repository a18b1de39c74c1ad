package search

import (
	"bytes"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// Analyzer and filter names, stored in the index's mapping.
const (
	textAnalyzer    = "breadcrumb_text"
	keywordAnalyzer = "breadcrumb_keyword"
	splitFilter     = "breadcrumb_split_identifiers"
)

var registerOnce sync.Once

// registerAnalysis adds the identifier-splitting filter to bleve's
// registry, which is how bleve finds the analysis components a stored
// mapping names. It runs once, when the first index is opened.
func registerAnalysis() {
	registerOnce.Do(func() {
		_ = registry.RegisterTokenFilter(splitFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
			return identifierFilter{}, nil
		})
		_ = registry.RegisterTokenizer(wordsTokenizer, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
			return wordTokenizer{}, nil
		})
		_ = registry.RegisterTokenFilter(stemFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
			return stemFilter{stems}, nil
		})
	})
}

// addAnalyzers declares the analyzers in an index mapping: text for prose
// (identifiers split, lower case, English stop words, Porter stems), and a
// lower-cased keyword for alert names, services, teams and tags.
func addAnalyzers(im *mapping.IndexMappingImpl) error {
	if err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     wordsTokenizer,
		"token_filters": []string{splitFilter, lowercase.Name, en.StopName, stemFilterName},
	}); err != nil {
		return err
	}
	return im.AddCustomAnalyzer(keywordAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []string{lowercase.Name},
	})
}

// identifierFilter keeps each token and adds, at the same position, the
// words of an identifier written in CamelCase, snake_case or with dots
// and colons: KubePodCrashLooping → Kube Pod Crash Looping,
// node_exporter → node exporter, HTTPServerDown → HTTP Server Down.
type identifierFilter struct{}

func (identifierFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(input))
	for _, tok := range input {
		out = append(out, tok)
		parts := splitIdentifier(tok.Term)
		if len(parts) < 2 {
			continue
		}
		for _, p := range parts {
			out = append(out, &analysis.Token{
				Start:    tok.Start + p[0],
				End:      tok.Start + p[1],
				Term:     append([]byte(nil), tok.Term[p[0]:p[1]]...),
				Position: tok.Position,
				Type:     tok.Type,
			})
		}
		// Adjacent words joined, so that "crashlooping" typed in lower
		// case finds KubePodCrashLooping: pairs and triples, but not the
		// whole again.
		for n := 2; n <= 3 && n < len(parts); n++ {
			for i := 0; i+n <= len(parts); i++ {
				var term []byte
				for _, p := range parts[i : i+n] {
					term = append(term, tok.Term[p[0]:p[1]]...)
				}
				// Marked as shingles: a query needs them not, since
				// its own words are split the same way (see tokens).
				out = append(out, &analysis.Token{
					Start: tok.Start + parts[i][0], End: tok.Start + parts[i+n-1][1],
					Term: term, Position: tok.Position, Type: analysis.Shingle,
				})
			}
		}
	}
	return out
}

// splitIdentifier returns the byte ranges of the words of an identifier, or
// nil when it is a single word.
func splitIdentifier(term []byte) [][2]int {
	var parts [][2]int
	start := -1
	var prev rune
	flush := func(end int) {
		if start >= 0 && end > start {
			parts = append(parts, [2]int{start, end})
		}
		start = -1
	}
	for i := 0; i < len(term); {
		r, n := utf8.DecodeRune(term[i:])
		switch {
		case r == '_' || r == '.' || r == ':' || r == '-':
			flush(i)
		case start < 0:
			start = i
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			// fooBar, 5xxRate: a new word starts at the capital.
			flush(i)
			start = i
		case unicode.IsUpper(r):
			// HTTPServer: the last capital of a run starts the next word.
			if next, _ := utf8.DecodeRune(term[i+n:]); unicode.IsLower(next) && i+n < len(term) {
				flush(i)
				start = i
			}
		case unicode.IsDigit(r) != unicode.IsDigit(prev) && unicode.IsLetter(prev) && unicode.IsDigit(r):
			// Node5xx: digits start a word after letters.
			flush(i)
			start = i
		}
		if r != '_' && r != '.' && r != ':' && r != '-' {
			prev = r
		}
		i += n
	}
	flush(len(term))
	if len(parts) < 2 {
		return nil
	}
	return parts
}

// wordsTokenizer is the name of the tokenizer of runbook text.
const wordsTokenizer = "breadcrumb_words"

// wordTokenizer cuts text into words: runs of letters, digits and
// underscores, with a dot, a colon or an apostrophe between two of them
// kept inside ("v1.2",
// "node_exporter", "don't"), as Unicode's word boundaries mostly do for
// this text; each ideograph is a word of its own. It reads ASCII a byte
// at a time, where the Unicode segmenter it replaces took a tenth of the
// index's build.
type wordTokenizer struct{}

func (wordTokenizer) Tokenize(input []byte) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(input)/6)
	pos := 1
	start := -1
	typ := analysis.AlphaNumeric
	emit := func(end int) {
		if start >= 0 && end > start {
			out = append(out, &analysis.Token{Start: start, End: end, Term: input[start:end], Position: pos, Type: typ})
			pos++
		}
		start = -1
		typ = analysis.AlphaNumeric
	}
	isWord := func(i int) (bool, int, rune) {
		c := input[i]
		if c < utf8.RuneSelf {
			return wordByte[c] || c == '_', 1, rune(c)
		}
		r, n := utf8.DecodeRune(input[i:])
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r), n, r
	}
	for i := 0; i < len(input); {
		w, n, r := isWord(i)
		switch {
		case w && unicode.Is(unicode.Han, r) || w && unicode.Is(unicode.Hiragana, r) || w && unicode.Is(unicode.Katakana, r):
			emit(i)
			start, typ = i, analysis.Ideographic
			emit(i + n)
		case w:
			if start < 0 {
				start = i
			}
		case start >= 0 && (r == '.' || r == ':' || r == '\'') && i+1 < len(input):
			// Kept inside a word when a word character follows.
			if next, _, _ := isWord(i + 1); !next {
				emit(i)
			}
		default:
			emit(i)
		}
		i += n
	}
	emit(len(input))
	return out
}

// stemFilterName names the stemmer of runbook text.
const stemFilterName = "breadcrumb_stem"

// stemFilter is the Porter stemmer with a memory: the words of runbooks
// repeat, and a word stemmed once is looked up after that (stemming was
// a tenth of the index's build).
type stemFilter struct{ c *stemCache }

// maxStems bounds the words the stemmer remembers.
const maxStems = 1 << 18

type stemCache struct {
	mu sync.RWMutex
	m  map[string][]byte
}

var stems = &stemCache{m: map[string][]byte{}}

func (f stemFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, tok := range input {
		if tok.KeyWord {
			continue
		}
		f.c.mu.RLock()
		stem, ok := f.c.m[string(tok.Term)]
		f.c.mu.RUnlock()
		if !ok {
			stem = analysis.BuildTermFromRunes(porterstemmer.StemWithoutLowerCasing(bytes.Runes(tok.Term)))
			f.c.mu.Lock()
			if len(f.c.m) < maxStems {
				f.c.m[string(tok.Term)] = stem
			}
			f.c.mu.Unlock()
		}
		// The stem is shared by every token of the word: nothing after
		// this filter writes to a term.
		tok.Term = stem
	}
	return input
}
