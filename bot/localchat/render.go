package localchat

import (
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
)

// Text renders a message as plain text for display: a header as
// "# TEXT", a section as its text (each field on a line of its own,
// after "| "), code between ``` fences, small print after "~ ", buttons as
// "[Label]" (with " -> URL" for a link button) and a divider as "---".
// Mentions show as "@ID", links as "text <url>". Control characters are
// replaced by spaces, so that no text can drive a terminal. A message
// without blocks renders as its Text.
func Text(m bot.Message) string {
	if len(m.Blocks) == 0 {
		return printable(m.Text, true)
	}
	var b strings.Builder
	for i, blk := range m.Blocks {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch blk := blk.(type) {
		case *bot.Header:
			b.WriteString("# " + printable(blk.Text, false))
		case *bot.Section:
			b.WriteString(SpansText(blk.Text))
			for _, f := range blk.Fields {
				b.WriteString("\n| " + strings.ReplaceAll(SpansText(f), "\n", " "))
			}
		case *bot.Code:
			b.WriteString("```" + printable(blk.Language, false) + "\n" + printable(blk.Text, true) + "\n```")
		case *bot.Context:
			b.WriteString("~ " + SpansText(blk.Text))
		case *bot.Actions:
			for k, btn := range blk.Buttons {
				if k > 0 {
					b.WriteByte(' ')
				}
				b.WriteString("[" + printable(btn.Label, false) + "]")
				if btn.URL != "" {
					b.WriteString(" -> " + printable(btn.URL, false))
				}
			}
		case *bot.Divider:
			b.WriteString("---")
		}
	}
	return b.String()
}

// SpansText renders formatted text as plain text: bold as *x*, italic as
// _x_, monospace as `x`, a link as "text <url>", a mention as "@ID".
func SpansText(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Style {
		case bot.Bold:
			b.WriteString("*" + printable(s.Text, false) + "*")
		case bot.Italic:
			b.WriteString("_" + printable(s.Text, false) + "_")
		case bot.Monospace:
			b.WriteString("`" + printable(s.Text, false) + "`")
		case bot.Link:
			if s.Text == "" || s.Text == s.URL {
				b.WriteString("<" + printable(s.URL, false) + ">")
			} else {
				b.WriteString(printable(s.Text, false) + " <" + printable(s.URL, false) + ">")
			}
		case bot.Mention:
			b.WriteString("@" + printable(s.User, false))
		case bot.Newline:
			b.WriteByte('\n')
		default:
			b.WriteString(printable(s.Text, true))
		}
	}
	return b.String()
}

// printable replaces control characters (and, unless newlines are kept,
// line breaks) with spaces.
func printable(s string, newlines bool) string {
	return strings.Map(func(r rune) rune {
		if (r == '\n' || r == '\t') && newlines {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
