package runbooks

import (
	"bytes"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// region is a run of top-level blocks [from, to) that steps are taken
// from, with the heading that owns it (nil for the whole page).
type region struct {
	head     *heading
	from, to int
}

// collectSteps applies the rules of docs/runbook-format.md: each procedure
// section yields steps by the first rule that finds any; when no procedure
// section yields a step, the whole page is tried.
func (p *pageParser) collectSteps() {
	used := map[StepRule]bool{}
	var sections []string
	for _, reg := range p.procedureRegions() {
		steps, rule := p.stepsIn(reg, false)
		if len(steps) == 0 {
			if !p.hasContent(reg) {
				continue // reported as an empty section
			}
			p.rb.addDiag(reg.head.line, SeverityWarning, "empty-procedure", quote(reg.head.text)+
				" has no steps (no numbered list, task list, sub-headings, bullets or commands), so it is shown as one step: write its steps as a numbered list")
			steps, rule = []Step{p.proseStep(reg)}, RuleProse
		}
		used[rule] = true
		sections = append(sections, reg.head.text)
		p.rb.Steps = append(p.rb.Steps, steps...)
	}
	if len(p.rb.Steps) == 0 {
		whole := region{from: 0, to: len(p.blocks)}
		steps, rule := p.stepsIn(whole, true)
		if len(steps) > 0 {
			used[rule] = true
			p.rb.Steps = steps
		}
	}
	for i := range p.rb.Steps {
		p.rb.Steps[i].Number = i + 1
	}
	switch len(used) {
	case 0:
		if !p.rb.Index {
			p.rb.addDiag(1, SeverityNote, "no-steps", "no steps found: there is no procedure section (Diagnosis, Mitigation, Steps, ...) and no numbered list")
		}
	case 1:
		for rule := range used {
			p.rb.StepsFrom = &StepsReasoning{Rule: rule, Sections: sections}
		}
	default:
		p.rb.StepsFrom = &StepsReasoning{Rule: RuleMixed, Sections: sections}
	}
}

// procedureRegions returns one region per procedure heading. A region ends
// at the next heading of the same or a higher level, or at the next
// procedure heading, so that regions never overlap.
func (p *pageParser) procedureRegions() []region {
	var out []region
	for hi := range p.heads {
		h := &p.heads[hi]
		if !h.procedure {
			continue
		}
		end := h.spanEnd
		for _, next := range p.heads[hi+1:] {
			if next.block >= end {
				break
			}
			if next.procedure {
				end = next.block
				break
			}
		}
		out = append(out, region{head: h, from: h.block + 1, to: end})
	}
	return out
}

// hasProcedure reports whether the page has a procedure section.
func (p *pageParser) hasProcedure() bool {
	for _, h := range p.heads {
		if h.procedure {
			return true
		}
	}
	return false
}

// hasContent reports whether a region holds anything but blank lines and
// HTML comments.
func (p *pageParser) hasContent(reg region) bool {
	for i := reg.from; i < reg.to; i++ {
		if hb, ok := p.blocks[i].(*ast.HTMLBlock); ok && hb.HTMLBlockType == ast.HTMLBlockType2 {
			continue
		}
		return true
	}
	return false
}

// inContext reports whether block i lies in a context section, for the
// whole-page rules.
func (p *pageParser) inContext(i int) bool { return p.context[i] }

// headsIn returns the indices in heads of the headings among blocks
// [from, to).
func (p *pageParser) headsIn(from, to int) (int, int) {
	lo := sort.Search(len(p.heads), func(k int) bool { return p.heads[k].block >= from })
	hi := sort.Search(len(p.heads), func(k int) bool { return p.heads[k].block >= to })
	return lo, hi
}

// stepsIn returns the steps of a region by the first rule that yields any.
// For the whole page (wholePage), context sections are skipped and only
// numbered headings, ordered lists and task lists count.
func (p *pageParser) stepsIn(reg region, wholePage bool) ([]Step, StepRule) {
	if s := p.numberedHeadingSteps(reg, wholePage); len(s) > 0 {
		return s, RuleNumberedHeadings
	}
	if s := p.listSteps(reg, wholePage, func(l *ast.List) bool { return l.IsOrdered() }); len(s) > 0 {
		return s, RuleOrderedList
	}
	if s := p.listSteps(reg, wholePage, isTaskList); len(s) > 0 {
		return s, RuleTaskList
	}
	if wholePage {
		if s := p.codeBlockSteps(reg, true); len(s) > 0 && !p.hasProcedure() {
			return s, RuleCodeBlocks
		}
		return nil, ""
	}
	if s := p.subHeadingSteps(reg); len(s) > 0 {
		return s, RuleSubHeadings
	}
	if s := p.listSteps(reg, false, func(l *ast.List) bool { return !l.IsOrdered() }); len(s) > 0 {
		return s, RuleBullets
	}
	if s := p.codeBlockSteps(reg, false); len(s) > 0 {
		return s, RuleCodeBlocks
	}
	return nil, ""
}

// sectionOf returns the nearest heading before block i.
func (p *pageParser) sectionOf(i int) *heading {
	if i <= 0 || i > len(p.owner) {
		return nil
	}
	if o := p.owner[i-1]; o >= 0 {
		return &p.heads[o]
	}
	return nil
}

// newStep makes a step whose section is the one holding block i and whose
// commands are those inside nodes.
func (p *pageParser) newStep(title string, line int, body string, i int, nodes ...ast.Node) Step {
	s := Step{Title: title, Line: line, Body: body, Commands: p.commandsIn(nodes...)}
	if h := p.sectionOf(i); h != nil {
		s.Section, s.Anchor = h.text, h.anchor
	}
	return s
}

// proseStep makes one step of a procedure section written as prose, so
// that a guided responder still walks through it.
func (p *pageParser) proseStep(reg region) Step {
	h := reg.head
	from := h.line + 1
	if h.setext {
		from++
	}
	to := p.lines.count()
	if reg.to < len(p.blocks) {
		to = p.starts[reg.to] - 1
	}
	return Step{Title: h.text, Line: p.starts[reg.from], Body: strings.Trim(p.text(from, to), "\n"),
		Section: h.text, Anchor: h.anchor, Commands: p.commandsIn(p.blocks[reg.from:reg.to]...)}
}

// numberedHeadingSteps: "Step 3: Drain the node" or "3. Drain the node"
// headings below the region's own heading.
func (p *pageParser) numberedHeadingSteps(reg region, wholePage bool) []Step {
	var out []Step
	lo, hi := p.headsIn(reg.from, reg.to)
	for k := lo; k < hi; k++ {
		h := &p.heads[k]
		if h.stepTitle == "" || h.level == 1 {
			continue
		}
		if wholePage && h.kind == SectionContext {
			continue
		}
		out = append(out, p.headingStep(h, h.stepTitle, reg.to))
	}
	if wholePage && len(out) < 2 {
		return nil // one numbered heading is a document outline, not a procedure
	}
	return out
}

// headingStep makes a step of a heading and the blocks under it, up to the
// next heading of the same or a higher level or the end of the region.
func (p *pageParser) headingStep(h *heading, title string, limit int) Step {
	end := h.spanEnd
	if limit < end {
		end = limit
	}
	from := h.line + 1
	if h.setext {
		from++
	}
	to := p.lines.count()
	if end < len(p.blocks) {
		to = p.starts[end] - 1
	}
	body := strings.Trim(p.text(from, to), "\n")
	return Step{Title: title, Line: h.line, Body: body, Section: h.text, Anchor: h.anchor,
		Commands: p.commandsIn(p.blocks[h.block+1 : end]...)}
}

// subHeadingSteps: the headings one level below a procedure heading.
func (p *pageParser) subHeadingSteps(reg region) []Step {
	if reg.head == nil {
		return nil
	}
	lo, hi := p.headsIn(reg.from, reg.to)
	level := 0
	for k := lo; k < hi; k++ {
		if h := p.heads[k]; h.level > reg.head.level && (level == 0 || h.level < level) {
			level = h.level
		}
	}
	var out []Step
	for k := lo; k < hi; k++ {
		if h := &p.heads[k]; h.level == level && h.kind != SectionContext {
			title := h.text
			if h.stepTitle != "" {
				title = h.stepTitle
			}
			out = append(out, p.headingStep(h, title, reg.to))
		}
	}
	return out
}

func isTaskList(l *ast.List) bool {
	if l.IsOrdered() {
		return false
	}
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		if taskBox(item) != nil {
			return true
		}
	}
	return false
}

