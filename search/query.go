package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// Query is a search for runbooks.
type Query struct {
	// Text is what the responder typed. Words of the form service:NAME,
	// team:NAME and tag:NAME are filters, not search terms.
	Text string
	// Limit is the number of hits wanted; 0 means 10.
	Limit int
	// Service, Team and Tags narrow the hits (in addition to filters in
	// Text).
	Service, Team string
	Tags          []string
}

// Hit is one runbook found.
type Hit struct {
	ID     string  `json:"id"`
	Source string  `json:"source"`
	Path   string  `json:"path"`
	Title  string  `json:"title"`
	Score  float64 `json:"score"`
	// Snippet is a short passage of the page around the words found.
	Snippet Snippet `json:"snippet"`
	// Fuzzy is true when the page was found by tolerating typos: a
	// misspelled word read as the word it was one slip from, or every
	// word matched loosely when nothing matched as typed.
	Fuzzy bool `json:"fuzzy"`

	terms map[string]bool // the analyzed terms found in the page
}

// Snippet is plain text with the byte ranges of the matched words, so
// that each front end (terminal, Slack, HTML) marks them its own way.
type Snippet struct {
	Text  string   `json:"text"`
	Marks [][2]int `json:"marks,omitempty"`
}

// ErrEmptyQuery is returned for a query with no words and no filters.
var ErrEmptyQuery = errors.New("search: empty query")

var filterRe = regexp.MustCompile(`(?i)\b(service|team|tag):("[^"]*"|\S+)`)

// parseFilters takes service:, team: and tag: filters out of the text.
func (q Query) parseFilters() (text, service, team string, tags []string) {
	service, team, tags = q.Service, q.Team, append([]string(nil), q.Tags...)
	text = filterRe.ReplaceAllStringFunc(q.Text, func(m string) string {
		sub := filterRe.FindStringSubmatch(m)
		v := strings.Trim(sub[2], `"`)
		switch strings.ToLower(sub[1]) {
		case "service":
			service = v
		case "team":
			team = v
		case "tag":
			tags = append(tags, v)
		}
		return " "
	})
	return strings.TrimSpace(text), service, team, tags
}

// maxCachedKey bounds the queries the result cache keeps: 512 of them
// hold at most 1 MB of keys.
const maxCachedKey = 2 << 10

// Search returns the runbooks that best match the query, best first. When
// the words find nothing, they are tried again with typos tolerated, and
// the hits are marked Fuzzy. The hits of recent searches are kept (see
// Config.ResultCache) until the next Update.
func (ix *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	key := q.key(limit)
	if len(key) > maxCachedKey {
		// A long query is capped before it is searched; it is not kept,
		// so that anyone who can search cannot pin memory with the cache.
		return ix.find(ctx, q, limit)
	}
	hits, ok, gen := ix.results.get(key)
	if ok {
		return hits, nil
	}
	hits, err := ix.find(ctx, q, limit)
	if err == nil {
		ix.results.put(key, gen, hits)
	}
	return hits, err
}

// find is Search without the cache: the two phases, and the fuzzy
// fallback.
func (ix *Index) find(ctx context.Context, q Query, limit int) ([]Hit, error) {
	text, service, team, tags := q.parseFilters()
	if text == "" && service == "" && team == "" && len(tags) == 0 {
		return nil, ErrEmptyQuery
	}
	var filters []query.Query
	addFilter := func(field, v string) {
		tq := bleve.NewTermQuery(strings.ToLower(v))
		tq.SetField(field)
		filters = append(filters, tq)
	}
	if service != "" {
		addFilter(fService, service)
	}
	if team != "" {
		addFilter(fTeam, team)
	}
	for _, t := range tags {
		addFilter(fTag, t)
	}
	typed := capQuery(text)
	text, err := ix.correct(ctx, typed)
	if err != nil {
		return nil, err
	}
	corrected := text != typed
	terms := ix.queryTerms(text)
	typos, err := ix.typos(ctx, text)
	if err != nil {
		return nil, err
	}
	known, err := ix.knownTerms(ctx, text)
	if err != nil {
		return nil, err
	}
	tq := textQuery(text, false, typos, known)
	var hits []Hit
	if text != "" {
		var all query.Query
		if k := known.withAll(); k != nil {
			all = textQuery(text, false, typos, k)
		}
		hits, err = ix.ranked(ctx, text, known, tq, all, filters, limit, terms, false)
	} else {
		hits, err = ix.run(ctx, tq, filters, limit, terms, false)
	}
	if corrected {
		// A misspelled word was read as the word it was one slip from:
		// the hits were found by tolerating a typo.
		for i := range hits {
			hits[i].Fuzzy = true
		}
	}
	if err != nil || len(hits) > 0 || text == "" {
		return hits, err
	}
	hits, err = ix.run(ctx, textQuery(text, true, nil, nil), filters, limit, terms, false)
	for i := range hits {
		hits[i].Fuzzy = true
	}
	return hits, err
}

