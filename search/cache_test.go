package search

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func TestASearchIsAnsweredFromTheCacheUntilTheNextUpdate(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	pages := commonPages(3)
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := Query{Text: "zookeeper", Limit: 5}
	first, err := ix.Search(ctx, q)
	if err != nil || len(first) != 1 {
		t.Fatalf("got %v (%v), want one hit", first, err)
	}
	first[0].Title = "changed by the caller"
	again, err := ix.Search(ctx, q)
	if err != nil || len(again) != 1 || again[0].Title == "changed by the caller" {
		t.Fatalf("got %v (%v), want the hit as found, not as the caller changed it", again, err)
	}
	if _, ok, _ := ix.results.get(q.key(5)); !ok {
		t.Error("the search is not in the cache")
	}
	pages = append(pages, runbooks.Parse("extra.md", []byte("# Zookeeper sessions expire\n"), runbooks.ParseOptions{Source: "t"}))
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	after, err := ix.Search(ctx, q)
	if err != nil || len(after) != 2 {
		t.Errorf("after the update: got %v (%v), want two hits", after, err)
	}
}

func TestTheResultCacheKeepsTheMostRecentSearches(t *testing.T) {
	c := newResultCache(2)
	_, _, gen := c.get("a")
	for _, k := range []string{"a", "b"} {
		c.put(k, gen, []Hit{{ID: k}})
	}
	c.get("a") // a is now the most recent
	c.put("c", gen, []Hit{{ID: "c"}})
	for k, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, ok, _ := c.get(k); ok != want {
			t.Errorf("%s kept: got %v, want %v", k, ok, want)
		}
	}
	c.clear()
	c.put("d", gen, []Hit{{ID: "d"}}) // found before the clear: not kept
	if _, ok, _ := c.get("d"); ok {
		t.Error("got a result stored under an old generation, want it dropped")
	}
}

func TestANegativeResultCacheKeepsNothing(t *testing.T) {
	ix, err := Open(Config{Dir: t.TempDir(), ResultCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Update(commonPages(2), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Search(context.Background(), Query{Text: "zookeeper"}); err != nil {
		t.Fatal(err)
	}
	if ix.results != nil {
		t.Errorf("got a cache of %d, want none", ix.results.size)
	}
}

func TestSearchesThatDifferOnlyInLimitOrFiltersAreNotConfused(t *testing.T) {
	keys := map[string]string{}
	for _, q := range []Query{
		{Text: "disk", Limit: 3}, {Text: "disk", Limit: 4}, {Text: "disk", Service: "db"},
		{Text: "disk", Team: "db"}, {Text: "disk", Tags: []string{"db"}}, {Text: "disk db"},
	} {
		k := q.key(q.Limit)
		if other, ok := keys[k]; ok {
			t.Errorf("%+v and %s share a key", q, other)
		}
		keys[k] = fmt.Sprintf("%+v", q)
	}
}

func TestALongQueryIsSearchedButNotKept(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(commonPages(3), nil); err != nil {
		t.Fatal(err)
	}
	q := Query{Text: "zookeeper " + strings.Repeat("x", maxCachedKey), Limit: 5}
	hits, err := ix.Search(context.Background(), q)
	if err != nil || len(hits) != 1 {
		t.Fatalf("got %v (%v), want the one page found by its first word", hits, err)
	}
	if n := ix.results.order.Len(); n != 0 {
		t.Errorf("got %d searches kept, want none for a query of %d bytes", n, len(q.Text))
	}
}
