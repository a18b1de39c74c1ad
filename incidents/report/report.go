package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Report is the post-incident report: everything the Markdown, HTML and
// JSON renderings show, computed once from an incident and its whole
// timeline by New. Its JSON form is part of the public interface
// (GET /api/incidents/{id}/report?format=json, breadcrumb incidents export
// --format json): fields may be added, none renamed or removed.
//
// A Report is deterministic: the same incident and events give the same
// bytes in every format. It holds no "generated at" time; AsOf is the time
// of the last event.
type Report struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
	// Impact is the incident's summary, or "" when none was written; the
	// renderings show a placeholder for it then.
	Impact string `json:"impact"`
	// Severity is 1 (worst) to 5, 0 when unknown; SeverityLabel is
	// "SEV1" to "SEV5", or "unknown".
	Severity      int              `json:"severity"`
	SeverityLabel string           `json:"severity_label"`
	Status        incidents.Status `json:"status"`
	Service       string           `json:"service,omitempty"`
	Source        string           `json:"source,omitempty"`
	// Refs are the incident's identities elsewhere, sorted by kind.
	Refs []Ref `json:"refs"`

	StartedAt      time.Time `json:"started_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	MitigatedAt    time.Time `json:"mitigated_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	// AsOf is the time of the last event (the start when there is none):
	// an open incident's report describes it up to then.
	AsOf      time.Time `json:"as_of"`
	Durations Durations `json:"durations"`

	// People are everyone involved, sorted by name.
	People  []Person `json:"people"`
	Runbook *Runbook `json:"runbook,omitempty"`
	Steps   []Step   `json:"steps"`
	// StepCounts counts Steps by outcome.
	StepCounts StepCounts `json:"step_counts"`
	// Timeline is every event in time order, except messages that were
	// pinned and later unpinned (and the unpin events themselves).
	Timeline []Event `json:"timeline"`
	// Phases are the status phases over time, from the start to AsOf.
	Phases []Phase `json:"phases"`
	// Notes are the note events, in time order.
	Notes []Note `json:"notes"`
	// FollowUps are the lines of notes that start with "TODO",
	// "follow-up:" or "action:", without that prefix.
	FollowUps []FollowUp `json:"follow_ups"`
	// EventCount is the number of events the report was made from.
	EventCount int `json:"event_count"`
}

// Ref is one of the incident's identities elsewhere.
type Ref struct {
	Kind  string `json:"kind"`  // RefPagerDutyIncident, RefAlertmanagerGroup, ...
	Label string `json:"label"` // "PagerDuty incident", ...
	Value string `json:"value"`
}

// Duration is a span from the start of the incident. Seconds is
// null, and Text "—", when the milestone was not reached.
type Duration struct {
	Seconds *int64 `json:"seconds"`
	Text    string `json:"text"` // "4m 10s", "1h 5m", "—"
}

// Durations are the incident's milestones, measured from its start.
// Total runs to the resolution, or, for an open incident, to AsOf (its
// text then ends in "(ongoing)").
type Durations struct {
	ToAcknowledge Duration `json:"time_to_acknowledge"`
	ToMitigate    Duration `json:"time_to_mitigate"`
	ToResolve     Duration `json:"time_to_resolve"`
	Total         Duration `json:"total"`
}

