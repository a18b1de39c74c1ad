package slacktestx

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Slack refuses a message or a view whose blocks break its documented
// limits (https://docs.slack.dev/reference/block-kit/blocks and the
// element and composition object references), with invalid_blocks. The
// server here does the same, so that every test that posts through it
// checks what it posts. The figures are Slack's, written here from its
// reference, not taken from the renderer under test.
const (
	limitMessageBlocks = 50
	limitModalBlocks   = 100
	limitBlockID       = 255
	limitSectionText   = 3000
	limitFields        = 10
	limitFieldText     = 2000
	limitHeaderText    = 150
	limitContextItems  = 10
	limitActions       = 25
	limitButtonText    = 75
	limitActionID      = 255
	limitButtonValue   = 2000
	limitURL           = 3000
	limitImageAlt      = 2000
	limitLabel         = 2000
	limitPlaceholder   = 150
	limitOptions       = 100
	limitOptionText    = 75
	limitOptionValue   = 150
	limitInitialValue  = 3000
	limitModalTitle    = 24
	limitCallbackID    = 255
	limitMetadata      = 3000
	limitTextObject    = 3000
)

// checkBlocks returns what in blocks breaks Slack's limits; nil when
// nothing does. max is the number of blocks allowed.
func checkBlocks(raw json.RawMessage, max int) []string {
	if raw == nil {
		return nil
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return []string{"blocks: not a list of objects"}
	}
	var errs []string
	bad := func(where, format string, args ...any) {
		errs = append(errs, where+": "+fmt.Sprintf(format, args...))
	}
	if len(blocks) > max {
		bad("blocks", "%d blocks, over %d", len(blocks), max)
	}
	actionIDs := map[string]bool{}
	for i, b := range blocks {
		where := fmt.Sprintf("blocks[%d] (%v)", i, b["type"])
		if id, _ := b["block_id"].(string); utf8.RuneCountInString(id) > limitBlockID {
			bad(where, "block_id over %d", limitBlockID)
		}
		switch b["type"] {
		case "section":
			checkText(bad, where+".text", b["text"], limitSectionText)
			fields, _ := b["fields"].([]any)
			if len(fields) > limitFields {
				bad(where, "%d fields, over %d", len(fields), limitFields)
			}
			for j, f := range fields {
				checkText(bad, fmt.Sprintf("%s.fields[%d]", where, j), f, limitFieldText)
			}
			if acc, ok := b["accessory"].(map[string]any); ok {
				checkElement(bad, where+".accessory", acc, actionIDs)
			}
			if b["text"] == nil && len(fields) == 0 {
				bad(where, "neither text nor fields")
			}
		case "header":
			checkText(bad, where+".text", b["text"], limitHeaderText)
		case "context":
			items, _ := b["elements"].([]any)
			if len(items) == 0 || len(items) > limitContextItems {
				bad(where, "%d elements, want 1 to %d", len(items), limitContextItems)
			}
			for j, it := range items {
				m, _ := it.(map[string]any)
				if m["type"] == "image" {
					checkImage(bad, fmt.Sprintf("%s.elements[%d]", where, j), m)
					continue
				}
				checkText(bad, fmt.Sprintf("%s.elements[%d]", where, j), it, limitTextObject)
			}
		case "actions":
			items, _ := b["elements"].([]any)
			if len(items) == 0 || len(items) > limitActions {
				bad(where, "%d elements, want 1 to %d", len(items), limitActions)
			}
			for j, it := range items {
				m, _ := it.(map[string]any)
				checkElement(bad, fmt.Sprintf("%s.elements[%d]", where, j), m, actionIDs)
			}
		case "input":
			checkText(bad, where+".label", b["label"], limitLabel)
			if h, ok := b["hint"]; ok {
				checkText(bad, where+".hint", h, limitLabel)
			}
			if el, ok := b["element"].(map[string]any); ok {
				checkElement(bad, where+".element", el, actionIDs)
			}
		case "image":
			checkImage(bad, where, b)
		case "divider", "rich_text":
		default:
			bad(where, "a block type this server does not know")
		}
	}
	return errs
}

// checkText checks a text object: its type, and its length.
func checkText(bad func(string, string, ...any), where string, v any, max int) {
	m, ok := v.(map[string]any)
	if !ok {
		if v != nil {
			bad(where, "not a text object")
		}
		return
	}
	if m["type"] != "plain_text" && m["type"] != "mrkdwn" {
		bad(where, "text of type %v", m["type"])
	}
	text, _ := m["text"].(string)
	if n := utf8.RuneCountInString(text); n == 0 || n > max {
		bad(where, "%d characters, want 1 to %d", n, max)
	}
}

