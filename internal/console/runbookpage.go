package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// renderRunbook renders a runbook page's markdown for the console. Links
// to other pages of its source, written relative to the page as in the
// repository ("../databases/PostgresConnectionsExhausted.md#mitigation"),
// lead to those pages in the console; links that are not to a page
// served are left as written. goldmark leaves raw HTML out unless told
// otherwise (html.WithUnsafe), so a page cannot put a script into the
// console.
func (c *Console) renderRunbook(rb *runbooks.Runbook) ([]byte, error) {
	src := []byte(rb.Text)
	doc := c.md.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			if to := c.pageLink(rb, string(l.Destination)); to != "" {
				l.Destination = []byte(to)
			}
		}
		return ast.WalkContinue, nil
	})
	var buf bytes.Buffer
	if err := c.md.Renderer().Render(&buf, src, doc); err != nil {
		return nil, err
	}
	// A task list's boxes say what they are to a screen reader, and a
	// code block that scrolls can be reached with the keyboard.
	out := buf.String()
	out = strings.ReplaceAll(out, `<input checked="" disabled="" type="checkbox">`, `<input checked="" disabled="" type="checkbox" aria-label="done">`)
	out = strings.ReplaceAll(out, `<input disabled="" type="checkbox">`, `<input disabled="" type="checkbox" aria-label="to do">`)
	out = strings.ReplaceAll(out, "<pre>", `<pre tabindex="0">`)
	return []byte(out), nil
}

// pageLink returns the console's address of the page a relative link of
// rb names, or "" when it names none that is served.
func (c *Console) pageLink(rb *runbooks.Runbook, dest string) string {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(u.Path, "/") {
		return ""
	}
	target := path.Clean(path.Join(path.Dir(rb.Path), u.Path))
	id := rb.Source + ":" + target
	if _, ok := c.cfg.Library.Get(id); !ok {
		return ""
	}
	out := "/runbooks/" + (&url.URL{Path: id}).EscapedPath()
	if u.Fragment != "" {
		out += "#" + url.PathEscape(u.Fragment)
	}
	return out
}

// templateHTML shows a breadcrumb's template with each {{variable}} set
// apart and explained (on hover, and to a screen reader), since the page
// shows the template, not a link: it is filled from each incident's
// alert. Everything else is escaped.
func templateHTML(tmpl string) template.HTML {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "{{")
		j := strings.Index(tmpl[max(i, 0):], "}}")
		if i < 0 || j < 0 {
			break
		}
		j += i
		name := strings.TrimSpace(tmpl[i+2 : j])
		b.WriteString(template.HTMLEscapeString(tmpl[:i]))
		meaning := runbooks.TemplateVariables[name]
		switch {
		case strings.HasPrefix(name, "labels."):
			meaning = "the alert's label " + strings.TrimPrefix(name, "labels.")
		case strings.HasPrefix(name, "annotations."):
			meaning = "the alert's annotation " + strings.TrimPrefix(name, "annotations.")
		case meaning == "":
			meaning = "not a known variable"
		}
		fmt.Fprintf(&b, `<var title="%s">{{%s}}</var>`, template.HTMLEscapeString(meaning), template.HTMLEscapeString(name))
		tmpl = tmpl[j+2:]
	}
	b.WriteString(template.HTMLEscapeString(tmpl))
	return template.HTML(b.String()) //nolint:gosec // every part is escaped above
}
