package runbooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// DefaultMaxPageSize is the largest page whose markdown is parsed. A larger
// page keeps its front matter and title and gets an error diagnostic.
const DefaultMaxPageSize = 16 << 20

// ParseOptions tune Parse. The zero value is ready to use.
type ParseOptions struct {
	// Source is the name of the source the page belongs to.
	Source string
	// Commit is the revision the page was read at.
	Commit string
	// MaxPageSize overrides DefaultMaxPageSize when positive.
	MaxPageSize int
}

var md = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList, extension.Linkify),
	// "## Failover {#failover}" gives the heading an explicit ID, as in
	// Hugo and MkDocs.
	goldmark.WithParserOptions(parser.WithHeadingAttribute()),
)

// htmlAnchor finds anchors written as HTML: <a name="x"> or <a id="x">.
var htmlAnchor = regexp.MustCompile(`(?i)<a\s+(?:[^>]*\s)?(?:name|id)\s*=\s*["']([^"']+)["']`)

// Parse reads one page. p is the slash-separated path of the page relative
// to its source's root. Parse never fails: whatever it cannot read becomes a
// diagnostic on the returned Runbook.
func Parse(p string, raw []byte, opts ParseOptions) *Runbook {
	name := strings.TrimSuffix(path.Base(p), path.Ext(p))
	r := &Runbook{
		ID:          MakeID(opts.Source, p),
		Source:      opts.Source,
		Path:        p,
		Name:        name,
		Commit:      opts.Commit,
		Hash:        hashOf(raw),
		Size:        len(raw),
		FrontMatter: "none",
		Index:       path.Base(p) == "_index.md",
		Alerts:      []AlertBinding{},
		Sections:    []Section{},
		Steps:       []Step{},
		Links:       []Link{},
		Diagnostics: []Diagnostic{},
	}
	defer r.finish()

	src := r.normalize(raw)
	if len(bytes.TrimSpace(src)) == 0 {
		r.addDiag(1, SeverityWarning, "empty-file", "the page is empty")
		r.empty = true
		return r
	}

	fm, fmContent := splitFrontMatter(src)
	fm.decode(fmContent)
	r.FrontMatter = fm.format
	r.Diagnostics = append(r.Diagnostics, fm.diags...)
	r.applyFrontMatter(&fm)
	fmLines := strings.SplitN(string(src), "\n", fm.bodyLine)
	r.checkTemplates(fmLines[:min(len(fmLines), fm.bodyLine-1)])

	// The markdown keeps the page's line numbers: the front matter's lines
	// are left blank.
	body := src
	if fm.bodyLine > 1 {
		skip := 0
		for i := 1; i < fm.bodyLine && skip < len(src); i++ {
			nl := bytes.IndexByte(src[skip:], '\n')
			if nl < 0 {
				skip = len(src)
				break
			}
			skip += nl + 1
		}
		body = append(bytes.Repeat([]byte("\n"), fm.bodyLine-1), src[skip:]...)
	}

	max := opts.MaxPageSize
	if max <= 0 {
		max = DefaultMaxPageSize
	}
	if len(body) > max {
		r.addDiag(1, SeverityError, "too-large", fmt.Sprintf(
			"the page is %d bytes, over the limit of %d; only its front matter was read", len(body), max))
		return r
	}

	body, r.hugoRefs = preprocess(body)
	bodyText := string(body)
	r.Text = strings.TrimSpace(bodyText)
	doc := md.Parser().Parse(text.NewReader(body))
	for _, m := range htmlAnchor.FindAllSubmatch(body, -1) {
		r.htmlAnchors = append(r.htmlAnchors, string(m[1]))
	}
	p2 := &pageParser{rb: r, src: body, srcText: bodyText, lines: newLineIndex(body)}
	p2.walk(doc)
	return r
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// finish fills the fields that depend on everything else and puts the
// diagnostics in order.
func (r *Runbook) finish() {
	if r.Title == "" {
		r.Title = r.H1
	}
	if r.Title == "" && !r.Index && !r.empty {
		r.addDiag(1, SeverityWarning, "no-title", "the page has no title: add an H1 heading or a title in the front matter")
	}
	if r.Title == "" {
		r.Title = humanize(r.Name)
	}
	if !hasFrontMatterAlerts(r.Alerts) && !r.Index {
		// The file name is the alert's identity; an H1 counts only when the
		// file name is not an alert name (an H1 copied from another page
		// must not bind this one to that page's alert).
		if looksLikeAlertName(r.Name) {
			r.Alerts = append(r.Alerts, AlertBinding{Name: r.Name, From: FromFileName, Line: 1})
		} else if h := strings.TrimSpace(r.H1); looksLikeAlertName(h) {
			r.Alerts = append(r.Alerts, AlertBinding{Name: h, From: FromH1, Line: r.h1Line()})
		}
	}
	for i := range r.Diagnostics {
		r.Diagnostics[i].Path = r.Path
		if r.Diagnostics[i].Line < 1 {
			r.Diagnostics[i].Line = 1
		}
	}
	sort.SliceStable(r.Diagnostics, func(i, j int) bool { return r.Diagnostics[i].Line < r.Diagnostics[j].Line })
}

func (r *Runbook) h1Line() int {
	for _, s := range r.Sections {
		if s.Level == 1 {
			return s.Line
		}
	}
	return 1
}

func hasFrontMatterAlerts(bs []AlertBinding) bool {
	for _, b := range bs {
		if b.From == FromFrontMatter {
			return true
		}
	}
	return false
}

var alertNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_:]*$`)

// looksLikeAlertName reports whether s reads like a Prometheus alert name
// (KubePodCrashLooping, etcdMembersDown) rather than a word or a sentence:
// an identifier with a lower-case letter followed by an upper-case one.
func looksLikeAlertName(s string) bool {
	if len(s) < 4 || !alertNameRe.MatchString(s) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i-1] >= 'a' && s[i-1] <= 'z' && s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// humanize turns a file name into a title: "disk-full" → "Disk full".
func humanize(name string) string {
	s := strings.NewReplacer("-", " ", "_", " ").Replace(strings.TrimPrefix(name, "_"))
	s = strings.TrimSpace(s)
	if s == "" {
		return name
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

func (r *Runbook) addDiag(line int, sev Severity, rule, msg string) {
	r.Diagnostics = append(r.Diagnostics, Diagnostic{Line: line, Severity: sev, Rule: rule, Message: msg})
}

// normalize makes the page plain LF-terminated UTF-8: it drops a byte order
// mark, turns CRLF and lone CR into LF, and replaces invalid UTF-8 and NUL
// bytes, with a diagnostic naming the first bad line.
func (r *Runbook) normalize(raw []byte) []byte {
	src := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(src, '\r') >= 0 {
		src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		src = bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
	}
	if !utf8.Valid(src) {
		bad := 0
		for i := 0; i < len(src); {
			rn, n := utf8.DecodeRune(src[i:])
			if rn == utf8.RuneError && n == 1 {
				bad = i
				break
			}
			i += n
		}
		line := 1 + bytes.Count(src[:bad], []byte("\n"))
		r.addDiag(line, SeverityWarning, "invalid-utf8", "the page is not valid UTF-8; bad bytes were replaced with U+FFFD")
		src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
	}
	if bytes.IndexByte(src, 0) >= 0 {
		src = bytes.ReplaceAll(src, []byte{0}, []byte("\uFFFD"))
	}
	return src
}

var (
	// {{< ref "page.md" >}}, {{% relref "page.md#anchor" %}}
	hugoRef = regexp.MustCompile(`\{\{[<%]\s*(?:rel)?ref\s+"?([^"\s>%]+)"?\s*[>%]\}\}`)
	// Any other shortcode: {{< hint info >}}, {{< /hint >}}.
	hugoShortcode = regexp.MustCompile(`\{\{[<%][^\n]*?[>%]\}\}`)
	// [[_TOC_]] (GitLab), [TOC], [[toc]] and similar markers on a line of
	// their own.
	tocMarker = regexp.MustCompile(`(?im)^[ \t]*\[\[?_?toc_?\]\]?[ \t]*$`)
)

