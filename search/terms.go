package search

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// termStats caches how many pages hold a term in a field, and the terms
// of a field within one typo of a term. It holds for the index's
// contents at the time: Update clears it.
type termStats struct {
	mu    sync.Mutex
	df    map[fieldTerm]uint64
	typos map[fieldTerm][]nearTerm
	fixes map[fieldTerm][]correction
}

// nearTerm is a term of the index and its edit distance from another.
type nearTerm struct {
	term     string
	distance uint8
}

type fieldTerm struct{ field, term string }

// maxTermStats bounds the cache; it is emptied when full.
const maxTermStats = 1 << 16

func (s *termStats) get(k fieldTerm) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.df[k]
	return n, ok
}

func (s *termStats) put(k fieldTerm, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.df == nil || len(s.df) >= maxTermStats {
		s.df = map[fieldTerm]uint64{}
	}
	s.df[k] = n
}

func (s *termStats) getNear(k fieldTerm) ([]nearTerm, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.typos[k]
	return n, ok
}

func (s *termStats) putNear(k fieldTerm, near []nearTerm) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.typos == nil || len(s.typos) >= maxTermStats {
		s.typos = map[fieldTerm][]nearTerm{}
	}
	s.typos[k] = near
}

func (s *termStats) getFixes(k fieldTerm) ([]correction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.fixes[k]
	return c, ok
}

func (s *termStats) putFixes(k fieldTerm, c []correction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fixes == nil || len(s.fixes) >= maxTermStats {
		s.fixes = map[fieldTerm][]correction{}
	}
	s.fixes[k] = c
}

func (s *termStats) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.df, s.typos, s.fixes = nil, nil, nil
}

// nearTerms returns the terms of the field within one typo of term, as
// bleve's fuzzy query finds them, from a cache kept until the next
// Update: building the automaton and walking the dictionary was a tenth
// of a search.
func (ix *Index) nearTerms(ctx context.Context, field, term string) ([]nearTerm, error) {
	k := fieldTerm{field, term}
	if near, ok := ix.stats.getNear(k); ok {
		return near, nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, fmt.Errorf("search: index is closed")
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: terms near %q: %w", term, err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: terms near %q: %w", term, err)
	}
	defer r.Close()
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return nil, fmt.Errorf("search: terms near %q: the index cannot look them up", term)
	}
	dict, _, err := fr.FieldDictFuzzyAutomaton(field, term, 1, "")
	if err != nil {
		return nil, fmt.Errorf("search: terms near %q: %w", term, err)
	}
	var near []nearTerm
	e, err := dict.Next()
	for err == nil && e != nil {
		near = append(near, nearTerm{e.Term, e.EditDistance})
		e, err = dict.Next()
	}
	if cerr := dict.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("search: terms near %q: %w", term, err)
	}
	ix.stats.putNear(k, near)
	return near, nil
}

// A word that the pages have is matched with a typo too only when it is
// rare: at most minRareTypo pages, or one in rareTypoShare. On 10,000
// real pages a common word had dozens of neighbours one typo away, each a
// list of postings that the search walked for nothing, and finding the
// neighbours of a long word took up to a millisecond.
const (
	minRareTypo   = 3
	rareTypoShare = 1000
)

// minTypoTerm is the length of the shortest term matched with a typo. A
// long word can hold short terms ("eu-west-1" holds "eu" and "1"), and one
// typo away from "1" is every term of one or two characters: hundreds of
// postings lists to skip through, for a match that means nothing.
const minTypoTerm = 4

