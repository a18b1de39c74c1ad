package bot

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Button actions. An action may carry a suffix after ":" to keep it
// unique within a message ("open_link:2"); the bot reads the part before
// it. Values name the incident, and the step after "|" ("INC-1|3").
const (
	ActionAck           = "incident_ack"
	ActionMitigate      = "incident_mitigate"
	ActionResolve       = "incident_resolve"
	ActionReopen        = "incident_reopen"
	ActionGuided        = "guided_start"
	ActionStepDone      = "step_done"
	ActionStepSkip      = "step_skip"
	ActionStepNote      = "step_note"
	ActionStepBack      = "step_back"
	ActionOpenLink      = "open_link"
	ActionRunbookOpen   = "runbook_open"
	ActionRunbookGuided = "runbook_guided"
	ActionRunbookSearch = "runbook_search"
	ActionRunbookWrite  = "runbook_write"
)

// Forms the bot opens.
const (
	FormDeclare = "declare"
	FormNote    = "note"
)

// Limits that keep a message well inside a chat's (Slack: 50 blocks,
// 3,000 characters of section text).
const (
	maxBodyChars     = 1200
	maxCodeChars     = 1500
	maxCommands      = 4
	maxLinkButtons   = 10
	maxAlertsShown   = 8
	maxChecklistRows = 20
	maxStepsShown    = 100
	maxFieldChars    = 200
)

// clip cuts s to at most n bytes on a rune boundary, adding "…" when it
// cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " \n") + "…"
}

// person shows a user: a mention for a chat user's ID, the name as
// written otherwise.
func person(s string) Span {
	if isUserID(s) {
		return M(s)
	}
	return P(s)
}

func sevLabel(sev int) string {
	if sev == 0 {
		return "not set"
	}
	return "SEV" + strconv.Itoa(sev)
}

var statusIcon = map[incidents.Status]string{
	incidents.StatusTriggered:    "🔴",
	incidents.StatusAcknowledged: "🟠",
	incidents.StatusMitigated:    "🟡",
	incidents.StatusResolved:     "🟢",
}

// value joins an incident ID and a step number for a button.
func value(id string, step int) string { return id + "|" + strconv.Itoa(step) }

// splitValue reads a button's value.
func splitValue(v string) (id string, step int) {
	id, n, ok := strings.Cut(v, "|")
	if ok {
		step, _ = strconv.Atoi(n)
	}
	return id, step
}

// header is the incident's header message: everything a responder needs
// at a glance, kept current.
func (b *Bot) header(inc *incidents.Incident) Message {
	m := Message{Text: fmt.Sprintf("%s %s, %s", inc.ID, inc.Status, sevLabel(inc.Severity))}
	m.Blocks = append(m.Blocks, &Header{Text: statusIcon[inc.Status] + " " + inc.ID})
	m.Blocks = append(m.Blocks, &Section{Text: Text{P(clip(inc.Title, maxTitle))}, Fields: b.fields(inc)})
	if inc.Summary != "" {
		m.Blocks = append(m.Blocks, &Section{Text: Text{P(clip(inc.Summary, maxBodyChars))}})
	}
	if rb := inc.Runbook; rb != nil {
		t := Text{B("Runbook:"), P(" " + clip(rb.Title, maxFieldChars))}
		if rb.Reason != "" {
			t = append(t, P(" ("+clip(rb.Reason, maxFieldChars)+")"))
		}
		if n := len(inc.Steps); n > 0 {
			done, skipped := stepCounts(inc)
			t = append(t, NL(), P(fmt.Sprintf("%d of %d steps done", done, n)))
			if skipped > 0 {
				t = append(t, P(fmt.Sprintf(", %d skipped", skipped)))
			}
		}
		m.Blocks = append(m.Blocks, &Section{Text: t})
	}
	if inc.Runbook == nil && inc.Status.Open() && (len(inc.Alerts) > 0 || len(inc.Suggestions) > 0) {
		m.Blocks = append(m.Blocks, b.noRunbook(inc)...)
	}
	if len(inc.Alerts) > 0 {
		m.Blocks = append(m.Blocks, &Section{Text: alertsText(inc.Alerts)})
	}
	if btns := b.linkButtons(inc, 0); len(btns) > 0 {
		m.Blocks = append(m.Blocks, &Actions{Buttons: btns})
	}
	m.Blocks = append(m.Blocks, &Actions{Buttons: b.incidentButtons(inc)})
	m.Blocks = append(m.Blocks, &Context{Text: Text{P(fmt.Sprintf("Declared %s · /%s help",
		inc.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), b.cfg.Commands.Incident))}})
	return m
}

