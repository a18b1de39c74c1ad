package bot

import (
	"context"
	"time"
)

// User is a chat user as the platform knows them.
type User struct {
	// ID is the platform's ID (Slack's U012AB3CD).
	ID string
	// Name is a display name, for the timeline when no mention is possible.
	Name string
	// Email is filled when the platform gives it (for PagerDuty's From).
	Email string
}

// Place is a conversation: a channel, or a thread in one.
type Place struct {
	Channel string
	// Thread is the parent message's ID (Slack's ts) when the place is a
	// thread.
	Thread string
}

// MessageRef identifies a posted message, so that it can be updated.
type MessageRef struct {
	Channel string
	// TS is the message's ID in its channel (Slack's ts).
	TS string
}

// Command is a slash command: "/runbook disk full" is Name "runbook",
// Text "disk full".
type Command struct {
	Name string
	Text string
	User User
	// Place is where the command was typed.
	Place Place
	// Trigger lets the answer open a form (Slack's trigger_id); it is
	// short-lived.
	Trigger string
	// Key identifies the command for idempotency (a platform retry carries
	// the same key).
	Key string
	// At is when the command was sent.
	At time.Time
}

// Click is a button pressed on a message the bot posted.
type Click struct {
	// Action is the button's Action, Value its Value.
	Action string
	Value  string
	User   User
	Place  Place
	// Message is the message that holds the button.
	Message MessageRef
	Trigger string
	Key     string
	At      time.Time
}

// Submission is a filled form.
type Submission struct {
	// Form is the form's ID, State the Form.State it was opened with.
	Form   string
	State  string
	Values map[string]string
	User   User
	Key    string
	At     time.Time
}

// Reaction is an emoji added to, or removed from, a message.
type Reaction struct {
	Emoji   string // without colons: "pushpin"
	Added   bool
	User    User
	Message MessageRef
	// Key identifies the platform's event.
	Key string
	At  time.Time
}

// ChatMessage is a message as the platform stores it (for pins).
type ChatMessage struct {
	Ref       MessageRef
	Author    User
	Text      string
	Permalink string
	At        time.Time
	// Thread is the parent message's TS when the message is a reply in a
	// thread; platforms that cannot tell leave it empty.
	Thread string
}

// Home describes the place an incident's conversation should live.
type Home struct {
	// Channel, when set, asks for a thread in that channel; otherwise a
	// new channel named Name is made.
	Channel string
	Name    string
	// Topic is the new channel's topic.
	Topic string
	// Invite lists users to invite to a new channel.
	Invite []string
}

// Chat is what the bot needs of a chat platform. The Slack adapter
// implements it with slack-go; the web console's local chat implements
// it in memory. Errors say whether a retry makes sense with a
// Retryable() bool method, which fault.Retryable reads.
type Chat interface {
	// Post sends a message to a place and returns its reference.
	Post(ctx context.Context, to Place, m Message) (MessageRef, error)
	// Update replaces a message the bot posted. Updates of one message
	// may be merged: only the last one matters.
	Update(ctx context.Context, ref MessageRef, m Message) error
	// Whisper sends a message only user can see, in place.
	Whisper(ctx context.Context, to Place, user User, m Message) error
	// OpenHome makes (or finds, when one of that name exists) the
	// incident's channel, or picks its thread channel, and returns the
	// place (for a thread, Thread is empty until the first post).
	OpenHome(ctx context.Context, h Home) (Place, error)
	// OpenForm shows a form to the user whose command or click carried
	// trigger.
	OpenForm(ctx context.Context, trigger string, f Form) error
	// Upload shares a file in a place.
	Upload(ctx context.Context, to Place, file File) error
	// Message reads one message (for a pin: its author, text, time and
	// permalink).
	Message(ctx context.Context, ref MessageRef) (ChatMessage, error)
}

// UpdateWaiter is a Chat whose updates are queued (Update returns before
// the update is made) and that can also update and wait. The bot uses it
// for the messages it keeps current, so that replicas sharing the
// incidents converge: after its update lands, a replica reads the
// incident again, and sends again if it changed meanwhile, so the last
// update to land always shows the latest state.
type UpdateWaiter interface {
	UpdateNow(ctx context.Context, ref MessageRef, m Message) error
}

// File is a file to share.
type File struct {
	Name    string
	Title   string
	Type    string // "markdown", "html", "json"
	Content []byte
}

// Handler is the bot as a chat adapter drives it. Each method answers
// quickly (well inside Slack's 3 seconds): slower work goes on in the
// background and reaches the user through the Chat.
type Handler interface {
	// Command answers a slash command with a reply only its user sees
	// (a usage message for bad input, never an error).
	Command(ctx context.Context, c Command) Message
	// Click answers a button; a nil reply means the click changes messages
	// through the Chat, or nothing.
	Click(ctx context.Context, c Click) *Message
	// Submit takes a filled form; a *FormError sends the user back to the
	// form with a message per field.
	Submit(ctx context.Context, s Submission) error
	// React takes an emoji added to or removed from a message.
	React(ctx context.Context, r Reaction)
}

// FormError is a submission the bot refuses, with a message per field.
type FormError struct {
	Fields map[string]string
}

func (e *FormError) Error() string {
	return "the form has problems"
}
