package search

import (
	"fmt"
	"sync"

	index "github.com/blevesearch/bleve_index_api"
)

// storedPage is what a hit shows of its page: the stored fields that
// make its title, its place and its snippet. The long fields are copied
// into buf, which is reused from one hit and one search to the next: a
// page's body can weigh 200 KB, and reading every stored field of each
// hit was half of what a search allocated.
type storedPage struct {
	title, source, path string
	long                [3][2]int // description, steps, body: ranges of buf
	buf                 []byte
	scan                int // how much of each long field to keep; -1 for all
}

// The long fields of a storedPage, in the order a snippet prefers them.
const (
	longDescription = iota
	longSteps
	longBody
)

var storedPages = sync.Pool{New: func() any { return new(storedPage) }}

// maxPooledPage is the largest buffer kept for the next search; a page
// larger than that is read into a buffer that is then dropped.
const maxPooledPage = 256 << 10

func (p *storedPage) reset() {
	p.title, p.source, p.path = "", "", ""
	p.long = [3][2]int{}
	p.buf = p.buf[:0]
}

// field returns one of the long fields.
func (p *storedPage) field(i int) []byte {
	r := p.long[i]
	return p.buf[r[0]:r[1]]
}

// visit keeps the fields a hit needs; it is a stored field visitor.
func (p *storedPage) visit(name string, _ byte, val []byte, _ []uint64) bool {
	keep := func(i int) {
		if p.scan >= 0 {
			val = clipBytes(val, p.scan)
		}
		start := len(p.buf)
		p.buf = append(p.buf, val...)
		p.long[i] = [2]int{start, len(p.buf)}
	}
	switch name {
	case fTitle:
		p.title = string(val)
	case fSource:
		p.source = string(val)
	case fPath:
		p.path = string(val)
	case fDescription:
		keep(longDescription)
	case fSteps:
		keep(longSteps)
	case fBody:
		keep(longBody)
	}
	return true
}

// loadStored reads the stored fields of the page id from r into p,
// keeping at most the first scan bytes of each long field (all of them
// when scan is negative). num is the page's document number in r when it
// is known, and nil otherwise. A scorch snapshot is visited in place
// (visitStored); any other reader through Document, which copies every
// field. A page that is no longer there leaves p empty.
func loadStored(r index.IndexReader, id string, num index.IndexInternalID, p *storedPage, scan int) error {
	p.reset()
	p.scan = scan
	if handled, err := visitStored(r, id, num, p.visit); handled {
		return wrapStored(id, err)
	}
	doc, err := r.Document(id)
	if err != nil || doc == nil {
		return wrapStored(id, err)
	}
	doc.VisitFields(func(f index.Field) {
		if _, text := f.(index.TextField); text {
			p.visit(f.Name(), 't', f.Value(), nil)
		}
	})
	return nil
}

func wrapStored(id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("search: stored fields of %s: %w", id, err)
}
