package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	slackgo "github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got, as indented JSON, with testdata/golden/name.json.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	js := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, js, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(js, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, js, want)
	}
}

func TestRenderedMessagesMatchTheirGoldenFiles(t *testing.T) {
	tests := []struct {
		name string
		m    bot.Message
	}{
		{"incident_header", bot.Message{
			Text: "INC-7 payments 5xx <!channel>",
			Blocks: []bot.Block{
				&bot.Header{Text: "INC-7: payments 5xx"},
				&bot.Section{
					Text:   bot.Text{bot.B("Status"), bot.P(": investigating"), bot.NL(), bot.P("Lead: "), bot.M("U012AB3CD")},
					Fields: []bot.Text{{bot.B("Severity")}, {bot.P("SEV2")}},
				},
				&bot.Context{Text: bot.Text{bot.L("runbook", "https://runbooks.example.com/payments?x=1&y=2"), bot.P(" · 3 of 7 steps")}},
				&bot.Divider{},
				&bot.Actions{Buttons: []bot.Button{
					{Label: "Ack", Action: "inc.ack", Value: "INC-7", Style: "primary"},
					{Label: "Resolve", Action: "inc.resolve", Value: "INC-7", Style: "danger"},
					{Label: "Dashboard", Action: "link", Value: "0", URL: "https://grafana.example.com/d/abc?from=now-1h&to=now"},
					{Label: "Logs", Action: "link", Value: "1", URL: "https://logs.example.com/?q=a"},
				}},
			},
		}},
		{"guided_step", bot.Message{
			Text: "Step 3 of 7",
			Blocks: []bot.Block{
				&bot.Section{Text: bot.Text{bot.B("Step 3 of 7: "), bot.P("Check the disk <b>now</b> & then")}},
				&bot.Code{Text: "df -h /var\nkubectl get pods -n payments | grep -v Running", Language: "sh"},
				&bot.Actions{Buttons: []bot.Button{{Label: "Done", Action: "step.done", Value: "INC-7:3"}, {Label: "Skip", Action: "step.skip", Value: "INC-7:3"}}},
			},
		}},
		{"hostile_text", bot.Message{
			Text: "<!here> & <@U999> <https://evil.example|click>",
			Blocks: []bot.Block{
				&bot.Section{Text: bot.Text{
					bot.P("alert: <!channel> <!here|here> <@U0ADMIN> <https://evil.example|bank>"),
					bot.L("safe <b>", "javascript:alert(1)"),
					bot.L("ok|>", "https://ok.example/a|b>c"),
					{Style: bot.Mention, User: "<!channel>"},
					{Style: bot.Monospace, Text: "a`b<c"},
				}},
				&bot.Code{Text: "echo ```; rm -rf / <x>"},
				&bot.Header{Text: strings.Repeat("H", 200)},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, RenderPost(tt.m))
		})
	}
}