func (b *Bot) fields(inc *incidents.Incident) []Text {
	f := []Text{
		{B("Status"), NL(), P(statusIcon[inc.Status] + " " + string(inc.Status))},
		{B("Severity"), NL(), P(sevLabel(inc.Severity))},
	}
	for _, role := range []string{incidents.RoleCommander, incidents.RoleComms, incidents.RoleScribe} {
		if u := inc.Roles[role]; u != "" {
			f = append(f, Text{B(roleTitle(role)), NL(), person(u)})
		}
	}
	if inc.Roles[incidents.RoleCommander] == "" {
		f = append(f, Text{B("Commander"), NL(), P("nobody yet")})
	}
	if len(inc.Responders) > 0 {
		t := Text{B("Responders"), NL()}
		for i, r := range inc.Responders {
			if i == 8 {
				t = append(t, P(fmt.Sprintf(" and %d more", len(inc.Responders)-i)))
				break
			}
			if i > 0 {
				t = append(t, P(", "))
			}
			t = append(t, person(r))
		}
		f = append(f, t)
	}
	if inc.Service != "" {
		f = append(f, Text{B("Service"), NL(), P(clip(inc.Service, maxFieldChars))})
	}
	return f
}

func roleTitle(role string) string {
	switch role {
	case incidents.RoleCommander:
		return "Commander"
	case incidents.RoleComms:
		return "Comms"
	case incidents.RoleScribe:
		return "Scribe"
	}
	return "Responder"
}

func stepCounts(inc *incidents.Incident) (done, skipped int) {
	for _, st := range inc.Steps {
		switch st.State {
		case incidents.StepDone:
			done++
		case incidents.StepSkipped:
			skipped++
		}
	}
	return done, skipped
}

func alertsText(alerts []incidents.AlertState) Text {
	firing := 0
	for _, a := range alerts {
		if a.Status != "resolved" {
			firing++
		}
	}
	t := Text{B(fmt.Sprintf("Alerts: %d firing, %d resolved", firing, len(alerts)-firing))}
	for i, a := range alerts {
		if i == maxAlertsShown {
			t = append(t, NL(), P(fmt.Sprintf("and %d more", len(alerts)-i)))
			break
		}
		icon := "🔥 "
		if a.Status == "resolved" {
			icon = "✅ "
		}
		line := a.Name
		if a.Summary != "" && a.Summary != a.Name {
			line += ": " + a.Summary
		}
		t = append(t, NL(), P(icon+clip(line, maxFieldChars)))
	}
	return t
}

// linkButtons are the buttons of an incident's links for a step (0: the
// incident's own), through Breadcrumb's redirect when there is one.
func (b *Bot) linkButtons(inc *incidents.Incident, step int) []Button {
	var out []Button
	for i, l := range inc.Links {
		if l.Step != step || l.URL == "" {
			continue
		}
		if len(out) == maxLinkButtons {
			break
		}
		u := l.URL
		if b.linkURL != nil {
			u = b.linkURL(inc.ID, i, "")
		}
		out = append(out, Button{Label: clip(linkLabel(l), 60), Action: ActionOpenLink + ":" + strconv.Itoa(i), Value: value(inc.ID, i), URL: u})
	}
	return out
}

var kindIcon = map[string]string{
	runbooks.KindLogs: "📜 ", runbooks.KindMetrics: "📈 ", runbooks.KindTraces: "🧵 ",
	runbooks.KindDashboard: "📊 ", runbooks.KindLink: "🔗 ",
}

func linkLabel(l incidents.Link) string {
	name := l.Name
	if name == "" {
		name = l.Kind
	}
	return kindIcon[l.Kind] + name
}

