package bot_test

import (
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

func TestAnIncidentWithoutARunbookOffersWhatMightFitSearchesAndATemplate(t *testing.T) {
	w := newWorld(t, bot.Config{})
	inc, _, err := w.svc.Declare(ctx, incidents.Declaration{
		Title: "CheckoutSlow", Source: "alertmanager",
		Suggestions: []incidents.RunbookRef{{ID: payments5xx, Title: "Payments API 5xx spike", Reason: "its text has 2 of the alert's 3 words"}},
		Searches:    []string{"checkout slow", "<!channel> card payments take 9 s"},
	}, incidents.Action{Actor: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc = w.incident(inc.ID)
	header := bot.MessageRef{Channel: inc.Home.Channel, TS: inc.Home.Header}
	p, ok := w.chat.Get(header)
	if !ok {
		t.Fatal("no header was posted")
	}
	shown := localchat.Text(p.Message)
	for _, want := range []string{"No runbook matched these alerts for sure", "Payments API 5xx spike", "its text has 2 of the alert's 3 words"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the header lacks %q:\n%s", want, shown)
		}
	}
	if bad := untrusted(p.Message, []string{"<!channel>"}); len(bad) > 0 {
		t.Errorf("hostile text as markup: %v", bad)
	}
	write, ok := button(p.Message, "Write a runbook")
	if !ok || write.URL != "https://breadcrumb.example/runbooks/new?incident="+inc.ID {
		t.Errorf("write button %+v, want a link to the template", write)
	}

	found := w.click(alice, header, "Search: checkout slow")
	if found == nil || !strings.Contains(localchat.Text(*found), "Runbooks for") {
		t.Errorf("the search button answered %v, want the hits for the asker", found)
	}

	w.click(alice, header, "Follow: Payments API 5xx spike")
	inc = w.incident(inc.ID)
	if inc.Runbook == nil || inc.Runbook.ID != payments5xx || len(inc.Steps) == 0 {
		t.Fatalf("after Follow: runbook %+v with %d steps, want the suggestion attached", inc.Runbook, len(inc.Steps))
	}
	p, _ = w.chat.Get(header)
	if strings.Contains(localchat.Text(p.Message), "No runbook matched") {
		t.Error("the header still says no runbook matched once one is followed")
	}
}
