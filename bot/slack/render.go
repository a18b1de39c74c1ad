package slack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	slackgo "github.com/slack-go/slack"
)

// Slack's limits on a message and its parts, in characters.
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10
	maxContextText  = 2000
	maxHeaderText   = 150
	maxButtons      = 25
	maxButtonText   = 75
	maxButtonValue  = 2000
	maxActionID     = 255
	maxURL          = 3000
	maxMessageChars = 12000
	maxFallbackText = 3000

	maxModalTitle    = 24
	maxModalBlocks   = 100
	maxLabel         = 2000
	maxOptionText    = 75
	maxOptionValue   = 150
	maxOptions       = 100
	maxMetadata      = 3000
	maxInitialValue  = 3000
	maxCallbackID    = 255
	continuationText = "(continued)"
)

// Rendered is one Slack message: the fallback text for notifications and
// the Block Kit blocks.
type Rendered struct {
	Text   string
	Blocks []slackgo.Block
}

// piece is one Slack block within the per-block limits, with the number
// of characters it adds to its message.
type piece struct {
	block slackgo.Block
	chars int
	// actions marks a row of buttons, which truncation keeps.
	actions bool
}

// RenderPost renders m as one or more Slack messages, each within Slack's
// limits: a message too long for one is split, between blocks, over as
// many as it needs. Nothing is lost; the first message carries m.Text.
func RenderPost(m bot.Message) []Rendered {
	pieces := renderPieces(m.Blocks)
	text := fallback(m)
	var out []Rendered
	var cur []slackgo.Block
	chars := 0
	for _, p := range pieces {
		if len(cur) > 0 && (len(cur)+1 > maxBlocks || chars+p.chars > maxMessageChars) {
			out = append(out, Rendered{Blocks: cur})
			cur, chars = nil, 0
		}
		cur = append(cur, p.block)
		chars += p.chars
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, Rendered{Blocks: cur})
	}
	out[0].Text = text
	for i := 1; i < len(out); i++ {
		out[i].Text = continuationText
	}
	return uniqueActionIDs(out)
}

// RenderOne renders m as exactly one Slack message, for an update, a
// whisper or an answer: content past Slack's limits is cut, the rows of
// buttons are kept, and a last line says so with a link to the first
// address the message holds (a runbook page, the incident) when it has
// one.
func RenderOne(m bot.Message) Rendered {
	pieces := renderPieces(m.Blocks)
	total, actions := 0, 0
	for _, p := range pieces {
		total += p.chars
		if p.actions {
			actions++
		}
	}
	if len(pieces) <= maxBlocks && total <= maxMessageChars {
		out := Rendered{Text: fallback(m)}
		for _, p := range pieces {
			out.Blocks = append(out.Blocks, p.block)
		}
		return uniqueActionIDs([]Rendered{out})[0]
	}
	note := "… cut short."
	if u, ok := firstURL(m); ok {
		note = "… cut short: <" + u + "|see it in full>"
	}
	// Room for the note and the rows of buttons, which come after
	// whatever text fits.
	budgetBlocks := maxBlocks - 1 - actions
	budgetChars := maxMessageChars - runes(note)
	for _, p := range pieces {
		if p.actions {
			budgetChars -= p.chars
		}
	}
	out := Rendered{Text: fallback(m)}
	var kept []slackgo.Block
	var buttons []slackgo.Block
	blocks, chars, cut := 0, 0, false
	for _, p := range pieces {
		if p.actions {
			if len(buttons) < maxBlocks-1 {
				buttons = append(buttons, p.block)
			}
			continue
		}
		if cut || blocks+1 > budgetBlocks || chars+p.chars > budgetChars {
			cut = true
			continue
		}
		kept = append(kept, p.block)
		blocks++
		chars += p.chars
	}
	out.Blocks = append(out.Blocks, kept...)
	out.Blocks = append(out.Blocks, slackgo.NewContextBlock("", slackgo.NewTextBlockObject(slackgo.MarkdownType, note, false, false)))
	out.Blocks = append(out.Blocks, buttons...)
	if len(out.Blocks) > maxBlocks {
		out.Blocks = out.Blocks[:maxBlocks]
	}
	return uniqueActionIDs([]Rendered{out})[0]
}

