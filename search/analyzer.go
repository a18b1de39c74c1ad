package search

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
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
	})
}

// addAnalyzers declares the analyzers in an index mapping: text for prose
// (identifiers split, lower case, English stop words, Porter stems), and a
// lower-cased keyword for alert names, services, teams and tags.
func addAnalyzers(im *mapping.IndexMappingImpl) error {
	if err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicodetok.Name,
		"token_filters": []string{splitFilter, lowercase.Name, en.StopName, porter.Name},
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
