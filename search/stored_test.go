package search

import (
	"context"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// otherReader hides a scorch snapshot's type, so that loadStored takes
// the way of any other index: bleve's Document.
type otherReader struct{ index.IndexReader }

func TestStoredFieldsReadTheSameByNumberByIDAndThroughDocument(t *testing.T) {
	pages := examplePages(t)
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*runbooks.Runbook{}
	for _, p := range pages {
		byID[p.ID] = p
	}
	f, err := ix.top(context.Background(), bleve.NewMatchAllQuery(), nil, len(pages))
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if f.snap == nil {
		t.Fatal("got no snapshot for a search on an index that did not change, want the one it ran on")
	}
	if len(f.res.Hits) != len(pages) {
		t.Fatalf("got %d hits, want every one of the %d pages", len(f.res.Hits), len(pages))
	}
	for _, h := range f.res.Hits {
		rb := byID[h.ID]
		if rb == nil {
			t.Fatalf("got hit %s, which is no page", h.ID)
		}
		for _, scan := range []int{-1, 16} {
			var got [3]storedPage
			for i, load := range []func(p *storedPage) error{
				func(p *storedPage) error { return loadStored(f.snap, h.ID, h.IndexInternalID, p, scan) },
				func(p *storedPage) error { return loadStored(f.snap, h.ID, nil, p, scan) },
				func(p *storedPage) error { return loadStored(otherReader{f.snap}, h.ID, nil, p, scan) },
			} {
				if err := load(&got[i]); err != nil {
					t.Fatalf("%s: %v", h.ID, err)
				}
			}
			want := []string{rb.Title, rb.Source, rb.Path, rb.Description, plainMarkdown(rb.Text)}
			if scan >= 0 {
				want[3], want[4] = clipBytes(want[3], scan), clipBytes(want[4], scan)
			}
			for i, way := range []string{"by number", "by ID", "through Document"} {
				p := &got[i]
				have := []string{p.title, p.source, p.path, string(p.field(longDescription)), string(p.field(longBody))}
				for j, name := range []string{"title", "source", "path", "description", "body"} {
					if have[j] != want[j] {
						t.Errorf("%s read %s with scan %d: got %s %.60q, want %.60q", h.ID, way, scan, name, have[j], want[j])
					}
				}
				if scan >= 0 && len(p.field(longSteps)) > scan {
					t.Errorf("%s read %s with scan %d: got %d bytes of steps, want at most %d", h.ID, way, scan, len(p.field(longSteps)), scan)
				}
			}
		}
	}
}

func TestHitsAreReadFromTheIndexTheSearchRanOn(t *testing.T) {
	pages := examplePages(t)
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := ix.top(ctx, bleve.NewMatchAllQuery(), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.res.Hits) != 1 {
		f.close()
		t.Fatalf("got %d hits, want 1", len(f.res.Hits))
	}
	id := f.res.Hits[0].ID
	var rest []*runbooks.Runbook
	var gone *runbooks.Runbook
	for _, p := range pages {
		if p.ID == id {
			gone = p
			continue
		}
		rest = append(rest, p)
	}
	// The page found is deleted before the hit is made of it.
	if _, err := ix.Update(rest, nil); err != nil {
		f.close()
		t.Fatal(err)
	}
	hits, err := ix.hitsOf(f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Title != gone.Title || hits[0].Path != gone.Path {
		t.Fatalf("got hits %+v, want %s titled %q as the search found it", hits, gone.Path, gone.Title)
	}
	if strings.TrimSpace(hits[0].Snippet.Text) == "" {
		t.Errorf("got no snippet for %s, want the start of its body", gone.Path)
	}
}
