package slacktestx_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
)

// newClient starts a server and returns slack-go's own client for it,
// which retries nothing: each call is one request.
func newClient(t *testing.T) (*slacktestx.Server, *slackgo.Client) {
	t.Helper()
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	return srv, slackgo.New("xoxb-test", slackgo.OptionAPIURL(srv.APIURL()),
		slackgo.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func TestMessagesThreadsAndUpdatesAreKeptAsSlackKeepsThem(t *testing.T) {
	srv, api := newClient(t)
	ctx := context.Background()
	ch, err := api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: "inc-checkout"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: "inc-checkout"}); err == nil || err.Error() != "name_taken" {
		t.Errorf("a second channel of the same name: got %v, want name_taken", err)
	}
	_, parent, err := api.PostMessageContext(ctx, ch.ID, slackgo.MsgOptionText("header", false))
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	for _, text := range []string{"first", "second"} {
		_, ts, err := api.PostMessageContext(ctx, ch.ID, slackgo.MsgOptionText(text, false), slackgo.MsgOptionTS(parent))
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, ts)
	}
	if !(parent < replies[0] && replies[0] < replies[1]) {
		t.Errorf("timestamps %s, %v: want them increasing", parent, replies)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch.ID, parent, slackgo.MsgOptionText("header, updated", false)); err != nil {
		t.Fatal(err)
	}
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{ChannelID: ch.ID, Timestamp: replies[1]})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, "|") != "header, updated|first|second" {
		t.Errorf("the thread, asked from a reply: %q, want the parent (updated) then the replies", texts)
	}
	// History has the top-level messages only, newest first, within its
	// bounds.
	hist, err := api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{ChannelID: ch.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].Timestamp != parent {
		t.Errorf("history: %+v, want the thread's parent alone", hist.Messages)
	}
	hist, err = api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{ChannelID: ch.ID, Oldest: parent})
	if err != nil || len(hist.Messages) != 0 {
		t.Errorf("history after the parent, bounds exclusive: %v %v, want nothing", hist, err)
	}
	kept := srv.Messages(ch.ID)[:3]
	if kept[0].Updates != 1 || kept[0].BotID != slacktestx.BotID || kept[1].ThreadTS != parent {
		t.Errorf("kept: %+v", kept)
	}
	link, err := api.GetPermalinkContext(ctx, &slackgo.PermalinkParameters{Channel: ch.ID, Ts: parent})
	if err != nil || !strings.HasSuffix(link, "/archives/"+ch.ID+"/p"+strings.ReplaceAll(parent, ".", "")) {
		t.Errorf("permalink: %q %v", link, err)
	}
	// A reference that is neither an ID nor a known name is no channel;
	// an ID is one the workspace has, as the tests' homes are.
	if _, _, err := api.PostMessageContext(ctx, "no-such-channel", slackgo.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("a post to no channel: got %v, want channel_not_found", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0ALERTS", slackgo.MsgOptionText("x", false)); err != nil {
		t.Errorf("a post to a channel ID the server had not seen: %v, want it made", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "#inc-checkout", slackgo.MsgOptionText("by name", false)); err != nil || len(srv.Messages(ch.ID)) != 4 {
		t.Errorf("a post by the channel's name: %v, %d messages in it", err, len(srv.Messages(ch.ID)))
	}
}

func TestChannelsMembersTopicsUsersAndViews(t *testing.T) {
	srv, api := newClient(t)
	ctx := context.Background()
	archived := srv.AddChannel("old-incident", true)
	ch, err := api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: "inc-db", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U1", "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U1"); err == nil || err.Error() != "already_in_channel" {
		t.Errorf("inviting a member again: got %v, want already_in_channel", err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, "INC-1 · the database is slow"); err != nil {
		t.Fatal(err)
	}
	list, _, err := api.GetConversationsContext(ctx, &slackgo.GetConversationsParameters{ExcludeArchived: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == archived {
			t.Error("an archived channel was listed with exclude_archived")
		}
	}
	var kept *slacktestx.Channel
	for _, c := range srv.Channels() {
		if c.ID == ch.ID {
			kept = &c
		}
	}
	if kept == nil || !kept.Private || kept.Topic != "INC-1 · the database is slow" || strings.Join(kept.Members, ",") != "U1,U2" {
		t.Errorf("the channel as kept: %+v", kept)
	}
	srv.AddUser(slacktestx.User{ID: "U1", Name: "alice", RealName: "Alice Liddell", Email: "alice@example.com"})
	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || u.RealName != "Alice Liddell" || u.Profile.Email != "alice@example.com" {
		t.Errorf("users.info: %+v %v", u, err)
	}
	// A user the test did not add is a member named after the ID.
	if u, err := api.GetUserInfoContext(ctx, "U404"); err != nil || u.Name != "u404" {
		t.Errorf("users.info of a user not added: %+v %v, want one named u404", u, err)
	}
	view, err := api.OpenViewContext(ctx, "trigger-1", slackgo.ModalViewRequest{Type: slackgo.VTModal, Title: slackgo.NewTextBlockObject("plain_text", "Declare", false, false)})
	if err != nil || view.ID == "" {
		t.Fatalf("views.open: %+v %v", view, err)
	}
	if vs := srv.Views(); len(vs) != 1 || vs[0].Trigger != "trigger-1" || !strings.Contains(string(vs[0].View), `"Declare"`) {
		t.Errorf("views kept: %+v", vs)
	}
}

func TestAFileIsUploadedAndSharedInItsThread(t *testing.T) {
	srv, api := newClient(t)
	ctx := context.Background()
	ch := srv.AddChannel("inc-report", false)
	ts := srv.AddMessage(ch, "U1", "the incident", "")
	f, err := api.UploadFileContext(ctx, slackgo.UploadFileParameters{Content: "# Report\n", FileSize: 9, Filename: "INC-1.md",
		Title: "INC-1 report", Channel: ch, ThreadTimestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	files := srv.Files()
	if len(files) != 1 || files[0].ID != f.ID || string(files[0].Content) != "# Report\n" || !files[0].Shared ||
		files[0].Channel != ch || files[0].ThreadTS != ts || files[0].Title != "INC-1 report" {
		t.Errorf("files kept: %+v", files)
	}
}

func TestFaultsArePlayedOncePerCallInOrder(t *testing.T) {
	srv, api := newClient(t)
	ctx := context.Background()
	ch := srv.AddChannel("inc-faults", false)
	srv.Fail("chat.postMessage",
		slacktestx.Fault{SlackError: "ratelimited"},
		slacktestx.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7},
		slacktestx.Fault{Status: http.StatusServiceUnavailable, Applied: true})
	_, _, err := api.PostMessageContext(ctx, ch, slackgo.MsgOptionText("one", false))
	if err == nil || err.Error() != "ratelimited" {
		t.Errorf("first call: got %v, want the Slack error", err)
	}
	_, _, err = api.PostMessageContext(ctx, ch, slackgo.MsgOptionText("two", false))
	var rl *slackgo.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("second call: got %v, want a rate limit of 7s", err)
	}
	_, _, err = api.PostMessageContext(ctx, ch, slackgo.MsgOptionText("three", false))
	var se slackgo.StatusCodeError
	if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
		t.Errorf("third call: got %v, want a 503", err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch, slackgo.MsgOptionText("four", false)); err != nil {
		t.Errorf("fourth call, the faults played: %v", err)
	}
	var texts []string
	for _, m := range srv.Messages(ch) {
		texts = append(texts, m.Text)
	}
	// The 503 was Applied: the post took effect though its caller saw a
	// failure; the others did not.
	if strings.Join(texts, "|") != "three|four" {
		t.Errorf("messages kept: %q, want three (applied before its 503) and four", texts)
	}
	calls := srv.Calls("chat.postMessage")
	if len(calls) != 4 || calls[3].Form.Get("text") != "four" || calls[0].Form.Get("channel") != ch {
		t.Errorf("calls recorded: %d, %+v", len(calls), calls)
	}
	srv.Fail("chat.update", slacktestx.Fault{Delay: time.Second})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := api.UpdateMessageContext(short, ch, "1.0", slackgo.MsgOptionText("x", false)); err == nil {
		t.Error("a delayed answer past the caller's deadline: got no error")
	}
}

func TestBlocksThatBreakSlacksLimitsAreRefusedAsSlackRefusesThem(t *testing.T) {
	srv, api := newClient(t)
	ch := srv.AddChannel("general", false)
	text := func(s string) *slackgo.TextBlockObject {
		return slackgo.NewTextBlockObject("plain_text", s, false, false)
	}
	button := func(label, id string) *slackgo.ButtonBlockElement {
		return slackgo.NewButtonBlockElement(id, "v", text(label))
	}
	many := make([]slackgo.Block, 51)
	for i := range many {
		many[i] = slackgo.NewDividerBlock()
	}
	for name, blocks := range map[string][]slackgo.Block{
		"a header over 150 characters": {slackgo.NewHeaderBlock(text(strings.Repeat("h", 151)))},
		"a section over 3,000":         {slackgo.NewSectionBlock(slackgo.NewTextBlockObject("mrkdwn", strings.Repeat("s", 3001), false, false), nil, nil)},
		"a button label over 75":       {slackgo.NewActionBlock("", button(strings.Repeat("b", 76), "a"))},
		"one action ID twice":          {slackgo.NewActionBlock("", button("one", "a"), button("two", "a"))},
		"51 blocks":                    many,
		"11 fields":                    {slackgo.NewSectionBlock(nil, []*slackgo.TextBlockObject{text("1"), text("2"), text("3"), text("4"), text("5"), text("6"), text("7"), text("8"), text("9"), text("10"), text("11")}, nil)},
	} {
		_, _, err := api.PostMessage(ch, slackgo.MsgOptionBlocks(blocks...))
		if err == nil || !strings.Contains(err.Error(), "invalid_blocks") {
			t.Errorf("%s: got %v, want invalid_blocks", name, err)
		}
	}
	if got := srv.Invalid(); len(got) < 6 {
		t.Errorf("the server kept %d refusals, want one per post: %q", len(got), got)
	}
	ok := []slackgo.Block{slackgo.NewHeaderBlock(text("Incident")), slackgo.NewActionBlock("", button("Done", "done"), button("Skip", "skip"))}
	if _, _, err := api.PostMessage(ch, slackgo.MsgOptionBlocks(ok...)); err != nil {
		t.Errorf("blocks within the limits: %v", err)
	}
}
