package search

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// A blind set: questions written by someone who saw only alert names and
// symptoms, never the pages, with the answers recorded by someone else.
// The pages are real collections that nobody here wrote: the shared
// corpora beside the repository (corpus is relative to ../../shared), or,
// for sets named in BREADCRUMB_QUALITY_SETS, any directory.
type blindSet struct {
	Name   string `json:"name"`
	Corpus string `json:"corpus"`
	Rules  string `json:"rules,omitempty"` // a directory of rule files, relative like corpus
	About  string `json:"about"`
	// Heldout sets are measured, never looked into: their misses are not
	// printed, so that no change is fitted to them.
	Heldout   bool            `json:"heldout,omitempty"`
	Questions []blindQuestion `json:"questions"`
	Alerts    []blindAlert    `json:"alerts,omitempty"`
	// SiteURLs and RepoURL configure the corpus's source, as an
	// operator would, so that runbook links resolve.
	SiteURLs []string `json:"site_urls,omitempty"`
	RepoURL  string   `json:"repo_url,omitempty"`
	RepoPath string   `json:"repo_path,omitempty"`

	dir string // where the set's file is
}

type blindQuestion struct {
	Q    string   `json:"q"`
	Want []string `json:"want"`
	Kind string   `json:"kind,omitempty"`
	Hard string   `json:"hard,omitempty"`
}

// blindAlert is an alert as it arrives: labels and annotations.
type blindAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Want        []string          `json:"want"`
}

func readBlindSet(t *testing.T, file string) blindSet {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s blindSet
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	s.dir = filepath.Dir(file)
	return s
}

// resolve returns the directory a set's path names.
func (s blindSet) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if strings.HasPrefix(p, "corpora/") {
		return filepath.Join("..", "..", "shared", p)
	}
	if rest, ok := strings.CutPrefix(p, "external:"); ok {
		// A collection that is not beside the repository: a checkout of
		// its repository under BREADCRUMB_EXTERNAL_CORPORA.
		dir := os.Getenv("BREADCRUMB_EXTERNAL_CORPORA")
		if dir == "" {
			return ""
		}
		return filepath.Join(dir, rest)
	}
	return filepath.Join(s.dir, p)
}

// blindResult is one set's figures.
type blindResult struct {
	n, top1, top3 int
}

func (r blindResult) String() string {
	if r.n == 0 {
		return "none"
	}
	return fmt.Sprintf("top-1 %.1f%% top-3 %.1f%% (%d)", 100*float64(r.top1)/float64(r.n), 100*float64(r.top3)/float64(r.n), r.n)
}

func (r *blindResult) add(got, want []string) int {
	r.n++
	for i, p := range got {
		if i >= 3 {
			break
		}
		for _, w := range want {
			if p == w {
				if i == 0 {
					r.top1++
				}
				r.top3++
				return i + 1
			}
		}
	}
	return 0
}

