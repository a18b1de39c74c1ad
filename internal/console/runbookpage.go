package console

import (
	"bytes"
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
