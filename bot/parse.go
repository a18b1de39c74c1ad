package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Command text arrives as the platform sent it. For Slack that is its
// raw text, in which a mention of a user is "<@U123>" or "<@U123|name>":
// ParseMention reads both, here rather than in the adapter, because the
// form is simple enough for any chat to produce.

var mentionRe = regexp.MustCompile(`^<@([UW][A-Z0-9]{1,30})(?:\|([^<>|]{0,80}))?>$`)

// ParseMention reads a mention of a user written as "<@U123>" or
// "<@U123|name>", and reports whether word is one.
func ParseMention(word string) (User, bool) {
	m := mentionRe.FindStringSubmatch(word)
	if m == nil {
		return User{}, false
	}
	return User{ID: m[1], Name: m[2]}, true
}

// isUserID reports whether s looks like a chat user's ID (Slack's
// U012AB3CD or W012AB3CD), which the bot then shows as a mention.
func isUserID(s string) bool {
	if len(s) < 2 || len(s) > 31 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// nextWord splits s into its first word and the rest, both trimmed.
func nextWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

var incidentIDRe = regexp.MustCompile(`^[A-Za-z]{2,10}-[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*$`)

// looksLikeIncidentID reports whether word may name an incident
// ("INC-20261125-ABCDE"); the bot then looks it up.
func looksLikeIncidentID(word string) bool {
	return len(word) <= 64 && incidentIDRe.MatchString(word)
}

var sevRe = regexp.MustCompile(`(?i)^(?:sev|s|p)?([1-5])$`)

// parseSeverity reads "2", "sev2", "SEV2", "s2" or "p2".
func parseSeverity(word string) (int, bool) {
	m := sevRe.FindStringSubmatch(strings.TrimSpace(word))
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	return n, true
}

var sevWordRe = regexp.MustCompile(`(?i)^sev[1-5]$`)

// declaration is what "/incident declare" says.
type declaration struct {
	Title    string
	Severity int
	// Runbook is what followed "runbook:": a runbook ID or words to
	// search for.
	Runbook string
}

// maxTitle bounds an incident's title.
const maxTitle = 200

// parseDeclare reads "TITLE [sevN] [runbook:ID or words]": sevN (or
// "sev N") anywhere before "runbook:" sets the severity; everything after
// "runbook:" names the runbook; the other words are the title.
func parseDeclare(text string) (declaration, error) {
	var d declaration
	text = strings.TrimSpace(text)
	if i := indexFold(text, "runbook:"); i >= 0 && (i == 0 || unicode.IsSpace(rune(text[i-1]))) {
		d.Runbook = strings.TrimSpace(text[i+len("runbook:"):])
		text = strings.TrimSpace(text[:i])
		if d.Runbook == "" {
			return d, fmt.Errorf("name a runbook after %q", "runbook:")
		}
	}
	words := strings.Fields(text)
	var title []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if sevWordRe.MatchString(w) {
			if d.Severity != 0 {
				return d, fmt.Errorf("two severities (%s)", w)
			}
			d.Severity, _ = parseSeverity(w)
			continue
		}
		if strings.EqualFold(w, "sev") && i+1 < len(words) {
			if n, ok := parseSeverity(words[i+1]); ok && d.Severity == 0 {
				d.Severity = n
				i++
				continue
			}
		}
		title = append(title, w)
	}
	d.Title = strings.Join(title, " ")
	if len(d.Title) > maxTitle {
		return d, fmt.Errorf("the title is %d characters long; keep it under %d", len(d.Title), maxTitle)
	}
	return d, nil
}

// indexFold is strings.Index ignoring ASCII case; it keeps byte
// offsets, which lowering the whole string (invalid UTF-8 included) would
// not.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// role names the users may type, to the incidents' roles.
var roleNames = map[string]string{
	"commander": "commander", "ic": "commander", "incident-commander": "commander", "lead": "commander",
	"comms": "comms", "communications": "comms", "communication": "comms",
	"scribe": "scribe", "notes": "scribe",
	"responder": "responder", "responders": "responder",
}

// assignment is what "/incident assign" says.
type assignment struct {
	User User
	Role string
}

// parseAssign reads "@user ROLE" or "ROLE @user"; the role defaults to
// responder, "me" is the user who typed it, and a name that is not a
// mention is taken as written.
func parseAssign(text string, me User) (assignment, error) {
	var a assignment
	for _, w := range strings.Fields(text) {
		if r, ok := roleNames[strings.ToLower(w)]; ok && a.Role == "" {
			a.Role = r
			continue
		}
		if a.User.ID != "" {
			return a, fmt.Errorf("%q is neither a role nor the only user", w)
		}
		switch u, ok := ParseMention(w); {
		case ok:
			a.User = u
		case strings.EqualFold(w, "me"):
			a.User = me
		case strings.HasPrefix(w, "@") && len(w) > 1 && len(w) <= 80 && !strings.ContainsAny(w, "<>&"):
			a.User = User{ID: w, Name: w}
		default:
			return a, fmt.Errorf("%q is neither a role nor a user", w)
		}
	}
	if a.User.ID == "" {
		return a, fmt.Errorf("name the user")
	}
	if a.Role == "" {
		a.Role = "responder"
	}
	return a, nil
}

// Channel names: Slack wants lower case letters, digits, "-" and "_",
// at most 80 characters.
const maxChannelName = 80

var templateVar = regexp.MustCompile(`\{\{\s*([a-z]+)\s*\}\}`)

func checkTemplate(t string) error {
	for _, m := range templateVar.FindAllStringSubmatch(t, -1) {
		switch m[1] {
		case "date", "slug", "id", "service", "sev":
		default:
			return fmt.Errorf("bot: channel name %q: unknown variable {{%s}} (want date, slug, id, service or sev)", t, m[1])
		}
	}
	return nil
}

// channelName fills the channel name template for an incident.
func channelName(tmpl, id, title, service string, sev int, created time.Time) string {
	name := templateVar.ReplaceAllStringFunc(tmpl, func(v string) string {
		switch templateVar.FindStringSubmatch(v)[1] {
		case "date":
			return created.UTC().Format("20060102")
		case "slug":
			return slug(title)
		case "id":
			return slug(id)
		case "service":
			return slug(service)
		case "sev":
			if sev == 0 {
				return ""
			}
			return "sev" + strconv.Itoa(sev)
		}
		return ""
	})
	if name = clipName(slug(name), maxChannelName); name == "" {
		name = clipName(slug("inc-"+id), maxChannelName)
	}
	return name
}

// slug lowers s and keeps letters and digits, joining the words with
// "-" (and keeping "_").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '_':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String()
}

// clipName cuts a name to n bytes, without a trailing "-".
func clipName(name string, n int) string {
	if len(name) > n {
		name = name[:n]
	}
	return strings.TrimRight(name, "-_")
}
