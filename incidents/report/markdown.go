package report

import (
	"bytes"
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Markdown renders the report as GitHub-flavoured Markdown, to be read in
// a git repository or pasted in a wiki. Untrusted text (titles, notes,
// messages, names) is escaped so that it renders literally, and table
// cells keep their table whole: a pipe is escaped and a line break
// becomes <br>.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	b.Grow(2048 + 160*len(r.Timeline))
	w := func(ss ...string) {
		for _, s := range ss {
			b.WriteString(s)
		}
	}

	w("# ", mdLine(r.Title), "\n\n")
	w("_Post-incident report for ", mdLine(r.ID), ", as of ", r.AsOf.Format(reportDateTime), "._\n\n")
	w("- **ID:** ", mdLine(r.ID), "\n")
	w("- **Status:** ", mdLine(string(r.Status)), "\n")
	w("- **Severity:** ", r.SeverityLabel, "\n")
	if r.Service != "" {
		w("- **Service:** ", mdLine(r.Service), "\n")
	}
	if r.Source != "" {
		w("- **Source:** ", mdLine(r.Source), "\n")
	}
	for _, ref := range r.Refs {
		w("- **", mdLine(ref.Label), ":** ", mdLine(ref.Value), "\n")
	}
	w("- **Started:** ", r.StartedAt.Format(reportDateTime), "\n")
	if r.Status == incidents.StatusResolved && !r.ResolvedAt.IsZero() {
		w("- **Resolved:** ", r.ResolvedAt.Format(reportDateTime), "\n")
	} else {
		w("- **Still open** as of ", r.AsOf.Format(reportDateTime), "\n")
	}

	w("\n## Impact\n\n")
	if r.Impact == "" {
		w("_to be written_\n")
	} else {
		w(mdBlock(r.Impact, ""), "\n")
	}

	w("\n## Durations\n\n")
	w("| Milestone | Reached at (UTC) | From start |\n|---|---|---|\n")
	for _, m := range []struct {
		name string
		at   time.Time
		d    Duration
	}{
		{"Acknowledged", r.AcknowledgedAt, r.Durations.ToAcknowledge},
		{"Mitigated", r.MitigatedAt, r.Durations.ToMitigate},
		{"Resolved", r.ResolvedAt, r.Durations.ToResolve},
	} {
		w("| ", m.name, " | ", r.clock(m.at), " | ", m.d.Text, " |\n")
	}
	w("| **Total duration** | ", r.clock(r.end()), " | **", r.Durations.Total.Text, "** |\n")

	w("\n## People\n\n")
	if len(r.People) == 0 {
		w("_No one is recorded._\n")
	} else {
		w("| Person | Roles |\n|---|---|\n")
		for _, p := range r.People {
			roles := strings.Join(p.Roles, ", ")
			if roles == "" {
				roles = "—"
			}
			w("| ", mdCell(p.Name), " | ", mdCell(roles), " |\n")
		}
	}

	w("\n## Runbook\n\n")
	if rb := r.Runbook; rb == nil {
		w("_No runbook was attached._\n")
	} else {
		w("**", mdLine(cmp.Or(rb.Title, rb.ID, "Untitled runbook")), "**")
		if rb.Location != "" {
			w(" · ", mdCode(rb.Location))
		}
		if rb.ShortCommit != "" {
			w(" · commit ", mdCode(rb.ShortCommit))
		}
		w("\n")
		if rb.Reason != "" {
			w("\nChosen because: ", mdLine(rb.Reason), "\n")
		}
	}
	if len(r.Steps) > 0 {
		w("\n| # | Step | Outcome | Who | When | Note |\n|--:|---|---|---|---|---|\n")
		for _, s := range r.Steps {
			w("| ", strconv.Itoa(s.Number), " | ", mdCell(s.Title), " | ", string(s.Outcome), " | ",
				mdCell(s.Actor), " | ", s.Offset, " | ", mdCell(s.Note), " |\n")
		}
		c := r.StepCounts
		w("\n", strconv.Itoa(c.Done), " done, ", strconv.Itoa(c.Skipped), " skipped, ",
			strconv.Itoa(c.Pending), " pending (", plural(c.Total, "step"), ").\n")
	}

	w("\n## Timeline\n\n")
	w("Times are UTC; offsets run from the start, ", r.StartedAt.Format(reportDateTime), ".\n\n")
	w("| Time | Offset | Who | What | Details |\n|---|--:|---|---|---|\n")
	for _, e := range r.Timeline {
		w("| ", e.Time, " | ", e.Offset, " | ", mdCell(who(e.Actor, e.Source)), " | ", e.Kind, " | ", mdEventCell(e), " |\n")
	}

	w("\n## Notes\n\n")
	if len(r.Notes) == 0 {
		w("_No notes._\n")
	}
	for _, n := range r.Notes {
		w("- **", n.Time, " (", n.Offset, ")")
		if n.Actor != "" {
			w(" ", mdLine(n.Actor))
		}
		w(":** ", mdBlock(n.Text, "  "), "\n")
	}

	w("\n## Follow-ups\n\n")
	if len(r.FollowUps) == 0 {
		w("- [ ] \n- [ ] \n- [ ] \n")
	}
	for _, f := range r.FollowUps {
		w("- [ ] ", mdLine(f.Text), " _(")
		if f.Actor != "" {
			w(mdLine(f.Actor), ", ")
		}
		w(f.Offset, ")_\n")
	}
	return b.Bytes()
}

