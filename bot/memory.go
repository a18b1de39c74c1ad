package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// Memory finds the past incidents like one (search/memory.Index).
type Memory interface {
	Similar(ctx context.Context, inc *incidents.Incident, limit int) ([]memory.Match, error)
	SeenBefore(ctx context.Context, inc *incidents.Incident) (memory.Seen, error)
	Runbook(ctx context.Context, id string) (memory.RunbookUse, error)
}

// similarShown is how many past incidents /incident similar lists.
const similarShown = 5

// similarCommand answers "/incident similar": the past incidents like
// this one, why each, and what resolved it.
func (b *Bot) similarCommand(ctx context.Context, _ Command, inc *incidents.Incident, args string) Message {
	if args != "" {
		return b.usage("similar takes no arguments.")
	}
	if b.memory == nil {
		return reply("Past incidents are not kept on this server.")
	}
	matches, err := b.memory.Similar(ctx, inc, similarShown)
	if err != nil {
		return b.failed("find past incidents like "+inc.ID, err)
	}
	if len(matches) == 0 {
		return reply(fmt.Sprintf("No past incident is like %s: none shares its alert, runbook or service.", inc.ID))
	}
	m := Message{Text: fmt.Sprintf("%d past incidents like %s", len(matches), inc.ID)}
	m.Blocks = append(m.Blocks, &Section{Text: Text{B("Past incidents like " + inc.ID)}})
	for _, p := range matches {
		m.Blocks = append(m.Blocks, &Divider{})
		m.Blocks = append(m.Blocks, &Section{Text: b.pastText(p.Record)})
		m.Blocks = append(m.Blocks, &Context{Text: Text{P(clip(strings.Join(p.Reasons, " · "), 300))}})
	}
	return m
}

// pastText is one past incident: its title, when and how long, and what
// resolved it.
func (b *Bot) pastText(r memory.Record) Text {
	t := Text{b.incidentLink(r.ID), P(" " + clip(r.Title, maxFieldChars))}
	when := "opened " + r.CreatedAt.In(time.UTC).Format("Jan 2 15:04 UTC")
	if d := r.Duration(); d > 0 {
		when += ", resolved in " + memory.Took(d)
	} else {
		when += ", " + string(r.Status)
	}
	t = append(t, NL(), P(when))
	if len(r.ResolvedBy) > 0 {
		t = append(t, NL(), B("Resolved by: "), P(clip(strings.Join(r.ResolvedBy, " · "), 600)))
	}
	return t
}

// incidentLink names an incident, linked to its page when there is one.
func (b *Bot) incidentLink(id string) Span {
	if b.incURL != nil {
		if u := b.incURL(id); u != "" {
			return L(id, u)
		}
	}
	return B(id)
}

// seenBefore is the message a new incident's home gets once, after its
// header, when its alert was seen before: how often, the last time, and
// what resolved it. It is empty when the alert is new.
func (b *Bot) seenBefore(ctx context.Context, inc *incidents.Incident) Message {
	if b.memory == nil {
		return Message{}
	}
	seen, err := b.memory.SeenBefore(ctx, inc)
	if err != nil {
		b.log.Warn("bot: past incidents not read", "incident_id", inc.ID, "err", err)
		return Message{}
	}
	if seen.Count == 0 || seen.Last == nil {
		return Message{}
	}
	times := "once"
	if seen.Count > 1 {
		times = fmt.Sprintf("%d times", seen.Count)
	}
	r := seen.Last
	t := Text{B("Seen before: "), P(fmt.Sprintf("%s in %d days, last on %s (", times, seen.Days, r.CreatedAt.In(time.UTC).Format("Jan 2"))),
		b.incidentLink(r.ID), P(").")}
	if len(r.ResolvedBy) > 0 {
		t = append(t, NL(), B("Resolved by: "), P(clip(strings.Join(r.ResolvedBy, " · "), 600)))
		if d := r.Duration(); d > 0 {
			t = append(t, P(" (in "+memory.Took(d)+")"))
		}
	}
	return Message{Text: notification(fmt.Sprintf("Seen before: %s in %d days", times, seen.Days)), Blocks: []Block{
		&Section{Text: t},
		&Context{Text: Text{P("/" + b.cfg.Commands.Incident + " similar lists the past incidents like this one.")}},
	}}
}

// runbookUse says, for a search hit, what past incidents the runbook
// served in; "" when none.
func (b *Bot) runbookUse(ctx context.Context, id string) string {
	if b.memory == nil {
		return ""
	}
	use, err := b.memory.Runbook(ctx, id)
	if err != nil || use.Incidents == 0 {
		return ""
	}
	s := fmt.Sprintf("used in %d incidents", use.Incidents)
	if use.Incidents == 1 {
		s = "used in 1 incident"
	}
	if len(use.Recent) > 0 {
		s += ", last on " + use.Recent[0].CreatedAt.In(time.UTC).Format("Jan 2")
	}
	if use.Median > 0 {
		s += ", resolved in " + memory.Took(use.Median) + " (median)"
	}
	return s
}