// preprocess resolves Hugo ref shortcodes into plain link destinations,
// drops other shortcodes and table-of-contents markers, and never changes
// the number of lines. It returns the destinations that came from refs,
// which Hugo resolves by file name anywhere in the site.
func preprocess(src []byte) ([]byte, map[string]bool) {
	var refs map[string]bool
	// The regular expressions are slow on large pages: run them only on
	// pages that have something for them to find.
	if bytes.Contains(src, []byte("{{<")) || bytes.Contains(src, []byte("{{%")) {
		for _, m := range hugoRef.FindAllSubmatch(src, -1) {
			if refs == nil {
				refs = map[string]bool{}
			}
			refs[string(m[1])] = true
		}
		src = hugoRef.ReplaceAll(src, []byte("$1"))
		src = hugoShortcode.ReplaceAll(src, nil)
	}
	for _, m := range []string{"oc]", "OC]", "oc_]", "OC_]"} {
		if bytes.Contains(src, []byte(m)) {
			src = tocMarker.ReplaceAll(src, nil)
			break
		}
	}
	return src, refs
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range src {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line holding offset.
func (li lineIndex) line(offset int) int {
	if offset < 0 {
		return 0
	}
	return sort.Search(len(li), func(i int) bool { return li[i] > offset })
}

// start returns the offset of the first byte of 1-based line n.
func (li lineIndex) start(n int) int {
	if n < 1 {
		return 0
	}
	if n > len(li) {
		return li[len(li)-1]
	}
	return li[n-1]
}

// count is the number of lines.
func (li lineIndex) count() int { return len(li) }
