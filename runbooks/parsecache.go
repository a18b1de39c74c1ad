package runbooks

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ParserVersion names the behaviour of Parse. It changes whenever Parse
// makes something else of some page, so that pages cached by an older
// parser are parsed again.
const ParserVersion = 1

// pageCache keeps each source's parsed pages in a file of its own under
// a directory, so that a restart parses only the pages whose content
// changed. A cache written by another parser version or another build of
// the program is ignored: a development build cannot read pages that an
// older parser made.
type pageCache struct {
	dir   string
	build string
}

func newPageCache(dir string) *pageCache {
	return &pageCache{dir: dir, build: strconv.Itoa(ParserVersion) + " " + buildID()}
}

// cacheHeader opens a cache file: the pages that follow are valid only
// for this parser, build, source and page size limit.
type cacheHeader struct {
	Build       string
	Source      string
	MaxPageSize int
	Pages       int
}

// cachedPage is a Runbook with what gob does not carry by itself: the
// unexported fields, and the front matter's free-form Params as JSON
// (gob would need every type a YAML or TOML value can take registered).
// A section's markdown is a part of the page's Text, and is kept as its
// place in it: that halves the cache, and the time to read it.
type cachedPage struct {
	Page        Runbook
	Params      []byte
	Empty       bool
	Slim        bool
	Size        int64 // the file's, when it was read
	ModTime     int64
	HugoRefs    map[string]bool
	HTMLAnchors []string
	// SectionsAt holds, for each section whose Markdown was left out,
	// its offset and length in Page.Text; {-1, 0} for the others.
	SectionsAt [][2]int
}

func (c *pageCache) path(source string) string {
	return filepath.Join(c.dir, source+".pages")
}

// read returns the pages cached for a source, by path; nil when there is
// no usable cache.
func (c *pageCache) read(source string, opts ParseOptions) (map[string]*Runbook, error) {
	f, err := os.Open(c.path(source))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("runbooks: read parsed pages of %s: %w", source, err)
	}
	defer f.Close()
	pages, err := decodePages(bufio.NewReaderSize(f, 1<<20), c.build, source, opts.MaxPageSize)
	if err != nil {
		return nil, fmt.Errorf("runbooks: read parsed pages of %s from %s: %w", source, c.path(source), err)
	}
	return pages, nil
}

// errStale says that a cache was written for another parser, build,
// source or page size limit.
var errStale = errors.New("written by another version or for other options")

func decodePages(r io.Reader, build, source string, maxPageSize int) (map[string]*Runbook, error) {
	dec := gob.NewDecoder(r)
	var h cacheHeader
	if err := dec.Decode(&h); err != nil {
		return nil, err
	}
	if h.Build != build || h.Source != source || h.MaxPageSize != maxPageSize {
		return nil, errStale
	}
	if h.Pages < 0 {
		return nil, fmt.Errorf("%d pages", h.Pages)
	}
	out := make(map[string]*Runbook, min(h.Pages, 1<<16))
	for range h.Pages {
		var cp cachedPage
		if err := dec.Decode(&cp); err != nil {
			return nil, err
		}
		rb, err := cp.runbook()
		if err != nil {
			return nil, err
		}
		out[rb.Path] = rb
	}
	return out, nil
}

// write replaces the cache of a source with pages. The file is written
// aside and renamed, so that a reader, or a crash, never meets half of
// it. It is not synced: a cache lost in a crash only costs a parse.
func (c *pageCache) write(source string, opts ParseOptions, pages map[string]*Runbook) error {
	if err := os.MkdirAll(c.dir, 0o750); err != nil {
		return fmt.Errorf("runbooks: write parsed pages of %s: %w", source, err)
	}
	tmp, err := os.CreateTemp(c.dir, source+".pages.*.tmp")
	if err != nil {
		return fmt.Errorf("runbooks: write parsed pages of %s: %w", source, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = encodePages(w, c.build, source, opts.MaxPageSize, pages)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(source))
	}
	if err != nil {
		return fmt.Errorf("runbooks: write parsed pages of %s: %w", source, err)
	}
	return nil
}