func (b *Bot) incidentButtons(inc *incidents.Incident) []Button {
	var out []Button
	switch inc.Status {
	case incidents.StatusTriggered:
		out = append(out, Button{Label: "Acknowledge", Action: ActionAck, Value: inc.ID, Style: "primary"})
	case incidents.StatusAcknowledged:
		out = append(out, Button{Label: "Mitigated", Action: ActionMitigate, Value: inc.ID})
	}
	if inc.Status.Open() {
		if inc.Runbook != nil && len(inc.Steps) > 0 {
			out = append(out, Button{Label: "Start guided", Action: ActionGuided, Value: inc.ID})
		}
		out = append(out, Button{Label: "Resolve", Action: ActionResolve, Value: inc.ID, Style: "danger"})
	} else {
		out = append(out, Button{Label: "Reopen", Action: ActionReopen, Value: inc.ID})
	}
	if inc.Runbook != nil && b.pageURL != nil {
		if u := b.pageURL(inc.Runbook.ID, ""); u != "" {
			out = append(out, Button{Label: "Open runbook", Action: ActionRunbookOpen, Value: inc.Runbook.ID, URL: u})
		}
	}
	return out
}

// currentStep returns the index in inc.Steps of the first step still
// pending, or -1 when every step is done or skipped.
func currentStep(inc *incidents.Incident) int {
	for i, st := range inc.Steps {
		if st.State == incidents.StepPending {
			return i
		}
	}
	return -1
}

// card is the guided card: the current step, its commands to copy, its
// links, the progress and the buttons.
func (b *Bot) card(inc *incidents.Incident) Message {
	n := len(inc.Steps)
	i := currentStep(inc)
	done, skipped := stepCounts(inc)
	if i < 0 {
		m := Message{Text: fmt.Sprintf("%s: all %d steps done or skipped", inc.ID, n)}
		m.Blocks = append(m.Blocks, &Section{Text: Text{B("Guided: all steps are done or skipped"), NL(),
			P(fmt.Sprintf("%d done, %d skipped, of %d.", done, skipped, n))}})
		btns := []Button{}
		if n > 0 {
			btns = append(btns, Button{Label: "Back", Action: ActionStepBack, Value: value(inc.ID, 0)})
		}
		if inc.Status.Open() {
			btns = append(btns, Button{Label: "Resolve", Action: ActionResolve, Value: inc.ID, Style: "danger"})
		}
		if len(btns) > 0 {
			m.Blocks = append(m.Blocks, &Actions{Buttons: btns})
		}
		return m
	}
	st := inc.Steps[i]
	m := Message{Text: fmt.Sprintf("%s: step %d of %d", inc.ID, i+1, n)}
	m.Blocks = append(m.Blocks, &Section{Text: Text{B(fmt.Sprintf("Step %d of %d:", i+1, n)), P(" " + clip(st.Title, maxFieldChars))}})
	var step *runbooks.Step
	var anchor string
	rb := b.runbook(inc)
	if rb != nil {
		for k := range rb.Steps {
			if rb.Steps[k].Number == st.Number {
				step = &rb.Steps[k]
				anchor = step.Anchor
			}
		}
	}
	truncated := false
	if step != nil {
		body := stepTextWith(step.Body, st.Title, true)
		if len(body) > maxBodyChars {
			truncated = true
			body = clip(body, maxBodyChars)
		}
		if body != "" && body != st.Title {
			m.Blocks = append(m.Blocks, &Section{Text: b.linkSpans(rb, body)})
		}
		shown := 0
		for _, c := range step.Commands {
			if c.Inline || strings.TrimSpace(c.Code) == "" {
				continue
			}
			if shown == maxCommands {
				truncated = true
				break
			}
			code := c.Code
			if len(code) > maxCodeChars {
				truncated = true
				code = clip(code, maxCodeChars)
			}
			m.Blocks = append(m.Blocks, &Code{Text: code, Language: c.Lang})
			shown++
		}
	} else if inc.Runbook != nil {
		m.Blocks = append(m.Blocks, &Context{Text: Text{P("The runbook's text is not available; open the page.")}})
	}
	if btns := b.linkButtons(inc, st.Number); len(btns) > 0 {
		m.Blocks = append(m.Blocks, &Actions{Buttons: btns})
	}
	progress := fmt.Sprintf("step %d of %d · %d done, %d skipped", i+1, n, done, skipped)
	if truncated {
		progress += " · shortened: the full page has the rest"
	}
	ctx := Text{P(progress)}
	if last := lastActed(inc); last != nil {
		ctx = append(ctx, P(fmt.Sprintf(" · step %d %s by ", last.Number, last.State)), person(last.Actor))
	}
	m.Blocks = append(m.Blocks, &Context{Text: ctx})
	btns := []Button{
		{Label: "Done", Action: ActionStepDone, Value: value(inc.ID, st.Number), Style: "primary"},
		{Label: "Skip", Action: ActionStepSkip, Value: value(inc.ID, st.Number)},
		{Label: "Add note", Action: ActionStepNote, Value: value(inc.ID, st.Number)},
	}
	if i > 0 {
		btns = append(btns, Button{Label: "Back", Action: ActionStepBack, Value: value(inc.ID, st.Number)})
	}
	if inc.Runbook != nil && b.pageURL != nil {
		if u := b.pageURL(inc.Runbook.ID, anchor); u != "" {
			btns = append(btns, Button{Label: "Full page", Action: ActionRunbookOpen, Value: inc.Runbook.ID, URL: u})
		}
	}
	m.Blocks = append(m.Blocks, &Actions{Buttons: btns})
	return m
}

