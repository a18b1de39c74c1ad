package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// commonPages returns n pages whose titles all say "service", and of
// which only the first says "zookeeper".
func commonPages(n int) []*runbooks.Runbook {
	var pages []*runbooks.Runbook
	for i := range n {
		word := fmt.Sprintf("widget%d", i)
		if i == 0 {
			word = "zookeeper"
		}
		md := fmt.Sprintf("# Service %s failing\n\nRestart the %s service.\n", word, word)
		pages = append(pages, runbooks.Parse(fmt.Sprintf("p%03d.md", i), []byte(md), runbooks.ParseOptions{Source: "t"}))
	}
	return pages
}

// commonCorpus indexes commonPages(n).
func commonCorpus(t *testing.T, n int) *Index {
	t.Helper()
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(commonPages(n), nil); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestTheFirstPhaseLeavesOutTermsThatMostPagesHave(t *testing.T) {
	ix := commonCorpus(t, commonFloor+50)
	ctx := context.Background()
	tests := []struct {
		name  string
		terms []string
		want  []string
	}{
		{"a common term beside a rare one goes", []string{"servic", "zookeep"}, []string{"zookeep"}},
		{"common terms alone stay", []string{"servic", "fail"}, []string{"servic", "fail"}},
		{"a term no page has goes", []string{"zookeep", "nowher"}, []string{"zookeep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, err := ix.withoutCommon(ctx, []fieldSearch{{fTitle, tt.terms}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range groups {
				got = append(got, g.terms...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestASearchOfCommonWordsStillFindsPages(t *testing.T) {
	ix := commonCorpus(t, commonFloor+50)
	for _, q := range []string{"service failing", "zookeeper service failing"} {
		hits, err := ix.Search(context.Background(), Query{Text: q, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 3 {
			t.Errorf("%q: got %d hits, want 3", q, len(hits))
		}
	}
	hits, err := ix.Search(context.Background(), Query{Text: "zookeeper service failing", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Path != "p000.md" {
		t.Errorf("got %v first, want p000.md", hits)
	}
}

func TestTermStatisticsFollowUpdates(t *testing.T) {
	ix := commonCorpus(t, 3)
	ctx := context.Background()
	pair := []fieldTerm{{fTitle, "zookeep"}}
	if df, err := ix.docFreqs(ctx, pair); err != nil || df[0] != 1 {
		t.Fatalf("before the update: got %v (%v), want [1]", df, err)
	}
	// The same pages, and one more about zookeeper.
	pages := append(commonPages(3), runbooks.Parse("extra.md", []byte("# Zookeeper sessions expire\n"), runbooks.ParseOptions{Source: "t"}))
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	if df, err := ix.docFreqs(ctx, pair); err != nil || df[0] != 2 {
		t.Errorf("after the update: got %v (%v), want [2]", df, err)
	}
}

// forceMerges returns how many times the index was merged into one
// segment, and how many segments it has now.
func forceMerges(t *testing.T, ix *Index) (merges, segments uint64) {
	t.Helper()
	adv, err := ix.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	m := adv.(*scorch.Scorch).StatsMap()
	return m["TotFileMergeForceOpsCompleted"].(uint64), m["TotFileSegmentsAtRoot"].(uint64) + m["TotMemorySegmentsAtRoot"].(uint64)
}

func TestABulkUpdateLeavesOneSegmentAndASmallOneNoMerge(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	pages := commonPages(mergeFloor + 100)
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	if merges, segments := forceMerges(t, ix); merges != 1 || segments != 1 {
		t.Errorf("after a bulk update: got %d merges and %d segments, want 1 and 1", merges, segments)
	}
	pages[1] = runbooks.Parse(pages[1].Path, []byte("# Changed\n"), runbooks.ParseOptions{Source: "t"})
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	if merges, _ := forceMerges(t, ix); merges != 1 {
		t.Errorf("after changing one page: got %d merges, want still 1", merges)
	}
}

func TestTheTypoQueryOfRareKnownWordsScoresAsBlevesFuzzyMatch(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(examplePages(t), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Words that a few pages have: their near terms are alternatives at
	// a low weight, as bleve's own fuzzy match weighs them.
	for _, words := range []string{"replication", "pgbouncer evicted"} {
		t.Run(words, func(t *testing.T) {
			for _, w := range ix.tokens(words) {
				df, _ := ix.docFreqs(ctx, []fieldTerm{{fAll, w}})
				if df[0] == 0 || df[0] > minRareTypo {
					t.Fatalf("%q is on %d pages: the case needs a rare word the pages have", w, df[0])
				}
			}
			mq := bleve.NewMatchQuery(words)
			mq.SetField(fAll)
			mq.SetBoost(0.3)
			mq.SetFuzziness(1)
			want, err := ix.run(ctx, mq, nil, 20, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time from the cache
				q, err := ix.typoQuery(ctx, fAll, words, 0.3)
				if err != nil || q == nil {
					t.Fatalf("typo query %v, %v", q, err)
				}
				got, err := ix.run(ctx, q, nil, 20, nil, false)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("got %d hits, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i].ID != want[i].ID || math.Abs(got[i].Score-want[i].Score) > 1e-9 {
						t.Errorf("hit %d: got %s %.6f, want %s %.6f", i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
					}
				}
			}
		})
	}
	// A word most pages have was meant as typed: no typo alternatives.
	if q, err := ix.typoQuery(ctx, fAll, "mitigation diagnosis", 0.3); q != nil || err != nil {
		t.Errorf("common words got a typo query %v (%v)", q, err)
	}
}

func TestAWordNoPageHasIsCorrectedAtFullWeight(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(examplePages(t), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct{ words, want string }{
		{"replicaton", "examples:databases/PostgresReplicationLagHigh.md"}, // a letter left out
		{"memroy evictoins", "examples:platform/RedisMemoryHigh.md"},       // letters swapped
		{"certifcate", "examples:platform/TLSCertificateExpiringSoon.md"},
	}
	for _, tt := range tests {
		q, err := ix.typoQuery(ctx, fAll, tt.words, 0.3)
		if err != nil || q == nil {
			t.Fatalf("%q: query %v, err %v", tt.words, q, err)
		}
		got, err := ix.run(ctx, q, nil, 3, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].ID != tt.want {
			t.Errorf("%q: got %v, want %s first", tt.words, got, tt.want)
		}
	}
	if q, err := ix.typoQuery(ctx, fAll, "zzzzzzzz", 0.3); q != nil || err != nil {
		t.Errorf("a word near nothing: query %v, err %v; want none", q, err)
	}
}

func TestKnownTermsRankAsMatchQueries(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(examplePages(t), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range exampleQuestions {
		t.Run(q.query, func(t *testing.T) {
			known, err := ix.knownTerms(ctx, q.query)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ix.run(ctx, textQuery(q.query, false, nil, nil), nil, 20, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ix.run(ctx, textQuery(q.query, false, nil, known), nil, 20, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d hits, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID {
					t.Errorf("hit %d: got %s, want %s", i, got[i].ID, want[i].ID)
				}
			}
		})
	}
}

func TestShortTermsOfALongWordAreNotMatchedWithATypo(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(examplePages(t), nil); err != nil {
		t.Fatal(err)
	}
	q, err := ix.typoQuery(context.Background(), fAll, "eu-1-v2", 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if q != nil {
		t.Errorf("got %#v, want no typo query for terms under %d characters", q, minTypoTerm)
	}
}
