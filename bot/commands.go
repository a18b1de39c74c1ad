package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Command answers a slash command. The answer is for the user who typed
// it only; what everyone should see goes to the incident's home.
func (b *Bot) Command(ctx context.Context, c Command) Message {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c.Name), "/")) {
	case b.cfg.Commands.Runbook:
		return b.runbookCommand(ctx, c)
	case b.cfg.Commands.Incident:
		return b.incidentCommand(ctx, c)
	}
	return b.usage(fmt.Sprintf("I do not know the command /%s.", clip(c.Name, 40)))
}

func (b *Bot) runbookCommand(ctx context.Context, c Command) Message {
	q := strings.TrimSpace(c.Text)
	if q == "" || strings.EqualFold(q, "help") {
		return reply("/"+b.cfg.Commands.Runbook+" QUERY finds runbooks: the alert's name, the service, or what you see (\"disk full\", \"payments 500 errors\").",
			"Start guided walks you through a runbook step by step, on an incident.")
	}
	if b.search == nil {
		return reply("Search is not available on this server.")
	}
	hits, err := b.search.Search(ctx, clip(q, 500), b.cfg.Hits)
	if err != nil {
		b.log.Error("bot: search", "query", clip(q, 100), "err", err)
		return reply("The search failed on our side; try again in a moment.")
	}
	return b.hits(ctx, q, hits)
}

// incidentCommand runs "/incident SUB ARGS".
func (b *Bot) incidentCommand(ctx context.Context, c Command) Message {
	sub, args := nextWord(c.Text)
	sub = strings.ToLower(sub)
	switch sub {
	case "", "help", "-h", "--help", "?":
		return b.usage("")
	case "declare", "new", "open":
		return b.declareCommand(ctx, c, args)
	}
	op, ok := incidentOps[sub]
	if !ok {
		return b.usage(fmt.Sprintf("I do not know %q.", clip(sub, 40)))
	}
	inc, args, msg := b.target(ctx, c, args)
	if inc == nil {
		return msg
	}
	return op(b, ctx, c, inc, args)
}

type incidentOp func(b *Bot, ctx context.Context, c Command, inc *incidents.Incident, args string) Message

var incidentOps map[string]incidentOp

func init() {
	incidentOps = map[string]incidentOp{
		"ack":         transitionOp(incidents.StatusAcknowledged, "Acknowledged"),
		"acknowledge": transitionOp(incidents.StatusAcknowledged, "Acknowledged"),
		"mitigate":    transitionOp(incidents.StatusMitigated, "Marked mitigated"),
		"mitigated":   transitionOp(incidents.StatusMitigated, "Marked mitigated"),
		"resolve":     transitionOp(incidents.StatusResolved, "Resolved"),
		"reopen":      transitionOp(incidents.StatusTriggered, "Reopened"),
		"note":        (*Bot).noteCommand,
		"status":      (*Bot).statusCommand,
		"timeline":    (*Bot).timelineCommand,
		"assign":      (*Bot).assignCommand,
		"severity":    (*Bot).severityCommand,
		"sev":         (*Bot).severityCommand,
		"export":      (*Bot).exportCommand,
		"similar":     (*Bot).similarCommand,
	}
}

// target finds the incident a command acts on: one named by its first
// argument, else the one whose home the command was typed in.
func (b *Bot) target(ctx context.Context, c Command, args string) (*incidents.Incident, string, Message) {
	if w, rest := nextWord(args); looksLikeIncidentID(w) {
		for _, id := range []string{w, strings.ToUpper(w)} {
			inc, err := b.inc.Get(ctx, id)
			if err == nil {
				return inc, rest, Message{}
			}
			if !errors.Is(err, incidents.ErrNotFound) {
				return nil, "", b.failed("read "+w, err)
			}
		}
		return nil, "", reply(fmt.Sprintf("There is no incident %s.", clip(w, 64)))
	}
	inc, err := b.incidentAt(ctx, c.Place)
	if err != nil {
		return nil, "", b.failed("find the incident of "+c.Place.Channel, err)
	}
	if inc == nil {
		return nil, "", reply(fmt.Sprintf("Run this in an incident's channel, or name one: /%s ack INC-20261125-ABCDE.", b.cfg.Commands.Incident))
	}
	return inc, args, Message{}
}

// failed logs an error of ours and tells the user in a line.
func (b *Bot) failed(op string, err error) Message {
	b.log.Error("bot: "+op, "err", err)
	return reply("Something went wrong on our side (" + op + "); try again in a moment.")
}

// refused explains a change the incident's rules refuse, or reports a
// failure of ours.
func (b *Bot) refused(op, id string, err error) Message {
	if errors.Is(err, incidents.ErrInvalid) {
		return reply(fmt.Sprintf("%s: %s.", id, why(err)))
	}
	return b.failed(op+" "+id, err)
}

// why is the reason an ErrInvalid error gives the person who asked ("it
// is already acknowledged"), or the error itself when it gives none.
func why(err error) string {
	if msg, ok := fault.Message(err); ok {
		return msg
	}
	return err.Error()
}

