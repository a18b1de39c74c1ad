package report

import (
	"strconv"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// The geometry of the HTML report's inline SVG charts, computed here so
// that the template only places what it is given. Every coordinate is
// written with one decimal, so the output does not depend on float
// formatting.

const (
	chartWidth   = 1000.0
	chartGutter  = 150.0 // lane labels, left of the plot
	chartRight   = 16.0
	chartStripY  = 8.0 // the status strip
	chartStripH  = 24.0
	chartLanesY  = 44.0
	chartLaneH   = 28.0
	chartAxisGap = 6.0
)

// eventStyle is how an event type looks in the HTML report: its lane in
// the chart and its color.
type eventStyle struct {
	lane  int
	color string
}

// The chart's lanes, top to bottom.
var chartLanes = []string{"Incident", "Alerts", "Runbook steps", "Notes & messages", "Roles & severity", "Breadcrumbs"}

var eventStyles = map[incidents.EventType]eventStyle{
	incidents.EventDeclared:         {0, "#7c3aed"},
	incidents.EventStatusChanged:    {0, "#334155"},
	incidents.EventRunbookAttached:  {0, "#0f766e"},
	incidents.EventPagerDutySync:    {0, "#64748b"},
	incidents.EventAlertFired:       {1, "#dc2626"},
	incidents.EventAlertResolved:    {1, "#16a34a"},
	incidents.EventStepDone:         {2, "#16a34a"},
	incidents.EventStepSkipped:      {2, "#d97706"},
	incidents.EventStepReopened:     {2, "#94a3b8"},
	incidents.EventNote:             {3, "#2563eb"},
	incidents.EventMessagePinned:    {3, "#0891b2"},
	incidents.EventMessageUnpinned:  {3, "#94a3b8"},
	incidents.EventRoleChanged:      {4, "#c026d3"},
	incidents.EventSeverityChanged:  {4, "#ea580c"},
	incidents.EventBreadcrumbOpened: {5, "#4f46e5"},
}

func styleOf(t incidents.EventType) eventStyle {
	if s, ok := eventStyles[t]; ok {
		return s
	}
	return eventStyle{0, "#64748b"}
}

// phaseStyle is a status phase's strong color (the strip), light color
// (behind the lanes) and text color.
type phaseStyle struct{ strong, light, text string }

var phaseStyles = map[incidents.Status]phaseStyle{
	incidents.StatusTriggered:    {"#fca5a5", "#fef2f2", "#7f1d1d"},
	incidents.StatusAcknowledged: {"#fcd34d", "#fffbeb", "#78350f"},
	incidents.StatusMitigated:    {"#93c5fd", "#eff6ff", "#1e3a8a"},
	incidents.StatusResolved:     {"#86efac", "#f0fdf4", "#14532d"},
}

type svgTimeline struct {
	Width, Height  string
	PlotX, PlotEnd string
	StripY, StripH string
	StripTextY     string
	LanesY, LanesH string
	AxisY          string
	Bands          []svgBand
	Lanes          []svgLane
	Ticks          []svgTick
	Markers        []svgMarker
}

type svgBand struct {
	X, W                string
	Strong, Light, Text string
	Label               string // "" when the band is too narrow for it
	LabelX              string
	Title               string
}

type svgLane struct {
	Y, TextY, Label string
}

type svgTick struct {
	X, Offset, Clock string
}

type svgMarker struct {
	X, Y, Color, Title string
}

func fmt1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// timelineChart lays out the timeline: the axis runs from the start (or
// the first event, when one came before it) to AsOf, with a little room on
// each side; the status phases are bands, the last one running to the
// right edge; each event is a marker in its type's lane.
func (r *Report) timelineChart() svgTimeline {
	t0, t1 := r.StartedAt, r.AsOf
	for _, e := range r.Timeline {
		if e.At.Before(t0) {
			t0 = e.At
		}
		if e.At.After(t1) {
			t1 = e.At
		}
	}
	span := t1.Sub(t0)
	if span < time.Minute {
		span = time.Minute
	}
	pad := span / 40
	t0, t1 = t0.Add(-pad), t0.Add(span+pad)
	plotW := chartWidth - chartGutter - chartRight
	x := func(t time.Time) float64 {
		return chartGutter + plotW*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}

	lanesH := chartLaneH * float64(len(chartLanes))
	axisY := chartLanesY + lanesH + chartAxisGap
	c := svgTimeline{
		Width: fmt1(chartWidth), Height: fmt1(axisY + 36),
		PlotX: fmt1(chartGutter), PlotEnd: fmt1(chartWidth - chartRight),
		StripY: fmt1(chartStripY), StripH: fmt1(chartStripH), StripTextY: fmt1(chartStripY + chartStripH/2 + 4),
		LanesY: fmt1(chartLanesY), LanesH: fmt1(lanesH), AxisY: fmt1(axisY),
	}
	for i, p := range r.Phases {
		x0, x1 := x(p.Start), x(p.End)
		if i == len(r.Phases)-1 {
			x1 = chartWidth - chartRight
		}
		if x1-x0 < 1.5 {
			x1 = x0 + 1.5
		}
		st := phaseStyles[p.Status]
		if st.strong == "" {
			st = phaseStyle{"#cbd5e1", "#f8fafc", "#0f172a"}
		}
		b := svgBand{X: fmt1(x0), W: fmt1(x1 - x0), Strong: st.strong, Light: st.light, Text: st.text,
			LabelX: fmt1(x0 + 6),
			Title:  string(p.Status) + ": " + p.Start.Format("15:04:05") + " – " + p.End.Format("15:04:05") + " (" + humanDuration(p.End.Sub(p.Start)) + ")"}
		if x1-x0 >= 6.6*float64(len(p.Status))+12 {
			b.Label = string(p.Status)
		}
		c.Bands = append(c.Bands, b)
	}
	for i, name := range chartLanes {
		y := chartLanesY + chartLaneH*(float64(i)+0.5)
		c.Lanes = append(c.Lanes, svgLane{Y: fmt1(y), TextY: fmt1(y + 4), Label: name})
	}
	step := tickStep(t1.Sub(t0))
	first := r.StartedAt.Add(-((r.StartedAt.Sub(t0) + step - 1) / step) * step)
	for t := first; !t.After(t1); t = t.Add(step) {
		if t.Before(t0) {
			continue
		}
		c.Ticks = append(c.Ticks, svgTick{X: fmt1(x(t)), Offset: offset(r.StartedAt, t), Clock: t.Format("15:04")})
	}
	c.Markers = make([]svgMarker, 0, len(r.Timeline))
	for _, e := range r.Timeline {
		st := styleOf(e.Type)
		y := chartLanesY + chartLaneH*(float64(st.lane)+0.5)
		title := e.Time + " (" + e.Offset + ") " + e.Kind
		if d := joinNonEmpty(": ", e.Summary, clip(e.Text, 120)); d != "" {
			title += " — " + d
		}
		if e.Actor != "" {
			title += " · " + e.Actor
		}
		c.Markers = append(c.Markers, svgMarker{X: fmt1(x(e.At)), Y: fmt1(y), Color: st.color, Title: title})
	}
	return c
}

// tickStep picks the interval of the axis ticks: the smallest of the
// usual ones that makes at most eight of them.
func tickStep(span time.Duration) time.Duration {
	steps := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	for _, s := range steps {
		if span/s <= 8 {
			return s
		}
	}
	return span / 8
}

// clip shortens s to at most n runes, with an ellipsis.
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

type svgStepsBar struct {
	Width, Height string
	Segments      []svgSegment
}

type svgSegment struct {
	X, W, Color, TextColor, Label, LabelX, Title string
}

// stepsBar lays out the steps' outcomes as one bar of proportions.
func (r *Report) stepsBar() *svgStepsBar {
	c := r.StepCounts
	if c.Total == 0 {
		return nil
	}
	bar := &svgStepsBar{Width: fmt1(chartWidth), Height: "34.0"}
	x := 0.0
	for _, s := range []struct {
		n           int
		name        string
		color, text string
	}{
		{c.Done, "done", "#16a34a", "#ffffff"},
		{c.Skipped, "skipped", "#f59e0b", "#422006"},
		{c.Pending, "pending", "#cbd5e1", "#1e293b"},
	} {
		if s.n == 0 {
			continue
		}
		w := chartWidth * float64(s.n) / float64(c.Total)
		label := strconv.Itoa(s.n) + " " + s.name
		seg := svgSegment{X: fmt1(x), W: fmt1(w), Color: s.color, TextColor: s.text, LabelX: fmt1(x + w/2),
			Title: label + " of " + strconv.Itoa(c.Total) + " steps"}
		switch {
		case w >= 8*float64(len(label))+16:
			seg.Label = label
		case w >= 8*float64(len(strconv.Itoa(s.n)))+10:
			seg.Label = strconv.Itoa(s.n)
		}
		bar.Segments = append(bar.Segments, seg)
		x += w
	}
	return bar
}
