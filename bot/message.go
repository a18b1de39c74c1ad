package bot

// Message is what the bot says: a fallback text for notifications and
// blocks of content. The bot builds messages from untrusted text (alert
// titles, notes, runbook text) as plain Spans; a renderer escapes them for
// its platform, so that no text can mention @channel or forge a link.
type Message struct {
	// Text is the notification's text and what plain clients show.
	Text   string
	Blocks []Block
	// Replace asks, when the message answers a command or a click, to
	// replace the message that holds the button instead of adding one.
	Replace bool
}

// Empty reports whether the message says nothing: no text and no block.
func (m Message) Empty() bool { return m.Text == "" && len(m.Blocks) == 0 }

// Block is one part of a message: *Header, *Section, *Code, *Context,
// *Actions or *Divider.
type Block interface{ block() }

// Header is a title line.
type Header struct{ Text string }

// Section is a paragraph of text, with optional short fields shown in two
// columns.
type Section struct {
	Text   Text
	Fields []Text
}

// Code is preformatted text to copy, such as a runbook command.
type Code struct {
	Text string
	// Language is the code's language when known ("sh").
	Language string
}

// Context is a line of small print.
type Context struct{ Text Text }

// Actions is a row of buttons.
type Actions struct{ Buttons []Button }

// Divider is a rule between blocks.
type Divider struct{}

func (*Header) block()  {}
func (*Section) block() {}
func (*Code) block()    {}
func (*Context) block() {}
func (*Actions) block() {}
func (*Divider) block() {}

// Text is formatted text made of spans.
type Text []Span

// Span is a run of text with one style. Only Plain text is ever written
// as the user typed or the sender sent it; the renderer escapes it.
type Span struct {
	Text  string
	Style Style
	// URL is the target of a Link span.
	URL string
	// User is the ID mentioned by a Mention span.
	User string
}

// Style is how a span is shown.
type Style int

// Span styles.
const (
	Plain Style = iota
	Bold
	Italic
	Monospace
	Link    // Text shown, URL followed
	Mention // a user, by ID
	Newline // a line break; Text is ignored
)

// Button is a button on a message. A button with a URL opens it (and, for
// a breadcrumb, the URL is Breadcrumb's redirect, which records the
// click).
type Button struct {
	Label  string
	Action string
	Value  string
	URL    string
	// Style is "", "primary" or "danger".
	Style string
}

// Form is a dialog with fields (a Slack modal).
type Form struct {
	// ID names the form; its Submission carries it back, with State.
	ID     string
	Title  string
	Submit string
	State  string
	Fields []Field
}

// Field is one input of a form.
type Field struct {
	ID        string
	Label     string
	Hint      string
	Initial   string
	Multiline bool
	Optional  bool
	// Options, when set, make the field a choice among them.
	Options []Option
}

// Option is one choice of a Field.
type Option struct {
	Label string
	Value string
}

// Plain, B, Code etc. help build Text.

// P is a plain span.
func P(s string) Span { return Span{Text: s} }

// B is a bold span.
func B(s string) Span { return Span{Text: s, Style: Bold} }

// L is a link span.
func L(text, url string) Span { return Span{Text: text, URL: url, Style: Link} }

// M mentions a user.
func M(userID string) Span { return Span{User: userID, Style: Mention} }

// NL is a line break.
func NL() Span { return Span{Style: Newline} }