// typoQuery matches the words of text with one typo each in a field, as
// a match query with a fuzziness of 1 does (a term found at distance d
// weighs 1/(d+1)), but with the terms near each word taken from the
// cache. A word that no page has is surely misspelled: its corrections,
// which also include its letters swapped ("memroy", "kubelte"), weigh
// weights.unknownTypo instead, since they are all the word can mean.
func (ix *Index) typoQuery(ctx context.Context, field, text string, boost float64) (query.Query, error) {
	var known, unknown []query.Query
	for _, w := range strings.Fields(text) {
		for _, t := range ix.tokens(w) {
			if utf8.RuneCountInString(t) < minTypoTerm {
				continue
			}
			// A word many pages have is what was meant: only a rare one
			// may be a slip that happens to be a word. Its frequency is
			// cached, and asked first: the terms near a word are found by
			// an automaton built for it, the most a query allocated.
			df, err := ix.docFreqs(ctx, []fieldTerm{{field, t}})
			if err != nil {
				return nil, err
			}
			if df[0] > max(minRareTypo, uint64(ix.Len()/rareTypoShare)) {
				continue
			}
			near, err := ix.nearTerms(ctx, field, t)
			if err != nil {
				return nil, err
			}
			if hasTerm(near, t) {
				if len(near) == 1 {
					known = append(known, termQuery(field, t, boost))
					continue
				}
				alts := make([]query.Query, len(near))
				for i, n := range near {
					alts[i] = termQuery(field, n.term, boost/float64(n.distance+1))
				}
				known = append(known, bleve.NewDisjunctionQuery(alts...))
				continue
			}
			fixed, err := ix.corrections(ctx, field, w, t)
			if err != nil {
				return nil, err
			}
			var alts []query.Query
			for _, n := range near {
				alts = append(alts, termQuery(field, n.term, weights.unknownTypo))
			}
			for _, f := range fixed {
				if !hasTerm(near, f.term) {
					alts = append(alts, termQuery(field, f.term, weights.unknownTypo))
				}
			}
			if len(alts) > 0 {
				unknown = append(unknown, bleve.NewDisjunctionQuery(alts...))
			}
		}
	}
	var qs []query.Query
	if len(known) > 0 {
		dq := bleve.NewDisjunctionQuery(known...)
		dq.SetMin(1)
		dq.SetBoost(boost)
		qs = append(qs, dq)
	}
	if len(unknown) > 0 {
		dq := bleve.NewDisjunctionQuery(unknown...)
		dq.SetMin(1)
		qs = append(qs, dq)
	}
	switch len(qs) {
	case 0:
		return nil, nil
	case 1:
		return qs[0], nil
	}
	return bleve.NewDisjunctionQuery(qs...), nil
}

func termQuery(field, term string, boost float64) query.Query {
	tq := bleve.NewTermQuery(term)
	tq.SetField(field)
	tq.SetBoost(boost)
	return tq
}

func hasTerm(near []nearTerm, t string) bool {
	for _, n := range near {
		if n.term == t {
			return true
		}
	}
	return false
}

// correction is a word one slip of the fingers from a typed one, and the
// term the index has of it.
type correction struct{ word, term string }

// corrections returns the words one slip of the fingers from word whose
// terms the field has: a letter left out, added, changed, or two adjacent
// letters swapped (which the typo automaton counts as two edits). The
// word is edited before it is stemmed, since a typo hides a stem
// ("replicaton" is one letter from "replication", whose term is
// "replic"). term is what the analyzer made of the word. The answer is
// cached until the next Update.
func (ix *Index) corrections(ctx context.Context, field, word, term string) ([]correction, error) {
	lower := strings.ToLower(word)
	k := fieldTerm{field, "\x00" + lower}
	if c, ok := ix.stats.getFixes(k); ok {
		return c, nil
	}
	seen := map[string]bool{term: true}
	var pairs []fieldTerm
	var words []string
	try := func(v string) {
		st := porterstemmer.StemString(v)
		if seen[st] || len(st) < minTypoTerm {
			return
		}
		seen[st] = true
		pairs = append(pairs, fieldTerm{field, st})
		words = append(words, v)
	}
	b := []byte(lower)
	ascii := true
	for _, c := range b {
		ascii = ascii && c < utf8.RuneSelf
	}
	if ascii {
		buf := make([]byte, 0, len(b)+1)
		for i := range b {
			try(string(append(append(buf[:0], b[:i]...), b[i+1:]...))) // left out
			if i+1 < len(b) && b[i] != b[i+1] {
				buf = append(buf[:0], b...)
				buf[i], buf[i+1] = buf[i+1], buf[i]
				try(string(buf)) // swapped
			}
		}
		for i := 0; i <= len(b); i++ {
			for c := byte('a'); c <= 'z'; c++ {
				try(string(append(append(append(buf[:0], b[:i]...), c), b[i:]...))) // added
				if i < len(b) && b[i] != c {
					buf = append(buf[:0], b...)
					buf[i] = c
					try(string(buf)) // changed
				}
			}
		}
	}
	var out []correction
	if len(pairs) > 0 {
		df, err := ix.docFreqs(ctx, pairs)
		if err != nil {
			return nil, err
		}
		for i, p := range pairs {
			if df[i] > 0 {
				out = append(out, correction{words[i], p.term})
			}
		}
	}
	ix.stats.putFixes(k, out)
	return out, nil
}

