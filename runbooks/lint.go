package runbooks

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// checkTemplates reports dashboards and breadcrumbs whose templates use an
// unknown variable or are malformed: such a link would break when opened.
// fmLines are the page's front-matter lines, used to point at the line of
// the url or query itself rather than at its entry.
func (r *Runbook) checkTemplates(fmLines []string) {
	for _, list := range [][]Breadcrumb{r.Dashboards, r.Breadcrumbs} {
		for _, b := range list {
			for _, f := range [2][2]string{{"url", b.URL}, {"query", b.Query}} {
				if _, err := ParseTemplate(f[1]); err != nil {
					line := b.Line
					probe := firstLine(f[1])
					if len(probe) > 40 {
						probe = probe[:40]
					}
					for n := b.Line; n >= 1 && n <= len(fmLines) && probe != ""; n++ {
						if strings.Contains(fmLines[n-1], probe) {
							line = n
							break
						}
					}
					r.addDiag(line, SeverityError, "unknown-variable", fmt.Sprintf("%s %q: %s: %v", b.Kind, b.Name, f[0], err))
				}
			}
			if TemplateChoosesHost(strings.TrimSpace(b.URL)) {
				r.addDiag(b.Line, SeverityWarning, "link-host-from-alert", fmt.Sprintf("%s %q: url %s: %s", b.Kind, b.Name, clip(b.URL, 60), hostFromAlert))
			}
		}
	}
}

// hostFromAlert says why a template whose host a value chooses is
// reported.
const hostFromAlert = "the alert chooses where this link leads; it is made only when its host is in breadcrumbs.allowed_hosts, a provider's base_url, or a link of this page"

// checkLinkTemplates reports links in the page's text whose URL is a
// template ({{variable}}, as breadcrumbs in steps are written) with an
// unknown variable or an unclosed "{{": the link would be left out of the
// incident. Hugo shortcodes are resolved before this and never reach it.
func checkLinkTemplates(rb *Runbook) []Diagnostic {
	var out []Diagnostic
	for _, l := range rb.Links {
		if l.Kind != LinkAbsolute || !strings.Contains(l.URL, "{{") {
			continue
		}
		if _, err := ParseTemplate(l.URL); err != nil {
			out = append(out, Diagnostic{Path: rb.Path, Line: l.Line, Severity: SeverityError, Rule: "unknown-variable",
				Message: fmt.Sprintf("link %s: %v", clip(l.URL, 80), err)})
		}
		if TemplateChoosesHost(l.URL) {
			out = append(out, Diagnostic{Path: rb.Path, Line: l.Line, Severity: SeverityWarning, Rule: "link-host-from-alert",
				Message: fmt.Sprintf("link %s: %s", clip(l.URL, 80), hostFromAlert)})
		}
	}
	return out
}

// Lint returns the diagnostics of a set of pages read from one source:
// each page's own, plus those that need the other pages or the source's
// files: broken relative links and anchors, and alerts bound by two pages.
// fsys is the source's file system; nil skips the link checks.
func Lint(pages []*Runbook, fsys fs.FS) []Diagnostic {
	out := LintLinks(pages, fsys)
	out = append(out, DuplicateAlerts(pages)...)
	SortDiagnostics(out)
	return out
}

// SortDiagnostics orders diagnostics by path, then line.
func SortDiagnostics(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Path != ds[j].Path {
			return ds[i].Path < ds[j].Path
		}
		return ds[i].Line < ds[j].Line
	})
}

// LintLinks returns each page's own diagnostics and those of its relative
// links and anchors, checked against fsys (nil skips the link checks).
func LintLinks(pages []*Runbook, fsys fs.FS) []Diagnostic {
	out := []Diagnostic{}
	byPath := make(map[string]*Runbook, len(pages))
	byBase := map[string][]string{}
	for _, rb := range pages {
		byPath[rb.Path] = rb
		byBase[path.Base(rb.Path)] = append(byBase[path.Base(rb.Path)], rb.Path)
	}
	for _, rb := range pages {
		out = append(out, rb.Diagnostics...)
		out = append(out, checkLinkTemplates(rb)...)
		if fsys != nil {
			out = append(out, checkLinks(rb, fsys, byPath, byBase)...)
		}
	}
	return out
}

