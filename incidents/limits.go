package incidents

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Caps on what an alert brings into an incident. The Service applies them
// on arrival, whatever the sender (Alertmanager, PagerDuty, a declaration
// in Slack or in the console), and cuts rather than refuses: a value over
// its cap is cut on a UTF-8 boundary and ends in "…" (the "…" counts in
// the cap), and the timeline says what was cut and from what size. The
// webhooks cap each request's body besides (4 MiB for Alertmanager, 2 MiB
// for PagerDuty); these caps are what keeps one incident small whatever
// arrives in those bodies, one after another.
const (
	// MaxValueBytes caps a label or annotation value, and an alert's
	// name. Real values are a few dozen bytes; 4 KiB holds a long
	// description or a stack trace's first lines.
	MaxValueBytes = 4 << 10
	// MaxNameBytes caps a label or annotation name. Prometheus names are
	// identifiers of a few dozen bytes.
	MaxNameBytes = 256
	// MaxLabels and MaxAnnotations cap how many an alert keeps.
	// kube-prometheus alerts carry 5 to 15 labels; 64 leaves room for
	// joined metadata labels. The well-known ones (wellKnownLabels,
	// wellKnownAnnotations) are kept first, then the others by name.
	MaxLabels      = 64
	MaxAnnotations = 64
	// MaxTitleRunes caps an incident's title, in characters: a title is
	// read in one glance, in a chat message's header or a channel topic.
	MaxTitleRunes = 200
	// MaxSummaryBytes caps an alert's summary and an incident's.
	MaxSummaryBytes = 4 << 10
	// MaxURLBytes caps a generator or runbook URL. A URL cut short leads
	// nowhere, so one over the cap is left out, and the timeline says so.
	// 8 KiB is what web servers commonly accept in a request line.
	MaxURLBytes = 8 << 10
	// MaxFingerprintBytes caps the key that identifies an alert in its
	// incident (its fingerprint or external ID): a longer one is replaced
	// by its SHA-256, so that the timeline's keys stay under MaxKeyLength.
	MaxFingerprintBytes = 256
	// MaxIncidentBytes caps an incident's size as stored (its JSON):
	// alerts are added only while the incident stays under it. A stored
	// kube-prometheus alert (its labels, summary and generator URL) takes
	// about 1 KB, so MaxAlerts such alerts fit twice over; the cap binds
	// only when alerts are far larger than usual. An alert that would
	// take the incident over it is kept without its summary, its
	// generator URL and its labels other than the well-known ones; when
	// even that does not fit, it is counted on the timeline only, as
	// alerts over MaxAlerts are.
	MaxIncidentBytes = 2 << 20
)

// wellKnownLabels are kept before the others when an alert has more than
// MaxLabels, and are all a shrunk alert keeps (see MaxIncidentBytes):
// they name the alert, its severity and where it fires, and the runbook
// matcher and the breadcrumb providers read them.
var wellKnownLabels = []string{"alertname", "severity", "service", "app", "app_kubernetes_io_name", "job", "namespace", "instance", "cluster", "team"}

// wellKnownAnnotations are kept before the others when an alert has more
// than MaxAnnotations: those that give its summary, description and
// runbook (see runbooks.Alert.Fill), and its dashboard.
var wellKnownAnnotations = []string{"summary", "title", "message", "description", "details", "runbook_url", "runbook", "runbookURL", "runbook_link", "playbook", "dashboard"}

// ellipsis ends a value that was cut.
const ellipsis = "…"

// cutBytes returns s cut to at most n bytes, the ellipsis included, on a
// UTF-8 boundary; ok is false when s was within n already.
func cutBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n - len(ellipsis)
	// Back off to the start of the rune that the cut would split; in
	// text that is not UTF-8 there may be none near, and the cut stays.
	for back := 0; back < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	return s[:cut] + ellipsis, true
}

// cutRunes returns s cut to at most n characters, the ellipsis included;
// ok is false when s was within n already.
func cutRunes(s string, n int) (string, bool) {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i, kept := 0, 0
	for kept < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		kept++
	}
	return s[:i] + ellipsis, true
}

// CapTitle returns an incident title within MaxTitleRunes, cut with "…"
// when it was longer: the cut every incident's title goes through.
func CapTitle(title string) string {
	t, _ := cutRunes(title, MaxTitleRunes)
	return t
}