// docFreqs returns how many pages hold each of the terms in its field:
// one look-up in the term dictionary per pair, cached until the next
// Update.
func (ix *Index) docFreqs(ctx context.Context, pairs []fieldTerm) ([]uint64, error) {
	out := make([]uint64, len(pairs))
	var missing []int
	for i, p := range pairs {
		if n, ok := ix.stats.get(p); ok {
			out[i] = n
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, fmt.Errorf("search: index is closed")
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: term statistics: %w", err)
	}
	defer r.Close()
	// Most terms asked about are in no page's field (a word in the
	// titles, the typo candidates of a word): the field's dictionary says
	// so at once, where reading the term's postings takes a reader each.
	dicts := map[string]index.FieldDictContains{}
	rc, _ := r.(index.IndexReaderContains)
	for _, i := range missing {
		p := pairs[i]
		if rc != nil {
			d, ok := dicts[p.field]
			if !ok {
				d, err = rc.FieldDictContains(p.field)
				if err != nil {
					return nil, fmt.Errorf("search: terms of %s: %w", p.field, err)
				}
				dicts[p.field] = d
			}
			has, err := d.Contains([]byte(p.term))
			if err != nil {
				return nil, fmt.Errorf("search: term %q of %s: %w", p.term, p.field, err)
			}
			if !has {
				out[i] = 0
				ix.stats.put(p, 0)
				continue
			}
		}
		n, err := docFreq(ctx, r, p)
		if err != nil {
			return nil, err
		}
		out[i] = n
		ix.stats.put(p, n)
	}
	return out, nil
}

func docFreq(ctx context.Context, r index.IndexReader, p fieldTerm) (uint64, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(p.term), p.field, false, false, false)
	if err != nil {
		return 0, fmt.Errorf("search: term statistics of %q in %s: %w", p.term, p.field, err)
	}
	n := tfr.Count()
	if err := tfr.Close(); err != nil {
		return 0, fmt.Errorf("search: term statistics of %q in %s: %w", p.term, p.field, err)
	}
	return n, nil
}

// tokens returns the terms the text analyzer makes of text, in order,
// repeats included, as a match query would search them.
func (ix *Index) tokens(text string) []string {
	if text == "" {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil
	}
	a := ix.idx.Mapping().AnalyzerNamed(textAnalyzer)
	if a == nil {
		return nil
	}
	toks := a.Analyze([]byte(text))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		// The joined words of an identifier typed in the query
		// (crashloop, loopback in CrashLoopBackOff) are left out: the
		// identifier and its words are searched, and the joins only
		// multiplied the terms to score.
		if t.Type != analysis.Shingle {
			out = append(out, string(t.Term))
		}
	}
	return out
}

// fieldSearch is the terms searched in one field.
type fieldSearch struct {
	field string
	terms []string
}

// Common terms are left out of the first phase of a search: a term that
// a twentieth of the pages have in a field makes bleve score all of them,
// and tells little about which page is meant. Under commonFloor pages, a
// term is never common: its postings are short whatever the corpus.
const (
	commonShare = 20
	commonFloor = 256
)

// withoutCommon leaves out of each field the terms that are common in it
// and the terms that no page has there. When that would leave nothing,
// the common terms stay: a query of common words only must find pages.
func (ix *Index) withoutCommon(ctx context.Context, groups []fieldSearch) ([]fieldSearch, error) {
	n := 0
	for _, g := range groups {
		n += len(g.terms)
	}
	pairs := make([]fieldTerm, 0, n)
	for _, g := range groups {
		for _, t := range g.terms {
			pairs = append(pairs, fieldTerm{g.field, t})
		}
	}
	df, err := ix.docFreqs(ctx, pairs)
	if err != nil {
		return nil, err
	}
	limit := max(uint64(commonFloor), uint64(ix.Len()/commonShare))
	keep := func(common bool) ([]fieldSearch, int) {
		var out []fieldSearch
		n, i := 0, 0
		for _, g := range groups {
			kept := fieldSearch{field: g.field}
			for _, t := range g.terms {
				if d := df[i]; d > 0 && (common || d <= limit) {
					kept.terms = append(kept.terms, t)
					n++
				}
				i++
			}
			if len(kept.terms) > 0 {
				out = append(out, kept)
			}
		}
		return out, n
	}
	if out, n := keep(false); n > 0 {
		return out, nil
	}
	// Only common words: the pages are picked by the short fields, where
	// those words say most; in the whole text their postings are the
	// longest of the index, and every page has them.
	out, _ := keep(true)
	short := out[:0]
	for _, g := range out {
		if g.field != fAll {
			short = append(short, g)
		}
	}
	if len(short) > 0 {
		return short, nil
	}
	return out, nil
}