// lastActed returns the step acted on last, or nil.
func lastActed(inc *incidents.Incident) *incidents.StepProgress {
	var last *incidents.StepProgress
	for i := range inc.Steps {
		st := &inc.Steps[i]
		if st.State != incidents.StepPending && st.Actor != "" && (last == nil || !st.At.Before(last.At)) {
			last = st
		}
	}
	return last
}

// stepText is a step's markdown without its fenced code (shown apart,
// as code to copy) and without a first line that repeats its title, its
// paragraphs' hard line breaks joined and runs of blank lines made one.
func stepText(body, title string) string { return stepTextWith(body, title, false) }

// stepTextWith is stepText, keeping markdown links as they are written
// when keepLinks is set, for linkSpans to make them links.
func stepTextWith(body, title string, keepLinks bool) string {
	var out []string
	fence := ""
	blank, joinable := false, false
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			joinable = false
			continue
		}
		if t == "" {
			blank = len(out) > 0
			joinable = false
			continue
		}
		if len(out) == 0 && sameTitle(t, title) {
			continue
		}
		if !keepLinks {
			line = mdLink.ReplaceAllString(line, "$1")
		}
		t = strings.TrimSpace(line)
		if blank {
			out = append(out, "")
			blank = false
		}
		if joinable && !startsBlock(line) {
			out[len(out)-1] += " " + t
			continue
		}
		out = append(out, strings.TrimRight(line, " \t"))
		joinable = !strings.HasPrefix(t, "|") && !strings.HasPrefix(line, "    ")
	}
	return strings.Join(out, "\n")
}

// mdLink is a markdown link or image: the card shows its text, and the
// full page its target.
// mdLinkParts finds a markdown link and its text and target.
var mdLinkParts = regexp.MustCompile(`(!?)\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)

// linkSpans makes a step's text into spans, its markdown links into
// links: to another page of the runbook's source (written relative to
// the page, "../databases/PostgresConnectionsExhausted.md"), at its page
// in the console; to an http(s) address, as it is. An image, or a link
// that leads nowhere Breadcrumb knows, keeps its text only.
func (b *Bot) linkSpans(rb *runbooks.Runbook, body string) Text {
	var t Text
	last := 0
	for _, m := range mdLinkParts.FindAllStringSubmatchIndex(body, -1) {
		if m[0] > last {
			t = append(t, P(body[last:m[0]]))
		}
		image, text, target := body[m[2]:m[3]], body[m[4]:m[5]], body[m[6]:m[7]]
		last = m[1]
		if u := b.linkTarget(rb, target); u != "" && image == "" && text != "" {
			t = append(t, L(text, u))
			continue
		}
		t = append(t, P(text))
	}
	if last < len(body) {
		t = append(t, P(body[last:]))
	}
	return t
}

// linkTarget is where a step's link leads: "" when nowhere known.
func (b *Bot) linkTarget(rb *runbooks.Runbook, target string) string {
	u, err := url.Parse(target)
	switch {
	case err != nil:
		return ""
	case u.Scheme == "http" || u.Scheme == "https":
		return target
	case u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(u.Path, "/") || rb == nil || b.pageURL == nil || b.books == nil:
		return ""
	}
	id := rb.Source + ":" + path.Clean(path.Join(path.Dir(rb.Path), u.Path))
	if _, ok := b.books.Get(id); !ok {
		return ""
	}
	return b.pageURL(id, u.Fragment)
}

var mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)\s]*(?:\s+"[^"]*")?\)`)