func encodePages(w io.Writer, build, source string, maxPageSize int, pages map[string]*Runbook) error {
	paths := make([]string, 0, len(pages))
	for p := range pages {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	enc := gob.NewEncoder(w)
	if err := enc.Encode(cacheHeader{Build: build, Source: source, MaxPageSize: maxPageSize, Pages: len(paths)}); err != nil {
		return err
	}
	for _, p := range paths {
		cp, err := newCachedPage(pages[p])
		if err != nil {
			return err
		}
		if err := enc.Encode(cp); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func newCachedPage(rb *Runbook) (*cachedPage, error) {
	cp := &cachedPage{Page: *rb, Empty: rb.empty, Slim: rb.slim, Size: rb.stamp.size, ModTime: rb.stamp.modTime,
		HugoRefs: rb.hugoRefs, HTMLAnchors: rb.htmlAnchors}
	cp.Page.Params = nil
	if len(rb.Sections) > 0 {
		cp.Page.Sections = append([]Section(nil), rb.Sections...)
		cp.SectionsAt = make([][2]int, len(rb.Sections))
		from := 0
		for i := range cp.Page.Sections {
			sec := &cp.Page.Sections[i]
			cp.SectionsAt[i] = [2]int{-1, 0}
			if sec.Markdown == "" {
				continue
			}
			// Sections follow each other in the text: look after the
			// last one first.
			at := strings.Index(rb.Text[from:], sec.Markdown)
			if at >= 0 {
				at += from
			} else {
				at = strings.Index(rb.Text, sec.Markdown)
			}
			if at >= 0 {
				cp.SectionsAt[i] = [2]int{at, len(sec.Markdown)}
				sec.Markdown = ""
				from = at
			}
		}
	}
	if rb.Params != nil {
		b, err := json.Marshal(rb.Params)
		if err != nil {
			return nil, fmt.Errorf("%s: params: %w", rb.Path, err)
		}
		cp.Params = b
	}
	return cp, nil
}

// runbook rebuilds the page. gob does not tell an empty slice from a
// missing one, and Parse gives the lists that its JSON always shows as
// empty slices: they are made so again, and regular expressions of
// matchers are compiled again.
func (cp *cachedPage) runbook() (*Runbook, error) {
	rb := cp.Page
	rb.empty, rb.slim, rb.hugoRefs, rb.htmlAnchors = cp.Empty, cp.Slim, cp.HugoRefs, cp.HTMLAnchors
	rb.stamp = fileStamp{size: cp.Size, modTime: cp.ModTime}
	if cp.Params != nil {
		dec := json.NewDecoder(bytes.NewReader(cp.Params))
		dec.UseNumber()
		if err := dec.Decode(&rb.Params); err != nil {
			return nil, fmt.Errorf("%s: params: %w", rb.Path, err)
		}
	}
	if len(cp.SectionsAt) > 0 && len(cp.SectionsAt) != len(rb.Sections) {
		return nil, fmt.Errorf("%s: %d section places for %d sections", rb.Path, len(cp.SectionsAt), len(rb.Sections))
	}
	for i, at := range cp.SectionsAt {
		if at[0] < 0 {
			continue
		}
		if at[1] < 0 || at[0] > len(rb.Text) || at[1] > len(rb.Text)-at[0] {
			return nil, fmt.Errorf("%s: section %d at %v, outside the text", rb.Path, i, at)
		}
		rb.Sections[i].Markdown = rb.Text[at[0] : at[0]+at[1]]
	}
	rb.Alerts = orEmpty(rb.Alerts)
	rb.Sections = orEmpty(rb.Sections)
	rb.Steps = orEmpty(rb.Steps)
	rb.Links = orEmpty(rb.Links)
	rb.Diagnostics = orEmpty(rb.Diagnostics)
	for i := range rb.Steps {
		rb.Steps[i].Commands = orEmpty(rb.Steps[i].Commands)
	}
	for i, b := range rb.Alerts {
		for j, m := range b.Matchers {
			nm, err := NewMatcher(m.Label, m.Op, m.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rb.Path, err)
			}
			rb.Alerts[i].Matchers[j] = nm
		}
	}
	return &rb, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var buildIDOnce = sync.OnceValue(readBuildID)

func buildID() string { return buildIDOnce() }

// readBuildID names the running build: its module version and VCS
// revision. A build without a revision, or with local changes, is also
// named by its executable's size and time, so that each rebuild has a
// cache of its own.
func readBuildID() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown " + executableID()
	}
	parts := []string{info.GoVersion, info.Main.Path + "@" + info.Main.Version}
	revision, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" {
		parts = append(parts, revision)
	}
	released := info.Main.Version != "" && info.Main.Version != "(devel)"
	if modified || (revision == "" && !released) {
		parts = append(parts, executableID())
	}
	return strings.Join(parts, " ")
}

func executableID() string {
	exe, err := os.Executable()
	if err != nil {
		return "no-executable"
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "no-executable"
	}
	return fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())
}