func taskBox(item ast.Node) *east.TaskCheckBox {
	first := item.FirstChild()
	if first == nil {
		return nil
	}
	if tb, ok := first.FirstChild().(*east.TaskCheckBox); ok {
		return tb
	}
	return nil
}

// listSteps makes a step of each top-level item of the lists in the region
// that keep() accepts.
func (p *pageParser) listSteps(reg region, wholePage bool, keep func(*ast.List) bool) []Step {
	var lists []int
	for i := reg.from; i < reg.to; i++ {
		l, ok := p.blocks[i].(*ast.List)
		if ok && keep(l) && !p.underContext(reg, i, wholePage) && !onlyLinks(l, p.src) {
			lists = append(lists, i)
		}
	}
	var out []Step
	for n, i := range lists {
		l := p.blocks[i].(*ast.List)
		tail := p.listTail(i, reg, lists, n, wholePage)
		listEnd := p.blockEnd(tail - 1)
		for item := l.FirstChild(); item != nil; item = item.NextSibling() {
			li, ok := item.(*ast.ListItem)
			if !ok {
				continue
			}
			start := p.startLine(li)
			end := listEnd
			nodes := []ast.Node{li}
			if next := li.NextSibling(); next != nil {
				if nl := p.startLine(next); nl > start {
					end = nl - 1
				}
			} else {
				nodes = append(nodes, p.blocks[i+1:tail]...)
			}
			body := p.itemBody(li, start, end)
			title := itemTitle(li, p.src, body)
			if n == 0 && item == l.FirstChild() && !wholePage {
				// What the section says before its first list (a warning,
				// a precondition) is read before the first step.
				if lead := p.leadIn(reg, i); len(lead) > 0 {
					body = strings.Trim(p.text(p.starts[reg.from], p.starts[i]-1), "\n") + "\n\n" + body
					nodes = append(append([]ast.Node{}, lead...), nodes...)
				}
			}
			s := p.newStep(title, start, body, i, nodes...)
			if tb := taskBox(li); tb != nil {
				s.Checked = tb.IsChecked
			}
			out = append(out, s)
		}
	}
	return out
}

