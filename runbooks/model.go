package runbooks

import (
	"fmt"
	"strings"
)

// Runbook is one parsed page. Every field that came from the page itself is
// kept even when the page was only partly understood; Diagnostics says what
// was not.
type Runbook struct {
	// ID is stable across restarts: the source name and the path, joined by
	// a colon ("payments:services/payments/runbooks/5xx.md").
	ID string `json:"id"`
	// Source is the name of the source the page came from.
	Source string `json:"source"`
	// Path is the slash-separated path of the page relative to the root of
	// its source.
	Path string `json:"path"`
	// Name is the file name without its extension. For pages named after an
	// alert it is the alert's identity, even when the H1 says otherwise.
	Name string `json:"name"`
	// Title is the front-matter title, else the first H1, else Name.
	Title string `json:"title"`
	// H1 is the text of the first level-one heading, when there is one.
	H1 string `json:"h1,omitempty"`
	// Commit is the revision of the source the page was read at (a git
	// commit hash), empty for a plain directory.
	Commit string `json:"commit,omitempty"`
	// Hash is the hex SHA-256 of the raw page, used to detect changes.
	Hash string `json:"hash"`
	// Size is the size of the raw page in bytes.
	Size int `json:"size"`
	// FrontMatter is the syntax of the page's front matter: "yaml", "toml"
	// or "none".
	FrontMatter string `json:"front_matter"`
	// Index is true for section index pages (Hugo's _index.md) that only
	// introduce the pages beside them.
	Index bool `json:"index,omitempty"`

	Description string          `json:"description,omitempty"`
	Service     string          `json:"service,omitempty"`
	Team        string          `json:"team,omitempty"`
	Owners      []string        `json:"owners,omitempty"`
	Severity    string          `json:"severity,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Aliases     []string        `json:"aliases,omitempty"`
	Alerts      []AlertBinding  `json:"alerts"`
	Dashboards  []Breadcrumb    `json:"dashboards,omitempty"`
	Breadcrumbs []Breadcrumb    `json:"breadcrumbs,omitempty"`
	Params      map[string]any  `json:"params,omitempty"`
	Sections    []Section       `json:"sections"`
	Steps       []Step          `json:"steps"`
	Links       []Link          `json:"links"`
	Diagnostics []Diagnostic    `json:"diagnostics"`
	StepsFrom   *StepsReasoning `json:"steps_from,omitempty"`

	// Text is the page's markdown without its front matter, for full-text
	// search. It is not part of the JSON (sections hold the same text).
	Text string `json:"-"`

	empty    bool            // the page has nothing but whitespace
	slim     bool            // the page's text, section markdown, step bodies and links were left out (see Slim)
	stamp    fileStamp       // the file's size and modification time when it was read
	hugoRefs map[string]bool // link destinations written as Hugo refs

	htmlAnchors []string // anchors written as <a name="x">
}

// StepsReasoning says which rule of docs/runbook-format.md produced the
// steps of a page, so that an author can see why a list was or was not
// taken.
type StepsReasoning struct {
	// Rule is one of the StepRule constants.
	Rule StepRule `json:"rule"`
	// Sections are the headings the steps were taken from.
	Sections []string `json:"sections,omitempty"`
}

// StepRule names the rule that turned part of a page into steps.
type StepRule string

// The step rules, in the order they are tried inside a procedure section
// and then over the whole page. docs/runbook-format.md explains each.
const (
	RuleNumberedHeadings StepRule = "numbered-headings"
	RuleOrderedList      StepRule = "ordered-list"
	RuleTaskList         StepRule = "task-list"
	RuleSubHeadings      StepRule = "sub-headings"
	RuleBullets          StepRule = "bullets"
	RuleCodeBlocks       StepRule = "code-blocks"
	RuleProse            StepRule = "prose"
	RuleMixed            StepRule = "mixed"
)

// AlertBinding binds a page to alerts: by name, by label matchers, or by
// both (then both must hold).
type AlertBinding struct {
	Name     string    `json:"name,omitempty"`
	Matchers []Matcher `json:"matchers,omitempty"`
	// From says where the binding came from: "front_matter" for an explicit
	// binding, "file_name" or "h1" when the page is named after an alert.
	From string `json:"from"`
	// Line is the line of the binding in the page (the front matter line,
	// or 1 for a binding taken from the file name).
	Line int `json:"line"`
}

// Binding origins.
const (
	FromFrontMatter = "front_matter"
	FromFileName    = "file_name"
	FromH1          = "h1"
)

// Matches reports whether an alert with this name and these labels fits the
// binding.
func (b AlertBinding) Matches(alertName string, labels map[string]string) bool {
	if b.Name == "" && len(b.Matchers) == 0 {
		return false
	}
	if b.Name != "" && !strings.EqualFold(b.Name, alertName) {
		return false
	}
	for _, m := range b.Matchers {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// Breadcrumb is a named link or query template that opens the logs,
// metrics, traces or dashboard behind an alert. URL and Query may hold
// {{variables}} filled from the incident (see TemplateVariables).
type Breadcrumb struct {
	Name string `json:"name"`
	// Kind is one of "logs", "metrics", "traces", "dashboard" or "link".
	Kind string `json:"kind"`
	// URL is a link template; Query is a query template for the provider
	// named by Datasource (or the default one of its Kind).
	URL        string `json:"url,omitempty"`
	Query      string `json:"query,omitempty"`
	Datasource string `json:"datasource,omitempty"`
	Line       int    `json:"line"`
}

// Breadcrumb kinds.
const (
	KindLogs      = "logs"
	KindMetrics   = "metrics"
	KindTraces    = "traces"
	KindDashboard = "dashboard"
	KindLink      = "link"
)

var breadcrumbKinds = []string{KindLogs, KindMetrics, KindTraces, KindDashboard, KindLink}

// SectionKind classifies a section by its heading.
type SectionKind string

// Section kinds: context sections (Meaning, Impact, Summary, ...) are shown
// to explain the alert; procedure sections (Diagnosis, Mitigation, ...) hold
// the steps.
const (
	SectionContext   SectionKind = "context"
	SectionProcedure SectionKind = "procedure"
	SectionOther     SectionKind = "other"
)

// Section is a heading and the markdown beneath it, up to the next heading
// of the same or a higher level.
type Section struct {
	Heading string      `json:"heading"`
	Level   int         `json:"level"`
	Anchor  string      `json:"anchor"`
	Kind    SectionKind `json:"kind"`
	Line    int         `json:"line"`
	// Markdown is the section's source without its heading line,
	// subsections included.
	Markdown string `json:"markdown"`
}

// Step is one thing a responder does.
type Step struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	// Body is the step's markdown, its commands included, with the list
	// indentation removed.
	Body     string    `json:"body"`
	Commands []Command `json:"commands"`
	// Section is the heading of the section the step belongs to.
	Section string `json:"section,omitempty"`
	// Anchor is the anchor of that section.
	Anchor string `json:"anchor,omitempty"`
	// Line is the step's first line in the page.
	Line int `json:"line"`
	// Checked is true for a task-list item written as done ("- [x]").
	Checked bool `json:"checked,omitempty"`
}

// Command is code a responder may copy. Breadcrumb shows commands and never
// runs them.
type Command struct {
	// Lang is the fence's language as written ("bash", "promql", ...), or
	// "" when the fence named none.
	Lang string `json:"lang"`
	// Code is what to copy: for a shell transcript, the commands without
	// their "$ " prompts and without their output.
	Code string `json:"code"`
	// Output is the sample output that a transcript showed, if any.
	Output string `json:"output,omitempty"`
	// Inline is true for a command written as inline code in a sentence.
	Inline bool `json:"inline,omitempty"`
	Line   int  `json:"line"`
}

// Link is a link or image found in the page.
type Link struct {
	Text string `json:"text,omitempty"`
	// URL is the destination as written, Hugo shortcodes resolved.
	URL string `json:"url"`
	// Kind is "absolute" (has a scheme), "relative" (a path in the same
	// source), "anchor" (a fragment of this page) or "image".
	Kind string `json:"kind"`
	// Target is, for a relative link, the slash path it points at relative
	// to the source root; Fragment is the part after '#'.
	Target   string `json:"target,omitempty"`
	Fragment string `json:"fragment,omitempty"`
	Line     int    `json:"line"`
}

// Link kinds.
const (
	LinkAbsolute = "absolute"
	LinkRelative = "relative"
	LinkAnchor   = "anchor"
	LinkImage    = "image"
)

// Severity grades a diagnostic.
type Severity string

// Diagnostic severities. Errors and warnings are problems that make
// `breadcrumb lint` fail; notes only inform.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityNote    Severity = "note"
)

// Diagnostic is a problem found in a page, with the line it is on.
type Diagnostic struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	// Rule is the lint rule's identifier, documented in
	// docs/runbook-format.md.
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// String formats the diagnostic as "path:line: severity: message (rule)".
func (d Diagnostic) String() string {
	line := d.Line
	if line < 1 {
		line = 1
	}
	return fmt.Sprintf("%s:%d: %s: %s (%s)", d.Path, line, d.Severity, d.Message, d.Rule)
}

// Problems counts the diagnostics that are errors or warnings.
func (r *Runbook) Problems() int {
	n := 0
	for _, d := range r.Diagnostics {
		if d.Severity != SeverityNote {
			n++
		}
	}
	return n
}

// Slim returns a copy of the page without what only its reader needs:
// its text, its sections' markdown, its steps' bodies and commands, and
// its links. What says which page it is, what it binds, its headings and
// its steps' titles, and its diagnostics are kept. A Library that keeps
// pages slim (LibraryOptions.Slim) reads a page whole again when Get is
// asked for it.
func (r *Runbook) Slim() *Runbook {
	if r.slim {
		return r
	}
	cp := *r
	cp.slim = true
	cp.Text = ""
	cp.Links = nil
	cp.hugoRefs, cp.htmlAnchors = nil, nil
	if len(r.Sections) > 0 {
		cp.Sections = make([]Section, len(r.Sections))
		for i, s := range r.Sections {
			s.Markdown = ""
			cp.Sections[i] = s
		}
	}
	if len(r.Steps) > 0 {
		cp.Steps = make([]Step, len(r.Steps))
		for i, s := range r.Steps {
			s.Body, s.Commands = "", nil
			cp.Steps[i] = s
		}
	}
	return &cp
}

// IsSlim reports whether the page is a slim copy (see Slim).
func (r *Runbook) IsSlim() bool { return r.slim }

// MakeID joins a source name and a path into a runbook ID.
func MakeID(source, path string) string { return source + ":" + path }