func checkImage(bad func(string, string, ...any), where string, m map[string]any) {
	if u, _ := m["image_url"].(string); u == "" || len(u) > limitURL {
		bad(where, "image_url of %d characters, want 1 to %d", len(u), limitURL)
	}
	if a, _ := m["alt_text"].(string); utf8.RuneCountInString(a) > limitImageAlt {
		bad(where, "alt_text over %d", limitImageAlt)
	}
}

// checkElement checks an interactive element: buttons, selects and text
// inputs, the ones Breadcrumb sends.
func checkElement(bad func(string, string, ...any), where string, m map[string]any, actionIDs map[string]bool) {
	if id, _ := m["action_id"].(string); id != "" {
		if utf8.RuneCountInString(id) > limitActionID {
			bad(where, "action_id over %d", limitActionID)
		}
		if actionIDs[id] {
			bad(where, "action_id %q used twice", id)
		}
		actionIDs[id] = true
	}
	switch m["type"] {
	case "button":
		text, _ := m["text"].(map[string]any)
		if text["type"] != "plain_text" {
			bad(where+".text", "a button's text must be plain_text")
		}
		checkText(bad, where+".text", m["text"], limitButtonText)
		if v, _ := m["value"].(string); utf8.RuneCountInString(v) > limitButtonValue {
			bad(where, "value over %d", limitButtonValue)
		}
		if u, _ := m["url"].(string); len(u) > limitURL {
			bad(where, "url of %d characters, over %d", len(u), limitURL)
		}
	case "static_select":
		if p, ok := m["placeholder"]; ok {
			checkText(bad, where+".placeholder", p, limitPlaceholder)
		}
		opts, _ := m["options"].([]any)
		if len(opts) == 0 || len(opts) > limitOptions {
			bad(where, "%d options, want 1 to %d", len(opts), limitOptions)
		}
		for j, o := range opts {
			om, _ := o.(map[string]any)
			checkText(bad, fmt.Sprintf("%s.options[%d].text", where, j), om["text"], limitOptionText)
			if v, _ := om["value"].(string); utf8.RuneCountInString(v) > limitOptionValue {
				bad(fmt.Sprintf("%s.options[%d]", where, j), "value over %d", limitOptionValue)
			}
		}
	case "plain_text_input":
		if p, ok := m["placeholder"]; ok {
			checkText(bad, where+".placeholder", p, limitPlaceholder)
		}
		if v, _ := m["initial_value"].(string); utf8.RuneCountInString(v) > limitInitialValue {
			bad(where, "initial_value over %d", limitInitialValue)
		}
	case "overflow", "datepicker", "timepicker", "users_select", "conversations_select", "channels_select", "checkboxes", "radio_buttons":
	default:
		bad(where, "an element type this server does not know: %v", m["type"])
	}
}

// checkView checks a modal: its title, buttons, callback ID, metadata
// and blocks.
func checkView(raw json.RawMessage) []string {
	var v struct {
		Type            string          `json:"type"`
		Title           json.RawMessage `json:"title"`
		Submit          json.RawMessage `json:"submit"`
		Close           json.RawMessage `json:"close"`
		CallbackID      string          `json:"callback_id"`
		PrivateMetadata string          `json:"private_metadata"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return []string{"view: not an object"}
	}
	var errs []string
	bad := func(where, format string, args ...any) { errs = append(errs, where+": "+fmt.Sprintf(format, args...)) }
	for name, t := range map[string]json.RawMessage{"title": v.Title, "submit": v.Submit, "close": v.Close} {
		if t == nil {
			if name == "title" {
				bad("view.title", "missing")
			}
			continue
		}
		var text any
		_ = json.Unmarshal(t, &text)
		checkText(bad, "view."+name, text, limitModalTitle)
	}
	if utf8.RuneCountInString(v.CallbackID) > limitCallbackID {
		bad("view", "callback_id over %d", limitCallbackID)
	}
	if len(v.PrivateMetadata) > limitMetadata {
		bad("view", "private_metadata over %d", limitMetadata)
	}
	return append(errs, checkBlocks(v.Blocks, limitModalBlocks)...)
}