func checkLinks(rb *Runbook, fsys fs.FS, byPath map[string]*Runbook, byBase map[string][]string) []Diagnostic {
	var out []Diagnostic
	anchors := func(p *Runbook) map[string]bool {
		m := map[string]bool{}
		for _, s := range p.Sections {
			m[s.Anchor] = true
		}
		for _, a := range p.htmlAnchors {
			m[strings.ToLower(a)] = true
		}
		return m
	}
	for _, l := range rb.Links {
		switch l.Kind {
		case LinkAnchor:
			if l.Fragment != "" && !anchors(rb)[strings.ToLower(l.Fragment)] {
				out = append(out, Diagnostic{Path: rb.Path, Line: l.Line, Severity: SeverityWarning, Rule: "broken-anchor",
					Message: fmt.Sprintf("link to #%s: this page has no such heading", l.Fragment)})
			}
		case LinkRelative, LinkImage:
			if l.Kind == LinkImage && l.Target == "" {
				continue // an absolute image URL
			}
			if strings.HasPrefix(l.Target, "../") || l.Target == ".." {
				continue // outside the source: nothing to check it against
			}
			var sameName []string
			if rb.hugoRefs[l.URL] {
				sameName = byBase[path.Base(l.Target)]
			}
			found, ok := findTarget(fsys, l.Target, sameName)
			if !ok {
				out = append(out, Diagnostic{Path: rb.Path, Line: l.Line, Severity: SeverityError, Rule: "broken-link",
					Message: fmt.Sprintf("link to %s: no such file in the runbooks", l.URL)})
				continue
			}
			if target, isPage := byPath[found]; isPage && l.Fragment != "" && !anchors(target)[strings.ToLower(l.Fragment)] {
				out = append(out, Diagnostic{Path: rb.Path, Line: l.Line, Severity: SeverityWarning, Rule: "broken-anchor",
					Message: fmt.Sprintf("link to %s: %s has no heading #%s", l.URL, found, l.Fragment)})
			}
		}
	}
	return out
}

// findTarget resolves a link target the ways a reader of the rendered pages
// would: the file itself, a directory, the page without its ".md" (Hugo
// and MkDocs URLs), or a directory's index page. sameName lists the pages
// with the target's file name, for Hugo refs, which Hugo resolves by file
// name anywhere in the site when the path does not match.
func findTarget(fsys fs.FS, target string, sameName []string) (string, bool) {
	target = strings.TrimSuffix(target, "/")
	if target == "" || target == "." {
		return ".", true
	}
	candidates := []string{target, target + ".md", target + "/_index.md", target + "/index.md", target + "/README.md"}
	for _, c := range candidates {
		if _, err := fs.Stat(fsys, c); err == nil {
			return c, true
		}
	}
	if len(sameName) == 1 {
		return sameName[0], true
	}
	return "", false
}

// DuplicateAlerts reports an alert bound in the front matter of two pages
// with the same matchers: an alert would then open either page by chance.
func DuplicateAlerts(pages []*Runbook) []Diagnostic {
	type where struct {
		rb   *Runbook
		line int
		name string
	}
	seen := map[string][]where{}
	var keys []string
	for _, rb := range pages {
		for _, b := range rb.Alerts {
			if b.From != FromFrontMatter || b.Name == "" {
				continue
			}
			var ms []string
			for _, m := range b.Matchers {
				ms = append(ms, m.String())
			}
			sort.Strings(ms)
			key := strings.ToLower(b.Name) + "{" + strings.Join(ms, ",") + "}"
			if _, ok := seen[key]; !ok {
				keys = append(keys, key)
			}
			seen[key] = append(seen[key], where{rb, b.Line, b.Name})
		}
	}
	var out []Diagnostic
	for _, k := range keys {
		ws := seen[k]
		if len(ws) < 2 {
			continue
		}
		for i, w := range ws {
			var others []string
			for j, o := range ws {
				if j != i {
					others = append(others, fmt.Sprintf("%s:%d", o.rb.Path, o.line))
				}
			}
			out = append(out, Diagnostic{Path: w.rb.Path, Line: w.line, Severity: SeverityWarning, Rule: "duplicate-alert",
				Message: fmt.Sprintf("alert %s is also bound by %s", w.name, strings.Join(others, ", "))})
		}
	}
	return out
}