func transitionOp(to incidents.Status, done string) incidentOp {
	return func(b *Bot, ctx context.Context, c Command, inc *incidents.Incident, args string) Message {
		if args != "" && to != incidents.StatusResolved {
			return b.usage(fmt.Sprintf("%s takes no arguments.", to))
		}
		if inc.Status == to {
			return reply(fmt.Sprintf("%s is already %s.", inc.ID, to))
		}
		if _, err := b.inc.Transition(ctx, inc.ID, to, b.action(c.Key, c.User, args)); err != nil {
			return b.refused("transition", inc.ID, err)
		}
		return reply(fmt.Sprintf("%s %s.", done, inc.ID))
	}
}

func (b *Bot) noteCommand(ctx context.Context, c Command, inc *incidents.Incident, args string) Message {
	if args == "" {
		if c.Trigger != "" {
			if err := b.chat.OpenForm(ctx, c.Trigger, b.noteForm(inc.ID, 0)); err == nil {
				return Message{}
			} else {
				b.log.Warn("bot: open the note form", "incident_id", inc.ID, "err", err)
			}
		}
		return b.usage("Write the note after note: /" + b.cfg.Commands.Incident + " note restarted the pods.")
	}
	if err := b.inc.Note(ctx, inc.ID, b.action(c.Key, c.User, args)); err != nil {
		return b.refused("note", inc.ID, err)
	}
	return reply("Noted on the timeline of " + inc.ID + ".")
}

func (b *Bot) noteForm(id string, step int) Form {
	f := Form{ID: FormNote, Title: "Add a note", Submit: "Add", State: value(id, step),
		Fields: []Field{{ID: "note", Label: "Note", Multiline: true, Hint: "It goes on the timeline of " + id + "."}}}
	if step > 0 {
		f.Title = fmt.Sprintf("Note on step %d", step)
	}
	return f
}

func (b *Bot) statusCommand(_ context.Context, _ Command, inc *incidents.Incident, args string) Message {
	if args != "" {
		return b.usage("status takes no arguments.")
	}
	return b.header(inc)
}

// timelineShown is how many of the last events /incident timeline shows.
const timelineShown = 15

func (b *Bot) timelineCommand(ctx context.Context, _ Command, inc *incidents.Incident, args string) Message {
	if args != "" {
		return b.usage("timeline takes no arguments.")
	}
	events, err := b.inc.Timeline(ctx, inc.ID, 0, 0)
	if err != nil {
		return b.failed("read the timeline of "+inc.ID, err)
	}
	total := len(events)
	if total > timelineShown {
		events = events[total-timelineShown:]
	}
	return timelineMessage(inc, events, total)
}

func (b *Bot) assignCommand(ctx context.Context, c Command, inc *incidents.Incident, args string) Message {
	a, err := parseAssign(args, c.User)
	if err != nil {
		return b.usage("assign: " + err.Error() + ".")
	}
	if _, err := b.inc.AssignRole(ctx, inc.ID, a.Role, a.User.ID, b.action(c.Key, c.User, "")); err != nil {
		return b.refused("assign", inc.ID, err)
	}
	return Message{Text: "assigned", Blocks: []Block{&Section{Text: Text{person(a.User.ID), P(" is " + a.Role + " of " + inc.ID + ".")}}}}
}

func (b *Bot) severityCommand(ctx context.Context, c Command, inc *incidents.Incident, args string) Message {
	sev, ok := parseSeverity(args)
	if !ok {
		return b.usage("severity: give a number from 1 (worst) to 5.")
	}
	if _, err := b.inc.SetSeverity(ctx, inc.ID, sev, b.action(c.Key, c.User, "")); err != nil {
		return b.refused("severity", inc.ID, err)
	}
	return reply(fmt.Sprintf("%s is now %s.", inc.ID, sevLabel(sev)))
}

var exportTypes = map[string]string{"md": "markdown", "markdown": "markdown", "html": "html", "json": "json"}

func (b *Bot) exportCommand(_ context.Context, c Command, inc *incidents.Incident, args string) Message {
	format := strings.ToLower(strings.TrimSpace(args))
	if format == "" {
		format = "md"
	}
	typ, ok := exportTypes[format]
	if !ok {
		return b.usage("export: the format is md, html or json.")
	}
	to := c.Place
	if to.Channel == "" {
		to = homeKey(inc.Home)
	}
	id := inc.ID
	if !b.q.push(id, func(ctx context.Context) { b.export(ctx, id, typ, to) }) {
		return reply("The server is shutting down; try again in a moment.")
	}
	return reply(fmt.Sprintf("Writing the report of %s; it will be shared here.", id))
}

var exportExt = map[string]string{"markdown": "md", "html": "html", "json": "json"}