// ranked runs q in two phases: the pages whose short fields (title, file
// name, alert names, description, headings, service and team) have a
// word of text are few, and cheap to find; q then scores only the best
// candidatePool of them, skipping through the long postings of the
// bodies. Only when they give fewer than limit hits does q run over every
// page. known, when not nil, holds the analyzed terms of text.
// all, when not nil, is q with the words that most pages have, for the
// run over every page.
func (ix *Index) ranked(ctx context.Context, text string, known *knownTerms, q, all query.Query, filters []query.Query, limit int, terms []string, coverage bool) ([]Hit, error) {
	ids, err := ix.candidates(ctx, text, known, filters, candidatePool)
	if err != nil {
		return nil, err
	}
	if len(ids) >= limit {
		f, err := ix.top(ctx, bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), q), filters, limit)
		if err != nil {
			return nil, err
		}
		if len(f.res.Hits) >= limit {
			return ix.hitsOf(f, terms, coverage)
		}
		f.close()
	}
	// Over every page, without the words most pages have first: they
	// would make every page a hit to score. With them only when that
	// finds too few.
	hits, err := ix.run(ctx, q, filters, limit, terms, coverage)
	if err != nil || len(hits) >= limit || all == nil {
		return hits, err
	}
	return ix.run(ctx, all, filters, limit, terms, coverage)
}

// candidatePool is how many pages the first phase of a search keeps.
const candidatePool = 64

// candidates returns the IDs of the pages whose short fields best match
// text, leaving out the terms that are common in a field. known, when not
// nil, holds the terms of text and of its synonyms, already analyzed.
func (ix *Index) candidates(ctx context.Context, text string, known *knownTerms, filters []query.Query, n int) ([]string, error) {
	words, syn := known.words(), known.synonyms()
	if known == nil {
		words, syn = ix.tokens(text), ix.tokens(synonymsOf(text))
	}
	var groups []fieldSearch
	for _, f := range []string{fTitle, fName, fAlertText, fDescription, fHeadings, fMeta, fRules, fDirs, fAll} {
		groups = append(groups, fieldSearch{f, words})
	}
	for _, f := range []string{fTitle, fName, fHeadings} {
		groups = append(groups, fieldSearch{f, syn})
	}
	groups, err := ix.withoutCommon(ctx, groups)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	var qs []query.Query
	for _, g := range groups {
		qs = append(qs, termsQuery(g.field, g.terms, 1))
	}
	var q query.Query = bleve.NewDisjunctionQuery(qs...)
	if len(filters) > 0 {
		q = bleve.NewConjunctionQuery(append([]query.Query{q}, filters...)...)
	}
	req := bleve.NewSearchRequestOptions(q, n, 0, false)
	res, err := ix.search(ctx, req)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// queryTerms returns the analyzed words of a query, identifiers split into
// their words, with the words of its synonyms: what a snippet marks.
func (ix *Index) queryTerms(text string) []string {
	set := ix.analyze(splitIdentifiers(text + " " + synonymsOf(text)))
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// search runs one request against the open index.
func (ix *Index) search(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, errors.New("search: index is closed")
	}
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return res, nil
}

// analyze returns the distinct terms the text analyzer makes of text.
func (ix *Index) analyze(text string) map[string]bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	terms := map[string]bool{}
	if ix.idx == nil {
		return terms
	}
	a := ix.idx.Mapping().AnalyzerNamed(textAnalyzer)
	if a == nil {
		return terms
	}
	for _, tok := range a.Analyze([]byte(text)) {
		terms[string(tok.Term)] = true
	}
	return terms
}