// knownTerms holds the terms of a query's words and of their synonyms,
// and which fields of the index have each.
type knownTerms struct {
	wordTerms, synTerms []string
	// ubiquitous, when set, marks the word terms that most pages have,
	// which the second phase leaves out.
	ubiquitous []bool
	// present tells, for each field of wordFields and then of
	// synonymFields, whether it has each of wordTerms, then of synTerms.
	present []bool
}

// The fields the second phase searches the words in, and their synonyms.
var (
	wordFields    = []string{fTitle, fName, fAlertText, fDescription, fHeadings, fRules, fDirs, fAll}
	synonymFields = []string{fTitle, fName, fAll}
)

// knownTerms looks up, from the cache of document frequencies, which of
// the terms of text and of its synonyms the fields of the second phase
// have.
func (ix *Index) knownTerms(ctx context.Context, text string) (*knownTerms, error) {
	words := ix.tokens(text)
	// The words a synonym stands for count once, and not at all when
	// the query has them: "failed" must not weigh thrice as "failing",
	// "failures" and "fail".
	k := &knownTerms{wordTerms: words, synTerms: distinctExcept(ix.tokens(synonymsOf(text)), words)}
	pairs := make([]fieldTerm, 0, len(wordFields)*len(k.wordTerms)+len(synonymFields)*len(k.synTerms))
	for _, f := range wordFields {
		for _, t := range k.wordTerms {
			pairs = append(pairs, fieldTerm{f, t})
		}
	}
	for _, f := range synonymFields {
		for _, t := range k.synTerms {
			pairs = append(pairs, fieldTerm{f, t})
		}
	}
	df, err := ix.docFreqs(ctx, pairs)
	if err != nil {
		return nil, err
	}
	k.present = make([]bool, len(pairs))
	for i := range pairs {
		k.present[i] = df[i] > 0
	}
	// A word that most pages have (a heading every page of a collection
	// repeats, such as Meaning or Mitigation) weighs next to nothing in
	// BM25, and scoring it walks the longest postings of the index: the
	// second phase leaves it out when the query has a rarer word (it
	// still counts in each field's coordination, as a query that matches
	// nothing). The fallback over every page keeps it (see withAll).
	if n := uint64(ix.Len()); n >= commonFloor {
		allAt := slices.Index(wordFields, fAll) * len(k.wordTerms)
		ubiquitous := make([]bool, len(k.wordTerms))
		rarer := false
		for i := range k.wordTerms {
			ubiquitous[i] = df[allAt+i]*ubiquitousShare > n
			rarer = rarer || (!ubiquitous[i] && df[allAt+i] > 0)
		}
		if rarer && slices.Contains(ubiquitous, true) {
			k.ubiquitous = ubiquitous
		}
	}
	return k, nil
}

// A word that more than one page in ubiquitousShare has is left out of a
// search's second phase when the query has a rarer one.
const ubiquitousShare = 3