// export renders an incident's report and shares it.
func (b *Bot) export(ctx context.Context, id, typ string, to Place) {
	inc, err := b.inc.Get(ctx, id)
	if err != nil {
		b.log.Error("bot: export: read the incident", "incident_id", id, "err", err)
		return
	}
	events, err := b.inc.Timeline(ctx, id, 0, 0)
	if err != nil {
		b.log.Error("bot: export: read the timeline", "incident_id", id, "err", err)
		return
	}
	doc, _, err := report.Render(inc, events, exportExt[typ])
	if err != nil {
		b.log.Error("bot: export: render", "incident_id", id, "err", err)
		return
	}
	f := File{Name: id + "-report." + exportExt[typ], Title: "Report of " + id, Type: typ, Content: doc}
	if err := b.chat.Upload(ctx, to, f); err != nil {
		b.log.Error("bot: export: upload", "incident_id", id, "channel", to.Channel, "err", err)
	}
}

// declareCommand opens an incident, or a form when the title is
// missing.
func (b *Bot) declareCommand(ctx context.Context, c Command, args string) Message {
	d, err := parseDeclare(args)
	if err != nil {
		return b.usage("declare: " + err.Error() + ".")
	}
	if d.Title == "" {
		if c.Trigger != "" {
			if err := b.chat.OpenForm(ctx, c.Trigger, b.declareForm(d, "")); err == nil {
				return Message{}
			} else {
				b.log.Warn("bot: open the declare form", "err", err)
			}
		}
		return b.usage("declare: give the incident a title.")
	}
	var rb *incidents.RunbookRef
	var steps []incidents.StepProgress
	if d.Runbook != "" {
		rb, steps, err = b.findRunbook(ctx, d.Runbook)
		if err != nil {
			return reply("declare: " + err.Error())
		}
	}
	inc, created, err := b.inc.Declare(ctx, incidents.Declaration{Title: d.Title, Severity: d.Severity, Source: b.cfg.Source,
		Runbook: rb, Steps: steps}, b.action(c.Key, c.User, ""))
	if err != nil {
		return b.refused("declare", "", err)
	}
	if !created {
		return reply(inc.ID + " was already declared.")
	}
	msg := fmt.Sprintf("Declared %s. Its home is being opened.", inc.ID)
	if b.cfg.Home == HomeThread {
		msg = fmt.Sprintf("Declared %s. Its thread is being started.", inc.ID)
	}
	return reply(msg)
}

// declareForm asks for what a declaration needs; state "guided:ID"
// starts guided mode on the runbook ID once the incident's home is open.
func (b *Bot) declareForm(d declaration, state string) Form {
	sev := ""
	if d.Severity > 0 {
		sev = fmt.Sprint(d.Severity)
	}
	return Form{ID: FormDeclare, Title: "Declare an incident", Submit: "Declare", State: state, Fields: []Field{
		{ID: "title", Label: "Title", Initial: d.Title, Hint: "What is wrong, in a few words."},
		{ID: "severity", Label: "Severity", Initial: sev, Optional: true, Options: []Option{
			{Label: "SEV1 (worst)", Value: "1"}, {Label: "SEV2", Value: "2"}, {Label: "SEV3", Value: "3"},
			{Label: "SEV4", Value: "4"}, {Label: "SEV5", Value: "5"}}},
		{ID: "runbook", Label: "Runbook", Initial: d.Runbook, Optional: true, Hint: "A runbook's ID, or words to find one."},
	}}
}

// findRunbook resolves a runbook ID, or words to search for, to the
// runbook to attach and its steps.
func (b *Bot) findRunbook(ctx context.Context, idOrWords string) (*incidents.RunbookRef, []incidents.StepProgress, error) {
	if b.books != nil {
		if rb, ok := b.books.Get(idOrWords); ok {
			return attachable(rb, "chosen by hand")
		}
	}
	if b.search == nil {
		return nil, nil, fmt.Errorf("there is no runbook %q", clip(idOrWords, 100))
	}
	hits, err := b.search.Search(ctx, clip(idOrWords, 500), 1)
	if err != nil {
		b.log.Error("bot: search for a runbook", "query", clip(idOrWords, 100), "err", err)
		return nil, nil, errors.New("the runbook search failed on our side; try again in a moment")
	}
	if len(hits) == 0 {
		return nil, nil, fmt.Errorf("no runbook matches %q", clip(idOrWords, 100))
	}
	reason := "best match for “" + clip(idOrWords, 60) + "”"
	if b.books != nil {
		if rb, ok := b.books.Get(hits[0].RunbookID); ok {
			return attachable(rb, reason)
		}
	}
	return &incidents.RunbookRef{ID: hits[0].RunbookID, Title: hits[0].Title, Path: hits[0].Path, Reason: reason}, nil, nil
}

// attachable is a runbook as an incident holds it.
func attachable(rb *runbooks.Runbook, reason string) (*incidents.RunbookRef, []incidents.StepProgress, error) {
	ref := &incidents.RunbookRef{ID: rb.ID, Source: rb.Source, Path: rb.Path, Title: rb.Title, Commit: rb.Commit, Reason: reason}
	steps := make([]incidents.StepProgress, 0, len(rb.Steps))
	for _, st := range rb.Steps {
		steps = append(steps, incidents.StepProgress{Number: st.Number, Title: clip(cmp.Or(st.Title, fmt.Sprintf("Step %d", st.Number)), 300)})
	}
	return ref, steps, nil
}