// leadIn returns the blocks of a procedure region before its first list,
// unless a heading comes first.
func (p *pageParser) leadIn(reg region, first int) []ast.Node {
	var out []ast.Node
	for j := reg.from; j < first; j++ {
		if _, isHeading := p.blocks[j].(*ast.Heading); isHeading {
			return nil
		}
		out = append(out, p.blocks[j])
	}
	return out
}

// underContext reports whether block i is in a context section: for the
// whole page, anywhere under a context heading; in a procedure section,
// under a context sub-heading of it ("### Background" in "## Mitigation").
func (p *pageParser) underContext(reg region, i int, wholePage bool) bool {
	if wholePage {
		return p.inContext(i)
	}
	if o := p.owner[i]; o >= 0 && reg.head != nil && &p.heads[o] != reg.head {
		return p.heads[o].kind == SectionContext
	}
	return false
}

// listTail returns the index of the first block after list lists[n] that
// does not belong to its last item. A code block written at the left
// margin between two items splits a list in two; it belongs to the item
// before it, and so does anything else before the next list. After the
// last list of a procedure section, what follows (a check, an escalation)
// belongs to the last step; on a page with no procedure section, only the
// code right after the list does.
func (p *pageParser) listTail(i int, reg region, lists []int, n int, wholePage bool) int {
	next := reg.to
	between := n+1 < len(lists)
	if between {
		next = lists[n+1]
	}
	j := i + 1
	for ; j < next; j++ {
		if _, isHeading := p.blocks[j].(*ast.Heading); isHeading {
			break
		}
		if !between && wholePage && !isCommandBlock(p.blocks[j], p.src) {
			break
		}
	}
	// Generated comments and link definitions at the end are not prose.
	for j > i+1 && isFurniture(p.blocks[j-1]) {
		j--
	}
	return j
}