// Query limits: a query is what a person types, and a pasted page must
// not cost seconds.
const (
	maxQueryWords = 48
	maxQueryBytes = 600
	maxFuzzyWord  = 24 // longer words are not matched fuzzily (their automata explode)
)

// capQuery keeps the first words of a long query.
func capQuery(text string) string {
	words := strings.Fields(text)
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	text = strings.Join(words, " ")
	if len(text) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return text
}

// fuzzyWords returns the words of text worth matching with a typo: long
// enough to have one, short enough to be cheap.
func fuzzyWords(text string, minLen int) string {
	var out []string
	for _, w := range strings.Fields(text) {
		if n := utf8.RuneCountInString(w); n >= minLen && n <= maxFuzzyWord {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// fieldWeight is a field of the index and the weight of its matches.
type fieldWeight struct {
	name  string
	boost float64
}

// weights are the weights of the second phase of a search.
var weights = struct {
	fields   []fieldWeight // the words typed
	synonyms []fieldWeight // the words they stand for
	typo     float64       // a word typed with one typo
	// unknownTypo weighs the corrections of a word no page has.
	unknownTypo float64
}{
	fields:      []fieldWeight{{fTitle, 2}, {fName, 2}, {fAlertText, 1}, {fDescription, 1.5}, {fHeadings, 1.3}, {fRules, 4}, {fDirs, 2}, {fAll, 5}},
	synonyms:    []fieldWeight{{fTitle, 1.6}, {fName, 1.2}, {fAll, 0.6}},
	typo:        0.3,
	unknownTypo: 1,
}

// textQuery searches the weighted fields (title, file name, alert names,
// description, headings) and the composite of every text field. fuzzy
// makes it the fallback that tolerates typos everywhere; otherwise typos,
// when not nil, is added: the longer words tried with one typo, at a low
// weight (see typos), so that one misspelled word among right ones still
// counts.
//
// With known, the words are looked up as the terms the analyzer makes of
// them, and a term that known says no page has in a field is searched
// with a query that matches nothing, without a look-up in the term
// dictionary. The ranking is the same (a disjunction's coordination still
// counts the term); scores differ by one factor for the whole query, as
// the absent term no longer counts in its normalisation.
func textQuery(text string, fuzzy bool, typos query.Query, known *knownTerms) query.Query {
	if text == "" {
		return bleve.NewMatchAllQuery()
	}
	fields := weights.fields
	var qs []query.Query
	if fuzzy {
		words := fuzzyWords(text, 4)
		if words == "" {
			return bleve.NewMatchNoneQuery()
		}
		for _, f := range fields {
			mq := bleve.NewMatchQuery(words)
			mq.SetField(f.name)
			mq.SetBoost(f.boost)
			mq.SetFuzziness(fuzzinessFor(words))
			qs = append(qs, mq)
		}
		return bleve.NewDisjunctionQuery(qs...)
	}
	for _, f := range fields {
		qs = append(qs, known.match(f.name, text, false, f.boost))
	}
	if syn := synonymsOf(text); syn != "" {
		// The words responders use for the same thing, weighed less than
		// the words typed.
		for _, f := range weights.synonyms {
			qs = append(qs, known.match(f.name, syn, true, f.boost))
		}
	}
	if typos != nil {
		qs = append(qs, typos)
	}
	// The exact alert name, as pasted from a page.
	tq := bleve.NewTermQuery(strings.ToLower(strings.TrimSpace(text)))
	tq.SetField(fAlert)
	tq.SetBoost(8)
	qs = append(qs, tq)
	return bleve.NewDisjunctionQuery(qs...)
}

// typos matches the words of text of five letters or more with one typo,
// in every text field, at a low weight; nil when there is none.
func (ix *Index) typos(ctx context.Context, text string) (query.Query, error) {
	words := fuzzyWords(text, 5)
	if words == "" {
		return nil, nil
	}
	return ix.typoQuery(ctx, fAll, words, weights.typo)
}

// fuzzinessFor allows two typos when every word is long, else one: "ntp"
// must not match "tmp".
func fuzzinessFor(words string) int {
	for _, w := range strings.Fields(words) {
		if utf8.RuneCountInString(w) < 7 {
			return 1
		}
	}
	return 2
}

// synonymsOf returns the words that the phrases of text stand for, from
// the operations vocabulary, that text does not already hold.
func synonymsOf(text string) string { return builtin().Expand(text) }

// run executes q and makes hits of the results. terms are the analyzed
// words searched for: snippets mark where the page has them. (Reading
// term locations from the index would cost a fifth of the search.)
// coverage makes each hit record which of the terms its page has, which
// reads the whole of its text; without it, only the passage of the
// snippet is looked for.
func (ix *Index) run(ctx context.Context, q query.Query, filters []query.Query, limit int, terms []string, coverage bool) ([]Hit, error) {
	f, err := ix.top(ctx, q, filters, limit)
	if err != nil {
		return nil, err
	}
	return ix.hitsOf(f, terms, coverage)
}

// found is the result of a search and, when it is known, the snapshot of
// the index the search ran on, whose document numbers its hits carry.
type found struct {
	res  *bleve.SearchResult
	snap index.IndexReader // nil when the index gave none
}

// close lets go of the snapshot.
func (f found) close() {
	if f.snap != nil {
		_ = f.snap.Close()
	}
}

// top executes q and returns the IDs and scores of its best limit pages,
// without their fields. The caller closes what it returns.
func (ix *Index) top(ctx context.Context, q query.Query, filters []query.Query, limit int) (found, error) {
	if len(filters) > 0 {
		q = bleve.NewConjunctionQuery(append([]query.Query{q}, filters...)...)
	}
	req := bleve.NewSearchRequestOptions(q, limit, 0, false)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return found{}, errors.New("search: index is closed")
	}
	// The search takes the index's current snapshot. When that is the
	// same before and after it, the search ran on it: scorch makes a new
	// snapshot for every change, and this one cannot go while it is held.
	before := currentSnapshot(ix.idx)
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		if before != nil {
			_ = before.Close()
		}
		return found{}, fmt.Errorf("search: %w", err)
	}
	if before != nil {
		after := currentSnapshot(ix.idx)
		if after != before {
			_ = before.Close()
			before = nil
		}
		if after != nil {
			_ = after.Close()
		}
	}
	return found{res: res, snap: before}, nil
}

// hitsOf makes hits of search results, reading the stored fields that
// their titles, places and snippets need, and closes f.
func (ix *Index) hitsOf(f found, terms []string, coverage bool) ([]Hit, error) {
	defer f.close()
	if len(f.res.Hits) == 0 {
		return []Hit{}, nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, errors.New("search: index is closed")
	}
	var r index.IndexReader = f.snap
	if f.snap == nil {
		adv, err := ix.idx.Advanced()
		if err != nil {
			return nil, fmt.Errorf("search: stored fields: %w", err)
		}
		if r, err = adv.Reader(); err != nil {
			return nil, fmt.Errorf("search: stored fields: %w", err)
		}
		defer r.Close()
	}
	page := storedPages.Get().(*storedPage)
	defer func() {
		if cap(page.buf) <= maxPooledPage {
			storedPages.Put(page)
		}
	}()
	mk := newMarker(terms)
	defer mk.release()
	scan := snippetScan
	if coverage {
		scan = -1
	}
	hits := make([]Hit, 0, len(f.res.Hits))
	for _, h := range f.res.Hits {
		var num index.IndexInternalID
		if f.snap != nil {
			num = h.IndexInternalID
		}
		if err := loadStored(r, h.ID, num, page, scan); err != nil {
			return nil, err
		}
		hit := Hit{ID: h.ID, Score: h.Score, Title: page.title, Source: page.source, Path: page.path}
		hit.Snippet, hit.terms = mk.snippetOf(page, coverage)
		hits = append(hits, hit)
	}
	return hits, nil
}

const snippetWidth = 200

// snippetScan is how much of a field a search reads to find its
// snippet: a 200 KB page must not cost a millisecond per hit.
const snippetScan = 8 << 10

// snippetOf cuts a passage around the densest cluster of the searched
// words in the most telling stored field (description, then steps, then
// body). A word matches a term when it starts with it, as the stemmed
// term "restart" matches "restarting". With coverage, it also reports
// which of the terms the page has, reading every field whole; without,
// it reads no further than the first field that has a snippet, and only
// its first snippetScan bytes.
func (mk *marker) snippetOf(p *storedPage, coverage bool) (Snippet, map[string]bool) {
	var found map[string]bool
	if coverage {
		found = map[string]bool{}
		mk.wordSpans([]byte(p.title), found, 0)
	}
	var best Snippet
	for i := range len(p.long) {
		text := p.field(i)
		if len(text) == 0 {
			continue
		}
		if !coverage {
			text = clipBytes(text, snippetScan)
		}
		spans := mk.wordSpans(text, found, snippetWidth)
		if best.Text == "" && len(spans) > 0 {
			best = cutSnippet(text, spans, snippetWidth)
			if !coverage {
				break
			}
		}
	}
	if best.Text == "" {
		if body := p.field(longBody); len(body) > 0 {
			best = Snippet{Text: clipText(string(clipBytes(body, 4*snippetWidth)), snippetWidth)}
		}
	}
	return best, found
}

// clipBytes returns at most the first n bytes of s, cut before a rune.
func clipBytes[T string | []byte](s T, n int) T {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// marker finds the words of a text that start with the terms of a
// search. It keeps scratch space from one word to the next, and is used
// by one goroutine at a time.
type marker struct {
	terms []string
	// heads holds the first two bytes of each term: most words share
	// them with no term, and are skipped before the costly lower-casing
	// and stemming.
	heads map[string]bool
	spans [][2]int
	lower []byte
	runes []rune
	stem  []byte
}

var markers = sync.Pool{New: func() any { return &marker{heads: map[string]bool{}} }}

// newMarker returns a marker of the terms, to be released after use.
func newMarker(terms []string) *marker {
	mk := markers.Get().(*marker)
	mk.terms = terms
	clear(mk.heads)
	for _, t := range terms {
		mk.heads[head2(t)] = true
	}
	return mk
}

// maxPooledSpans bounds the scratch space a released marker keeps.
const maxPooledSpans = 1 << 12

// release gives the marker back for another search to use.
func (mk *marker) release() {
	mk.terms = nil
	if cap(mk.spans) <= maxPooledSpans && cap(mk.lower) <= maxPooledSpans && cap(mk.runes) <= maxPooledSpans {
		markers.Put(mk)
	}
}

func head2(s string) string {
	if len(s) > 2 {
		return s[:2]
	}
	return s
}

// lowerWord returns w in lower case, in the marker's scratch space when
// it is ASCII.
func (mk *marker) lowerWord(w []byte) []byte {
	mk.lower = mk.lower[:0]
	for _, c := range w {
		if c >= utf8.RuneSelf {
			return []byte(strings.ToLower(string(w)))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		mk.lower = append(mk.lower, c)
	}
	return mk.lower
}

// isHead reports whether the word w begins with the first two bytes of
// a term, ignoring case.
func (mk *marker) isHead(w []byte) bool {
	h := w[:min(len(w), 2)]
	var buf [2]byte
	for i, c := range h {
		if c >= utf8.RuneSelf {
			return mk.heads[head2(strings.ToLower(string(h)))]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return mk.heads[string(buf[:len(h)])]
}

// stemOf returns the Porter stem of a lower-case word, in the marker's
// scratch space.
func (mk *marker) stemOf(w []byte) []byte {
	mk.runes = mk.runes[:0]
	for len(w) > 0 {
		r, n := utf8.DecodeRune(w)
		mk.runes = append(mk.runes, r)
		w = w[n:]
	}
	mk.stem = mk.stem[:0]
	for _, r := range porterstemmer.Stem(mk.runes) {
		mk.stem = utf8.AppendRune(mk.stem, r)
	}
	return mk.stem
}

// wordSpans returns the byte ranges of the words of text that start with
// one of the terms (ignoring case), and records those terms in found
// when it is not nil. The ranges are in the marker's scratch space,
// valid until its next call.
//
// With window above 0 (and found nil), the scan stops window bytes after
// the first word found: a snippet is cut around it, and a page can be
// long.
func (mk *marker) wordSpans(text []byte, found map[string]bool, window int) [][2]int {
	mk.spans = mk.spans[:0]
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		word := text[start:end]
		start = -1
		if !mk.isHead(word) {
			return
		}
		w := mk.lowerWord(word)
		var stem []byte
		stemmed := false
		matched := false
		for _, t := range mk.terms {
			// w starts with t, or t with w (of four letters or more).
			hit := (len(w) >= len(t) && string(w[:len(t)]) == t) || (len(w) >= 4 && len(t) >= len(w) && t[:len(w)] == string(w))
			if !hit {
				if !stemmed {
					stem, stemmed = mk.stemOf(w), true
				}
				hit = string(stem) == t
			}
			if hit {
				matched = true
				if found == nil {
					break
				}
				found[t] = true
			}
		}
		if matched {
			mk.spans = append(mk.spans, [2]int{end - len(word), end})
		}
	}
	stop := len(text)
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if wordByte[c] {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				flush(i)
				if window > 0 && found == nil && len(mk.spans) == 1 && stop == len(text) {
					stop = min(len(text), mk.spans[0][0]+window)
				}
				if i >= stop {
					return mk.spans
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
		i += n
	}
	flush(len(text))
	return mk.spans
}

// wordByte tells the ASCII bytes that make words: letters and digits.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	}
	return t
}()

// cutSnippet returns a window of text, about width bytes, holding as many
// of the spans (in order) as possible, cut at word boundaries, with the
// spans inside it as marks relative to the window.
func cutSnippet(text []byte, spans [][2]int, width int) Snippet {
	best, bestN := 0, 0
	for i := range spans {
		n := 0
		for j := i; j < len(spans) && spans[j][1]-spans[i][0] <= width; j++ {
			n++
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	start := spans[best][0] - width/4
	if start < 0 {
		start = 0
	}
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	if sp := bytes.LastIndexAny(text[max(0, start-20):start], " \n"); start > 0 && sp >= 0 {
		start = max(0, start-20) + sp + 1
	}
	end := min(len(text), start+width)
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	if end < len(text) {
		if sp := bytes.LastIndexAny(text[start:end], " \n"); sp > width/2 {
			end = start + sp
		}
	}
	raw := text[start:end]
	// Collapse whitespace while keeping the marks in place: mapping[i] is
	// where byte i of raw lands in the snippet.
	var mapping [2*snippetWidth + 8]int
	var m []int
	if len(raw)+1 <= len(mapping) {
		m = mapping[:len(raw)+1]
	} else {
		m = make([]int, len(raw)+1)
	}
	var text0 [2*snippetWidth + 16]byte
	out := text0[:0]
	if start > 0 {
		out = append(out, "…"...)
	}
	shift := len(out)
	space := false
	for i := 0; i < len(raw); i++ {
		m[i] = len(out) - shift
		c := raw[i]
		if c == '\n' || c == '\t' || c == ' ' || c == '\r' {
			if !space && len(out) > shift {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, c)
	}
	m[len(raw)] = len(out) - shift
	for len(out) > shift && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	if end < len(text) {
		out = append(out, "…"...)
	}
	snip := Snippet{Text: string(out)}
	mark := func(s [2]int) (a, z int, ok bool) {
		if s[0] < start || s[1] > end {
			return 0, 0, false
		}
		a, z = m[s[0]-start]+shift, m[s[1]-start]+shift
		return a, z, z > a && z <= len(snip.Text)
	}
	n := 0
	for _, s := range spans {
		if _, _, ok := mark(s); ok {
			n++
		}
	}
	if n > 0 {
		snip.Marks = make([][2]int, 0, n)
		for _, s := range spans {
			if a, z, ok := mark(s); ok {
				snip.Marks = append(snip.Marks, [2]int{a, z})
			}
		}
	}
	return snip
}

func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > n/2 {
		cut = sp
	}
	return s[:cut] + "…"
}

// plainMarkdown turns markdown into text for indexing and snippets: link
// and image syntax give their text, HTML tags, fences, heading marks and
// emphasis marks go, table pipes become spaces. Code stays, as words.
// Line marks are handled line by line, and the markup is taken out by
// scanners that do what a regular expression each did (see
// plain_test.go): the expressions were a tenth of the index's build.
func plainMarkdown(md string) string {
	s := md
	if strings.Contains(s, "<") {
		s = stripHTML(s)
	}
	if strings.Contains(s, "](") {
		s = stripLinks(s)
	}
	if strings.Contains(s, "][") {
		s = stripRefLinks(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.Lines(s) {
		t := strings.TrimLeft(line, " \t>")
		switch {
		case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
			b.WriteByte('\n') // a fence line
			continue
		case isTableRule(t):
			b.WriteByte('\n')
			continue
		case strings.HasPrefix(t, "#"):
			if h := strings.TrimLeft(t, "#"); len(t)-len(h) <= 6 && (h == "" || h[0] == ' ' || h[0] == '\t') {
				line = h
			}
		}
		for i := 0; i < len(line); i++ {
			switch c := line[i]; c {
			case '*', '`':
			case '|':
				b.WriteByte(' ')
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// isTableRule reports whether a line is a table's header rule, such as
// "|---|:--:|".
func isTableRule(t string) bool {
	t = strings.TrimSpace(t)
	if !strings.Contains(t, "|") || !strings.Contains(t, "-") {
		return false
	}
	for _, c := range t {
		switch c {
		case '|', '-', ':', ' ', '\t':
		default:
			return false
		}
	}
	return true
}

// stripHTML replaces each HTML comment (<!-- … -->) and tag (<a …>, </a>)
// of s with a space.
func stripHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			if j := strings.Index(s[i+4:], "-->"); j >= 0 {
				b.WriteByte(' ')
				i += 4 + j + 3
				continue
			}
		}
		k := i + 1
		if k < len(s) && s[k] == '/' {
			k++
		}
		if k < len(s) && isASCIILetter(s[k]) {
			if j := strings.IndexByte(s[k:], '>'); j >= 0 {
				b.WriteByte(' ')
				i = k + j + 1
				continue
			}
		}
		b.WriteByte('<')
		i++
	}
	return b.String()
}

func isASCIILetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// stripLinks replaces each inline link or image ([text](url),
// ![alt](src)) of s with its text.
func stripLinks(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		br := -1
		switch {
		case s[i] == '!' && i+1 < len(s) && s[i+1] == '[':
			br = i + 1
		case s[i] == '[':
			br = i
		}
		if br >= 0 {
			if j := strings.IndexByte(s[br+1:], ']'); j >= 0 {
				after := br + 1 + j + 1
				if after < len(s) && s[after] == '(' {
					if k := strings.IndexByte(s[after+1:], ')'); k >= 0 {
						b.WriteString(s[br+1 : br+1+j])
						i = after + 1 + k + 1
						continue
					}
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// stripRefLinks replaces each reference link ([text][ref], [text][]) of s
// with its text.
func stripRefLinks(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == '[' {
			if j := strings.IndexByte(s[i+1:], ']'); j > 0 {
				after := i + 1 + j + 1
				if after < len(s) && s[after] == '[' {
					if k := strings.IndexByte(s[after+1:], ']'); k >= 0 {
						b.WriteString(s[i+1 : i+1+j])
						i = after + 1 + k + 1
						continue
					}
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