const reportDateTime = "2006-01-02 15:04:05 UTC"

// clock writes a time of the incident: "15:04:05" on the day it started,
// with the date on another day, "—" for no time.
func (r *Report) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if y, m, d := t.Date(); y == r.StartedAt.Year() && m == r.StartedAt.Month() && d == r.StartedAt.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

// end is when the incident ended, or AsOf while it is open.
func (r *Report) end() time.Time {
	if r.Status == incidents.StatusResolved && !r.ResolvedAt.IsZero() {
		return r.ResolvedAt
	}
	return r.AsOf
}

func who(actor, source string) string {
	switch {
	case actor != "":
		return actor
	case source != "":
		return "(" + source + ")"
	}
	return ""
}

// mdEventCell writes what an event says: its summary, its link, and its
// text.
func mdEventCell(e Event) string {
	var parts []string
	head := mdCell(e.Summary)
	if l := e.Link; l != nil {
		head = joinNonEmpty(" ", head, mdLink(l.Text, l.URL))
	}
	parts = append(parts, head)
	if e.Text != "" {
		if head != "" {
			parts = append(parts, " — ")
		}
		parts = append(parts, mdCell(e.Text))
	}
	return strings.Join(parts, "")
}

// mdLink writes a link, or only its text when there is no safe URL.
func mdLink(text, u string) string {
	if u == "" {
		return mdLine(text)
	}
	return "[" + mdLine(text) + "](" + mdURLEscaper.Replace(u) + ")"
}

var mdURLEscaper = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "|", "%7C", "<", "%3C", ">", "%3E",
	"\\", "%5C", "`", "%60", "\n", "", "\r", "")

// mdCode writes a code span that holds s literally. It is not for table
// cells, where a pipe would need escaping even in code.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdLine escapes untrusted text for one line of Markdown: line breaks
// become spaces.
func mdLine(s string) string {
	return mdEscapeLine(strings.Join(splitLines(s), " "))
}

// mdCell escapes untrusted text for a table cell: line breaks become
// <br>.
func mdCell(s string) string {
	lines := splitLines(strings.TrimSpace(s))
	for i, l := range lines {
		lines[i] = mdEscapeLine(strings.TrimSpace(l))
	}
	return strings.Join(lines, "<br>")
}

// mdBlock escapes untrusted text of several lines and paragraphs, whose
// continuation lines are indented by indent (to stay in a list item).
// Lines end in a hard break so that they stay apart.
func mdBlock(s, indent string) string {
	var b strings.Builder
	blank := false
	for i, l := range splitLines(strings.TrimSpace(s)) {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
			blank = true
			continue
		case i == 0:
		case blank:
			b.WriteString("\n\n" + indent)
		default:
			b.WriteString("\\\n" + indent)
		}
		blank = false
		b.WriteString(mdEscapeLine(l))
	}
	return b.String()
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// mdEscapeLine backslash-escapes the characters of one line that would
// otherwise be markup: emphasis, code, links, HTML, tables, entities, and
// at the start of the line, headings, lists and quotes.
func mdEscapeLine(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		case '&':
			if i+1 < len(s) && (s[i+1] == '#' || isWordByte(s[i+1])) {
				b.WriteByte('\\')
			}
		case '#', '-', '+', '=':
			if start {
				b.WriteByte('\\')
			}
		case '.', ')':
			// "1. item" and "1) item" start an ordered list.
			if j := i; j > 0 && allDigits(s[:j]) {
				b.WriteByte('\\')
			}
		}
		if c != ' ' && c != '\t' {
			start = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

func allDigits(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
