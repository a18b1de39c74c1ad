package localchat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
)

var ctx = context.Background()

func newChat() *localchat.Chat {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	return localchat.New(localchat.Options{Now: func() time.Time { return at }})
}

func TestAConversationReadsBack(t *testing.T) {
	c := newChat()
	place, err := c.OpenHome(ctx, bot.Home{Name: "inc-1", Topic: "INC-1", Invite: []string{"U1", "U2", "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.OpenHome(ctx, bot.Home{Name: "inc-1", Invite: []string{"U3"}})
	if err != nil || again != place {
		t.Fatalf("opening a home of the same name gave %+v, %v; want %+v", again, err, place)
	}
	info, _ := c.Channel("#inc-1")
	if strings.Join(info.Members, ",") != "U1,U2,U3" || info.Topic != "INC-1" {
		t.Errorf("got %+v, want members U1,U2,U3 and the topic", info)
	}
	parent, err := c.Post(ctx, place, bot.Message{Text: "header"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := c.Post(ctx, bot.Place{Channel: place.Channel, Thread: parent.TS}, bot.Message{Text: "in the thread"})
	if err != nil {
		t.Fatal(err)
	}
	said, _ := c.Say(place, bot.User{ID: "U1"}, "hello")
	if err := c.Update(ctx, parent, bot.Message{Text: "header, updated"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Conversation(place.Channel); len(got) != 2 || got[0].Message.Text != "header, updated" || got[0].Edits != 1 || got[1].Ref != said {
		t.Errorf("got conversation %+v, want the updated header and hello", got)
	}
	if got := c.Thread("inc-1", parent.TS); len(got) != 2 || got[1].Ref != reply || got[1].Thread != parent.TS {
		t.Errorf("got thread %+v, want the header and the reply", got)
	}
	if got := c.All(place.Channel); len(got) != 3 {
		t.Errorf("got %d messages, want 3", len(got))
	}
	m, err := c.Message(ctx, said)
	if err != nil || m.Author.ID != "U1" || m.Text != "hello" || m.Permalink != "localchat:/"+said.Channel+"/"+said.TS || m.At.IsZero() {
		t.Errorf("got %+v, %v; want U1's hello with a permalink and a time", m, err)
	}
	if m, _ := c.Message(ctx, reply); m.Thread != parent.TS {
		t.Errorf("a reply reads back in thread %q, want %q", m.Thread, parent.TS)
	}

	if err := c.Whisper(ctx, place, bot.User{ID: "U2"}, bot.Message{Text: "psst"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Ephemerals("U2"); len(got) != 1 || got[0].Message.Text != "psst" {
		t.Errorf("got %+v, want psst for U2", got)
	}
	if got := c.Ephemerals("U1"); len(got) != 0 {
		t.Errorf("U1 sees %+v, want nothing", got)
	}
	if err := c.OpenForm(ctx, "t1", bot.Form{ID: "note", Fields: []bot.Field{{ID: "note"}}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Forms(); len(got) != 1 || got[0].Trigger != "t1" || got[0].Form.ID != "note" {
		t.Errorf("got forms %+v", got)
	}
	if err := c.Upload(ctx, place, bot.File{Name: "r.md", Content: []byte("# r")}); err != nil {
		t.Fatal(err)
	}
	if got := c.Uploads(); len(got) != 1 || string(got[0].File.Content) != "# r" {
		t.Errorf("got uploads %+v", got)
	}
}

func TestMistakesAreErrors(t *testing.T) {
	c := newChat()
	place, _ := c.OpenHome(ctx, bot.Home{Name: "a"})
	tests := []struct {
		name string
		err  error
	}{
		{"a post to an unknown channel", func() error { _, err := c.Post(ctx, bot.Place{Channel: "C404"}, bot.Message{}); return err }()},
		{"a post in an unknown thread", func() error {
			_, err := c.Post(ctx, bot.Place{Channel: place.Channel, Thread: "1.2"}, bot.Message{})
			return err
		}()},
		{"an update of an unknown message", c.Update(ctx, bot.MessageRef{Channel: place.Channel, TS: "1.2"}, bot.Message{})},
		{"a read of an unknown message", func() error { _, err := c.Message(ctx, bot.MessageRef{Channel: "C1", TS: "9"}); return err }()},
		{"an upload to an unknown channel", c.Upload(ctx, bot.Place{Channel: "C404"}, bot.File{})},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, localchat.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", tt.name, tt.err)
		}
	}
	if err := c.OpenForm(ctx, "", bot.Form{}); err == nil {
		t.Error("a form without a trigger opened")
	}
	if _, err := c.OpenHome(ctx, bot.Home{}); err == nil {
		t.Error("a home without a channel or a name opened")
	}
}

func TestWhatIsReadBackCannotChangeTheChat(t *testing.T) {
	c := newChat()
	place, _ := c.OpenHome(ctx, bot.Home{Name: "a"})
	sec := &bot.Section{Text: bot.Text{bot.P("before")}}
	ref, _ := c.Post(ctx, place, bot.Message{Blocks: []bot.Block{sec}})
	sec.Text[0].Text = "changed by the sender"
	got, _ := c.Get(ref)
	got.Message.Blocks[0].(*bot.Section).Text[0].Text = "changed by a reader"
	again, _ := c.Get(ref)
	if s := localchat.Text(again.Message); s != "before" {
		t.Errorf("got %q, want the message as posted", s)
	}
}

// TestConcurrentUse runs posts, updates and reads at once; go test -race
// checks them.
func TestConcurrentUse(t *testing.T) {
	c := newChat()
	place, _ := c.OpenHome(ctx, bot.Home{Name: "busy"})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				ref, err := c.Post(ctx, place, bot.Message{Text: fmt.Sprint(g, i)})
				if err != nil {
					t.Error(err)
					return
				}
				_ = c.Update(ctx, ref, bot.Message{Text: "u"})
				_ = c.Conversation(place.Channel)
				_ = c.Whisper(ctx, place, bot.User{ID: "U1"}, bot.Message{Text: "w"})
			}
		}()
	}
	wg.Wait()
	all := c.All(place.Channel)
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p.Ref.TS] {
			t.Fatalf("two messages share the ID %s", p.Ref.TS)
		}
		seen[p.Ref.TS] = true
	}
	if len(all) != 400 {
		t.Errorf("got %d messages, want 400", len(all))
	}
}

func TestWaitReturnsOnAChange(t *testing.T) {
	c := newChat()
	v := c.Version()
	done := make(chan uint64)
	go func() { done <- c.Wait(ctx, v) }()
	_ = c.CreateChannel("x", "")
	if got := <-done; got <= v {
		t.Errorf("Wait returned version %d, want more than %d", got, v)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if got := c.Wait(short, c.Version()); got != c.Version() {
		t.Errorf("Wait without a change returned %d, want %d", got, c.Version())
	}
}

func TestText(t *testing.T) {
	m := bot.Message{Text: "ignored", Blocks: []bot.Block{
		&bot.Header{Text: "INC-1"},
		&bot.Section{Text: bot.Text{bot.B("Status"), bot.P(" ok\x1b[31m"), bot.NL(), bot.M("U1"), bot.P(" & "), bot.L("logs", "https://l.example")},
			Fields: []bot.Text{{bot.B("Sev"), bot.NL(), bot.P("2")}}},
		&bot.Code{Text: "kubectl get pods\n\tls", Language: "sh"},
		&bot.Context{Text: bot.Text{bot.Span{Text: "id", Style: bot.Monospace}, bot.Span{Text: "x", Style: bot.Italic}}},
		&bot.Divider{},
		&bot.Actions{Buttons: []bot.Button{{Label: "Done"}, {Label: "Open", URL: "https://o.example"}}},
	}}
	want := "# INC-1\n*Status* ok [31m\n@U1 & logs <https://l.example>\n| *Sev* 2\n```sh\nkubectl get pods\n\tls\n```\n~ `id`_x_\n---\n[Done] [Open] -> https://o.example"
	if got := localchat.Text(m); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if got := localchat.Text(bot.Message{Text: "just text"}); got != "just text" {
		t.Errorf("got %q, want the message's text", got)
	}
}

func TestTheChatKeepsItsBoundedNumberOfChannelsAndMessages(t *testing.T) {
	tests := []struct {
		name                  string
		channels, perChannel  int
		maxChannels, maxMsgs  int
		wantChannels, wantMsg int
	}{
		{"within the bounds", 3, 4, 5, 10, 3, 4},
		{"more channels than kept", 12, 2, 5, 10, 5, 2},
		{"more messages than kept", 2, 15, 5, 10, 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := localchat.New(localchat.Options{MaxChannels: tt.maxChannels, MaxMessages: tt.maxMsgs})
			// The general channel is made first and used last: the
			// channel forgotten is the one used least recently.
			general, err := c.OpenHome(ctx, bot.Home{Name: "general"})
			if err != nil {
				t.Fatal(err)
			}
			var places []bot.Place
			for i := range tt.channels - 1 {
				p, err := c.OpenHome(ctx, bot.Home{Name: fmt.Sprintf("inc-%d", i)})
				if err != nil {
					t.Fatal(err)
				}
				places = append(places, p)
				for j := range tt.perChannel {
					if _, err := c.Post(ctx, p, bot.Message{Text: fmt.Sprintf("inc-%d message %d", i, j)}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := c.Post(ctx, general, bot.Message{Text: fmt.Sprintf("inc-%d opened", i)}); err != nil {
					t.Fatal(err)
				}
			}
			got := c.Channels()
			if len(got) != tt.wantChannels {
				t.Fatalf("the chat keeps %d channels, want %d", len(got), tt.wantChannels)
			}
			ids := map[string]bool{}
			for _, ch := range got {
				if ids[ch.ID] {
					t.Errorf("channel ID %s is given twice", ch.ID)
				}
				ids[ch.ID] = true
			}
			if _, ok := c.Channel("general"); !ok {
				t.Errorf("the general channel, used last, was forgotten")
			}
			last := places[len(places)-1]
			msgs := c.All(last.Channel)
			if len(msgs) != tt.wantMsg {
				t.Errorf("the newest channel keeps %d messages, want %d", len(msgs), tt.wantMsg)
			}
			if want := fmt.Sprintf("inc-%d message %d", tt.channels-2, tt.perChannel-1); len(msgs) > 0 && msgs[len(msgs)-1].Message.Text != want {
				t.Errorf("the newest channel's last message is %q, want %q", msgs[len(msgs)-1].Message.Text, want)
			}
			if tt.wantChannels < tt.channels {
				first := places[0]
				if _, err := c.Post(ctx, first, bot.Message{Text: "late"}); !errors.Is(err, localchat.ErrNotFound) {
					t.Errorf("posting to a forgotten channel = %v, want ErrNotFound", err)
				}
				if n := len(c.All(first.Channel)); n != 0 {
					t.Errorf("a forgotten channel still holds %d messages", n)
				}
			}
		})
	}
}