// fallback is the message's notification text, escaped; a message with
// no text falls back to its first header or section.
func fallback(m bot.Message) string {
	if m.Text != "" {
		return truncateEscaped(Escape(m.Text), maxFallbackText)
	}
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *bot.Header:
			return truncateEscaped(Escape(b.Text), maxFallbackText)
		case *bot.Section:
			return truncateEscaped(mrkdwn(b.Text), maxFallbackText)
		}
	}
	return ""
}

// firstURL finds the first safe address in m's links and buttons.
func firstURL(m bot.Message) (string, bool) {
	for _, b := range m.Blocks {
		var texts []bot.Text
		switch b := b.(type) {
		case *bot.Section:
			texts = append(texts, b.Text)
			texts = append(texts, b.Fields...)
		case *bot.Context:
			texts = append(texts, b.Text)
		case *bot.Actions:
			for _, btn := range b.Buttons {
				if u, ok := safeURL(btn.URL); ok {
					return u, true
				}
			}
		}
		for _, t := range texts {
			for _, s := range t {
				if s.Style == bot.Link {
					if u, ok := safeURL(s.URL); ok {
						return u, true
					}
				}
			}
		}
	}
	return "", false
}

// renderPieces turns the bot's blocks into Slack blocks within the limits
// of one block each. A block type this renderer does not know is left
// out, so that a newer bot still talks to an older adapter.
func renderPieces(blocks []bot.Block) []piece {
	var out []piece
	for _, b := range blocks {
		switch b := b.(type) {
		case *bot.Header:
			if b == nil || strings.TrimSpace(b.Text) == "" {
				continue
			}
			t := truncate(strings.ReplaceAll(b.Text, "\n", " "), maxHeaderText)
			out = append(out, piece{block: slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, t, false, false)), chars: runes(t)})
		case *bot.Section:
			if b == nil {
				continue
			}
			out = append(out, sectionPieces(b)...)
		case *bot.Code:
			if b == nil || b.Text == "" {
				continue
			}
			out = append(out, codePieces(b.Text)...)
		case *bot.Context:
			if b == nil {
				continue
			}
			t := truncateEscaped(mrkdwn(b.Text), maxContextText)
			if t == "" {
				continue
			}
			out = append(out, piece{block: slackgo.NewContextBlock("", slackgo.NewTextBlockObject(slackgo.MarkdownType, t, false, false)), chars: runes(t)})
		case *bot.Actions:
			if b == nil {
				continue
			}
			out = append(out, actionPieces(b.Buttons)...)
		case *bot.Divider:
			out = append(out, piece{block: slackgo.NewDividerBlock()})
		}
	}
	return out
}

func sectionPieces(s *bot.Section) []piece {
	var out []piece
	chunks := mrkdwnChunks(s.Text, maxSectionText)
	for _, c := range chunks {
		out = append(out, piece{block: slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, c, false, false), nil, nil), chars: runes(c)})
	}
	var fields []*slackgo.TextBlockObject
	n := 0
	flush := func() {
		if len(fields) == 0 {
			return
		}
		// Fields go with the last piece of text when there is room, or
		// in a section of their own.
		if len(out) > 0 {
			if sec, ok := out[len(out)-1].block.(*slackgo.SectionBlock); ok && sec.Fields == nil {
				sec.Fields = fields
				out[len(out)-1].chars += n
				fields, n = nil, 0
				return
			}
		}
		out = append(out, piece{block: slackgo.NewSectionBlock(nil, fields, nil), chars: n})
		fields, n = nil, 0
	}
	for _, f := range s.Fields {
		t := truncateEscaped(mrkdwn(f), maxFieldText)
		if t == "" {
			t = " "
		}
		if len(fields) == maxFields {
			flush()
		}
		fields = append(fields, slackgo.NewTextBlockObject(slackgo.MarkdownType, t, false, false))
		n += runes(t)
	}
	flush()
	return out
}

