package bot

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func TestParseMention(t *testing.T) {
	tests := []struct {
		in     string
		want   User
		wantOK bool
	}{
		{"<@U123ABC>", User{ID: "U123ABC"}, true},
		{"<@U123ABC|alice>", User{ID: "U123ABC", Name: "alice"}, true},
		{"<@W0ENTERPRISE|bob smith>", User{ID: "W0ENTERPRISE", Name: "bob smith"}, true},
		{"<!channel>", User{}, false},
		{"<@u123>", User{}, false},
		{"@alice", User{}, false},
		{"<@U1|a<b>", User{}, false},
		{"<@U123ABC> ", User{}, false},
		{"<#C123|general>", User{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseMention(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseMention(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseDeclare(t *testing.T) {
	tests := []struct {
		name, in string
		want     declaration
		wantErr  bool
	}{
		{"a title alone", "Payments 5xx", declaration{Title: "Payments 5xx"}, false},
		{"a severity anywhere in the title", "Payments sev2 5xx", declaration{Title: "Payments 5xx", Severity: 2}, false},
		{"a severity in capitals", "SEV1 checkout down", declaration{Title: "checkout down", Severity: 1}, false},
		{"a severity written as two words", "checkout down sev 3", declaration{Title: "checkout down", Severity: 3}, false},
		{"sev followed by a word is the title", "sev of the year", declaration{Title: "sev of the year"}, false},
		{"a runbook ID after runbook:", "Disk full sev4 runbook:examples:platform/NodeDiskAlmostFull.md",
			declaration{Title: "Disk full", Severity: 4, Runbook: "examples:platform/NodeDiskAlmostFull.md"}, false},
		{"words to search after runbook:", "Disk full runbook: node disk almost full", declaration{Title: "Disk full", Runbook: "node disk almost full"}, false},
		{"runbook: inside a word is the title", "myrunbook:x broke", declaration{Title: "myrunbook:x broke"}, false},
		{"nothing at all", "", declaration{}, false},
		{"a severity alone", "sev2", declaration{Severity: 2}, false},
		{"two severities", "a sev1 sev2", declaration{}, true},
		{"runbook: with nothing after it", "a runbook:  ", declaration{}, true},
		{"a title too long", strings.Repeat("x", 201), declaration{}, true},
		{"sev6 is a word", "sev6 storm", declaration{Title: "sev6 storm"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDeclare(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAssign(t *testing.T) {
	me := User{ID: "UME"}
	tests := []struct {
		name, in string
		want     assignment
		wantErr  bool
	}{
		{"a mention then a role", "<@U1|al> commander", assignment{User{ID: "U1", Name: "al"}, "commander"}, false},
		{"a role then a mention", "scribe <@U2>", assignment{User{ID: "U2"}, "scribe"}, false},
		{"ic is the commander", "<@U1> IC", assignment{User{ID: "U1"}, "commander"}, false},
		{"no role makes a responder", "<@U1>", assignment{User{ID: "U1"}, "responder"}, false},
		{"me is who typed it", "me comms", assignment{me, "comms"}, false},
		{"a plain name is taken as written", "@carol", assignment{User{ID: "@carol", Name: "@carol"}, "responder"}, false},
		{"no user", "commander", assignment{}, true},
		{"two users", "<@U1> <@U2>", assignment{}, true},
		{"an unknown word", "<@U1> boss", assignment{}, true},
		{"a broadcast is no user", "<!channel>", assignment{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAssign(tt.in, me)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

var slackChannelName = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

func TestChannelName(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name, tmpl, title, service string
		sev                        int
		want                       string
	}{
		{"the default template", "inc-{{date}}-{{slug}}", "Payments 5xx", "", 0, "inc-20261125-payments-5xx"},
		{"punctuation becomes dashes", "inc-{{date}}-{{slug}}", "  Payments: API / 5xx!! ", "", 0, "inc-20261125-payments-api-5xx"},
		{"markup is dropped", "inc-{{slug}}", "<!channel> & <@U1>", "", 0, "inc-channel-u1"},
		{"other letters are dropped", "inc-{{slug}}", "Zahlungsfehler über Köln", "", 0, "inc-zahlungsfehler-ber-k-ln"},
		{"service, severity and ID", "{{service}}-{{sev}}-{{id}}", "x", "payments-api", 2, "payments-api-sev2-inc-20261125-00001"},
		{"an empty severity leaves no double dash", "inc-{{sev}}-{{slug}}", "x", "", 0, "inc-x"},
		{"a title of nothing falls back to the ID", "{{slug}}", "!!!", "", 0, "inc-inc-20261125-00001"},
		{"a long title is cut at 80", "inc-{{slug}}", strings.Repeat("disk ", 40), "", 0, ("inc-" + strings.Repeat("disk-", 16))[:80]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := channelName(tt.tmpl, "INC-20261125-00001", tt.title, tt.service, tt.sev, at)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !slackChannelName.MatchString(got) {
				t.Errorf("%q is not a valid channel name", got)
			}
		})
	}
}

func TestStepText(t *testing.T) {
	body := "Roll back the deploy.\n\nDo not wait to prove the new\nversion is at fault.\n\n```bash\nkubectl rollout undo\n```\n\n- one\n- two\n\nSee [the dashboard](https://x.example) and ![graph](g.png).\n\n\n\nDone."
	got := stepText(body, "Roll back the deploy")
	want := "Do not wait to prove the new version is at fault.\n\n- one\n- two\n\nSee the dashboard and graph.\n\nDone."
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestCardsStayWithinLimits: a step with a long body and many commands
// is shortened, with the full page one click away.
func TestCardsStayWithinLimits(t *testing.T) {
	var page strings.Builder
	page.WriteString("# Huge\n\n## Mitigation\n\n1. Do everything.\n\n   ")
	page.WriteString(strings.Repeat("A very long explanation. ", 200))
	page.WriteString("\n\n")
	for i := 0; i < 8; i++ {
		page.WriteString("   ```sh\n   echo " + strings.Repeat("x", 2000) + "\n   ```\n\n")
	}
	page.WriteString("2. Then stop.\n")
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("t", fstest.MapFS{"Huge.md": {Data: []byte(page.String())}}), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	rb, ok := lib.Get("t:Huge.md")
	if !ok || len(rb.Steps) != 2 {
		t.Fatalf("got %+v, want a page of two steps", rb)
	}
	b := &Bot{cfg: Config{Commands: CommandNames{"runbook", "incident"}}, books: lib,
		pageURL: func(id, anchor string) string { return "https://b.example/" + id + "#" + anchor }}
	inc := &incidents.Incident{ID: "INC-1", Status: incidents.StatusTriggered,
		Runbook: &incidents.RunbookRef{ID: rb.ID, Title: rb.Title},
		Steps:   []incidents.StepProgress{{Number: 1, Title: rb.Steps[0].Title, State: incidents.StepPending}, {Number: 2, Title: "Then stop", State: incidents.StepPending}}}
	m := b.card(inc)
	if len(m.Blocks) > 50 {
		t.Errorf("got %d blocks, want at most 50", len(m.Blocks))
	}
	total, codes := 0, 0
	for _, blk := range m.Blocks {
		switch blk := blk.(type) {
		case *Section:
			n := 0
			for _, s := range blk.Text {
				n += len(s.Text)
			}
			if n > 3000 {
				t.Errorf("a section holds %d characters, want at most 3,000", n)
			}
			total += n
		case *Code:
			codes++
			total += len(blk.Text)
			if !utf8.ValidString(blk.Text) {
				t.Error("a code block was cut inside a character")
			}
		}
	}
	if total > 12000 {
		t.Errorf("the card holds %d characters, want at most 12,000", total)
	}
	if codes != maxCommands {
		t.Errorf("got %d code blocks, want %d", codes, maxCommands)
	}
	if btn, ok := findButton(m, "Full page"); !ok || !strings.HasPrefix(btn.URL, "https://b.example/t:Huge.md#") {
		t.Errorf("got %+v, want a Full page button", btn)
	}
	var small string
	for _, blk := range m.Blocks {
		if c, ok := blk.(*Context); ok {
			small += c.Text[0].Text
		}
	}
	if !strings.Contains(small, "shortened") {
		t.Errorf("got small print %q, want it to say the step was shortened", small)
	}
}

func findButton(m Message, label string) (Button, bool) {
	for _, blk := range m.Blocks {
		if a, ok := blk.(*Actions); ok {
			for _, btn := range a.Buttons {
				if btn.Label == label {
					return btn, true
				}
			}
		}
	}
	return Button{}, false
}

func FuzzParseDeclare(f *testing.F) {
	for _, s := range []string{"Payments 5xx sev2 runbook:examples:a.md", "sev 3 x", "runbook:", "a sev1 sev2", "<!channel> & <@U1>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDeclare(s)
		if err != nil {
			if err.Error() == "" {
				t.Error("an error without a message")
			}
			return
		}
		if d.Severity < 0 || d.Severity > 5 {
			t.Errorf("severity %d from %q", d.Severity, s)
		}
		if len(d.Title) > maxTitle {
			t.Errorf("a title of %d bytes from %q", len(d.Title), s)
		}
		if d.Title != strings.TrimSpace(d.Title) {
			t.Errorf("title %q is not trimmed", d.Title)
		}
	})
}

func FuzzParseAssign(f *testing.F) {
	for _, s := range []string{"<@U1|al> commander", "me", "@carol scribe", "<@U1> <@U2>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAssign(s, User{ID: "UME"})
		if err != nil {
			return
		}
		if a.User.ID == "" || roleNames[a.Role] != a.Role {
			t.Errorf("got %+v from %q", a, s)
		}
		if strings.ContainsAny(a.User.ID, "<>& ") {
			t.Errorf("user %q from %q holds markup", a.User.ID, s)
		}
	})
}

func FuzzChannelName(f *testing.F) {
	for _, s := range []string{"Payments 5xx", "<!channel>", "", "über-ß", strings.Repeat("ab ", 50)} {
		f.Add("inc-{{date}}-{{slug}}", s)
	}
	f.Fuzz(func(t *testing.T, tmpl, title string) {
		if checkTemplate(tmpl) != nil {
			return
		}
		got := channelName(tmpl, "INC-20261125-ABCDE", title, "svc", 2, time.Unix(0, 0))
		if !slackChannelName.MatchString(got) {
			t.Errorf("channelName(%q, %q) = %q, not a valid channel name", tmpl, title, got)
		}
	})
}

func FuzzStepText(f *testing.F) {
	f.Add("Do it.\n\n```sh\nls\n```\n", "Do it")
	f.Add("~~~\nunclosed", "")
	f.Fuzz(func(t *testing.T, body, title string) {
		got := stepText(body, title)
		if strings.Contains(got, "```") && !strings.Contains(body, "```") {
			t.Errorf("a fence appeared in %q", got)
		}
		if strings.Contains(got, "\n\n\n") {
			t.Errorf("runs of blank lines in %q", got)
		}
	})
}
