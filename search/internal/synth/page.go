package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Commands any service's pages may carry, beside its component's own.
var genericCommands = []command{
	{"bash", "kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -20"},
	{"bash", "kubectl -n {ns} rollout history deploy/{svc}"},
	{"bash", "kubectl -n {ns} top pods -l app={svc}"},
	{"bash", "argocd app history {svc}-prod | head"},
	{"promql", `sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="{ns}", container="{svc}"}[5m]))`},
	{"promql", `sum(rate(http_requests_total{service="{svc}"}[5m]))`},
}

// Step titles; the placeholders are those of sentences.
var stepTitles = []string{
	"Confirm the alert in {tool}: open the {comp} panel of the {svc} dashboard.",
	"Check whether {svc} was deployed in the last {dur}.",
	"{V} the {n} of the {comp}.",
	"Look at the {comp} of {svc}:",
	"Find out which {n} is {a}:",
	"If the {n} is {a}, {v} the {n}:",
	"Check the {n} and the {n} of {svc}.",
	"Roll back the last release of {svc} if the {cond} started with it:",
	"{V} the {comp} and watch the {n} for {dur}.",
	"See whether other services on the same {n} show {alt}.",
	"{V} the {a} {n} and {v} the {n}:",
}

// writer renders one page.
type writer struct {
	b    strings.Builder
	rng  *rand.Rand
	zipf *rand.Zipf
	p    plan
	dur  int // index into durations, fixed per page
}

// render writes the page of a plan and returns it with its title.
func render(p plan) ([]byte, string) {
	rng := rand.New(rand.NewPCG(p.seed, p.seed>>7|1))
	w := &writer{rng: rng, zipf: rand.NewZipf(rng, 1.15, 3, uint64(len(nouns)-1)), p: p,
		dur: rng.IntN(len(durations))}
	w.b.Grow(p.target + 2048)
	var title string
	switch p.style {
	case StyleYAML:
		title = w.yamlPage()
	case StyleHugo:
		title = w.hugoPage()
	default:
		title = w.plainPage()
	}
	return []byte(w.b.String()), title
}

func (w *writer) pick(list []string) string { return list[w.rng.IntN(len(list))] }

func (w *writer) chance(p float64) bool { return w.rng.Float64() < p }

// steps is how many steps a procedure gets, from the page's size target.
func (w *writer) steps() int {
	return 1 + w.rng.IntN(min(2+w.p.target/1500, 6))
}

func (w *writer) yamlPage() string {
	p := w.p
	title := fmt.Sprintf("%s: %s %s", p.service, p.comp.display, p.cond.title)
	if w.chance(0.5) {
		title = fmt.Sprintf("%s %s %s", p.service, p.comp.display, p.cond.alt)
	}
	b := &w.b
	fmt.Fprintf(b, "---\ntitle: %q\nservice: %s\nteam: %s\nseverity: %s\n", title, p.service, p.team, p.cond.severity)
	if w.chance(0.4) {
		fmt.Fprintf(b, "owners: [\"@%s-oncall\"]\n", p.team)
	}
	tags := []string{p.comp.forms[0], w.pick(p.cond.symptoms), w.pick([]string{"tier-1", "tier-2", "tier-3"})}
	fmt.Fprintf(b, "tags: [%s]\n", strings.Join(tags, ", "))
	switch {
	case w.chance(0.25):
		fmt.Fprintf(b, "alerts:\n  - name: %s\n    matchers: [service=%s, severity=%s]\n", p.alertName(), p.service, p.cond.severity)
	case w.chance(0.5):
		fmt.Fprintf(b, "alerts:\n  - %s\n", p.alertName())
	default:
		fmt.Fprintf(b, "alerts: [%s]\n", p.alertName())
	}
	if w.chance(0.3) {
		fmt.Fprintf(b, "description: %q\n", fmt.Sprintf("What to do when %s %s shows %s.", p.service, p.comp.display, p.cond.title))
	}
	if w.chance(0.3) {
		fmt.Fprintf(b, "dashboards:\n  - name: %s overview\n    url: https://grafana.example.com/d/%s-overview\n", p.service, p.service)
	}
	b.WriteString("---\n\n# " + title + "\n\n")
	w.intro()
	b.WriteString("## Symptoms\n\n")
	for _, s := range p.cond.symptoms[:1+w.rng.IntN(len(p.cond.symptoms))] {
		b.WriteString("- " + w.fill(w.pick([]string{
			"%s on the {comp} panel of the {svc} dashboard",
			"%s reported in #{team}",
			"%s in the logs of {svc}",
		})+"\n", s))
	}
	b.WriteString("\n## Impact\n\n")
	w.paragraph(2 + w.rng.IntN(2))
	b.WriteString("## Diagnosis\n\n")
	w.list(true, w.steps())
	b.WriteString("## Mitigation\n\n")
	w.list(true, w.steps())
	b.WriteString("## Escalation\n\n")
	b.WriteString(w.fill("Page #{team}-oncall in PagerDuty if {alt} lasts more than {dur} or customers report it.\n\n", ""))
	w.padding()
	return title
}

func (w *writer) hugoPage() string {
	p := w.p
	title := strings.Join(splitCamel(p.alertName()), " ")
	b := &w.b
	fmt.Fprintf(b, "---\ntitle: %s\nweight: %d\n---\n\n# %s\n\n## Meaning\n\n", title, 10*(1+w.rng.IntN(5)), p.alertName())
	w.intro()
	b.WriteString("## Impact\n\n")
	w.paragraph(1 + w.rng.IntN(3))
	b.WriteString("## Diagnosis\n\n")
	w.list(false, w.steps())
	b.WriteString("## Mitigation\n\n")
	w.list(true, w.steps())
	w.padding()
	return title
}