// fence is a run of backticks that would close a code block early.
var fence = regexp.MustCompile("```+")

func codePieces(code string) []piece {
	// Three backticks inside the code would end the block: they become
	// two and a modifier letter that looks alike.
	code = fence.ReplaceAllStringFunc(code, func(s string) string { return strings.Repeat("`ˋ", len(s)/2) + strings.Repeat("`", len(s)%2) })
	code = strings.TrimRight(code, "\n")
	const wrap = len("```\n\n```")
	var out []piece
	for _, c := range cutEscaped(code, maxSectionText-wrap) {
		t := "```\n" + strings.TrimRight(c, "\n") + "\n```"
		out = append(out, piece{block: slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, t, false, false), nil, nil), chars: runes(t)})
	}
	return out
}

func actionPieces(buttons []bot.Button) []piece {
	var out []piece
	var elems []slackgo.BlockElement
	chars := 0
	for i, b := range buttons {
		if len(b.Value) > maxButtonValue {
			// A value cut short would carry the wrong meaning back; the
			// button is left out instead.
			continue
		}
		label := truncate(strings.ReplaceAll(b.Label, "\n", " "), maxButtonText)
		if strings.TrimSpace(label) == "" {
			label = "…"
		}
		id := b.Action
		if id == "" {
			id = "button-" + strconv.Itoa(i+1)
		}
		id = truncate(id, maxActionID-8)
		btn := slackgo.NewButtonBlockElement(id, b.Value, slackgo.NewTextBlockObject(slackgo.PlainTextType, label, false, false))
		if u, ok := checkURL(b.URL); ok {
			btn.URL = u
		}
		switch b.Style {
		case "primary":
			btn.Style = slackgo.StylePrimary
		case "danger":
			btn.Style = slackgo.StyleDanger
		}
		if len(elems) == maxButtons {
			out = append(out, piece{block: slackgo.NewActionBlock("", elems...), chars: chars, actions: true})
			elems, chars = nil, 0
		}
		elems = append(elems, btn)
		chars += runes(label)
	}
	if len(elems) > 0 {
		out = append(out, piece{block: slackgo.NewActionBlock("", elems...), chars: chars, actions: true})
	}
	return out
}

// idSuffix is how a repeated action ID is told apart within a message:
// Slack refuses two buttons with one action_id.
var idSuffix = regexp.MustCompile(`#[0-9]+$`)

// uniqueActionIDs numbers repeated action IDs within each message ("open",
// "open#2"); ActionOf undoes it.
func uniqueActionIDs(msgs []Rendered) []Rendered {
	for _, m := range msgs {
		seen := map[string]int{}
		for _, b := range m.Blocks {
			a, ok := b.(*slackgo.ActionBlock)
			if !ok || a.Elements == nil {
				continue
			}
			for _, e := range a.Elements.ElementSet {
				btn, ok := e.(*slackgo.ButtonBlockElement)
				if !ok {
					continue
				}
				seen[btn.ActionID]++
				if n := seen[btn.ActionID]; n > 1 {
					btn.ActionID = fmt.Sprintf("%s#%d", btn.ActionID, n)
				}
			}
		}
	}
	return msgs
}

// ActionOf returns the bot's action for a button's action_id, without the
// number that told repeated actions apart.
func ActionOf(actionID string) string {
	return idSuffix.ReplaceAllString(actionID, "")
}

