package runbooks

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
)

// pageParser turns a goldmark tree into sections, steps, commands, links
// and diagnostics.
type pageParser struct {
	rb      *Runbook
	src     []byte
	srcText string // src as a string, which the texts of the page share
	lines   lineIndex
	blocks  []ast.Node // the document's top-level blocks
	starts  []int      // start line of each block
	heads   []heading
	// owner is, for each block, the index in heads of the nearest heading
	// at or before it (-1 for none); context says whether the block lies
	// in a context section.
	owner   []int
	context []bool
	h1s     int // number of level-one headings
}

// heading is a top-level heading and the span of blocks it governs.
type heading struct {
	block   int // index in blocks
	level   int
	text    string
	anchor  string
	line    int
	kind    SectionKind
	setext  bool
	spanEnd int // index of the first block after its section
	// stepTitle is the title of a numbered heading ("Step 2: Drain the
	// node" → "Drain the node"), "" when the heading is not numbered.
	stepTitle string
	// procedure is true when the heading starts a procedure region of its
	// own (see procedureRegions).
	procedure bool
}

func (p *pageParser) walk(doc ast.Node) {
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		p.blocks = append(p.blocks, c)
		p.starts = append(p.starts, p.startLine(c))
	}
	p.collectHeadings()
	p.collectSections()
	p.collectLinks(doc)
	p.checkFences(doc)
	p.collectSteps()
	p.checkSections()
}

// startLine returns the first line of a node: its fence or marker line for
// blocks, the line of its first text for inlines.
func (p *pageParser) startLine(n ast.Node) int {
	if pos := n.Pos(); pos >= 0 {
		return p.lines.line(pos)
	}
	if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
		return p.lines.line(n.Lines().At(0).Start)
	}
	if t, ok := n.(*ast.Text); ok {
		return p.lines.line(t.Segment.Start)
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if l := p.startLine(c); l > 0 {
			return l
		}
	}
	return 0
}

// blockEnd is the last line of top-level block i: the line before the next
// block, or the last line of the page. Trailing blank lines are dropped by
// the callers that slice text.
func (p *pageParser) blockEnd(i int) int {
	if i+1 < len(p.starts) {
		return p.starts[i+1] - 1
	}
	return p.lines.count()
}

// spanOf returns the byte range of lines from..to (1-based, inclusive).
func (p *pageParser) spanOf(from, to int) (start, end int) {
	if from < 1 {
		from = 1
	}
	if to > p.lines.count() {
		to = p.lines.count()
	}
	if to < from {
		return 0, 0
	}
	end = len(p.src)
	if to < p.lines.count() {
		end = p.lines.start(to + 1)
	}
	return p.lines.start(from), end
}

// span returns the bytes of lines from..to (1-based, inclusive).
func (p *pageParser) span(from, to int) []byte {
	start, end := p.spanOf(from, to)
	return p.src[start:end]
}

// text returns lines from..to (1-based, inclusive) with trailing blank lines
// removed. It is a part of the page's text, not a copy: the sections of a
// page and their subsections share one string.
func (p *pageParser) text(from, to int) string {
	start, end := p.spanOf(from, to)
	return strings.TrimRight(p.srcText[start:end], " \t\n")
}

var numberedHeading = regexp.MustCompile(`(?i)^(?:step\s*(\d+)\s*(?:[.:)\-–—]\s*|$)|(\d+)\s*[.):\-–—]\s+)(.*)$`)

func (p *pageParser) collectHeadings() {
	anchors := map[string]int{}
	for _, b := range p.blocks {
		if h, ok := b.(*ast.Heading); ok && h.Level == 1 {
			p.h1s++
		}
	}
	for i, b := range p.blocks {
		h, ok := b.(*ast.Heading)
		if !ok {
			continue
		}
		txt := strings.TrimSpace(plainText(h, p.src))
		hd := heading{block: i, level: h.Level, text: txt, line: p.starts[i]}
		if ln := p.starts[i]; ln > 0 {
			first := bytes.TrimLeft(p.src[p.lines.start(ln):], " ")
			hd.setext = len(first) > 0 && first[0] != '#'
		}
		hd.anchor = uniqueAnchor(anchors, txt)
		if id, ok := h.AttributeString("id"); ok {
			if b, ok := id.([]byte); ok && len(b) > 0 {
				hd.anchor = string(b)
			}
		}
		bare := txt
		stepWord := false
		if m := numberedHeading.FindStringSubmatch(txt); m != nil {
			title := strings.TrimSpace(m[3])
			if title == "" {
				title = strings.TrimSpace(txt)
			}
			hd.stepTitle = title
			bare = title
			stepWord = m[1] != ""
		}
		hd.kind = classify(bare)
		if stepWord {
			hd.kind = SectionOther // "Step 2: Fix" is a step, not a section
		}
		if h.Level == 1 && len(p.heads) == 0 && (p.h1s == 1 || hd.kind != SectionContext) {
			// The page's first heading is its title, whatever its words,
			// unless the page uses H1s for its sections ("# Symptoms").
			hd.kind = SectionOther
		}
		if h.Level == 1 && p.rb.H1 == "" {
			p.rb.H1 = txt
		}
		p.heads = append(p.heads, hd)
	}
	p.computeSpans()
}

