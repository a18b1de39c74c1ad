package search

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// numberedPages makes n pages, each with its number in its title, path
// and body, so that a page read for another is seen at once.
func numberedPages(n int) []*runbooks.Runbook {
	pages := make([]*runbooks.Runbook, n)
	for i := range n {
		md := fmt.Sprintf("# Page %03d\n\nThe body of page %03d: restart the service number %03d.\n\n## Steps\n\n1. Step of page %03d\n", i, i, i, i)
		pages[i] = runbooks.Parse(fmt.Sprintf("p%03d.md", i), []byte(md), runbooks.ParseOptions{Source: "t"})
	}
	return pages
}

// The guard of visitStored, which relies on how scorch numbers the
// documents of a snapshot: on an index of several segments, some of
// whose documents were deleted or replaced, every document's stored
// fields read by the number a search gives it are its own, the same as
// through bleve's public Document. The index is made with search's own
// mapping and documents, and with scorch's merging held back (no
// segment is small enough to merge), so that its segments stay apart. A bleve upgrade that numbers documents
// otherwise fails here.
func TestStoredFieldsByNumberHoldOnSegmentsWithDeletions(t *testing.T) {
	registerAnalysis()
	im, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.NewUsing(filepath.Join(t.TempDir(), "index.bleve"), im, scorch.Name, scorch.Name, map[string]any{
		"scorchMergePlanOptions": map[string]any{"MaxSegmentSize": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	write := func(pages []*runbooks.Runbook, remove []string) {
		t.Helper()
		b := idx.NewBatch()
		for _, p := range pages {
			if err := b.Index(p.ID, newDocument(p, PageNotes{})); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range remove {
			b.Delete(id)
		}
		if err := idx.Batch(b); err != nil {
			t.Fatal(err)
		}
		waitPersisted(t, idx)
	}
	all := numberedPages(60)
	want := map[string]*runbooks.Runbook{}
	for start := 0; start < len(all); start += 15 {
		write(all[start:start+15], nil)
	}
	// Delete every fifth page and replace every seventh, in a batch of
	// their own: the older segments keep them as deleted documents.
	var replaced []*runbooks.Runbook
	var removed []string
	for i, p := range all {
		switch {
		case i%5 == 0:
			removed = append(removed, p.ID)
			continue
		case i%7 == 0:
			md := fmt.Sprintf("# Page %03d, replaced\n\nThe new body of page %03d.\n", i, i)
			p = runbooks.Parse(p.Path, []byte(md), runbooks.ParseOptions{Source: "t"})
			replaced = append(replaced, p)
		}
		want[p.ID] = p
	}
	write(replaced, removed)

	adv, err := idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snap := r.(*scorch.IndexSnapshot)
	segments, deleted := 0, uint64(0)
	for _, seg := range snap.Segments() {
		segments++
		if d := seg.Deleted(); d != nil {
			deleted += d.GetCardinality()
		}
	}
	if segments < 4 || deleted == 0 {
		t.Fatalf("the snapshot has %d segments and %d deleted documents, want several and some: the guard would not guard", segments, deleted)
	}
	res, err := idx.Search(bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), len(all), 0, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != len(want) {
		t.Fatalf("got %d hits, want the %d pages kept", len(res.Hits), len(want))
	}
	for _, h := range res.Hits {
		rb := want[h.ID]
		if rb == nil {
			t.Fatalf("hit %s is no page kept", h.ID)
		}
		num, err := snap.InternalID(h.ID)
		if err != nil || num == nil {
			t.Fatalf("%s: no number (%v)", h.ID, err)
		}
		var byNumber, byID, public storedPage
		for _, read := range []struct {
			p   *storedPage
			r   index.IndexReader
			num index.IndexInternalID
		}{{&byNumber, snap, num}, {&byID, snap, nil}, {&public, otherReader{snap}, nil}} {
			if err := loadStored(read.r, h.ID, read.num, read.p, -1); err != nil {
				t.Fatal(err)
			}
		}
		if byNumber.title != rb.Title || byNumber.path != rb.Path || string(byNumber.field(longBody)) != plainMarkdown(rb.Text) {
			t.Errorf("%s by its number: got %q at %s, want %q at %s", h.ID, byNumber.title, byNumber.path, rb.Title, rb.Path)
		}
		for way, p := range map[string]*storedPage{"by ID": &byID, "through Document": &public} {
			if p.title != byNumber.title || string(p.field(longBody)) != string(byNumber.field(longBody)) {
				t.Errorf("%s: by number %q, %s %q: want the same", h.ID, byNumber.title, way, p.title)
			}
		}
	}
}

// waitPersisted waits until scorch has written every segment it holds in
// memory to disk.
func waitPersisted(t *testing.T, idx bleve.Index) {
	t.Helper()
	stop := time.Now().Add(10 * time.Second)
	for time.Now().Before(stop) {
		adv, err := idx.Advanced()
		if err != nil {
			t.Fatal(err)
		}
		if adv.(*scorch.Scorch).StatsMap()["TotMemorySegmentsAtRoot"].(uint64) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("scorch kept segments in memory for 10s")
}

// checkedBleve is the bleve version that scorch.go was last checked
// against, by the list in docs/architecture.md ("Upgrading bleve").
const checkedBleve = "v2.6.3"

// A new bleve goes in only once scorch.go has been checked against it.
func TestBleveIsTheVersionScorchGoWasCheckedAgainst(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/blevesearch/bleve/v2 (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no github.com/blevesearch/bleve/v2")
	}
	if v := string(m[1]); v != checkedBleve {
		t.Errorf("go.mod requires bleve %s; scorch.go was checked against %s: go through \"Upgrading bleve\" in docs/architecture.md, then set checkedBleve", v, checkedBleve)
	}
}