func TestRenderedFormMatchesItsGoldenFile(t *testing.T) {
	v, err := RenderForm(bot.Form{
		ID: "declare", Title: "Declare an incident, with a long title", Submit: "Declare", State: `{"channel":"C1"}`,
		Fields: []bot.Field{
			{ID: "title", Label: "Title", Hint: "What is broken", Initial: "payments 5xx"},
			{ID: "sev", Label: "Severity", Initial: "2", Options: []bot.Option{{Label: "SEV1", Value: "1"}, {Label: "SEV2", Value: "2"}}},
			{ID: "note", Label: "Note", Multiline: true, Optional: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "form_declare", v)
}

func TestUntrustedTextCannotMentionOrLink(t *testing.T) {
	hostile := []string{"<!channel>", "<!here>", "<!everyone>", "<@U123ABC>", "<https://evil.example|x>", "<#C123>", "&lt;!channel&gt;"}
	for _, h := range hostile {
		for _, style := range []bot.Style{bot.Plain, bot.Bold, bot.Italic, bot.Monospace} {
			got := mrkdwn(bot.Text{{Text: h, Style: style}})
			if strings.ContainsAny(got, "<>") {
				t.Errorf("style %d, text %q: got %q, want no angle bracket", style, h, got)
			}
		}
		if got := mrkdwn(bot.Text{bot.L(h, "https://example.com/")}); strings.Count(got, "<") != 1 || strings.Count(got, ">") != 1 {
			t.Errorf("link text %q: got %q, want one link and nothing more", h, got)
		}
	}
}

func TestSpansRenderAsSlackMrkdwn(t *testing.T) {
	tests := []struct {
		name string
		span bot.Span
		want string
	}{
		{"plain text has its three characters escaped", bot.P("a & b < c > d"), "a &amp; b &lt; c &gt; d"},
		{"bold keeps outer spaces outside the marks", bot.B(" hot "), " *hot* "},
		{"a link becomes url and text", bot.L("the page", "https://r.example/p?a=1&b=2"), "<https://r.example/p?a=1&amp;b=2|the page>"},
		{"a link with no text shows its address", bot.L("", "https://r.example/"), "<https://r.example/|https://r.example/>"},
		{"a javascript link is only text", bot.L("click", "javascript:alert(1)"), "click"},
		{"a relative link is only text", bot.L("click", "/etc/passwd"), "click"},
		{"a mention of a user ID mentions", bot.M("U012AB3CD"), "<@U012AB3CD>"},
		{"a mention of anything else is text", bot.M("!channel"), "@!channel"},
		{"a newline is a newline", bot.NL(), "\n"},
		{"monospace loses its backticks", bot.Span{Text: "a`b", Style: bot.Monospace}, "`a'b`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spanText(tt.span); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func sectionTexts(r Rendered) []string {
	var out []string
	for _, b := range r.Blocks {
		if s, ok := b.(*slackgo.SectionBlock); ok && s.Text != nil {
			out = append(out, s.Text.Text)
		}
	}
	return out
}

func messageChars(r Rendered) int {
	n := 0
	for _, b := range r.Blocks {
		js, _ := json.Marshal(b)
		var v any
		_ = json.Unmarshal(js, &v)
		n += textChars(v)
	}
	return n
}

// textChars counts the characters of every "text" string in a block.
func textChars(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "text" {
				n += utf8.RuneCountInString(s)
			} else {
				n += textChars(x)
			}
		}
	case []any:
		for _, x := range v {
			n += textChars(x)
		}
	}
	return n
}

func TestALongPostIsSplitWithinSlackLimitsAndLosesNothing(t *testing.T) {
	long := strings.Repeat("disk full & <noisy> ", 2000) // 40,000 characters
	var blocks []bot.Block
	for range 80 {
		blocks = append(blocks, &bot.Section{Text: bot.Text{bot.P("short")}})
	}
	blocks = append(blocks, &bot.Section{Text: bot.Text{bot.P(long)}})
	msgs := RenderPost(bot.Message{Text: "long", Blocks: blocks})
	if len(msgs) < 3 {
		t.Fatalf("got %d messages, want at least 3", len(msgs))
	}
	var all strings.Builder
	for i, m := range msgs {
		if len(m.Blocks) > maxBlocks {
			t.Errorf("message %d: got %d blocks, want at most %d", i, len(m.Blocks), maxBlocks)
		}
		if n := messageChars(m); n > maxMessageChars {
			t.Errorf("message %d: got %d characters, want at most %d", i, n, maxMessageChars)
		}
		for _, s := range sectionTexts(m) {
			if n := utf8.RuneCountInString(s); n > maxSectionText {
				t.Errorf("message %d: a section of %d characters, want at most %d", i, n, maxSectionText)
			}
			if s != "short" {
				all.WriteString(s)
			}
		}
	}
	if got, want := all.String(), Escape(long); got != want {
		t.Errorf("got %d characters of the long text back, want all %d", len(got), len(want))
	}
	if msgs[0].Text != "long" || msgs[1].Text != continuationText {
		t.Errorf("got texts %q, %q, want %q then %q", msgs[0].Text, msgs[1].Text, "long", continuationText)
	}
}

func TestAnUpdateIsCutToOneMessageKeepingItsButtonsAndALink(t *testing.T) {
	var blocks []bot.Block
	blocks = append(blocks, &bot.Section{Text: bot.Text{bot.L("the runbook", "https://r.example/disk")}})
	for range 60 {
		blocks = append(blocks, &bot.Section{Text: bot.Text{bot.P(strings.Repeat("x", 500))}})
	}
	blocks = append(blocks, &bot.Actions{Buttons: []bot.Button{{Label: "Done", Action: "step.done", Value: "1"}}})
	r := RenderOne(bot.Message{Text: "t", Blocks: blocks})
	if len(r.Blocks) > maxBlocks {
		t.Errorf("got %d blocks, want at most %d", len(r.Blocks), maxBlocks)
	}
	if n := messageChars(r); n > maxMessageChars {
		t.Errorf("got %d characters, want at most %d", n, maxMessageChars)
	}
	last, ok := r.Blocks[len(r.Blocks)-1].(*slackgo.ActionBlock)
	if !ok || last.Elements.ElementSet[0].(*slackgo.ButtonBlockElement).ActionID != "step.done" {
		t.Errorf("got last block %#v, want the Done button kept", r.Blocks[len(r.Blocks)-1])
	}
	note, ok := r.Blocks[len(r.Blocks)-2].(*slackgo.ContextBlock)
	if !ok {
		t.Fatalf("got %T before the buttons, want the context that says the message was cut", r.Blocks[len(r.Blocks)-2])
	}
	if got := note.ContextElements.Elements[0].(*slackgo.TextBlockObject).Text; !strings.Contains(got, "<https://r.example/disk|") {
		t.Errorf("got note %q, want a link to the runbook", got)
	}
}

func TestLimitsOfSmallPartsAreKept(t *testing.T) {
	r := RenderOne(bot.Message{Blocks: []bot.Block{
		&bot.Header{Text: strings.Repeat("é", 400)},
		&bot.Actions{Buttons: []bot.Button{
			{Label: strings.Repeat("b", 100), Action: "a", Value: "v"},
			{Label: "too long a value", Action: "a", Value: strings.Repeat("v", maxButtonValue+1)},
			{Label: "again", Action: "a", Value: "w"},
		}},
	}})
	h := r.Blocks[0].(*slackgo.HeaderBlock)
	if n := utf8.RuneCountInString(h.Text.Text); n != maxHeaderText {
		t.Errorf("got a header of %d characters, want %d", n, maxHeaderText)
	}
	btns := r.Blocks[1].(*slackgo.ActionBlock).Elements.ElementSet
	if len(btns) != 2 {
		t.Fatalf("got %d buttons, want 2 (the one with a value too long left out)", len(btns))
	}
	b0, b1 := btns[0].(*slackgo.ButtonBlockElement), btns[1].(*slackgo.ButtonBlockElement)
	if n := utf8.RuneCountInString(b0.Text.Text); n != maxButtonText {
		t.Errorf("got a label of %d characters, want %d", n, maxButtonText)
	}
	if b0.ActionID != "a" || b1.ActionID != "a#2" {
		t.Errorf("got action IDs %q and %q, want %q and %q", b0.ActionID, b1.ActionID, "a", "a#2")
	}
	if got := ActionOf(b1.ActionID); got != "a" {
		t.Errorf("ActionOf(%q): got %q, want %q", b1.ActionID, got, "a")
	}
}

// unknownBlock is a block a newer bot might send.
type unknownBlock struct{ bot.Divider }

func TestAnUnknownBlockIsLeftOut(t *testing.T) {
	r := RenderOne(bot.Message{Blocks: []bot.Block{&unknownBlock{}, &bot.Section{Text: bot.Text{bot.P("kept")}}}})
	if len(r.Blocks) != 1 {
		t.Fatalf("got %d blocks, want only the section", len(r.Blocks))
	}
	if got := sectionTexts(r); len(got) != 1 || got[0] != "kept" {
		t.Errorf("got %q, want the section", got)
	}
}

func TestSubmittedValuesAreReadByFieldID(t *testing.T) {
	body, err := os.ReadFile("testdata/payloads/view_submission.slack-go.json")
	if err != nil {
		t.Fatal(err)
	}
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		t.Fatal(err)
	}
	got := submissionValues(cb.View.State)
	want := map[string]string{"multi-line": "No onions", "target_channel": "C1AB2C3DE", "some_datetime": "", "some_timepicker": ""}
	if len(got) != len(want) {
		t.Errorf("got %d values %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %q: got %q, want %q", k, got[k], v)
		}
	}
}

func TestAFormWithTooMuchStateIsRefused(t *testing.T) {
	if _, err := RenderForm(bot.Form{ID: "f", State: strings.Repeat("s", maxMetadata+1)}); err == nil {
		t.Error("got no error, want one for state over Slack's limit")
	}
}

func FuzzRenderNeverLetsPlainTextOut(f *testing.F) {
	f.Add("<!channel> & <@U1>", "https://x.example/<a>")
	f.Add(strings.Repeat("&", 4000), "javascript:x")
	f.Fuzz(func(t *testing.T, text, url string) {
		m := bot.Message{Text: text, Blocks: []bot.Block{
			&bot.Section{Text: bot.Text{bot.P(text), bot.B(text), bot.L(text, url)}},
			&bot.Code{Text: text},
			&bot.Context{Text: bot.Text{bot.P(text)}},
		}}
		for _, r := range append(RenderPost(m), RenderOne(m)) {
			if len(r.Blocks) > maxBlocks {
				t.Fatalf("got %d blocks", len(r.Blocks))
			}
			for _, s := range sectionTexts(r) {
				if utf8.RuneCountInString(s) > maxSectionText {
					t.Fatalf("got a section of %d characters", utf8.RuneCountInString(s))
				}
				// The only bracket allowed is the one link.
				if strings.Count(s, "<") > 1 {
					t.Fatalf("got %q: untrusted text opened a bracket", s)
				}
			}
		}
	})
}