// computeSpans finds, in one pass with a stack of open headings, where each
// heading's section ends, which headings start procedure regions, and the
// nearest heading and context state of every block.
//
// A procedure heading inside another procedure section is part of it
// ("### Check the disk" under "## Mitigation"), unless it only names a
// procedure ("### Diagnosis" under "## Runbook").
func (p *pageParser) computeSpans() {
	p.owner = make([]int, len(p.blocks))
	p.context = make([]bool, len(p.blocks))
	var stack []int // indices into p.heads
	procedures, contexts := 0, 0
	pop := func(end int) {
		top := &p.heads[stack[len(stack)-1]]
		top.spanEnd = end
		if top.kind == SectionProcedure {
			procedures--
		}
		if top.kind == SectionContext {
			contexts--
		}
		stack = stack[:len(stack)-1]
	}
	hi := 0
	current := -1
	for i := range p.blocks {
		if hi < len(p.heads) && p.heads[hi].block == i {
			h := &p.heads[hi]
			for len(stack) > 0 && p.heads[stack[len(stack)-1]].level >= h.level {
				pop(i)
			}
			h.procedure = h.kind == SectionProcedure && (procedures == 0 || onlyProcedureWords(h.text))
			stack = append(stack, hi)
			if h.kind == SectionProcedure {
				procedures++
			}
			if h.kind == SectionContext {
				contexts++
			}
			current = hi
			hi++
		}
		p.owner[i] = current
		p.context[i] = contexts > 0
	}
	for len(stack) > 0 {
		pop(len(p.blocks))
	}
}

// onlyProcedureWords reports whether a heading is nothing but the name of a
// procedure section ("Diagnosis", "Diagnosis and mitigation", "2. Fix").
func onlyProcedureWords(heading string) bool {
	n := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(heading), func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) {
		switch {
		case procedureWordSet[w]:
			n++
		case w == "and" || w == "or" || w == "the":
		default:
			return false
		}
	}
	return n > 0 && n <= 3
}

func (p *pageParser) collectSections() {
	for _, h := range p.heads {
		from := h.line + 1
		if h.setext {
			from++
		}
		to := p.lines.count()
		if h.spanEnd < len(p.blocks) {
			to = p.starts[h.spanEnd] - 1
		}
		p.rb.Sections = append(p.rb.Sections, Section{
			Heading: h.text, Level: h.level, Anchor: h.anchor, Kind: h.kind, Line: h.line,
			Markdown: strings.TrimLeft(p.text(from, to), "\n"),
		})
	}
}

// The words that make a heading a procedure or a context section. A
// heading is classified by the first of its words found here.
var (
	procedureWords = []string{
		"diagnosis", "diagnose", "diagnostics", "mitigation", "mitigate", "mitigations",
		"resolution", "resolve", "resolving", "remediation", "remediate", "steps", "procedure",
		"procedures", "troubleshooting", "troubleshoot", "investigation", "investigate", "triage",
		"recovery", "recover", "fix", "fixing", "actions", "response", "respond", "rollback",
		"workaround", "workarounds", "playbook", "checks", "check", "debugging", "debug",
		"instructions", "runbook", "solution", "solutions", "restore", "checking", "checklist",
		"verification", "verify", "validate", "validation", "remediating", "mitigating",
		"diagnosing", "investigating", "recovering", "restoring", "tasks", "action", "escalate",
	}
	contextWords = []string{
		"meaning", "impact", "summary", "overview", "description", "background", "context",
		"symptoms", "about", "explanation", "details", "alert", "severity", "escalation",
		"contacts", "contact", "owners", "ownership", "references", "links",
		"dashboards", "related", "notes", "introduction", "purpose", "prerequisites",
		"follow-up", "followup", "postmortem", "history", "glossary",
	}
	procedureWordSet = wordSet(procedureWords)
	contextWordSet   = wordSet(contextWords)
)

func wordSet(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// classify decides a section's kind from the words of its heading.
func classify(heading string) SectionKind {
	words := strings.FieldsFunc(strings.ToLower(heading), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '-'
	})
	for _, w := range words {
		if procedureWordSet[w] {
			return SectionProcedure
		}
		if contextWordSet[w] {
			return SectionContext
		}
	}
	return SectionOther
}