// sameTitle reports whether a line says the title, give or take its
// final punctuation.
func sameTitle(line, title string) bool {
	trim := func(s string) string { return strings.TrimRight(strings.TrimSpace(s), ".:!") }
	return title != "" && strings.EqualFold(trim(line), trim(title))
}

// startsBlock reports whether a markdown line starts a list item, a
// quote, a table row or indented text rather than continuing a
// paragraph.
func startsBlock(line string) bool {
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return true
	}
	t := strings.TrimSpace(line)
	for _, p := range []string{"- ", "* ", "+ ", "> ", "|", "#"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i < len(t) && (t[i] == '.' || t[i] == ')')
}

// runbook returns the incident's runbook, when the library has it.
func (b *Bot) runbook(inc *incidents.Incident) *runbooks.Runbook {
	if inc.Runbook == nil || b.books == nil {
		return nil
	}
	rb, ok := b.books.Get(inc.Runbook.ID)
	if !ok {
		return nil
	}
	return rb
}

var stepIcon = map[incidents.StepState]string{
	incidents.StepDone:    "✅",
	incidents.StepSkipped: "⏭️",
	incidents.StepPending: "⬜",
}

// checklist lists every step with its state, the current one marked.
func (b *Bot) checklist(inc *incidents.Incident) Message {
	done, skipped := stepCounts(inc)
	m := Message{Text: fmt.Sprintf("%s checklist: %d of %d steps done", inc.ID, done, len(inc.Steps))}
	title := "Checklist"
	if inc.Runbook != nil {
		title = "Checklist: " + clip(inc.Runbook.Title, maxFieldChars)
	}
	cur := currentStep(inc)
	var t Text
	for i, st := range inc.Steps {
		if i == maxStepsShown {
			t = append(t, NL(), P(fmt.Sprintf("and %d more steps", len(inc.Steps)-i)))
			break
		}
		if i > 0 && i%maxChecklistRows == 0 {
			m.Blocks = append(m.Blocks, &Section{Text: t})
			t = nil
		}
		if len(t) > 0 {
			t = append(t, NL())
		}
		icon := stepIcon[st.State]
		if i == cur {
			icon = "▶️"
		}
		t = append(t, P(fmt.Sprintf("%s %d. %s", icon, i+1, clip(st.Title, 120))))
		if st.State != incidents.StepPending && st.Actor != "" {
			t = append(t, P(" ("+string(st.State)+" by "), person(st.Actor), P(")"))
		}
	}
	blocks := []Block{&Section{Text: Text{P(title)}}}
	m.Blocks = append(blocks, m.Blocks...)
	if len(t) > 0 {
		m.Blocks = append(m.Blocks, &Section{Text: t})
	}
	m.Blocks = append(m.Blocks, &Context{Text: Text{P(fmt.Sprintf("%d done, %d skipped, %d to go", done, skipped, len(inc.Steps)-done-skipped))}})
	return m
}

// maxButtons bounds the buttons of one row that helps to a runbook.
const maxButtons = 7

