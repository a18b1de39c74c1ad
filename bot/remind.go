package bot

import (
	"context"
	"fmt"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Remind posts a reminder in the incident's home: text, as plain text
// (the chat escapes it), and an Acknowledge button while the incident is
// still triggered. It reads the incident again, so that the home and the
// button are current. It fails when the incident has no home yet, or when
// the chat refuses the post after its retries; the caller may try again
// later. It is incidents.Reminders' RemindFunc, given the reminder's text.
func (b *Bot) Remind(ctx context.Context, inc *incidents.Incident, text string) error {
	cur, err := b.inc.Get(ctx, inc.ID)
	if err != nil {
		return fmt.Errorf("bot: remind %s: %w", inc.ID, err)
	}
	if cur.Home.Channel == "" {
		return fmt.Errorf("bot: remind %s: the incident has no home yet", inc.ID)
	}
	m := Message{Text: notification("⏰ " + text), Blocks: []Block{&Section{Text: Text{P("⏰ "), P(text)}}}}
	if cur.Status == incidents.StatusTriggered {
		m.Blocks = append(m.Blocks, &Actions{Buttons: []Button{
			{Label: "Acknowledge", Action: ActionAck, Value: cur.ID, Style: "primary"},
		}})
	}
	if _, err := b.post(ctx, homeKey(cur.Home), m); err != nil {
		return fmt.Errorf("bot: remind %s: %w", inc.ID, err)
	}
	return nil
}