// isFurniture reports whether a block is invisible when rendered: an HTML
// comment or a link reference definition.
func isFurniture(n ast.Node) bool {
	switch t := n.(type) {
	case *ast.HTMLBlock:
		return t.HTMLBlockType == ast.HTMLBlockType2
	case *ast.LinkReferenceDefinition:
		return true
	}
	return false
}

// onlyLinks reports whether every item of a list is a bare link, as in a
// list of references, which is not a procedure.
func onlyLinks(l *ast.List, src []byte) bool {
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		para := item.FirstChild()
		if para == nil || para.NextSibling() != nil || para.FirstChild() == nil {
			return false
		}
		for c := para.FirstChild(); c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *ast.Link, *ast.AutoLink:
			case *ast.Text:
				if len(strings.TrimSpace(string(t.Segment.Value(src)))) > 0 {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

var taskPrefix = regexp.MustCompile(`^\[[ xX]\]\s*`)

// itemBody returns an item's markdown without its marker and with the
// indentation of its content removed.
func (p *pageParser) itemBody(li *ast.ListItem, start, end int) string {
	lines := strings.Split(p.text(start, end), "\n")
	// Continuation lines are indented at least to the item's content
	// column; many authors indent four columns under "1. ", so strip the
	// smallest indentation they share when it is a little deeper.
	width := li.Offset
	least := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if ind := indentWidth(l); least < 0 || ind < least {
			least = ind
		}
	}
	if least > width && least <= width+3 {
		width = least
	}
	for k, l := range lines {
		if k == 0 {
			lines[0] = stripColumns(l, li.Offset, true)
		} else {
			lines[k] = stripColumns(l, width, false)
		}
	}
	lines[0] = taskPrefix.ReplaceAllString(lines[0], "")
	return strings.TrimRight(strings.Join(lines, "\n"), "\n ")
}

func indentWidth(l string) int {
	col := 0
	for _, c := range l {
		switch c {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
		default:
			return col
		}
	}
	return col
}

// stripColumns removes the first width columns of a line (a tab counts to
// the next multiple of four). Only whitespace is removed unless marker is
// set, as on an item's first line, where the list marker goes too.
func stripColumns(line string, width int, marker bool) string {
	col, i := 0, 0
	for i < len(line) && col < width {
		switch c := line[i]; {
		case c == '\t':
			col += 4 - col%4
		case c == ' ' || marker:
			col++
		default:
			return line[i:]
		}
		i++
	}
	return line[i:]
}

// itemTitle is the first sentence or line of an item's first paragraph,
// without a trailing colon; an item that starts with code is named by its
// first line.
func itemTitle(li *ast.ListItem, src []byte, body string) string {
	first := li.FirstChild()
	var t string
	switch first.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		t = plainText(first, src)
	}
	if t == "" {
		for _, l := range strings.Split(body, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "```") || strings.HasPrefix(l, "~~~") {
				continue // a fence line names a language, not the step
			}
			t = strings.TrimPrefix(l, "$ ")
			break
		}
	}
	return shortTitle(t)
}

// shortTitle cuts a title at its first sentence when it is long, drops a
// trailing colon and caps it at 140 characters.
func shortTitle(t string) string {
	t = strings.TrimSpace(t)
	if len(t) > 100 {
		t = firstSentence(t)
	}
	t = strings.TrimRight(t, ":. ")
	return clip(t, 140)
}

// codeBlockSteps: a procedure written as prose and code, where each code
// block with the paragraph before it is a step.
func (p *pageParser) codeBlockSteps(reg region, wholePage bool) []Step {
	var out []Step
	from := reg.from // first block not yet in a step
	for i := reg.from; i < reg.to; i++ {
		if _, isHeading := p.blocks[i].(*ast.Heading); isHeading || (wholePage && p.inContext(i)) {
			from = i + 1
			continue
		}
		if !isCommandBlock(p.blocks[i], p.src) {
			continue
		}
		title := ""
		if i > reg.from {
			if para, ok := p.blocks[i-1].(*ast.Paragraph); ok {
				title = shortTitle(lastSentence(plainText(para, p.src)))
			}
		}
		body := strings.Trim(p.text(p.starts[from], p.blockEnd(i)), "\n")
		s := p.newStep(title, p.starts[from], body, i, p.blocks[from:i+1]...)
		if s.Title == "" && len(s.Commands) > 0 {
			s.Title = clip(firstLine(s.Commands[len(s.Commands)-1].Code), 140)
		}
		out = append(out, s)
		from = i + 1
	}
	// Prose after the last command belongs to the last step (up to the
	// next heading).
	to := reg.to
	for j := from; j < to; j++ {
		if _, isHeading := p.blocks[j].(*ast.Heading); isHeading {
			to = j
		}
	}
	if n := len(out); n > 0 && from < to {
		last := &out[n-1]
		last.Body = strings.Trim(p.text(last.Line, p.blockEnd(to-1)), "\n")
		last.Commands = append(last.Commands, p.commandsIn(p.blocks[from:to]...)...)
	}
	return out
}