// byteCount writes a size in bytes with thousands separators: 1,048,576.
func byteCount(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cuts says, for the timeline, what the caps cut from one alert or
// declaration. It keeps the first few notes and counts the rest, so that
// what it says stays short however much was cut.
type cuts struct {
	notes []string
	more  int
}

// maxCutNotes is how many notes cuts keeps.
const maxCutNotes = 5

func (c *cuts) add(format string, args ...any) {
	if len(c.notes) == maxCutNotes {
		c.more++
		return
	}
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// valueCut records that a value (what names it: "summary", "label pod")
// was cut.
func (c *cuts) valueCut(what string, from, to int) {
	c.add("%s cut from %s bytes to %s", what, byteCount(from), byteCount(to))
}

func (c *cuts) String() string {
	if c == nil || len(c.notes) == 0 {
		return ""
	}
	s := strings.Join(c.notes, "; ")
	if c.more > 0 {
		s += fmt.Sprintf("; and %d more", c.more)
	}
	return s
}

// capMap applies the caps of one alert's labels or annotations (kind
// says which, for the notes): at most limit entries, the well-known names
// first and then the others by name, each name within MaxNameBytes and
// each value within MaxValueBytes. It returns m itself when it is within
// them.
func capMap(m map[string]string, limit int, wellKnown []string, kind string, c *cuts) map[string]string {
	if len(m) <= limit {
		within := true
		for k, v := range m {
			if len(k) > MaxNameBytes || len(v) > MaxValueBytes {
				within = false
				break
			}
		}
		if within {
			return m
		}
	}
	out := make(map[string]string, min(len(m), limit))
	dropped := 0
	for _, k := range capOrder(m, wellKnown) {
		name, cutName := cutBytes(k, MaxNameBytes)
		if _, taken := out[name]; taken || len(out) == limit {
			dropped++
			continue
		}
		if cutName {
			c.add("a %s name cut from %s bytes to %s: %s", kind, byteCount(len(k)), byteCount(len(name)), name)
		}
		v, cutValue := cutBytes(m[k], MaxValueBytes)
		if cutValue {
			c.valueCut(kind+" "+name, len(m[k]), len(v))
		}
		out[name] = v
	}
	if dropped > 0 {
		c.add("%d of %d %ss left out, over the %d an alert keeps", dropped, len(m), kind, limit)
	}
	return out
}

// capOrder is the order in which capMap keeps m's names: the well-known
// ones it holds, in wellKnown's order, then the others sorted.
func capOrder(m map[string]string, wellKnown []string) []string {
	order := make([]string, 0, len(m))
	first := make(map[string]bool, len(wellKnown))
	for _, k := range wellKnown {
		if _, ok := m[k]; ok {
			order = append(order, k)
			first[k] = true
		}
	}
	rest := make([]string, 0, len(m)-len(order))
	for k := range m {
		if !first[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}

// capAlert applies the caps to an alert as it arrives, in place, and says
// what it cut. The alert's maps are replaced, not changed, when something
// is cut: the sender's copies stay as they were.
func capAlert(al *runbooks.Alert) *cuts {
	c := &cuts{}
	if v, cut := cutBytes(al.Name, MaxValueBytes); cut {
		c.valueCut("name", len(al.Name), len(v))
		al.Name = v
	}
	if v, cut := cutBytes(al.Summary, MaxSummaryBytes); cut {
		c.valueCut("summary", len(al.Summary), len(v))
		al.Summary = v
	}
	al.Labels = capMap(al.Labels, MaxLabels, wellKnownLabels, "label", c)
	al.Annotations = capMap(al.Annotations, MaxAnnotations, wellKnownAnnotations, "annotation", c)
	// The description and the runbook URL are read from the annotations
	// (which the notes cover) and are not kept on the incident.
	al.Description, _ = cutBytes(al.Description, MaxValueBytes)
	if len(al.RunbookURL) > MaxURLBytes {
		al.RunbookURL = ""
	}
	if len(al.GeneratorURL) > MaxURLBytes {
		c.add("the generator URL of %s bytes left out, over %s", byteCount(len(al.GeneratorURL)), byteCount(MaxURLBytes))
		al.GeneratorURL = ""
	}
	for _, id := range []struct {
		what string
		v    *string
	}{{"fingerprint", &al.Fingerprint}, {"external ID", &al.ExternalID}} {
		if len(*id.v) > MaxFingerprintBytes {
			c.add("the %s of %s bytes replaced by its SHA-256", id.what, byteCount(len(*id.v)))
			*id.v = hashedKey(*id.v)
		}
	}
	return c
}

// MaxRefBytes caps an external reference's value (an Alertmanager group
// key, a PagerDuty incident ID): a longer one is replaced by its SHA-256
// wherever it is stored or looked up, since stores keep references as
// keys (bbolt refuses a key over 32 KiB) and a group key made of many
// labels can be long.
const MaxRefBytes = 1024

// capRefs returns refs with every value over MaxRefBytes hashed; refs
// itself when none is.
func capRefs(refs map[string]string) map[string]string {
	long := false
	for _, v := range refs {
		long = long || len(v) > MaxRefBytes
	}
	if !long {
		return refs
	}
	out := make(map[string]string, len(refs))
	for k, v := range refs {
		out[k] = capRef(v)
	}
	return out
}

// capRef is one reference's value as stored.
func capRef(v string) string {
	if len(v) > MaxRefBytes {
		return hashedKey(v)
	}
	return v
}

// hashedKey stands for an alert key over MaxFingerprintBytes.
func hashedKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// capState applies the value caps to an alert as stored (for an incident
// stored before the caps, see CapStored), and reports whether they
// changed it.
func capState(st AlertState) (AlertState, bool) {
	var c cuts
	name, cutName := cutBytes(st.Name, MaxValueBytes)
	summary, cutSummary := cutBytes(st.Summary, MaxSummaryBytes)
	st.Name, st.Summary = name, summary
	dropURL := len(st.GeneratorURL) > MaxURLBytes
	if dropURL {
		st.GeneratorURL = ""
	}
	// capMap says what it changes.
	st.Labels = capMap(st.Labels, MaxLabels, wellKnownLabels, "label", &c)
	return st, cutName || cutSummary || dropURL || len(c.notes) > 0
}

// shrunk is st as an incident near MaxIncidentBytes keeps it: without its
// summary, its generator URL and its labels but the well-known ones.
func shrunk(st AlertState) AlertState {
	st.Summary, st.GeneratorURL = "", ""
	var labels map[string]string
	for _, k := range wellKnownLabels {
		if v, ok := st.Labels[k]; ok {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
		}
	}
	st.Labels = labels
	return st
}

// alertSlack is what an alert may add to its incident's JSON besides its
// own: the comma before it, the end time and longer status it takes when
// it resolves, and a start time. Counting it when the alert is added
// keeps a later resolution from taking the incident over
// MaxIncidentBytes, and a bare occurrence (see bare) from taking more
// room than the one it replaces.
const alertSlack = len(`,"status":"resolved","starts_at":"2006-01-02T15:04:05.999999999Z","ends_at":"2006-01-02T15:04:05.999999999Z"`)

// alertCost is what st adds to its incident's JSON, slack included.
func alertCost(st AlertState) int {
	return jsonSize(st) + alertSlack
}

// jsonSize is the size of v's JSON; v must be one of the package's types,
// which always encode.
func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// sizeBudget tracks an incident's size while alerts are added to it,
// measuring the incident once, when the first alert is weighed. The size
// it tracks counts alertSlack for every alert, so that it stays above
// what the incident takes whatever its alerts do next.
type sizeBudget struct {
	inc  *Incident
	size int // -1 until measured
}

// measure sets b.size from the incident.
func (b *sizeBudget) measure() {
	b.size = jsonSize(b.inc) + len(b.inc.Alerts)*alertSlack
}

func newSizeBudget(inc *Incident) *sizeBudget { return &sizeBudget{inc: inc, size: -1} }

// fit returns the first of forms (the forms an alert may take, largest
// first) that the incident has room for, in place of old (whose room is
// freed; nil for a new alert), and its index among forms. ok is false
// when none fits; the last form is returned then, and counted when it
// replaces old: a caller keeps it only when it takes no more room than
// old did (see bare).
func (b *sizeBudget) fit(old *AlertState, forms ...AlertState) (kept AlertState, form int, ok bool) {
	if b.size < 0 {
		b.measure()
	}
	freed := 0
	if old != nil {
		freed = alertCost(*old)
	}
	cost := 0
	for i, st := range forms {
		if cost = alertCost(st); b.size-freed+cost <= MaxIncidentBytes {
			b.size += cost - freed
			return st, i, true
		}
	}
	if old != nil {
		b.size += cost - freed
	}
	return forms[len(forms)-1], len(forms) - 1, false
}

// bare is an alert that fires again, as an incident at MaxIncidentBytes
// keeps it: the occurrence it held, with the status and times of the new
// one (st) and without its summary, generator URL and labels. It takes no
// more room than old, whose cost counted alertSlack.
func bare(old, st AlertState) AlertState {
	return AlertState{Name: old.Name, Fingerprint: old.Fingerprint, Status: st.Status, StartsAt: st.StartsAt, EndsAt: st.EndsAt}
}

// CapStored returns inc with the caps applied, for an incident stored
// before they were: its title, summary and service, its alerts' values
// and labels, and its size, for which the alerts past the cap are left
// out (those that arrive now are counted on the timeline instead). It
// returns inc itself when it is within the caps, and a copy otherwise;
// inc is not changed. It costs a pass over the values and a measure of
// the incident without its alerts; its alerts are measured only when a
// bound on their size says that they may not fit.
func CapStored(inc *Incident) *Incident {
	if inc == nil {
		return nil
	}
	c := inc
	edit := func() {
		if c == inc {
			c = inc.Clone()
		}
	}
	if t, cut := cutRunes(inc.Title, MaxTitleRunes); cut {
		edit()
		c.Title = t
	}
	if s, cut := cutBytes(inc.Summary, MaxSummaryBytes); cut {
		edit()
		c.Summary = s
	}
	if s, cut := cutBytes(inc.Service, MaxValueBytes); cut {
		edit()
		c.Service = s
	}
	for i, st := range inc.Alerts {
		if capped, changed := capState(st); changed {
			edit()
			c.Alerts[i] = capped
		}
	}
	b := newSizeBudget(withoutAlerts(c))
	b.measure()
	if b.size+alertsBound(c) <= MaxIncidentBytes {
		return c
	}
	kept := make([]AlertState, 0, len(c.Alerts))
	changed := false
	for _, st := range c.Alerts {
		form, n, ok := b.fit(nil, st, shrunk(st))
		if !ok {
			changed = true
			break
		}
		kept = append(kept, form)
		changed = changed || n > 0
	}
	if !changed {
		return c
	}
	edit()
	c.Alerts = kept
	return c
}

// withoutAlerts is a shallow copy of inc without its alerts.
func withoutAlerts(inc *Incident) *Incident {
	c := *inc
	c.Alerts = nil
	return &c
}

// alertsBound is a bound on what inc's alerts take in its JSON: JSON
// writes a byte of text as at most six (\u003c, \ufffd), and each alert
// and each label adds a few fixed bytes.
func alertsBound(inc *Incident) int {
	n := 0
	for _, st := range inc.Alerts {
		n += 6*(len(st.Name)+len(st.Fingerprint)+len(st.Status)+len(st.Summary)+len(st.GeneratorURL)) + 256 + alertSlack
		for k, v := range st.Labels {
			n += 6*(len(k)+len(v)) + 8
		}
	}
	return n
}

// CapStoredEvent returns e with the caps applied, for an event stored
// before they were: the text and the data of an alert's event, and the
// title an incident's declaration repeats. Other events are people's
// (notes, pinned messages) and are left as they are.
func CapStoredEvent(e Event) Event {
	switch e.Type {
	case EventDeclared:
		e.Text, _ = cutRunes(e.Text, MaxTitleRunes)
	case EventAlertFired, EventAlertResolved:
		e.Text, _ = cutBytes(e.Text, MaxSummaryBytes)
		over := false
		for _, v := range e.Data {
			over = over || len(v) > MaxValueBytes
		}
		if over {
			data := make(map[string]string, len(e.Data))
			for k, v := range e.Data {
				data[k], _ = cutBytes(v, MaxValueBytes)
			}
			e.Data = data
		}
	}
	return e
}
