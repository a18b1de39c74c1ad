package report

import (
	"bytes"
	"html"
	"html/template"
	"slices"
	"strconv"
	"sync"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// HTML renders the report as one standalone HTML document: its styles
// are inline, it loads nothing, and its charts (the timeline and the
// steps' outcomes) are inline SVG. Every piece of untrusted text goes
// through html/template's contextual escaping.
func (r *Report) HTML() []byte {
	var b bytes.Buffer
	b.Grow(16384 + 700*len(r.Timeline))
	if err := reportTemplate().Execute(&b, r.htmlView()); err != nil {
		// The template is fixed and its data made here: this is a bug,
		// but the reader still gets a document that says so.
		b.Reset()
		b.WriteString("<!DOCTYPE html>\n<title>Report error</title>\n<p>The report could not be rendered: ")
		b.WriteString(html.EscapeString(err.Error()))
		b.WriteString("</p>\n")
	}
	return b.Bytes()
}

type htmlReport struct {
	*Report
	Open     bool
	End      string
	Chart    svgTimeline
	Legend   []htmlLegend
	Bar      *svgStepsBar
	Phases   []htmlLegend
	Duration []htmlDuration
}

type htmlLegend struct{ Label, Color string }

type htmlDuration struct{ Label, Value, At string }

func (r *Report) htmlView() htmlReport {
	v := htmlReport{Report: r, Open: !(r.Status == incidents.StatusResolved && !r.ResolvedAt.IsZero()),
		End: r.end().Format(reportDateTime), Chart: r.timelineChart(), Bar: r.stepsBar()}
	seen := map[incidents.EventType]bool{}
	var types []incidents.EventType
	for _, e := range r.Timeline {
		if !seen[e.Type] {
			seen[e.Type] = true
			types = append(types, e.Type)
		}
	}
	slices.SortFunc(types, func(a, b incidents.EventType) int {
		sa, sb := styleOf(a), styleOf(b)
		if sa.lane != sb.lane {
			return sa.lane - sb.lane
		}
		if a < b {
			return -1
		} else if a > b {
			return 1
		}
		return 0
	})
	for _, t := range types {
		v.Legend = append(v.Legend, htmlLegend{Label: kindOf(t), Color: styleOf(t).color})
	}
	for _, s := range []incidents.Status{incidents.StatusTriggered, incidents.StatusAcknowledged, incidents.StatusMitigated, incidents.StatusResolved} {
		v.Phases = append(v.Phases, htmlLegend{Label: string(s), Color: phaseStyles[s].strong})
	}
	v.Duration = []htmlDuration{
		{"Time to acknowledge", r.Durations.ToAcknowledge.Text, r.clock(r.AcknowledgedAt)},
		{"Time to mitigate", r.Durations.ToMitigate.Text, r.clock(r.MitigatedAt)},
		{"Time to resolve", r.Durations.ToResolve.Text, r.clock(r.ResolvedAt)},
		{"Total duration", r.Durations.Total.Text, r.clock(r.end())},
	}
	return v
}

func kindOf(t incidents.EventType) string {
	return describe(incidents.Event{Type: t}, nil).Kind
}

var reportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"plural": plural,
		"color":  func(t incidents.EventType) string { return styleOf(t).color },
		"sev": func(n int) string {
			if n < 1 || n > 5 {
				return "sev0"
			}
			return "sev" + strconv.Itoa(n)
		},
	}).Parse(reportHTML))
})

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.ID}}: {{.Title}} · post-incident report</title>
<style>
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --soft: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f5f9; color: var(--ink); font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 24px auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 32px 40px 24px; }
h1 { font-size: 28px; line-height: 1.25; margin: 4px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.eyebrow { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
.badges { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 16px; }
.badge { display: inline-block; border-radius: 999px; padding: 2px 12px; font-size: 13px; font-weight: 600; }
.sev1 { background: #dc2626; color: #fff; } .sev2 { background: #ea580c; color: #fff; } .sev3 { background: #fbbf24; color: #422006; }
.sev4 { background: #bfdbfe; color: #1e3a8a; } .sev5, .sev0 { background: #e2e8f0; color: #334155; }
.st-triggered { background: #fee2e2; color: #991b1b; } .st-acknowledged { background: #fef3c7; color: #92400e; }
.st-mitigated { background: #dbeafe; color: #1e40af; } .st-resolved { background: #dcfce7; color: #166534; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; font-size: 14px; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 24px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; background: var(--soft); }
.card .label { color: var(--muted); font-size: 13px; } .card .value { font-size: 22px; font-weight: 650; }
.card .at { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.placeholder { color: var(--muted); font-style: italic; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13px; color: #334155; margin: 8px 0 0; padding: 0; list-style: none; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.people { display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 0; list-style: none; }
.people li { border: 1px solid var(--line); border-radius: 999px; padding: 3px 12px; background: var(--soft); }
.role { font-size: 12px; color: #5b21b6; background: #ede9fe; border-radius: 999px; padding: 1px 8px; margin-left: 6px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; border-bottom: 2px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; overflow-wrap: break-word; }
td.num, td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.time { color: #334155; } td.off { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.outcome { display: inline-block; border-radius: 999px; padding: 0 10px; font-size: 12px; font-weight: 600; }
.o-done { background: #dcfce7; color: #166534; } .o-skipped { background: #fef3c7; color: #92400e; } .o-pending { background: #e2e8f0; color: #334155; }
.kind { white-space: nowrap; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; color: #334155; }
.counts { font-size: 14px; color: #334155; margin: 8px 0 12px; }
.notes { list-style: none; padding: 0; margin: 0; }
.notes li { border-left: 3px solid #2563eb; background: var(--soft); padding: 8px 12px; margin-bottom: 10px; border-radius: 0 8px 8px 0; }
.notes .by { color: var(--muted); font-size: 13px; margin-bottom: 2px; }
.checklist { list-style: none; padding: 0; margin: 0; }
.checklist li { padding: 6px 0; border-bottom: 1px dashed var(--line); }
.checklist input { margin-right: 10px; }
.checklist .by { color: var(--muted); font-size: 13px; }
.blank { display: inline-block; width: 70%; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 720px) { main { padding: 20px; margin: 0; border-radius: 0; } .cards { grid-template-columns: repeat(2, 1fr); } }
@media print { body { background: #fff; } main { border: 0; margin: 0; max-width: none; } }
</style>
</head>
<body>
<main>
<header>
<div class="eyebrow">Post-incident report · {{.ID}}</div>
<h1>{{.Title}}</h1>
<div class="badges"><span class="badge {{sev .Severity}}">{{if eq .SeverityLabel "unknown"}}severity unknown{{else}}{{.SeverityLabel}}{{end}}</span><span class="badge st-{{.Status}}">{{.Status}}</span></div>
<dl class="meta">
{{- if .Service}}<dt>Service</dt><dd>{{.Service}}</dd>{{end}}
{{- if .Source}}<dt>Source</dt><dd>{{.Source}}</dd>{{end}}
{{- range .Refs}}<dt>{{.Label}}</dt><dd><code>{{.Value}}</code></dd>{{end}}
<dt>Started</dt><dd>{{.StartedAt.Format "2006-01-02 15:04:05 UTC"}}</dd>
{{if .Open}}<dt>Still open</dt><dd>as of {{.End}}</dd>{{else}}<dt>Resolved</dt><dd>{{.End}}</dd>{{end}}
</dl>
</header>

<section class="cards">
{{- range .Duration}}
<div class="card"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div><div class="at">{{if ne .At "—"}}at {{.At}} UTC{{else}}not reached{{end}}</div></div>
{{- end}}
</section>

<section>
<h2>Impact</h2>
{{if .Impact}}<p class="pre">{{.Impact}}</p>{{else}}<p class="placeholder">to be written</p>{{end}}
</section>

<section>
<h2>Timeline at a glance</h2>
{{with .Chart}}<svg viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="Timeline chart: status phases and events over time">
{{- range .Bands}}
<rect x="{{.X}}" y="{{$.Chart.LanesY}}" width="{{.W}}" height="{{$.Chart.LanesH}}" fill="{{.Light}}"/>
<rect x="{{.X}}" y="{{$.Chart.StripY}}" width="{{.W}}" height="{{$.Chart.StripH}}" fill="{{.Strong}}"><title>{{.Title}}</title></rect>
{{- if .Label}}<text x="{{.LabelX}}" y="{{$.Chart.StripTextY}}" font-size="12" font-weight="600" fill="{{.Text}}">{{.Label}}</text>{{end}}
{{- end}}
<text x="{{.PlotX}}" dx="-10" y="{{.StripTextY}}" font-size="12" fill="#64748b" text-anchor="end">Status</text>
{{- range .Lanes}}
<line x1="{{$.Chart.PlotX}}" x2="{{$.Chart.PlotEnd}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#cbd5e1" stroke-width="1"/>
<text x="{{$.Chart.PlotX}}" dx="-10" y="{{.TextY}}" font-size="12" fill="#334155" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .Ticks}}
<line x1="{{.X}}" x2="{{.X}}" y1="{{$.Chart.StripY}}" y2="{{$.Chart.AxisY}}" stroke="#94a3b8" stroke-width="1" stroke-dasharray="2 3" opacity="0.7"/>
<text x="{{.X}}" y="{{$.Chart.AxisY}}" dy="14" font-size="11" fill="#334155" text-anchor="middle">{{.Offset}}</text>
<text x="{{.X}}" y="{{$.Chart.AxisY}}" dy="28" font-size="10" fill="#64748b" text-anchor="middle">{{.Clock}}</text>
{{- end}}
<line x1="{{.PlotX}}" x2="{{.PlotEnd}}" y1="{{.AxisY}}" y2="{{.AxisY}}" stroke="#475569" stroke-width="1"/>
{{- range .Markers}}
<circle cx="{{.X}}" cy="{{.Y}}" r="5.5" fill="{{.Color}}" stroke="#fff" stroke-width="1.5"><title>{{.Title}}</title></circle>
{{- end}}
</svg>{{end}}
<ul class="legend">
{{- range .Phases}}<li><span class="swatch" style="background: {{.Color}}"></span>{{.Label}}</li>{{end}}
</ul>
<ul class="legend">
{{- range .Legend}}<li><span class="dot" style="background: {{.Color}}"></span>{{.Label}}</li>{{end}}
</ul>
</section>

<section>
<h2>People</h2>
{{if .People}}<ul class="people">
{{- range .People}}<li>{{.Name}}{{range .Roles}}<span class="role">{{.}}</span>{{end}}</li>{{end}}
</ul>{{else}}<p class="placeholder">No one is recorded.</p>{{end}}
</section>

<section>
<h2>Runbook</h2>
{{with .Runbook}}<p><strong>{{if .Title}}{{.Title}}{{else}}{{.ID}}{{end}}</strong>
{{- if .Location}} · <code>{{.Location}}</code>{{end}}
{{- if .ShortCommit}} · commit <code title="{{.Commit}}">{{.ShortCommit}}</code>{{end}}</p>
{{if .Reason}}<p class="text">Chosen because: {{.Reason}}</p>{{end}}
{{- else}}<p class="placeholder">No runbook was attached.</p>{{end}}
{{with .Bar}}<svg viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="Steps by outcome">
<defs><clipPath id="steps-bar"><rect x="0" y="0" width="{{.Width}}" height="{{.Height}}" rx="8"/></clipPath></defs>
<g clip-path="url(#steps-bar)">
{{- range .Segments}}
<rect x="{{.X}}" y="0" width="{{.W}}" height="{{$.Bar.Height}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>
{{- if .Label}}<text x="{{.LabelX}}" y="22" font-size="14" font-weight="600" fill="{{.TextColor}}" text-anchor="middle">{{.Label}}</text>{{end}}
{{- end}}
</g>
</svg>
<p class="counts">{{$.StepCounts.Done}} done · {{$.StepCounts.Skipped}} skipped · {{$.StepCounts.Pending}} pending · {{plural $.StepCounts.Total "step"}}</p>{{end}}
{{if .Steps}}<table>
<thead><tr><th>#</th><th>Step</th><th>Outcome</th><th>Who</th><th>When</th><th>Note</th></tr></thead>
<tbody>
{{- range .Steps}}
<tr><td class="num">{{.Number}}</td><td>{{.Title}}</td><td><span class="outcome o-{{.Outcome}}">{{.Outcome}}</span></td><td>{{.Actor}}</td><td class="off">{{.Offset}}</td><td class="text">{{.Note}}</td></tr>
{{- end}}
</tbody>
</table>{{end}}
</section>

<section>
<h2>Timeline</h2>
<p class="counts">Times are UTC; offsets run from the start, {{.StartedAt.Format "2006-01-02 15:04:05 UTC"}}.</p>
<table>
<thead><tr><th>Time</th><th>Offset</th><th>Who</th><th>What</th><th>Details</th></tr></thead>
<tbody>
{{- range .Timeline}}
<tr><td class="time">{{.Time}}</td><td class="off">{{.Offset}}</td><td>{{if .Actor}}{{.Actor}}{{else if .Source}}<span class="placeholder">{{.Source}}</span>{{end}}</td><td class="kind"><span class="dot" style="background: {{color .Type}}"></span>{{.Kind}}</td><td>
{{- if .Summary}}<strong>{{.Summary}}</strong>{{end}}
{{- with .Link}} {{if .URL}}<a href="{{.URL}}" rel="noopener noreferrer">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}
{{- if .Text}}<div class="text">{{.Text}}</div>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
</section>

<section>
<h2>Notes</h2>
{{if .Notes}}<ul class="notes">
{{- range .Notes}}
<li><div class="by">{{.Time}} ({{.Offset}}){{if .Actor}} · {{.Actor}}{{end}}</div><div class="text">{{.Text}}</div></li>
{{- end}}
</ul>{{else}}<p class="placeholder">No notes.</p>{{end}}
</section>

<section>
<h2>Follow-ups</h2>
<ul class="checklist">
{{- range .FollowUps}}
<li><input type="checkbox" disabled>{{.Text}} <span class="by">({{if .Actor}}{{.Actor}}, {{end}}{{.Offset}})</span></li>
{{- else}}
<li><input type="checkbox" disabled><span class="blank">&nbsp;</span></li>
<li><input type="checkbox" disabled><span class="blank">&nbsp;</span></li>
<li><input type="checkbox" disabled><span class="blank">&nbsp;</span></li>
{{- end}}
</ul>
</section>

<footer>Generated by Breadcrumb from {{plural .EventCount "timeline event"}}, as of {{.AsOf.Format "2006-01-02 15:04:05 UTC"}}.</footer>
</main>
</body>
</html>
`