// uniqueAnchor returns GitHub's anchor for a heading: lower case, spaces to
// hyphens, punctuation dropped, and "-1", "-2" for repeats.
func uniqueAnchor(seen map[string]int, heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	a := b.String()
	n := seen[a]
	seen[a] = n + 1
	if n > 0 {
		return fmt.Sprintf("%s-%d", a, n)
	}
	return a
}

// plainText returns the visible text of an inline tree.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *ast.Text:
				b.Write(t.Segment.Value(src))
				if t.SoftLineBreak() || t.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(t.Value)
			case *ast.AutoLink:
				b.Write(t.URL(src))
			case *ast.RawHTML:
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkFences reports fenced code blocks that are never closed: the rest of
// the page (or of the list item holding them) became code.
func (p *pageParser) checkFences(doc ast.Node) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		fc, ok := n.(*ast.FencedCodeBlock)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		open := p.startLine(fc)
		if open < 1 {
			return ast.WalkSkipChildren, nil
		}
		fenceLine := bytes.TrimLeft(p.lineBytes(open), " \t>")
		fenceLine = trimListMarker(fenceLine)
		if len(fenceLine) == 0 || (fenceLine[0] != '`' && fenceLine[0] != '~') {
			return ast.WalkSkipChildren, nil
		}
		ch := fenceLine[0]
		width := 0
		for width < len(fenceLine) && fenceLine[width] == ch {
			width++
		}
		last := open
		if fc.Lines().Len() > 0 {
			seg := fc.Lines().At(fc.Lines().Len() - 1)
			last = p.lines.line(seg.Stop - 1)
		}
		closing := bytes.TrimLeft(p.lineBytes(last+1), " \t>")
		n2 := 0
		for n2 < len(closing) && closing[n2] == ch {
			n2++
		}
		if n2 < width || len(bytes.TrimSpace(closing[n2:])) > 0 {
			p.rb.addDiag(open, SeverityError, "unclosed-fence", fmt.Sprintf(
				"code fence %s opened here is never closed; everything after it became code", strings.Repeat(string(ch), width)))
		}
		return ast.WalkSkipChildren, nil
	})
}

// lineBytes returns 1-based line n without its newline, or nil past the
// end.
func (p *pageParser) lineBytes(n int) []byte {
	if n < 1 || n > p.lines.count() {
		return nil
	}
	start := p.lines.start(n)
	end := len(p.src)
	if n < p.lines.count() {
		end = p.lines.start(n+1) - 1
	}
	if start > end {
		return nil
	}
	return p.src[start:end]
}

var listMarker = regexp.MustCompile(`^(?:[-*+]|\d{1,9}[.)])[ \t]+`)

func trimListMarker(b []byte) []byte {
	for {
		m := listMarker.Find(b)
		if m == nil {
			return b
		}
		b = b[len(m):]
	}
}

// collectLinks records every link, image and autolink of the page.
func (p *pageParser) collectLinks(doc ast.Node) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var dest, label string
		image := false
		switch t := n.(type) {
		case *ast.Link:
			dest, label = string(t.Destination), plainText(t, p.src)
		case *ast.Image:
			dest, label, image = string(t.Destination), plainText(t, p.src), true
		case *ast.AutoLink:
			if t.AutoLinkType != ast.AutoLinkURL {
				return ast.WalkContinue, nil
			}
			dest = string(t.URL(p.src))
			label = dest
		default:
			return ast.WalkContinue, nil
		}
		if dest == "" {
			return ast.WalkContinue, nil
		}
		l := p.rb.makeLink(label, dest, p.startLine(n))
		if image {
			l.Kind = LinkImage
		}
		p.rb.Links = append(p.rb.Links, l)
		return ast.WalkContinue, nil
	})
}

var schemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// makeLink classifies a destination and, for a relative one, resolves it
// against the page's directory.
func (r *Runbook) makeLink(label, dest string, line int) Link {
	l := Link{Text: label, URL: dest, Line: line}
	switch {
	case schemeRe.MatchString(dest) || strings.HasPrefix(dest, "//"):
		l.Kind = LinkAbsolute
	case strings.HasPrefix(dest, "#"):
		l.Kind = LinkAnchor
		l.Fragment = dest[1:]
	default:
		l.Kind = LinkRelative
		target, frag, _ := strings.Cut(dest, "#")
		target, _, _ = strings.Cut(target, "?")
		l.Fragment = frag
		l.Target = resolvePath(r.Path, target)
	}
	return l
}
