package memory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Record is what the index keeps of one incident, as Similar and Seen
// give it back.
type Record struct {
	ID       string           `json:"id"`
	Title    string           `json:"title"`
	Summary  string           `json:"summary,omitempty"`
	Status   incidents.Status `json:"status"`
	Severity int              `json:"severity,omitempty"`
	Service  string           `json:"service,omitempty"`
	// Alerts are the names of the incident's alerts, each once.
	Alerts []string `json:"alerts,omitempty"`
	// Labels are the values of the labels that tell one occurrence from
	// another (namespace, job, cluster), as "name=value", each once.
	Labels []string `json:"labels,omitempty"`
	// RunbookID and RunbookTitle name the attached runbook.
	RunbookID    string `json:"runbook_id,omitempty"`
	RunbookTitle string `json:"runbook_title,omitempty"`
	// Home is the incident's chat home channel, for links.
	Home       string    `json:"home,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// TookSeconds is the time to resolve, in seconds; 0 while open.
	TookSeconds int64 `json:"took_seconds,omitempty"`
	// Notes counts the notes and pinned messages: how well the incident
	// is documented.
	Notes int `json:"notes"`
	// StepsDone and StepsSkipped are the titles of the runbook's steps
	// done and skipped, in the runbook's order.
	StepsDone    []string `json:"steps_done,omitempty"`
	StepsSkipped []string `json:"steps_skipped,omitempty"`
	// ResolvedBy is what came just before the resolution: the last notes
	// (at most three, oldest first) and the last steps done.
	ResolvedBy []string `json:"resolved_by,omitempty"`
	// Words is the incident's text that similar words are looked for in:
	// title, summary, alert summaries, notes and step titles. It is
	// indexed, not kept in the record given back.
	Words string `json:"-"`
}

// Duration is how long the incident took to resolve; 0 while it is open.
func (r Record) Duration() time.Duration {
	if r.ResolvedAt.IsZero() || r.ResolvedAt.Before(r.CreatedAt) {
		return 0
	}
	return r.ResolvedAt.Sub(r.CreatedAt)
}

// labelsThatMatter are the labels whose values tell one occurrence of an
// alert from another, and make two incidents more alike when they agree.
var labelsThatMatter = []string{"namespace", "job", "cluster"}

// resolvedByNotes and resolvedBySteps bound what ResolvedBy holds.
const (
	resolvedByNotes = 3
	resolvedBySteps = 2
	// maxWords bounds the text indexed per incident.
	maxWords = 64 << 10
)

// NewRecord derives the record of inc from its whole timeline.
func NewRecord(inc *incidents.Incident, events []incidents.Event) Record {
	r := Record{ID: inc.ID, Title: inc.Title, Summary: inc.Summary, Status: inc.Status, Severity: inc.Severity,
		Service: inc.Service, Home: inc.Home.Channel, CreatedAt: inc.CreatedAt.UTC()}
	if inc.Status == incidents.StatusResolved {
		r.ResolvedAt = inc.ResolvedAt.UTC()
		r.TookSeconds = int64(r.Duration().Seconds())
	}
	if inc.Runbook != nil {
		r.RunbookID, r.RunbookTitle = inc.Runbook.ID, inc.Runbook.Title
	}
	words := []string{inc.Title, inc.Summary}
	alerts, labels := map[string]bool{}, map[string]bool{}
	for _, a := range inc.Alerts {
		if a.Name != "" && !alerts[a.Name] {
			alerts[a.Name] = true
			r.Alerts = append(r.Alerts, a.Name)
		}
		if r.Service == "" {
			r.Service = a.Labels["service"]
		}
		for _, l := range labelsThatMatter {
			if v := a.Labels[l]; v != "" && !labels[l+"="+v] {
				labels[l+"="+v] = true
				r.Labels = append(r.Labels, l+"="+v)
			}
		}
		words = append(words, a.Summary)
	}
	sort.Strings(r.Labels)
	stepTitle := map[int]string{}
	for _, st := range inc.Steps {
		stepTitle[st.Number] = st.Title
		switch st.State {
		case incidents.StepDone:
			r.StepsDone = append(r.StepsDone, st.Title)
		case incidents.StepSkipped:
			r.StepsSkipped = append(r.StepsSkipped, st.Title)
		}
		if st.Note != "" {
			words = append(words, st.Note)
		}
	}
	// What came before the last resolution: the events up to the last
	// status change to resolved.
	end := len(events)
	if r.Status == incidents.StatusResolved {
		for i := len(events) - 1; i >= 0; i-- {
			if events[i].Type == incidents.EventStatusChanged && events[i].Data["to"] == string(incidents.StatusResolved) {
				end = i
				break
			}
		}
	}
	var notes, steps []string
	for i, e := range events {
		switch e.Type {
		case incidents.EventNote, incidents.EventMessagePinned:
			if strings.TrimSpace(e.Text) == "" {
				continue
			}
			r.Notes++
			words = append(words, e.Text)
			if i < end {
				notes = append(notes, e.Text)
			}
		case incidents.EventStepDone:
			if i < end {
				n, _ := strconv.Atoi(e.Data["step"])
				if t := stepTitle[n]; t != "" {
					steps = append(steps, "step "+strconv.Itoa(n)+" done: "+t)
				}
			}
		}
	}
	if r.Status == incidents.StatusResolved {
		r.ResolvedBy = append(r.ResolvedBy, last(notes, resolvedByNotes)...)
		r.ResolvedBy = append(r.ResolvedBy, last(steps, resolvedBySteps)...)
	}
	r.Words = strings.Join(append(words, r.StepsDone...), "\n")
	if len(r.Words) > maxWords {
		r.Words = r.Words[:maxWords]
	}
	return r
}

// last returns the last n of list, in order.
func last(list []string, n int) []string {
	if len(list) > n {
		list = list[len(list)-n:]
	}
	return list
}

// Took writes how long an incident took, for people: "12 min",
// "3 h 5 min", "2 days".
func Took(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