// correct rewrites the words of text that no page has, and that one slip
// of the fingers away are a word the pages use, as that word (the one
// most pages have, when there are several): "kubelte service failed" is
// searched as "kubelet service failed", with every weight a typed word
// has. Only plain lower-case words of five letters or more are
// corrected; the others are left to the low-weight typo matching.
func (ix *Index) correct(ctx context.Context, text string) (string, error) {
	ix.mu.RLock()
	var toks analysis.TokenStream
	if ix.idx != nil {
		if a := ix.idx.Mapping().AnalyzerNamed(textAnalyzer); a != nil {
			toks = a.Analyze([]byte(text))
		}
	}
	ix.mu.RUnlock()
	var b strings.Builder
	last := 0
	done := map[int]bool{}
	for _, tok := range toks {
		raw := text[tok.Start:tok.End]
		if done[tok.Start] || !plainWord(raw) || utf8.RuneCountInString(raw) < 5 || utf8.RuneCountInString(raw) > maxFuzzyWord {
			continue
		}
		done[tok.Start] = true
		t := string(tok.Term)
		df, err := ix.docFreqs(ctx, []fieldTerm{{fAll, t}})
		if err != nil {
			return text, err
		}
		if df[0] > 0 {
			continue
		}
		fixed, err := ix.corrections(ctx, fAll, raw, t)
		if err != nil {
			return text, err
		}
		// The corrections most pages have first; a few of them, since
		// the commonest is not always meant ("gitlay" is one slip from
		// "gitlab" and from "gitaly"), and a rare word weighs more.
		type cand struct {
			word string
			df   uint64
		}
		var cands []cand
		for _, f := range fixed {
			d, err := ix.docFreqs(ctx, []fieldTerm{{fAll, f.term}})
			if err != nil {
				return text, err
			}
			cands = append(cands, cand{f.word, d[0]})
		}
		if len(cands) == 0 {
			continue
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].df > cands[j].df })
		words := make([]string, 0, maxCorrections)
		for _, c := range cands[:min(len(cands), maxCorrections)] {
			words = append(words, c.word)
		}
		best := strings.Join(words, " ")
		b.WriteString(text[last:tok.Start])
		b.WriteString(best)
		last = tok.End
	}
	if last == 0 {
		return text, nil
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// maxCorrections bounds the words a misspelled word is read as.
const maxCorrections = 3

// plainWord reports whether s is letters only, in lower case.
func plainWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLower(r) {
			return false
		}
	}
	return s != ""
}

// distinctExcept returns the terms once each, in order, without those of
// except.
func distinctExcept(terms, except []string) []string {
	seen := make(map[string]bool, len(terms)+len(except))
	for _, t := range except {
		seen[t] = true
	}
	out := terms[:0:0]
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// has reports whether the field has the i-th of the word terms (or of
// the synonym terms); ok is false when the field is not among those
// looked up.
func (k *knownTerms) has(field string, synonym bool, i int) (present, ok bool) {
	fields, terms, base := wordFields, k.wordTerms, 0
	if synonym {
		fields, terms, base = synonymFields, k.synTerms, len(wordFields)*len(k.wordTerms)
	} else if k.ubiquitous != nil && k.ubiquitous[i] {
		return false, true
	}
	for fi, f := range fields {
		if f == field {
			return k.present[base+fi*len(terms)+i], true
		}
	}
	return false, false
}

// withAll returns the terms with none left out as ubiquitous, or nil
// when none was.
func (k *knownTerms) withAll() *knownTerms {
	if k == nil || k.ubiquitous == nil {
		return nil
	}
	cp := *k
	cp.ubiquitous = nil
	return &cp
}

func (k *knownTerms) words() []string {
	if k == nil {
		return nil
	}
	return k.wordTerms
}

func (k *knownTerms) synonyms() []string {
	if k == nil {
		return nil
	}
	return k.synTerms
}

// match is a match query of text in a field, made of the word terms (or
// the synonym terms) when k knows them: a term the field lacks becomes a
// query that matches nothing, which keeps its place in the disjunction's
// coordination.
func (k *knownTerms) match(field, text string, synonym bool, boost float64) query.Query {
	if k == nil {
		mq := bleve.NewMatchQuery(text)
		mq.SetField(field)
		mq.SetBoost(boost)
		return mq
	}
	terms := k.wordTerms
	if synonym {
		terms = k.synTerms
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		present, ok := k.has(field, synonym, i)
		if ok && !present {
			qs[i] = bleve.NewMatchNoneQuery()
			continue
		}
		tq := bleve.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost)
		qs[i] = tq
	}
	dq := bleve.NewDisjunctionQuery(qs...)
	dq.SetMin(1)
	dq.SetBoost(boost)
	return dq
}

// termsQuery matches any of the terms in a field, as a match query of
// their words would.
func termsQuery(field string, terms []string, boost float64) query.Query {
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := bleve.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost)
		qs[i] = tq
	}
	dq := bleve.NewDisjunctionQuery(qs...)
	dq.SetMin(1)
	dq.SetBoost(boost)
	return dq
}