// Person is someone involved: a role holder, a responder, or an
// actor of the timeline. Roles lists the roles held at the end
// (commander, comms, scribe, responder); it is empty for someone who only
// acted.
type Person struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// Runbook is the runbook that was attached.
type Runbook struct {
	ID          string `json:"id,omitempty"`
	Title       string `json:"title"`
	Source      string `json:"source,omitempty"`
	Path        string `json:"path,omitempty"`
	Location    string `json:"location"` // "source:path"
	Commit      string `json:"commit,omitempty"`
	ShortCommit string `json:"short_commit,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Step is the outcome of one runbook step.
type Step struct {
	Number  int                 `json:"number"`
	Title   string              `json:"title"`
	Outcome incidents.StepState `json:"outcome"` // done, skipped, pending
	Actor   string              `json:"actor,omitempty"`
	At      time.Time           `json:"at,omitzero"`
	Offset  string              `json:"offset,omitempty"` // "+12m" from the start
	Note    string              `json:"note,omitempty"`
}

// StepCounts counts steps by outcome.
type StepCounts struct {
	Done    int `json:"done"`
	Skipped int `json:"skipped"`
	Pending int `json:"pending"`
	Total   int `json:"total"`
}

// Event is one timeline entry, in plain words. What happened is
// Kind ("status changed"), Summary (what the event's data says:
// "triggered → acknowledged"), Link (a breadcrumb, a permalink) and Text
// (free text: a note, a reason, a message).
type Event struct {
	Seq     int64               `json:"seq"`
	At      time.Time           `json:"at"`
	Time    string              `json:"time"`   // "15:04:05", UTC
	Offset  string              `json:"offset"` // "+12m" from the start
	Actor   string              `json:"actor,omitempty"`
	Source  string              `json:"source,omitempty"`
	Type    incidents.EventType `json:"type"`
	Kind    string              `json:"kind"`
	Summary string              `json:"summary,omitempty"`
	Text    string              `json:"text,omitempty"`
	Link    *Link               `json:"link,omitempty"`
	Data    map[string]string   `json:"data,omitempty"`
}

// Link is a link an event carries. URL is empty when the event's
// address is not an http or https URL (it is never made a link then).
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// Phase is a span of time the incident spent in one status. End is
// the start of the next phase, or AsOf for the last one.
type Phase struct {
	Status incidents.Status `json:"status"`
	Start  time.Time        `json:"start"`
	End    time.Time        `json:"end"`
}

// Note is a note from the timeline.
type Note struct {
	At     time.Time `json:"at"`
	Time   string    `json:"time"`
	Offset string    `json:"offset"`
	Actor  string    `json:"actor,omitempty"`
	Text   string    `json:"text"`
}

// FollowUp is an action item found in a note.
type FollowUp struct {
	Text   string    `json:"text"`
	Actor  string    `json:"actor,omitempty"`
	At     time.Time `json:"at"`
	Offset string    `json:"offset"`
}

// The content types of the renderings.
const (
	ContentTypeMarkdown = "text/markdown; charset=utf-8"
	ContentTypeHTML     = "text/html; charset=utf-8"
	ContentTypeJSON     = "application/json"
)

// ContentSecurityPolicy is the policy a report is served under, in any
// format: a report holds the incident's text, which came from outside,
// so should a browser show it, it runs nothing and loads nothing; its
// own inline styles apply, and its links can still be followed.
const ContentSecurityPolicy = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// Render renders the report of an incident in a format: "md" (the
// default, also "markdown"), "html" or "json". It returns the document
// and its content type; an unknown format is ErrInvalid.
func Render(inc *incidents.Incident, events []incidents.Event, format string) ([]byte, string, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "md", "markdown":
		return New(inc, events).Markdown(), ContentTypeMarkdown, nil
	case "html":
		return New(inc, events).HTML(), ContentTypeHTML, nil
	case "json":
		b, err := New(inc, events).JSON()
		if err != nil {
			return nil, "", err
		}
		return b, ContentTypeJSON, nil
	}
	return nil, "", fmt.Errorf("incidents: report format %q (want md, html or json): %w", format, incidents.ErrInvalid)
}

// JSON returns the report as indented JSON, ending in a newline.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("incidents: report %s as JSON: %w", r.ID, err)
	}
	return append(b, '\n'), nil
}

// New computes the report of an incident from its whole timeline.
// It neither changes nor keeps inc and events (though the report's events
// share their Data maps), and reads no clock.
func New(inc *incidents.Incident, events []incidents.Event) *Report {
	if inc == nil {
		inc = &incidents.Incident{}
	}
	evs := orderEvents(events)
	start := inc.CreatedAt.UTC()
	if start.IsZero() && len(evs) > 0 {
		start = evs[0].At.UTC()
	}
	asOf := start
	for _, e := range evs {
		if e.At.After(asOf) {
			asOf = e.At.UTC()
		}
	}
	r := &Report{
		ID: inc.ID, Title: inc.Title, Summary: inc.Summary, Impact: strings.TrimSpace(inc.Summary),
		Severity: inc.Severity, SeverityLabel: severityLabel(inc.Severity),
		Status: inc.Status, Service: inc.Service, Source: inc.Source,
		Refs:      reportRefs(inc.Refs),
		StartedAt: start, AcknowledgedAt: inc.AcknowledgedAt.UTC(), MitigatedAt: inc.MitigatedAt.UTC(),
		ResolvedAt: inc.ResolvedAt.UTC(), AsOf: asOf,
		People:     []Person{},
		Steps:      []Step{},
		Timeline:   make([]Event, 0, len(evs)),
		Notes:      []Note{},
		FollowUps:  []FollowUp{},
		EventCount: len(events),
	}
	if inc.Status == incidents.StatusResolved && !r.ResolvedAt.IsZero() && r.ResolvedAt.After(r.AsOf) {
		r.AsOf = r.ResolvedAt
	}
	r.Durations = Durations{
		ToAcknowledge: milestone(start, r.AcknowledgedAt),
		ToMitigate:    milestone(start, r.MitigatedAt),
		ToResolve:     milestone(start, r.ResolvedAt),
	}
	if inc.Status == incidents.StatusResolved && !r.ResolvedAt.IsZero() {
		r.Durations.Total = r.Durations.ToResolve
	} else {
		r.Durations.Total = milestone(start, r.AsOf)
		r.Durations.Total.Text += " (ongoing)"
	}
	if rb := inc.Runbook; rb != nil {
		r.Runbook = &Runbook{ID: rb.ID, Title: rb.Title, Source: rb.Source, Path: rb.Path,
			Location: location(rb.Source, rb.Path), Commit: rb.Commit, ShortCommit: shortCommit(rb.Commit), Reason: rb.Reason}
	}
	stepTitles := make(map[int]string, len(inc.Steps))
	for _, st := range inc.Steps {
		stepTitles[st.Number] = st.Title
		out := st.State
		if out == "" {
			out = incidents.StepPending
		}
		rs := Step{Number: st.Number, Title: st.Title, Outcome: out, Actor: st.Actor, Note: st.Note}
		if !st.At.IsZero() {
			rs.At = st.At.UTC()
			rs.Offset = offset(start, rs.At)
		}
		switch out {
		case incidents.StepDone:
			r.StepCounts.Done++
		case incidents.StepSkipped:
			r.StepCounts.Skipped++
		default:
			r.StepCounts.Pending++
		}
		r.Steps = append(r.Steps, rs)
	}
	r.StepCounts.Total = len(r.Steps)

	people := newPeople()
	for _, role := range sortedRoles(inc.Roles) {
		people.add(inc.Roles[role], role)
	}
	for _, u := range inc.Responders {
		people.add(u, incidents.RoleResponder)
	}
	for _, st := range inc.Steps {
		people.add(st.Actor, "")
	}
	hidden := unpinned(evs)
	seenFollowUps := map[string]bool{}
	for i, e := range evs {
		people.add(e.Actor, "")
		if e.Type == incidents.EventRoleChanged {
			people.add(e.Data["user"], "")
			people.add(e.Data["previous"], "")
		}
		if hidden[i] {
			continue
		}
		at := e.At.UTC()
		e.Text = cleanText(e.Text)
		re := describe(e, stepTitles)
		re.Seq, re.At, re.Time, re.Offset = e.Seq, at, at.Format("15:04:05"), offset(start, at)
		re.Actor, re.Source, re.Type, re.Data = e.Actor, e.Source, e.Type, e.Data
		r.Timeline = append(r.Timeline, re)
		if e.Type == incidents.EventNote {
			r.Notes = append(r.Notes, Note{At: at, Time: re.Time, Offset: re.Offset, Actor: e.Actor, Text: e.Text})
			for _, text := range followUps(e.Text) {
				if k := strings.ToLower(text); !seenFollowUps[k] {
					seenFollowUps[k] = true
					r.FollowUps = append(r.FollowUps, FollowUp{Text: text, Actor: e.Actor, At: at, Offset: re.Offset})
				}
			}
		}
	}
	r.People = people.list()
	r.Phases = phases(inc, evs, start, r.AsOf)
	return r
}

// orderEvents returns the events in time order; events at the same time
// keep their timeline order (by Seq, then as given).
func orderEvents(events []incidents.Event) []incidents.Event {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b incidents.Event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return evs
}

// unpinned marks the pins of messages that were unpinned afterwards, the
// unpin events, and repeated pins of one message (two people pinning it),
// none of which the report shows.
func unpinned(evs []incidents.Event) map[int]bool {
	hidden := map[int]bool{}
	// Walk in timeline (Seq) order: a pinned message's event carries the
	// message's own time, which precedes its unpinning.
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(evs[a].Seq, evs[b].Seq) })
	shown := map[string]int{} // message ID → index of the pin shown
	for _, i := range order {
		e := evs[i]
		id := e.Data["message"]
		switch e.Type {
		case incidents.EventMessagePinned:
			if id == "" {
				continue
			}
			if _, ok := shown[id]; ok {
				hidden[i] = true
				continue
			}
			shown[id] = i
		case incidents.EventMessageUnpinned:
			hidden[i] = true
			if j, ok := shown[id]; ok {
				hidden[j] = true
				delete(shown, id)
			}
		}
	}
	return hidden
}

var eventKinds = map[incidents.EventType]string{
	incidents.EventDeclared:         "incident declared",
	incidents.EventAlertFired:       "alert fired",
	incidents.EventAlertResolved:    "alert resolved",
	incidents.EventStatusChanged:    "status changed",
	incidents.EventStepDone:         "step done",
	incidents.EventStepSkipped:      "step skipped",
	incidents.EventStepReopened:     "step reopened",
	incidents.EventNote:             "note",
	incidents.EventMessagePinned:    "message pinned",
	incidents.EventMessageUnpinned:  "message unpinned",
	incidents.EventRoleChanged:      "role changed",
	incidents.EventSeverityChanged:  "severity changed",
	incidents.EventRunbookAttached:  "runbook attached",
	incidents.EventBreadcrumbOpened: "breadcrumb opened",
	incidents.EventPagerDutySync:    "PagerDuty sync",
}

// describe puts an event in plain words.
func describe(e incidents.Event, stepTitles map[int]string) Event {
	kind := eventKinds[e.Type]
	if kind == "" {
		kind = strings.NewReplacer(".", " ", "_", " ").Replace(string(e.Type))
	}
	re := Event{Kind: kind, Text: e.Text}
	d := e.Data
	switch e.Type {
	case incidents.EventDeclared:
		re.Summary, re.Text = e.Text, ""
		if sev, err := strconv.Atoi(d["severity"]); err == nil {
			re.Summary = joinNonEmpty(" · ", re.Summary, severityLabel(sev))
		}
	case incidents.EventAlertFired, incidents.EventAlertResolved:
		re.Summary = d["alert"]
	case incidents.EventStatusChanged:
		re.Summary = arrow(d["from"], d["to"])
	case incidents.EventStepDone, incidents.EventStepSkipped, incidents.EventStepReopened:
		n, err := strconv.Atoi(d["step"])
		title := d["title"]
		if title == "" && err == nil {
			title = stepTitles[n]
		}
		re.Summary = joinNonEmpty(": ", "Step "+d["step"], title)
		if d["step"] == "" {
			re.Summary = title
		}
	case incidents.EventMessagePinned:
		if a := cmp.Or(d["author"], d["name"]); a != "" {
			re.Summary = "from " + a
		}
		if d["url"] != "" {
			re.Link = &Link{Text: "permalink", URL: safeURL(d["url"])}
		}
	case incidents.EventRoleChanged:
		user, role := d["user"], d["role"]
		switch {
		case user == "":
			re.Summary = role + " unassigned"
		case role == incidents.RoleResponder:
			re.Summary = user + " joined as responder"
		default:
			re.Summary = user + " is now " + role
		}
		if p := d["previous"]; p != "" {
			re.Summary += " (was " + p + ")"
		}
	case incidents.EventSeverityChanged:
		re.Summary = arrow(sevData(d["from"]), sevData(d["to"]))
	case incidents.EventRunbookAttached:
		re.Summary = e.Text
		if p := d["path"]; p != "" {
			re.Summary = joinNonEmpty(" · ", re.Summary, p+atCommit(d["commit"]))
		}
		re.Text = d["reason"]
	case incidents.EventBreadcrumbOpened:
		name := cmp.Or(d["name"], d["url"])
		if name != "" {
			re.Link = &Link{Text: name, URL: safeURL(d["url"])}
		}
	}
	return re
}

// cleanText trims free text and gives it Unix line endings.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(strings.ReplaceAll(s, "\r", "\n"))
}

// plural writes a count and a noun, in the plural unless it is one.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func arrow(from, to string) string {
	if from == "" && to == "" {
		return ""
	}
	return cmp.Or(from, "none") + " → " + cmp.Or(to, "none")
}

func sevData(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		return s
	}
	if n == 0 {
		return ""
	}
	return severityLabel(n)
}

func atCommit(c string) string {
	if c == "" {
		return ""
	}
	return "@" + shortCommit(c)
}

func joinNonEmpty(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// safeURL returns u when it is an absolute http or https URL, else "".
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

func severityLabel(sev int) string {
	if sev < 1 || sev > 5 {
		return "unknown"
	}
	return "SEV" + strconv.Itoa(sev)
}

var refLabels = map[string]string{
	incidents.RefPagerDutyIncident: "PagerDuty incident",
	incidents.RefAlertmanagerGroup: "Alertmanager group",
}

// reportRefs lists the references a reader can follow, sorted by kind. The
// declaration's idempotency key (the Service's RefKey) is bookkeeping, and
// left out.
func reportRefs(refs map[string]string) []Ref {
	out := make([]Ref, 0, len(refs))
	for k, v := range refs {
		if k == "declaration_key" || v == "" {
			continue
		}
		label := refLabels[k]
		if label == "" {
			label = strings.ReplaceAll(k, "_", " ")
		}
		out = append(out, Ref{Kind: k, Label: label, Value: v})
	}
	slices.SortFunc(out, func(a, b Ref) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}

// location is where a runbook lives, as "source:path".
func location(source, path string) string {
	switch {
	case source == "":
		return path
	case path == "":
		return source
	}
	return source + ":" + path
}

// shortCommit abbreviates a commit hash as git does, to 7 characters.
func shortCommit(c string) string {
	if len(c) > 7 && strings.Trim(c, "0123456789abcdefABCDEF") == "" {
		return c[:7]
	}
	return c
}

func milestone(start, at time.Time) Duration {
	if at.IsZero() || start.IsZero() {
		return Duration{Text: "—"}
	}
	d := at.Sub(start).Truncate(time.Second)
	s := int64(d / time.Second)
	return Duration{Seconds: &s, Text: humanDuration(d)}
}

// humanDuration writes d with its two largest units: "45s", "4m 10s",
// "1h 5m", "2d 3h".
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	d = d.Truncate(time.Second)
	days, h, m, s := int64(d/(24*time.Hour)), int64(d/time.Hour)%24, int64(d/time.Minute)%60, int64(d/time.Second)%60
	two := func(a int64, au string, b int64, bu string) string {
		if b == 0 {
			return strconv.FormatInt(a, 10) + au
		}
		return strconv.FormatInt(a, 10) + au + " " + strconv.FormatInt(b, 10) + bu
	}
	switch {
	case days > 0:
		return two(days, "d", h, "h")
	case h > 0:
		return two(h, "h", m, "m")
	case m > 0:
		return two(m, "m", s, "s")
	}
	return strconv.FormatInt(s, 10) + "s"
}

// offset writes the time from the start compactly: "+45s", "+12m",
// "+1h05m", "+2d03h"; "-3m" before the start.
func offset(start, at time.Time) string {
	d := at.Sub(start)
	b := make([]byte, 0, 12)
	if d < 0 {
		b, d = append(b, '-'), -d
	} else {
		b = append(b, '+')
	}
	days, h, m, s := int64(d/(24*time.Hour)), int64(d/time.Hour)%24, int64(d/time.Minute)%60, int64(d/time.Second)%60
	two := func(b []byte, n int64) []byte {
		if n < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, n, 10)
	}
	switch {
	case days > 0:
		b = append(two(append(strconv.AppendInt(b, days, 10), 'd'), h), 'h')
	case h > 0:
		b = append(two(append(strconv.AppendInt(b, h, 10), 'h'), m), 'm')
	case m > 0:
		b = append(strconv.AppendInt(b, m, 10), 'm')
	default:
		b = append(strconv.AppendInt(b, s, 10), 's')
	}
	return string(b)
}

// people gathers the people involved and their roles, without duplicates.
type people struct {
	roles map[string][]string
}

func newPeople() *people { return &people{roles: map[string][]string{}} }

func (p *people) add(name, role string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	roles, ok := p.roles[name]
	if !ok {
		roles = []string{}
	}
	if role != "" && !slices.Contains(roles, role) {
		roles = append(roles, role)
	}
	p.roles[name] = roles
}

func (p *people) list() []Person {
	out := make([]Person, 0, len(p.roles))
	for name, roles := range p.roles {
		out = append(out, Person{Name: name, Roles: roles})
	}
	slices.SortFunc(out, func(a, b Person) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.Name, b.Name))
	})
	return out
}

// sortedRoles lists the roles of a Roles map: commander, comms and scribe
// first, then any other in name order.
func sortedRoles(roles map[string]string) []string {
	rank := func(r string) int {
		switch r {
		case incidents.RoleCommander:
			return 0
		case incidents.RoleComms:
			return 1
		case incidents.RoleScribe:
			return 2
		}
		return 3
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	return out
}

// phases are the status phases from the start to the end, from the status
// changes of the timeline or, when it has none, from the incident's
// milestones.
func phases(inc *incidents.Incident, evs []incidents.Event, start, end time.Time) []Phase {
	type change struct {
		at time.Time
		to incidents.Status
	}
	changes := []change{{start, incidents.StatusTriggered}}
	for _, e := range evs {
		if e.Type == incidents.EventStatusChanged && incidents.Status(e.Data["to"]).Valid() {
			changes = append(changes, change{e.At.UTC(), incidents.Status(e.Data["to"])})
		}
	}
	if len(changes) == 1 {
		for _, c := range []change{{inc.AcknowledgedAt, incidents.StatusAcknowledged}, {inc.MitigatedAt, incidents.StatusMitigated}, {inc.ResolvedAt, incidents.StatusResolved}} {
			if !c.at.IsZero() {
				changes = append(changes, change{c.at.UTC(), c.to})
			}
		}
		slices.SortStableFunc(changes, func(a, b change) int { return a.at.Compare(b.at) })
	}
	var out []Phase
	for i, c := range changes {
		e := end
		if i+1 < len(changes) {
			e = changes[i+1].at
		}
		if c.at.Before(start) {
			c.at = start
		}
		if e.Before(c.at) {
			e = c.at
		}
		if n := len(out); n > 0 && out[n-1].Status == c.to {
			out[n-1].End = e
			continue
		}
		if n := len(out); n > 0 && out[n-1].Start.Equal(out[n-1].End) && out[n-1].Start.Equal(c.at) {
			out = out[:n-1] // a phase of no time: replaced by this one
		}
		out = append(out, Phase{Status: c.to, Start: c.at, End: e})
	}
	return out
}

// followUps finds the action items in a note: its lines that start with
// "TODO", "follow-up:" or "action:" (in any case, after an optional list
// marker), without that prefix.
func followUps(note string) []string {
	var out []string
	for line := range strings.Lines(note) {
		line = strings.TrimSpace(line)
		for _, marker := range []string{"- [ ]", "* [ ]", "[ ]", "-", "*", "•"} {
			if strings.HasPrefix(line, marker) {
				line = strings.TrimSpace(line[len(marker):])
				break
			}
		}
		lower := strings.ToLower(line)
		rest, ok := "", false
		for _, p := range []string{"follow-up:", "followup:", "follow up:", "action item:", "action:"} {
			if strings.HasPrefix(lower, p) {
				rest, ok = line[len(p):], true
				break
			}
		}
		if !ok && strings.HasPrefix(lower, "todo") {
			after := line[len("todo"):]
			if after == "" || !isWordByte(after[0]) {
				rest, ok = after, true
			}
		}
		if !ok {
			continue
		}
		rest = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":-–—)"))
		if rest != "" {
			out = append(out, rest)
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