// noRunbook is what the header shows when no runbook fitted the alerts
// well enough to attach: that none did, the runbooks that might (with
// why, and a button to follow one), searches to try, and a way to write
// the runbook that was missing.
func (b *Bot) noRunbook(inc *incidents.Incident) []Block {
	var out []Block
	if len(inc.Suggestions) == 0 {
		out = append(out, &Section{Text: Text{B("No runbook matched these alerts."), P(" Search for one below, or write the one that was missing.")}})
	} else {
		t := Text{B("No runbook matched these alerts for sure."), P(" These might fit:")}
		for _, s := range inc.Suggestions {
			t = append(t, NL(), P("• "+clip(s.Title, maxFieldChars)))
			if s.Reason != "" {
				t = append(t, P(" ("+clip(s.Reason, maxFieldChars)+")"))
			}
		}
		out = append(out, &Section{Text: t})
	}
	var btns []Button
	for i, s := range inc.Suggestions {
		btns = append(btns, Button{Label: "Follow: " + notification(clip(s.Title, 40)), Action: ActionRunbookGuided + ":s" + strconv.Itoa(i), Value: s.ID})
	}
	for i, q := range inc.Searches {
		btns = append(btns, Button{Label: "Search: " + notification(clip(q, 40)), Action: ActionRunbookSearch + ":" + strconv.Itoa(i), Value: clip(q, 200)})
	}
	if b.newURL != nil {
		if u := b.newURL(inc.ID); u != "" {
			btns = append(btns, Button{Label: "Write a runbook", Action: ActionRunbookWrite, Value: inc.ID, URL: u})
		}
	}
	if len(btns) > maxButtons {
		btns = btns[:maxButtons]
	}
	if len(btns) > 0 {
		out = append(out, &Actions{Buttons: btns})
	}
	return out
}

// hits shows the runbooks found for a query.
func (b *Bot) hits(ctx context.Context, query string, hits []Hit) Message {
	if len(hits) == 0 {
		return Message{Text: "No runbook matches.", Blocks: []Block{
			&Section{Text: Text{P("No runbook matches “" + clip(query, 100) + "”.")}},
			&Context{Text: Text{P("Try other words: the alert's name, the service, or what you see (\"disk full\", \"pods restarting\").")}},
		}}
	}
	m := Message{Text: fmt.Sprintf("%d runbooks found", len(hits))}
	m.Blocks = append(m.Blocks, &Section{Text: Text{B("Runbooks for"), P(" “" + clip(query, 100) + "”")}})
	for i, h := range hits {
		m.Blocks = append(m.Blocks, &Divider{})
		t := Text{P(clip(h.Title, maxFieldChars))}
		if h.Snippet != "" {
			t = append(t, NL(), P(clip(h.Snippet, 300)))
		}
		m.Blocks = append(m.Blocks, &Section{Text: t})
		small := h.Path
		if h.Reason != "" {
			small = h.Reason + " · " + h.Path
		}
		if use := b.runbookUse(ctx, h.RunbookID); use != "" {
			small += " · " + use
		}
		m.Blocks = append(m.Blocks, &Context{Text: Text{P(clip(small, 300))}})
		suffix := ":" + strconv.Itoa(i)
		btns := []Button{{Label: "Start guided", Action: ActionRunbookGuided + suffix, Value: h.RunbookID, Style: "primary"}}
		if b.pageURL != nil {
			if u := b.pageURL(h.RunbookID, ""); u != "" {
				btns = append(btns, Button{Label: "Open", Action: ActionRunbookOpen + suffix, Value: h.RunbookID, URL: u})
			}
		}
		m.Blocks = append(m.Blocks, &Actions{Buttons: btns})
	}
	return m
}

// reply is a short answer in plain words.
func reply(lines ...string) Message {
	m := Message{Text: notification(strings.Join(lines, " "))}
	for _, l := range lines {
		m.Blocks = append(m.Blocks, &Section{Text: Text{P(l)}})
	}
	return m
}

// notification makes a line fit for Message.Text, which some platforms
// read as markup: the characters that open a mention or a link go, so
// that text a user typed stays text. The blocks keep the line as it was,
// in Plain spans.
func notification(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '<', '>', '&':
			return -1
		}
		return r
	}, clip(s, 300))
}