// RenderForm renders f as a modal view: one input block per field, whose
// block ID and action ID are the field's ID, with the form's ID as the
// callback ID and its State as private metadata.
func RenderForm(f bot.Form) (slackgo.ModalViewRequest, error) {
	if len(f.State) > maxMetadata {
		return slackgo.ModalViewRequest{}, fmt.Errorf("form %s: state of %d bytes is over Slack's %d", f.ID, len(f.State), maxMetadata)
	}
	if f.ID == "" || len(f.ID) > maxCallbackID {
		return slackgo.ModalViewRequest{}, fmt.Errorf("form %q: the ID must have 1 to %d characters", f.ID, maxCallbackID)
	}
	if len(f.Fields) > maxModalBlocks {
		return slackgo.ModalViewRequest{}, fmt.Errorf("form %s: %d fields is over Slack's %d", f.ID, len(f.Fields), maxModalBlocks)
	}
	title := f.Title
	if strings.TrimSpace(title) == "" {
		title = "Breadcrumb"
	}
	submit := f.Submit
	if strings.TrimSpace(submit) == "" {
		submit = "Submit"
	}
	v := slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           plain(truncate(title, maxModalTitle)),
		Submit:          plain(truncate(submit, maxModalTitle)),
		Close:           plain("Cancel"),
		CallbackID:      f.ID,
		PrivateMetadata: f.State,
	}
	for _, fd := range f.Fields {
		if fd.ID == "" {
			return slackgo.ModalViewRequest{}, fmt.Errorf("form %s: a field has no ID", f.ID)
		}
		label := fd.Label
		if strings.TrimSpace(label) == "" {
			label = fd.ID
		}
		var el slackgo.BlockElement
		if len(fd.Options) > 0 {
			var opts []*slackgo.OptionBlockObject
			var initial *slackgo.OptionBlockObject
			for i, o := range fd.Options {
				if i == maxOptions {
					break
				}
				if len(o.Value) > maxOptionValue {
					return slackgo.ModalViewRequest{}, fmt.Errorf("form %s: field %s: an option's value is over Slack's %d bytes", f.ID, fd.ID, maxOptionValue)
				}
				text := o.Label
				if strings.TrimSpace(text) == "" {
					text = o.Value
				}
				opt := slackgo.NewOptionBlockObject(o.Value, plain(truncate(text, maxOptionText)), nil)
				opts = append(opts, opt)
				if o.Value == fd.Initial && fd.Initial != "" {
					initial = opt
				}
			}
			sel := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, nil, fd.ID, opts...)
			sel.InitialOption = initial
			el = sel
		} else {
			in := slackgo.NewPlainTextInputBlockElement(nil, fd.ID)
			in.Multiline = fd.Multiline
			in.InitialValue = truncate(fd.Initial, maxInitialValue)
			el = in
		}
		var hint *slackgo.TextBlockObject
		if fd.Hint != "" {
			hint = plain(truncate(fd.Hint, maxLabel))
		}
		in := slackgo.NewInputBlock(fd.ID, plain(truncate(label, maxLabel)), hint, el)
		in.Optional = fd.Optional
		v.Blocks.BlockSet = append(v.Blocks.BlockSet, in)
	}
	return v, nil
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, false, false)
}

// submissionValues reads a submitted view's values by field ID: the
// block ID, which RenderForm sets to the field's ID. A select gives its
// chosen value.
func submissionValues(state *slackgo.ViewState) map[string]string {
	out := map[string]string{}
	if state == nil {
		return out
	}
	for blockID, actions := range state.Values {
		for _, a := range actions {
			switch {
			case a.SelectedOption.Value != "":
				out[blockID] = a.SelectedOption.Value
			case len(a.SelectedOptions) > 0:
				vals := make([]string, 0, len(a.SelectedOptions))
				for _, o := range a.SelectedOptions {
					vals = append(vals, o.Value)
				}
				out[blockID] = strings.Join(vals, ",")
			case a.SelectedUser != "":
				out[blockID] = a.SelectedUser
			case a.SelectedChannel != "":
				out[blockID] = a.SelectedChannel
			case a.SelectedConversation != "":
				out[blockID] = a.SelectedConversation
			case a.SelectedDate != "":
				out[blockID] = a.SelectedDate
			case a.SelectedTime != "":
				out[blockID] = a.SelectedTime
			case a.SelectedDateTime != 0:
				out[blockID] = strconv.FormatInt(a.SelectedDateTime, 10)
			default:
				out[blockID] = a.Value
			}
		}
	}
	return out
}
