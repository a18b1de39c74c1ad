package slack

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
)

// escaper turns the three characters Slack's mrkdwn gives meaning to into
// entities. With them escaped no text can write <!channel>, <@U…> or a
// link of its own: Slack only parses those between angle brackets.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape returns s safe to place in Slack mrkdwn.
func Escape(s string) string { return escaper.Replace(s) }

// userID is the shape of a Slack user ID; only such IDs become mentions.
var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// safeURL returns u ready to sit inside <…|…> when it is an absolute
// http or https address, and false otherwise.
func safeURL(u string) (string, bool) {
	c, ok := checkURL(u)
	if !ok {
		return "", false
	}
	// Slack asks for & as an entity inside mrkdwn, addresses included.
	return strings.ReplaceAll(c, "&", "&amp;"), true
}

// checkURL returns u when it is an absolute http or https address, with
// the characters that would end a mrkdwn link percent-encoded.
func checkURL(u string) (string, bool) {
	if len(u) > maxURL {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", false
	}
	s := strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20").Replace(p.String())
	return s, true
}

// spanText renders one span as mrkdwn.
func spanText(s bot.Span) string {
	switch s.Style {
	case bot.Bold:
		return wrapStyle(s.Text, "*")
	case bot.Italic:
		return wrapStyle(s.Text, "_")
	case bot.Monospace:
		if s.Text == "" {
			return ""
		}
		return "`" + Escape(strings.ReplaceAll(s.Text, "`", "'")) + "`"
	case bot.Link:
		u, ok := safeURL(s.URL)
		text := s.Text
		if !ok {
			return Escape(text)
		}
		if text == "" {
			text = s.URL
		}
		// A | in the shown text is harmless after the first one, but a
		// newline would end the link.
		text = strings.ReplaceAll(text, "\n", " ")
		return "<" + u + "|" + Escape(text) + ">"
	case bot.Mention:
		if userID.MatchString(s.User) {
			return "<@" + s.User + ">"
		}
		return Escape("@" + s.User)
	case bot.Newline:
		return "\n"
	default:
		return Escape(s.Text)
	}
}

// wrapStyle puts mark around the text, keeping the spaces at its ends
// outside, since mrkdwn only styles a run that starts and ends with a
// letter.
func wrapStyle(text, mark string) string {
	core := strings.TrimSpace(text)
	if core == "" {
		return Escape(text)
	}
	i := strings.Index(text, core)
	return Escape(text[:i]) + mark + Escape(core) + mark + Escape(text[i+len(core):])
}

// mrkdwn renders text as one mrkdwn string, however long.
func mrkdwn(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(spanText(s))
	}
	return b.String()
}

// mrkdwnChunks renders text as mrkdwn strings of at most limit characters
// each, cutting between spans where it can and never inside an entity, a
// link or a mention.
func mrkdwnChunks(t bot.Text, limit int) []string {
	var atoms []string
	for _, s := range t {
		r := spanText(s)
		if runes(r) <= limit {
			atoms = append(atoms, r)
			continue
		}
		// Only a long run of text gets here: cut its escaped form at
		// rune boundaries outside entities; a styled run loses its style
		// across the cut rather than its text.
		switch s.Style {
		case bot.Plain, bot.Bold, bot.Italic, bot.Monospace:
			atoms = append(atoms, cutEscaped(s.Text, limit)...)
		default:
			atoms = append(atoms, Escape(truncate(s.Text, limit/5)))
		}
	}
	var out []string
	var cur strings.Builder
	n := 0
	for _, a := range atoms {
		an := runes(a)
		if n+an > limit && n > 0 {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		cur.WriteString(a)
		n += an
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// cutEscaped escapes s in pieces of at most limit characters each,
// preferring to cut after a newline or a space in the last tenth of a
// piece.
func cutEscaped(s string, limit int) []string {
	var out []string
	var cur strings.Builder
	n, lastBreak, breakRunes := 0, -1, 0
	for _, r := range s {
		e := Escape(string(r))
		en := utf8.RuneCountInString(e)
		if n+en > limit {
			text := cur.String()
			if lastBreak > 0 && breakRunes > limit-limit/10 {
				out = append(out, text[:lastBreak])
				rest := text[lastBreak:]
				cur.Reset()
				cur.WriteString(rest)
				n = utf8.RuneCountInString(rest)
			} else {
				out = append(out, text)
				cur.Reset()
				n = 0
			}
			lastBreak, breakRunes = -1, 0
		}
		cur.WriteString(e)
		n += en
		if r == '\n' || r == ' ' {
			lastBreak, breakRunes = cur.Len(), n
		}
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// truncate cuts s to at most limit characters, ending with "…" when cut.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	i, n := 0, 0
	for j := range s {
		if n == limit-1 {
			i = j
			break
		}
		n++
	}
	return s[:i] + "…"
}

// truncateEscaped cuts escaped mrkdwn to at most limit characters without
// breaking an entity or a <…> token, ending with "…" when cut.
func truncateEscaped(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	cut, n := 0, 0
	inEntity, inToken := false, false
	for i, r := range s {
		if n >= limit-1 {
			break
		}
		if !inEntity && !inToken {
			cut = i
		}
		switch {
		case r == '&':
			inEntity = true
		case r == ';' && inEntity:
			inEntity = false
		case r == '<':
			inToken = true
		case r == '>' && inToken:
			inToken = false
		}
		n++
		if !inEntity && !inToken {
			cut = i + utf8.RuneLen(r)
		}
	}
	return s[:cut] + "…"
}

func runes(s string) int { return utf8.RuneCountInString(s) }