// loadBlindCorpus reads a set's pages and rules into a library.
func loadBlindCorpus(t *testing.T, s blindSet, withRules bool) *runbooks.Library {
	t.Helper()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	cfg := runbooks.SourceConfig{SiteURLs: s.SiteURLs, RepoURL: s.RepoURL, RepoPath: s.RepoPath}
	if err := lib.Add(runbooks.NewDirSource("corpus", s.resolve(s.Corpus)), cfg); err != nil {
		t.Fatal(err)
	}
	if withRules && s.Rules != "" {
		if err := lib.AddRules(runbooks.NewDirSource("rules", s.resolve(s.Rules)), runbooks.SourceConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return lib
}

// blindSets returns the committed sets whose corpus is present, and the
// sets named in BREADCRUMB_QUALITY_SETS.
func blindSets(t *testing.T) []blindSet {
	t.Helper()
	files, _ := filepath.Glob("testdata/blind/*.json")
	if extra := os.Getenv("BREADCRUMB_QUALITY_SETS"); extra != "" {
		files = append(files, filepath.SplitList(extra)...)
	}
	var out []blindSet
	for _, f := range files {
		s := readBlindSet(t, f)
		if dir := s.resolve(s.Corpus); dir == "" {
			t.Logf("%s: its corpus %s is not here; set BREADCRUMB_EXTERNAL_CORPORA to a directory that holds it", s.Name, s.Corpus)
			continue
		} else if _, err := os.Stat(dir); err != nil {
			t.Logf("%s: no corpus at %s; this set runs where the shared corpora are present", s.Name, dir)
			continue
		}
		out = append(out, s)
	}
	return out
}

// TestBlindQuality measures search and matching on the blind sets, beside
// a plain BM25 index of the same pages (every field in one, identifiers
// split), and holds them above their floors.
func TestBlindQuality(t *testing.T) {
	sets := blindSets(t)
	if len(sets) == 0 {
		t.Skip("no blind set has its corpus here: the sets over ../shared run where the shared corpora are present")
	}
	verbose := os.Getenv("BREADCRUMB_QUALITY_VERBOSE") != ""
	for _, s := range sets {
		t.Run(s.Name, func(t *testing.T) {
			for _, withRules := range []bool{false, true} {
				if withRules && s.Rules == "" {
					continue
				}
				label := "pages only"
				if withRules {
					label = "with rules"
				}
				lib := loadBlindCorpus(t, s, withRules)
				ix := openIndex(t, t.TempDir())
				m := NewMatcher(lib, ix)
				if _, err := ix.UpdateNoted(lib.Pages(), m.Notes(), nil); err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				var ours, kinds = blindResult{}, map[string]*blindResult{}
				for _, q := range s.Questions {
					hits, err := ix.Search(ctx, Query{Text: q.Q, Limit: 3})
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, h := range hits {
						got = append(got, h.Path)
					}
					rank := ours.add(got, q.Want)
					for _, k := range []string{"kind:" + q.Kind, "hard:" + q.Hard} {
						if kinds[k] == nil {
							kinds[k] = &blindResult{}
						}
						kinds[k].add(got, q.Want)
					}
					if verbose && !s.Heldout && rank != 1 {
						t.Logf("miss (rank %d) %q: got %v, want %v", rank, q.Q, got, q.Want)
					}
				}
				var alerts blindResult
				confident, confidentRight := 0, 0
				for _, ba := range s.Alerts {
					a := runbooks.Alert{Labels: ba.Labels, Annotations: ba.Annotations, Source: runbooks.SourceAlertmanager}
					a.Fill()
					cands, err := m.Match(ctx, a, 3)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, c := range cands {
						got = append(got, c.Path)
					}
					if len(cands) > 0 && !cands[0].LowConfidence {
						confident++
						if slices.Contains(ba.Want, cands[0].Path) {
							confidentRight++
						}
					}
					if rank := alerts.add(got, ba.Want); verbose && !s.Heldout && rank != 1 {
						t.Logf("alert miss (rank %d) %s %v: got %v, want %v", rank, a.Name, ba.Labels, got, ba.Want)
					}
				}
				t.Logf("%s, %s: questions %s; alerts %s; confident first candidates %d, right %d", s.Name, label, ours, alerts, confident, confidentRight)
				if !withRules {
					base := bm25Baseline(t, lib.Pages(), s.Questions)
					t.Logf("%s: plain BM25 over the same pages: questions %s", s.Name, base)
				}
				var ks []string
				for k := range kinds {
					ks = append(ks, k)
				}
				sort.Strings(ks)
				for _, k := range ks {
					if !s.Heldout {
						t.Logf("  %s: %s", k, kinds[k])
					}
				}
			}
		})
	}
}

// bm25Baseline scores the questions against a plain BM25 index of the
// pages: one text field with everything, the same analyzer (identifiers
// split, stemmed), no weights, no synonyms, no typo tolerance.
func bm25Baseline(t *testing.T, pages []*runbooks.Runbook, questions []blindQuestion) blindResult {
	t.Helper()
	registerAnalysis()
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	if err := addAnalyzers(im); err != nil {
		t.Fatal(err)
	}
	doc := bleve.NewDocumentStaticMapping()
	f := bleve.NewTextFieldMapping()
	f.Analyzer = textAnalyzer
	doc.AddFieldMappingsAt("text", f)
	im.DefaultMapping = doc
	var _ mapping.IndexMapping = im
	idx, err := bleve.New(filepath.Join(t.TempDir(), "bm25"), im)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	b := idx.NewBatch()
	for _, rb := range pages {
		text := rb.Title + "\n" + rb.Name + "\n" + rb.Path + "\n" + plainMarkdown(rb.Text)
		if err := b.Index(rb.Path, map[string]any{"text": text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Batch(b); err != nil {
		t.Fatal(err)
	}
	var r blindResult
	for _, q := range questions {
		mq := bleve.NewMatchQuery(q.Q)
		mq.SetField("text")
		res, err := idx.Search(bleve.NewSearchRequestOptions(mq, 3, 0, false))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.ID)
		}
		r.add(got, q.Want)
	}
	return r
}

// TestAlertsWithoutTheirLinkMatchThroughTheirRules sends every alert of
// the known rules as PagerDuty and relays deliver them, with its name and
// labels but no annotations, and holds that each finds the page its
// rule's runbook_url names, as the alert with its link would.
func TestAlertsWithoutTheirLinkMatchThroughTheirRules(t *testing.T) {
	var set *blindSet
	for _, s := range blindSets(t) {
		if s.Rules != "" && len(s.SiteURLs) > 0 {
			set = &s
			break
		}
	}
	if set == nil {
		t.Skip("no blind set with rules has its corpus here: it runs where the shared corpora are present")
	}
	lib := loadBlindCorpus(t, *set, true)
	ix := openIndex(t, t.TempDir())
	m := NewMatcher(lib, ix)
	if _, err := ix.UpdateNoted(lib.Pages(), m.Notes(), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var linked, bare blindResult
	for _, rep := range m.Rules() {
		if rep.Runbook == nil || rep.Runbook.Rule != RuleRunbookURL {
			continue
		}
		want := []string{rep.Runbook.Path}
		labels := rep.StaticLabels()
		labels["alertname"] = rep.Alert
		labels["namespace"] = "shop"
		withLink := runbooks.Alert{Labels: labels, Annotations: map[string]string{"runbook_url": rep.RunbookURL()}, Source: runbooks.SourceAlertmanager}
		withLink.Fill()
		without := runbooks.Alert{Labels: labels, Source: runbooks.SourcePagerDuty}
		without.Fill()
		for _, c := range []struct {
			a runbooks.Alert
			r *blindResult
		}{{withLink, &linked}, {without, &bare}} {
			cands, err := m.Match(ctx, c.a, 3)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, cand := range cands {
				got = append(got, cand.Path)
			}
			if c.r.add(got, want) != 1 {
				t.Logf("%s (link %v): got %v, want %v", rep.Alert, c.a.RunbookURL != "", got, want)
			}
		}
	}
	t.Logf("%s: alerts with their link %s; without it, matched through their rules %s", set.Name, linked, bare)
	if bare.n == 0 || bare.top1 < bare.n*97/100 || bare.top1 < linked.top1*97/100 {
		t.Errorf("alerts without their link: %s, with it: %s; want 97%% top-1 and as well as with the link", bare, linked)
	}
}
