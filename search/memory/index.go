package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// SchemaVersion changes whenever what is indexed changes; an index of
// another version is made again from the store.
const SchemaVersion = 1

// The index's fields.
const (
	fWords   = "words"   // the incident's text, analysed as English
	fAlert   = "alert"   // alert names, as they are
	fLabel   = "label"   // "namespace=shop" and the like
	fService = "service" // the service, as it is
	fRunbook = "runbook" // the runbook's ID
	fStatus  = "status"  // the incident's status
	fCreated = "created" // when it opened
	fRecord  = "record"  // the Record, as JSON: stored, not indexed
)

// Index is the index of past incidents. It is safe for concurrent use.
type Index struct {
	dir string
	idx bleve.Index
	now func() time.Time
	// rebuild is set when Open made a new, empty index that Rebuild
	// should fill.
	rebuild bool
	mu      sync.Mutex // serialises writes
	closed  sync.Once
}

// Options tune an Index.
type Options struct {
	// Now is the clock that ages incidents; nil means time.Now.
	Now func() time.Time
}

// Open opens the index in dir, making a new one when there is none, or
// when the one there is unreadable or of another schema: NeedsRebuild
// then says so.
func Open(dir string, o Options) (*Index, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	ix := &Index{dir: dir, now: o.Now}
	path := filepath.Join(dir, "incidents.bleve")
	schema, _ := os.ReadFile(filepath.Join(dir, "schema"))
	if strings.TrimSpace(string(schema)) == strconv.Itoa(SchemaVersion) {
		if idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": "2s"}); err == nil {
			ix.idx = idx
			return ix, nil
		}
	}
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("memory: removing the old index: %w", err)
	}
	idx, err := bleve.New(path, newMapping())
	if err != nil {
		return nil, fmt.Errorf("memory: creating the index in %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema"), []byte(strconv.Itoa(SchemaVersion)+"\n"), 0o640); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("memory: %w", err)
	}
	ix.idx, ix.rebuild = idx, true
	return ix, nil
}

// NeedsRebuild reports whether the index was made anew by Open and has
// not been rebuilt since.
func (ix *Index) NeedsRebuild() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.rebuild
}

// Close closes the index; closing it again does nothing.
func (ix *Index) Close() error {
	var err error
	ix.closed.Do(func() { err = ix.idx.Close() })
	return err
}

// Count is the number of incidents indexed.
func (ix *Index) Count() (uint64, error) { return ix.idx.DocCount() }

func newMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	field := func(analyzer string, indexed, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Index, f.Store = analyzer, indexed, store
		f.IncludeTermVectors, f.IncludeInAll, f.DocValues = false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fWords, field("en", true, false))
	for _, k := range []string{fAlert, fLabel, fService, fRunbook, fStatus} {
		doc.AddFieldMappingsAt(k, field("keyword", true, false))
	}
	created := bleve.NewDateTimeFieldMapping()
	created.Store, created.IncludeInAll = false, false
	doc.AddFieldMappingsAt(fCreated, created)
	doc.AddFieldMappingsAt(fRecord, field("keyword", false, true))
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	return im
}

// document is what bleve indexes of a record.
func document(r Record) (map[string]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	d := map[string]any{fWords: r.Words, fCreated: r.CreatedAt, fRecord: string(data), fStatus: string(r.Status)}
	if len(r.Alerts) > 0 {
		d[fAlert] = r.Alerts
	}
	if len(r.Labels) > 0 {
		d[fLabel] = r.Labels
	}
	if r.Service != "" {
		d[fService] = r.Service
	}
	if r.RunbookID != "" {
		d[fRunbook] = r.RunbookID
	}
	return d, nil
}

// Put indexes a record, in place of the incident's earlier one.
func (ix *Index) Put(r Record) error {
	d, err := document(r)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.idx.Index(r.ID, d)
}

// Source is where Rebuild and a Keeper read incidents: the incident
// Service.
type Source interface {
	Get(ctx context.Context, id string) (*incidents.Incident, error)
	Timeline(ctx context.Context, id string, after int64, limit int) ([]incidents.Event, error)
	EachAfter(ctx context.Context, f incidents.Filter, after incidents.Position, fn func(*incidents.Incident) error) error
}

// rebuildBatch is the number of incidents indexed at once by Rebuild.
const rebuildBatch = 256

// Rebuild indexes every incident of src, and returns how many.
func (ix *Index) Rebuild(ctx context.Context, src Source) (int, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	b := ix.idx.NewBatch()
	n := 0
	flush := func() error {
		if b.Size() == 0 {
			return nil
		}
		err := ix.idx.Batch(b)
		b.Reset()
		return err
	}
	err := src.EachAfter(ctx, incidents.Filter{}, incidents.Position{}, func(inc *incidents.Incident) error {
		events, err := src.Timeline(ctx, inc.ID, 0, 0)
		if err != nil {
			return fmt.Errorf("the timeline of %s: %w", inc.ID, err)
		}
		d, err := document(NewRecord(inc, events))
		if err != nil {
			return err
		}
		if err := b.Index(inc.ID, d); err != nil {
			return err
		}
		n++
		if b.Size() >= rebuildBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("memory: rebuilding: %w", err)
	}
	ix.rebuild = false
	return n, nil
}

// search runs a request and decodes the records of its hits.
func (ix *Index) search(ctx context.Context, req *bleve.SearchRequest) ([]Record, []float64, uint64, error) {
	req.Fields = []string{fRecord}
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("memory: %w", err)
	}
	recs := make([]Record, 0, len(res.Hits))
	scores := make([]float64, 0, len(res.Hits))
	for _, h := range res.Hits {
		raw, _ := h.Fields[fRecord].(string)
		var r Record
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			continue // written by this schema; never expected
		}
		recs = append(recs, r)
		scores = append(scores, h.Score)
	}
	return recs, scores, res.Total, nil
}

// excluding wraps q so that it never finds the incident id.
func excluding(q query.Query, id string) query.Query {
	b := bleve.NewBooleanQuery()
	b.AddMust(q)
	if id != "" {
		b.AddMustNot(bleve.NewDocIDQuery([]string{id}))
	}
	return b
}
