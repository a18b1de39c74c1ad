// Package bot is Breadcrumb's conversation: it turns commands, clicks,
// form submissions and reactions from a chat into calls on the incident
// and search domains, and answers with platform-neutral messages (text,
// sections, code, links and buttons). It knows no chat platform: a Chat
// (the Slack adapter in bot/slack, or the web console's local chat,
// bot/localchat) posts and renders what it says.
//
// # Two directions
//
// A chat adapter drives the Bot as a Handler: Command, Click and Submit
// answer at once (a command's answer is for its user only), and React
// queues its work. The incident Service drives it as an Observer: every
// stored change, whoever made it (a webhook, the API, this bot), reaches
// Observe, which queues the work the change calls for and returns. The
// work runs in the background, in order per incident, one goroutine per
// incident that has work: opening a new incident's home (a channel, or a
// thread in its service's channel), a line in the home for what happened,
// and, once the incident's queue runs dry, bringing its header, guided
// cards and checklist up to date. Those messages are functions of the
// incident's state, so a burst of changes costs one update each, and an
// update that would change nothing is skipped. Close waits for the work.
//
// # Where state lives
//
// Everything that matters is on the incident: its status, roles, steps
// and home (channel, thread and header). The bot keeps in memory only an
// index from homes to incidents, rebuilt from the open incidents when it
// starts (a place it does not know is looked up among the latest
// incidents), and the guided cards and checklist it posted, so that it
// can keep them current. A card pressed after a restart is kept current
// from then on; a checklist posted before a restart is not, and Start
// guided posts a new one.
//
// # Guided mode
//
// Progress is the incident's: Start guided runs on an incident, and
// outside one it opens the declare form with the runbook filled in.
// Several responders may press the same card; a press on a step that is
// no longer pending changes nothing. The bot shows runbook commands to
// copy and never runs them.
//
// # Untrusted text
//
// Titles, alert summaries, notes, runbook text and pinned messages are
// only ever put in Plain spans, which the chat's renderer escapes; they
// never go into a Header or Message.Text, which renderers may treat as
// markup. Button labels, plain text on every platform, carry the names of
// breadcrumbs (clipped). Command text is Slack's raw text, in which a mention
// is "<@U123>" or "<@U123|name>": ParseMention reads it here, since the
// form is simple enough for any chat to produce.
package bot