func isCommandBlock(n ast.Node, src []byte) bool {
	switch t := n.(type) {
	case *ast.FencedCodeBlock:
		return !isDiagram(string(t.Language(src)))
	case *ast.CodeBlock:
		return true
	}
	return false
}

// lastSentence returns the last sentence of a long paragraph, the one
// that usually introduces the code below it ("Remove unused images:").
func lastSentence(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= 100 {
		return s
	}
	start := 0
	for i := 0; i+2 < len(s)-1; i++ {
		if (s[i] == '.' || s[i] == '?' || s[i] == '!') && s[i+1] == ' ' && s[i+2] >= 'A' && s[i+2] <= 'Z' && !abbreviation(s[:i]) {
			start = i + 2
		}
	}
	return s[start:]
}

// firstSentence returns the text up to the end of its first sentence.
func firstSentence(s string) string {
	for i := 20; i+2 < len(s); i++ {
		if (s[i] == '.' || s[i] == '?' || s[i] == '!') && s[i+1] == ' ' && !abbreviation(s[:i]) {
			return s[:i+1]
		}
	}
	return s
}

// abbreviation reports whether the text before a period ends with an
// abbreviation (e.g, i.e, etc, vs) rather than a sentence.
func abbreviation(before string) bool {
	w := before[strings.LastIndexByte(before, ' ')+1:]
	switch strings.ToLower(w) {
	case "e.g", "i.e", "etc", "vs", "cf", "approx", "incl":
		return true
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// resolvePath resolves a relative link target against the page's
// directory; a target starting with "/" is relative to the source root.
// Percent-escapes are decoded. The result may start with "../" when the
// link leaves the source.
func resolvePath(page, target string) string {
	if u, err := url.PathUnescape(target); err == nil {
		target = u
	}
	if target == "" {
		return page
	}
	var p string
	if strings.HasPrefix(target, "/") {
		p = path.Clean(strings.TrimPrefix(target, "/"))
	} else {
		p = path.Join(path.Dir(page), target)
	}
	if p == "" {
		return "."
	}
	return p
}

// checkSections reports empty sections and TODOs left in procedures.
func (p *pageParser) checkSections() {
	for hi := range p.heads {
		h := &p.heads[hi]
		if !p.hasContent(region{head: h, from: h.block + 1, to: h.spanEnd}) {
			p.rb.addDiag(h.line, SeverityWarning, "empty-section", "section "+quote(h.text)+" is empty")
		}
	}
	for _, reg := range p.procedureRegions() {
		from := reg.head.line + 1
		to := p.lines.count()
		if reg.to < len(p.blocks) {
			to = p.starts[reg.to] - 1
		}
		if !mayHaveTodo(p.span(from, to)) {
			continue
		}
		for n := from; n <= to; n++ {
			if m := todoRe.FindSubmatch(p.lineBytes(n)); m != nil {
				p.rb.addDiag(n, SeverityWarning, "todo", string(m[1])+" left in procedure "+quote(reg.head.text))
			}
		}
	}
}

func mayHaveTodo(b []byte) bool {
	for _, w := range []string{"TODO", "FIXME", "XXX", "TBD"} {
		if bytes.Contains(b, []byte(w)) {
			return true
		}
	}
	return false
}

// todoRe finds TODO-like words, but not inside names such as the ticket
// placeholder OPS-XXX.
var todoRe = regexp.MustCompile(`(?:^|[^\w-])(TODO|FIXME|XXX|TBD)(?:$|[^\w-])`)

func quote(s string) string { return "\u201c" + s + "\u201d" }