// usage explains a command, after what was wrong.
func (b *Bot) usage(problem string) Message {
	inc := "/" + b.cfg.Commands.Incident
	rb := "/" + b.cfg.Commands.Runbook
	lines := []string{
		rb + " QUERY: find a runbook (only you see the answer)",
		inc + " declare TITLE [sev1-5] [runbook:ID or words]: open an incident (no title: a form)",
		inc + " ack | mitigate | resolve | reopen",
		inc + " note TEXT",
		inc + " status | timeline",
		inc + " assign @user [commander|comms|scribe|responder]",
		inc + " severity 1-5",
		inc + " export [md|html|json]",
		inc + " similar",
		inc + " help",
	}
	m := Message{Text: "How to use " + inc}
	if problem != "" {
		m.Text = notification(problem)
		m.Blocks = append(m.Blocks, &Section{Text: Text{P(problem)}})
	}
	var t Text
	for i, l := range lines {
		if i > 0 {
			t = append(t, NL())
		}
		t = append(t, Span{Text: l, Style: Monospace})
	}
	m.Blocks = append(m.Blocks, &Section{Text: t})
	m.Blocks = append(m.Blocks, &Context{Text: Text{P("In an incident's channel or thread the commands act on that incident; elsewhere name it: " + inc + " ack INC-20261125-ABCDE.")}})
	return m
}

// eventLine describes a timeline event in a line.
func eventLine(e incidents.Event) Text {
	d := e.Data
	var t Text
	switch e.Type {
	case incidents.EventDeclared:
		t = Text{P("declared: " + clip(e.Text, maxFieldChars))}
	case incidents.EventStatusChanged:
		t = Text{P("status " + d["from"] + " → " + d["to"])}
	case incidents.EventSeverityChanged:
		t = Text{P("severity " + sevOr(d["from"]) + " → " + sevOr(d["to"]))}
	case incidents.EventRoleChanged:
		t = Text{person(d["user"]), P(" is " + d["role"])}
	case incidents.EventStepDone, incidents.EventStepSkipped, incidents.EventStepReopened:
		verb := map[incidents.EventType]string{incidents.EventStepDone: "done", incidents.EventStepSkipped: "skipped", incidents.EventStepReopened: "reopened"}[e.Type]
		t = Text{P("step " + d["step"] + " " + verb + ": " + clip(d["title"], 120))}
	case incidents.EventNote:
		t = Text{P("note: " + clip(e.Text, 300))}
	case incidents.EventMessagePinned:
		t = Text{P("pinned: " + clip(e.Text, 200))}
	case incidents.EventMessageUnpinned:
		t = Text{P("unpinned a message")}
	case incidents.EventAlertFired:
		t = Text{P("alert firing: " + clip(cmp.Or(e.Text, d["alert"]), 200))}
	case incidents.EventAlertResolved:
		t = Text{P("alert resolved: " + clip(cmp.Or(e.Text, d["alert"]), 200))}
	case incidents.EventRunbookAttached:
		t = Text{P("runbook: " + clip(e.Text, maxFieldChars))}
	case incidents.EventBreadcrumbOpened:
		t = Text{P("opened " + clip(cmp.Or(d["name"], d["url"]), 200))}
	default:
		t = Text{P(string(e.Type) + " " + clip(e.Text, 200))}
	}
	if e.Actor != "" {
		t = append(t, P(" · by "), person(e.Actor))
	}
	return t
}

func sevOr(s string) string {
	if s == "" {
		return "none"
	}
	return "SEV" + s
}

// timeline shows the last events of an incident.
func timelineMessage(inc *incidents.Incident, events []incidents.Event, total int) Message {
	m := Message{Text: inc.ID + " timeline"}
	m.Blocks = append(m.Blocks, &Section{Text: Text{B("Timeline of " + inc.ID + ":"), P(fmt.Sprintf(" (last %d of %d events)", len(events), total))}})
	var t Text
	for i, e := range events {
		if i > 0 {
			t = append(t, NL())
		}
		t = append(t, P(e.At.UTC().Format("Jan 2 15:04")+"  "))
		t = append(t, eventLine(e)...)
	}
	if len(t) > 0 {
		m.Blocks = append(m.Blocks, &Section{Text: t})
	}
	return m
}