func (w *writer) plainPage() string {
	p := w.p
	title := fmt.Sprintf("%s %s %s", p.service, p.comp.display, p.cond.title)
	if w.chance(0.5) {
		title = fmt.Sprintf("%s %s: %s", p.service, p.comp.display, p.cond.alt)
	}
	w.b.WriteString("# " + title + "\n\n")
	w.intro()
	w.list(true, 1+w.steps())
	w.b.WriteString(w.fill("If nothing here helps, ask in #{team} and page #{team}-oncall.\n\n", ""))
	w.padding()
	return title
}

// intro names everything a responder could call the page's subject, so
// that every word a query may use is on the page.
func (w *writer) intro() {
	p := w.p
	fmt.Fprintf(&w.b, "This alert fires when the %s of %s shows %s: %s. You may notice %s. Also filed under %s.\n\n",
		p.comp.display, p.service, p.cond.title, p.cond.alt, strings.Join(p.cond.symptoms, ", "),
		strings.Join(p.comp.forms, ", "))
	w.paragraph(1 + w.rng.IntN(3))
}

// paragraph writes k sentences.
func (w *writer) paragraph(k int) {
	for i := 0; i < k; i++ {
		if i > 0 {
			w.b.WriteByte(' ')
		}
		w.b.WriteString(w.fill(w.pick(sentences), ""))
	}
	w.b.WriteString("\n\n")
}

// list writes k steps as a numbered or bulleted list, most with a
// command.
func (w *writer) list(ordered bool, k int) {
	for i := 1; i <= k; i++ {
		marker := "- "
		if ordered {
			marker = fmt.Sprintf("%d. ", i)
		}
		indent := strings.Repeat(" ", len(marker))
		w.b.WriteString(marker + w.fill(w.pick(stepTitles), "") + "\n")
		if w.chance(0.7) {
			c := w.command()
			w.b.WriteString("\n" + indent + "```" + c.lang + "\n")
			for _, line := range strings.Split(w.fill(c.code, ""), "\n") {
				w.b.WriteString(indent + line + "\n")
			}
			w.b.WriteString(indent + "```\n")
		}
		if w.chance(0.4) {
			w.b.WriteString("\n" + indent + w.fill(w.pick(sentences), "") + "\n")
		}
		w.b.WriteString("\n")
	}
}

func (w *writer) command() command {
	if w.chance(0.7) {
		return w.p.comp.cmds[w.rng.IntN(len(w.p.comp.cmds))]
	}
	return genericCommands[w.rng.IntN(len(genericCommands))]
}

// padding fills the page up to its size target with background prose,
// and a large page with a history of past incidents.
func (w *writer) padding() {
	if w.b.Len() >= w.p.target {
		return
	}
	w.b.WriteString("## Background\n\n")
	w.paragraph(3 + w.rng.IntN(4))
	for w.b.Len() < min(w.p.target, 8<<10) {
		w.paragraph(3 + w.rng.IntN(4))
	}
	if w.b.Len() >= w.p.target {
		return
	}
	w.b.WriteString("## History\n\n")
	for n := 1; w.b.Len() < w.p.target; n++ {
		// "Postmortem" makes it a context section whatever the words
		// after it: a procedure word there would ask for steps.
		fmt.Fprintf(&w.b, "### Postmortem %d-%02d: %s\n\n", 2019+n%7, 1+n%12, w.fill("{a} {comp} of {svc}", ""))
		w.paragraph(3 + w.rng.IntN(4))
		if w.chance(0.5) {
			c := w.command()
			w.b.WriteString("```" + c.lang + "\n" + w.fill(c.code, "") + "\n```\n\n")
		}
		w.paragraph(2 + w.rng.IntN(3))
	}
}

// fill replaces the placeholders of a template. %s, when arg is not
// empty, is replaced by arg first.
func (w *writer) fill(tmpl, arg string) string {
	if arg != "" {
		tmpl = strings.Replace(tmpl, "%s", arg, 1)
	}
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	p := w.p
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		key, rest := tmpl[i+1:i+j], tmpl[i+j+1:]
		switch key {
		case "n":
			b.WriteString(nouns[w.zipf.Uint64()])
		case "v":
			b.WriteString(w.pick(verbs))
		case "V":
			b.WriteString(capitalize(w.pick(verbs)))
		case "a":
			b.WriteString(w.pick(adjectives))
		case "A":
			b.WriteString(capitalize(w.pick(adjectives)))
		case "svc", "ns":
			b.WriteString(p.service)
		case "db":
			b.WriteString(strings.ReplaceAll(p.service, "-", "_"))
		case "team":
			b.WriteString(p.team)
		case "comp":
			b.WriteString(p.comp.display)
		case "cond":
			b.WriteString(p.cond.title)
		case "alt":
			b.WriteString(p.cond.alt)
		case "tool":
			b.WriteString(w.pick(tools))
		case "dur":
			b.WriteString(durations[w.dur])
		default:
			// Not a placeholder (PromQL braces, curl's %{http_code}):
			// keep the brace and read on, as a placeholder may follow.
			b.WriteByte('{')
			rest = tmpl[i+1:]
		}
		tmpl = rest
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// splitCamel splits an alert name into its words: CheckoutApi5xxRateHigh →
// Checkout Api 5xx Rate High.
func splitCamel(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			out = append(out, s[start:i])
			start = i
		}
	}
	return append(out, s[start:])
}
