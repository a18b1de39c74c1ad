package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// SearchIndex adapts a search index to the bot's Searcher. The reason it
// gives for each hit names the words found in the page's passage, or
// says that spelling was tolerated.
func SearchIndex(ix *search.Index) Searcher { return indexSearcher{ix} }

type indexSearcher struct{ ix *search.Index }

func (s indexSearcher) Search(ctx context.Context, q string, limit int) ([]Hit, error) {
	hits, err := s.ix.Search(ctx, search.Query{Text: q, Limit: limit})
	if errors.Is(err, search.ErrEmptyQuery) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bot: search %q: %w", clip(q, 100), err)
	}
	out := make([]Hit, 0, len(hits))
	for _, h := range hits {
		out = append(out, Hit{RunbookID: h.ID, Title: h.Title, Path: h.Path, Score: h.Score,
			Reason: hitReason(h), Snippet: h.Snippet.Text})
	}
	return out, nil
}

// hitReason says why a page matched: the distinct words marked in its
// snippet.
func hitReason(h search.Hit) string {
	if h.Fuzzy {
		return "found by tolerating a typo"
	}
	var words []string
	seen := map[string]bool{}
	for _, m := range h.Snippet.Marks {
		if m[0] < 0 || m[1] > len(h.Snippet.Text) || m[0] >= m[1] {
			continue
		}
		w := strings.ToLower(h.Snippet.Text[m[0]:m[1]])
		if !seen[w] && len(words) < 5 {
			seen[w] = true
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return "matches the title or the page's names"
	}
	return "matches " + strings.Join(words, ", ")
}
