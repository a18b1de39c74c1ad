package search

import (
	"context"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// This file is all that search knows of scorch, bleve's index format,
// beyond bleve's public API. Three things, each with a fallback when the
// index is not scorch's:
//
//   - currentSnapshot: the snapshot a search runs on, so that its hits'
//     stored fields are read from the same documents (fallback: a reader
//     of the index as it is when the hits are read);
//   - visitStored: a document's stored fields visited in place, by the
//     number its hit carries (fallback: Document, which copies every
//     field);
//   - forceMerge: the index merged into one segment after a bulk update
//     (fallback: none; bleve's own merging, slower queries).
//
// visitStored depends on how a snapshot numbers its documents, which
// bleve does not document: across its segments, in order, each counting
// its deleted documents too. scorch_test.go holds that on an index of
// several segments with deletions. docs/architecture.md ("Upgrading
// bleve") lists what to check before a new bleve version goes in.

// currentSnapshot returns the index's current scorch snapshot, to be
// closed, or nil when the index is not scorch's or cannot give one.
func currentSnapshot(idx bleve.Index) index.IndexReader {
	adv, err := idx.Advanced()
	if err != nil {
		return nil
	}
	r, err := adv.Reader()
	if err != nil {
		return nil
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		_ = r.Close()
		return nil
	}
	return snap
}

// visitStored visits the stored fields of the document id in r, in place;
// num is its number in r when a hit gave it, else nil. handled is false
// when r is not a scorch snapshot: the caller reads r.Document instead. A
// document that is not there is visited not at all.
func visitStored(r index.IndexReader, id string, num index.IndexInternalID, visit segment.StoredFieldValueVisitor) (handled bool, err error) {
	is, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return false, nil
	}
	if num == nil {
		if num, err = is.InternalID(id); err != nil || num == nil {
			return true, err
		}
	}
	n := num.Value()
	for _, seg := range is.Segments() {
		c := seg.Segment().Count()
		if n < c {
			return true, seg.VisitDocument(n, visit)
		}
		n -= c
	}
	return true, nil
}

// forceMerge merges the index into one segment and waits; merged is false
// when the index is not scorch's.
func forceMerge(ctx context.Context, idx bleve.Index) (merged bool, err error) {
	adv, err := idx.Advanced()
	if err != nil {
		return false, err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return false, nil
	}
	return true, sc.ForceMerge(ctx, &mergeplan.SingleSegmentMergePlanOptions)
}
