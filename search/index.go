package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// SchemaVersion changes whenever the mapping or the documents change; an
// index of another version is rebuilt.
const SchemaVersion = 8

// ErrLocked is returned by Open when another process holds the index.
var ErrLocked = errors.New("search index is in use by another process")

// Config configures an Index.
type Config struct {
	// Dir holds the index, its manifest and its lock file; it is created
	// when missing.
	Dir string
	// Logger receives rebuild and update notes; nil discards them.
	Logger *slog.Logger
	// ResultCache is how many recent searches have their hits kept, so
	// that the same search is answered again without the index until the
	// next Update changes it. 0 means DefaultResultCache; a negative
	// number keeps none.
	ResultCache int
}

// Index is the persistent full-text index of the runbooks. It is safe for
// concurrent use.
type Index struct {
	dir    string
	logger *slog.Logger
	lock   *os.File

	mu       sync.RWMutex // guards idx and manifest
	idx      bleve.Index
	manifest map[string]string // runbook ID → content hash
	rebuilt  bool

	stats   termStats    // document frequencies of query terms
	results *resultCache // nil when Config.ResultCache < 0
}

type manifestFile struct {
	Schema int               `json:"schema"`
	Pages  map[string]string `json:"pages"`
}

// Open opens the index in cfg.Dir, creating it when it is missing and
// rebuilding it (empty) when it is corrupt or of another schema version;
// Update then fills it. When another process has the index open, Open
// fails at once with an error wrapping ErrLocked that names that process.
func Open(cfg Config) (*Index, error) {
	registerAnalysis()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("search: open %s: %w", cfg.Dir, err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: cfg.Dir, logger: logger, lock: lock, results: newResultCache(cfg.ResultCache)}
	if err := ix.open(); err != nil {
		ix.unlock()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) indexPath() string    { return filepath.Join(ix.dir, "index.bleve") }
func (ix *Index) manifestPath() string { return filepath.Join(ix.dir, "manifest.json") }

// lockDir takes an exclusive, non-blocking lock on dir/lock and writes our
// PID into it, so that a second process is told who holds the index.
func lockDir(dir string) (*os.File, error) {
	p := filepath.Join(dir, "lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("search: lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(p)
		_ = f.Close()
		who := "another process"
		if pid := strings.TrimSpace(string(holder)); pid != "" {
			who = "process " + pid
		}
		return nil, fmt.Errorf("search: the index in %s is in use by %s (is `breadcrumb serve` running on this data directory?): %w", dir, who, ErrLocked)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func (ix *Index) unlock() {
	if ix.lock != nil {
		_ = syscall.Flock(int(ix.lock.Fd()), syscall.LOCK_UN)
		_ = ix.lock.Close()
		ix.lock = nil
	}
}

// open loads the manifest and the index, rebuilding when either is
// missing, unreadable or of another schema.
func (ix *Index) open() error {
	m, merr := readManifest(ix.manifestPath())
	if merr == nil && m.Schema == SchemaVersion {
		idx, err := bleve.OpenUsing(ix.indexPath(), map[string]any{"bolt_timeout": "2s"})
		if err == nil {
			// bleve opens an index whose segment is corrupt as an empty
			// one: the manifest would then claim pages the index lacks.
			n, cerr := idx.DocCount()
			if cerr == nil && n == uint64(len(m.Pages)) {
				ix.idx, ix.manifest = idx, m.Pages
				return nil
			}
			_ = idx.Close()
			err = fmt.Errorf("it holds %d pages, its manifest %d", n, len(m.Pages))
		}
		ix.logger.Warn("search index unreadable; rebuilding it", "dir", ix.dir, "err", err)
	} else if merr == nil {
		ix.logger.Info("search index is of an older schema; rebuilding it", "dir", ix.dir,
			"schema", m.Schema, "want", SchemaVersion)
	} else if !errors.Is(merr, os.ErrNotExist) {
		ix.logger.Warn("search index manifest unreadable; rebuilding the index", "dir", ix.dir, "err", merr)
	}
	return ix.create()
}

func (ix *Index) create() error {
	if err := os.RemoveAll(ix.indexPath()); err != nil {
		return fmt.Errorf("search: remove old index: %w", err)
	}
	_ = os.Remove(ix.manifestPath())
	im, err := newMapping()
	if err != nil {
		return fmt.Errorf("search: mapping: %w", err)
	}
	idx, err := bleve.New(ix.indexPath(), im)
	if err != nil {
		return fmt.Errorf("search: create index in %s: %w", ix.dir, err)
	}
	ix.idx, ix.manifest, ix.rebuilt = idx, map[string]string{}, true
	return ix.writeManifest()
}

func readManifest(p string) (manifestFile, error) {
	var m manifestFile
	data, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, err
	}
	if m.Pages == nil {
		m.Pages = map[string]string{}
	}
	return m, nil
}

// writeManifest replaces the manifest atomically. It is written after the
// batches it describes have been persisted, so a crash in between leaves
// an older manifest, which only makes the next Update redo some work.
func (ix *Index) writeManifest() error {
	data, err := json.Marshal(manifestFile{Schema: SchemaVersion, Pages: ix.manifest})
	if err != nil {
		return err
	}
	tmp := ix.manifestPath() + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("search: write manifest: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("search: write manifest: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("search: write manifest: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("search: write manifest: %w", err)
	}
	if err := os.Rename(tmp, ix.manifestPath()); err != nil {
		return fmt.Errorf("search: write manifest: %w", err)
	}
	return nil
}

// Close closes the index and releases its lock.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var err error
	if ix.idx != nil {
		err = ix.idx.Close()
		ix.idx = nil
	}
	ix.unlock()
	return err
}

// Rebuilt reports whether Open had to create the index anew (missing,
// corrupt or of an older schema).
func (ix *Index) Rebuilt() bool { return ix.rebuilt }

// Len returns the number of pages in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.manifest)
}

// UpdateStats says what an Update did.
type UpdateStats struct {
	Indexed   int           // pages added or changed
	Deleted   int           // pages removed
	Unchanged int           // pages already up to date
	Took      time.Duration // wall time
}

// Progress is told how many of the pages to index are done.
type Progress func(done, total int)

// Pages are indexed batchSize at a time, by indexWorkers goroutines. On
// the 10,000 real pages of make-scale-corpus, `breadcrumb index` took
// 14.1 s with one worker and batches of 256 (many small segments to
// merge), 8.5 s with two and batches of 512; batches of 1,024 were no
// faster, and took 160 MB more at their peak.
const (
	batchSize    = 512
	indexWorkers = 2
)

// indexChunk indexes pages in one batch. load, when not nil, gives the
// whole page of one that the caller keeps only a summary of.
func (ix *Index) indexChunk(pages []*runbooks.Runbook, notes map[string]PageNotes, load func(*runbooks.Runbook) (*runbooks.Runbook, error)) error {
	// A fresh batch each time: scorch may still read one from a goroutine
	// of its own after Batch returns.
	batch := ix.idx.NewBatch()
	for _, rb := range pages {
		page := rb
		if load == nil && rb.IsSlim() {
			return fmt.Errorf("search: index %s: the page is slim, and there is no library to read it whole from", rb.ID)
		}
		if load != nil {
			var err error
			if page, err = load(rb); err != nil {
				return fmt.Errorf("search: index %s: %w", rb.ID, err)
			}
		}
		if err := batch.Index(rb.ID, newDocument(page, notes[rb.ID])); err != nil {
			return fmt.Errorf("search: index %s: %w", rb.ID, err)
		}
	}
	if err := ix.idx.Batch(batch); err != nil {
		return fmt.Errorf("search: update: %w", err)
	}
	return nil
}

// Update makes the index hold exactly pages: a page whose content hash is
// already indexed is skipped, a new or changed page is indexed, and a page
// no longer present is deleted. progress may be nil.
func (ix *Index) Update(pages []*runbooks.Runbook, progress Progress) (UpdateStats, error) {
	return ix.UpdateNoted(pages, nil, progress)
}

// Library is what Sync reads of the runbooks: every page, whole or slim
// (see runbooks.Runbook.Slim), and each page whole by its ID.
type Library interface {
	Pages() []*runbooks.Runbook
	Get(id string) (*runbooks.Runbook, bool)
}

// Sync is UpdateNoted over a library that may keep its pages slim: the
// pages to index are read whole from it.
func (ix *Index) Sync(lib Library, notes map[string]PageNotes, progress Progress) (UpdateStats, error) {
	load := func(rb *runbooks.Runbook) (*runbooks.Runbook, error) {
		if !rb.IsSlim() {
			return rb, nil
		}
		whole, ok := lib.Get(rb.ID)
		if !ok || whole.IsSlim() {
			return nil, errors.New("the page could not be read whole")
		}
		return whole, nil
	}
	return ix.updateAndMerge(lib.Pages(), notes, load, progress)
}

// UpdateNoted is Update, with what the alert rules say about the pages
// (see Matcher.Notes), by page ID: a page is indexed again when its notes
// change.
func (ix *Index) UpdateNoted(pages []*runbooks.Runbook, notes map[string]PageNotes, progress Progress) (UpdateStats, error) {
	return ix.updateAndMerge(pages, notes, nil, progress)
}

func (ix *Index) updateAndMerge(pages []*runbooks.Runbook, notes map[string]PageNotes, load func(*runbooks.Runbook) (*runbooks.Runbook, error), progress Progress) (UpdateStats, error) {
	start := time.Now()
	st, merge, err := ix.update(pages, notes, load, progress)
	if err != nil || !merge {
		return st, err
	}
	// The merge runs beside searches (scorch serves them from the
	// segments it merges), under the read lock that keeps Close out.
	ix.mu.RLock()
	if ix.idx != nil {
		ix.merge()
	}
	ix.mu.RUnlock()
	st.Took = time.Since(start)
	return st, nil
}

// update is Update's work under the write lock; merge says whether the
// index should now be merged into one segment.
func (ix *Index) update(pages []*runbooks.Runbook, notes map[string]PageNotes, load func(*runbooks.Runbook) (*runbooks.Runbook, error), progress Progress) (st UpdateStats, merge bool, err error) {
	start := time.Now()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx == nil {
		return UpdateStats{}, false, errors.New("search: update: index is closed")
	}
	var todo []*runbooks.Runbook
	present := make(map[string]bool, len(pages))
	for _, rb := range pages {
		present[rb.ID] = true
		if ix.manifest[rb.ID] == indexedHash(rb, notes[rb.ID]) {
			st.Unchanged++
			continue
		}
		todo = append(todo, rb)
	}
	var gone []string
	for id := range ix.manifest {
		if !present[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	if len(todo) == 0 && len(gone) == 0 {
		st.Took = time.Since(start)
		return st, false, nil
	}
	defer ix.stats.clear()
	defer ix.results.clear()
	// Deletions go first, in a batch of their own.
	if len(gone) > 0 {
		batch := ix.idx.NewBatch()
		for _, id := range gone {
			batch.Delete(id)
		}
		if err := ix.idx.Batch(batch); err != nil {
			return st, false, fmt.Errorf("search: update: %w", err)
		}
		for _, id := range gone {
			delete(ix.manifest, id)
		}
		st.Deleted = len(gone)
	}
	// Pages are indexed in batches by indexWorkers goroutines at once:
	// scorch analyses a batch's documents in parallel but builds its
	// segment on one core, so a second batch keeps the other core busy.
	// Each batch records its pages in the manifest once it is in the
	// index.
	var (
		mu       sync.Mutex
		firstErr error
		done     int
	)
	chunks := make(chan []*runbooks.Runbook)
	var wg sync.WaitGroup
	for range indexWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				if err := ix.indexChunk(chunk, notes, load); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				mu.Lock()
				for _, rb := range chunk {
					ix.manifest[rb.ID] = indexedHash(rb, notes[rb.ID])
				}
				done += len(chunk)
				st.Indexed += len(chunk)
				if progress != nil {
					progress(done, len(todo))
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(todo); i += batchSize {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		chunks <- todo[i:min(len(todo), i+batchSize)]
	}
	close(chunks)
	wg.Wait()
	if firstErr != nil {
		return st, false, firstErr
	}
	if progress != nil && len(todo) == 0 {
		progress(0, 0)
	}
	if err := ix.writeManifest(); err != nil {
		return st, false, err
	}
	st.Took = time.Since(start)
	ix.logger.Info("search index updated", "indexed", st.Indexed, "deleted", st.Deleted,
		"unchanged", st.Unchanged, "took", st.Took.Round(time.Millisecond).String())
	return st, st.Indexed >= max(mergeFloor, len(ix.manifest)/mergeShare), nil
}

// An update that indexed at least a tenth of the pages, and at least
// mergeFloor, merges the index into one segment: a bulk build leaves
// several, and a query looks each of its terms up in every segment.
// (Merging 10,000 pages takes about a second; queries then take a tenth
// less.) Smaller updates are left to scorch's own merging.
const (
	mergeShare = 10
	mergeFloor = 500
)

// merge asks scorch to merge the index into one segment, and waits. A
// failure only costs query time, and is logged.
func (ix *Index) merge() {
	start := time.Now()
	merged, err := forceMerge(context.Background(), ix.idx)
	switch {
	case err != nil:
		ix.logger.Warn("search index not merged", "err", err)
	case merged:
		ix.logger.Info("search index merged", "took", time.Since(start).Round(time.Millisecond).String())
	}
}

// Fields of the indexed documents.
const (
	fTitle       = "title"
	fName        = "name"
	fAlert       = "alert"      // exact, lower-cased alert names
	fAlertText   = "alert_text" // the same names, split into words
	fAlias       = "alias"
	fService     = "service"
	fTeam        = "team"
	fTag         = "tag"
	fSource      = "source"
	fPath        = "path"
	fMeta        = "meta" // service, team and tags as text
	fDescription = "description"
	fHeadings    = "headings"
	fSteps       = "steps"
	fBody        = "body"
	fRules       = "rules" // what the alert rules that lead to the page say
	fDirs        = "dirs"  // the directories of the page's path, as words
	fAll         = "all"   // every word of the page, once
)

func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	if err := addAnalyzers(im); err != nil {
		return nil, err
	}
	// No field keeps term vectors or doc values: searches score with
	// term frequencies, and snippets are cut from the stored text, so
	// positions and uninverted values would only cost indexing time and
	// disk.
	field := func(analyzer string, index, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Index = index
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	text := func(store bool) *mapping.FieldMapping { return field(textAnalyzer, true, store) }
	stored := func() *mapping.FieldMapping { return field(textAnalyzer, false, true) }
	keyword := func(store bool) *mapping.FieldMapping { return field(keywordAnalyzer, true, store) }
	doc := bleve.NewDocumentStaticMapping()
	for name, fm := range map[string]*mapping.FieldMapping{
		fTitle: text(true), fName: text(false), fAlertText: text(false), fMeta: text(false),
		fDescription: text(true), fHeadings: text(false), fRules: text(false), fDirs: text(false),
		fAll:   text(false),
		fSteps: stored(), fBody: stored(),
		fAlert: keyword(false), fAlias: keyword(false), fService: keyword(true), fTeam: keyword(true),
		fTag: keyword(false), fSource: keyword(true), fPath: keyword(true),
	} {
		doc.AddFieldMappingsAt(name, fm)
	}
	// Every word of the page is in one field, analyzed once (see
	// newDocument); bleve's own composite of every field would analyze
	// the body a second time and keep term vectors for it.
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	im.DefaultAnalyzer = textAnalyzer
	return im, nil
}

// indexedHash is what the manifest records of an indexed page: its
// content hash, and a hash of its notes when it has some.
func indexedHash(rb *runbooks.Runbook, n PageNotes) string {
	k := n.key()
	if k == "" {
		return rb.Hash
	}
	sum := sha256.Sum256([]byte(k))
	return rb.Hash + "+" + hex.EncodeToString(sum[:8])
}

// newDocument is what the index holds of a page, with what the alert
// rules that lead to it say.
func newDocument(rb *runbooks.Runbook, notes PageNotes) map[string]any {
	var alerts, alertText, headings, steps []string
	for _, a := range rb.Alerts {
		if a.Name != "" {
			alerts = append(alerts, strings.ToLower(a.Name))
			alertText = append(alertText, a.Name)
		}
	}
	for _, name := range notes.Alerts {
		if !slices.Contains(alerts, strings.ToLower(name)) {
			alerts = append(alerts, strings.ToLower(name))
			alertText = append(alertText, name)
		}
	}
	for _, s := range rb.Sections {
		if s.Level > 1 {
			headings = append(headings, s.Heading)
		}
	}
	for _, s := range rb.Steps {
		body := plainMarkdown(s.Body)
		if !strings.HasPrefix(strings.TrimSpace(body), strings.TrimRight(s.Title, "…")) {
			body = s.Title + "\n" + body
		}
		steps = append(steps, body)
	}
	lower := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = strings.ToLower(s)
		}
		return out
	}
	meta := strings.Join(append(append([]string{rb.Service, rb.Team}, rb.Tags...), rb.Owners...), " ")
	// A service page's name is its directory's: docs/gitaly/README.md is
	// the gitaly page.
	name := rb.Name
	dirs := strings.Split(path.Dir(rb.Path), "/")
	if dirs[0] == "." {
		dirs = nil
	}
	switch strings.ToLower(name) {
	case "readme", "index", "_index":
		if len(dirs) > 0 {
			name = dirs[len(dirs)-1]
		}
	}
	body := plainMarkdown(rb.Text)
	dirText := strings.Join(dirs, " ")
	all := strings.Join([]string{rb.Title, name, strings.Join(alertText, " "), meta, rb.Description, body, notes.Text, dirText}, "\n")
	return map[string]any{
		fTitle:       rb.Title,
		fName:        name,
		fDirs:        dirText,
		fAlert:       alerts,
		fAlertText:   strings.Join(alertText, " "),
		fAlias:       lower(rb.Aliases),
		fService:     strings.ToLower(rb.Service),
		fTeam:        strings.ToLower(rb.Team),
		fTag:         lower(rb.Tags),
		fSource:      rb.Source,
		fPath:        rb.Path,
		fMeta:        meta,
		fDescription: rb.Description,
		fHeadings:    strings.Join(headings, "\n"),
		fSteps:       strings.Join(steps, "\n\n"),
		fBody:        body,
		fRules:       notes.Text,
		fAll:         all,
	}
}
