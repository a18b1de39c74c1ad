package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserWait bounds every wait on the page: a cold headless browser on a
// loaded machine is slow, and a wait ends as soon as its condition holds.
const browserWait = 60 * time.Second

// findChromium returns the path of a Chromium (or Chrome) binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// lockedBuffer is the browser's output, written by chromedp's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browser is a headless Chromium tab driven over the DevTools protocol.
type browser struct {
	t   *testing.T
	ctx context.Context
	out *lockedBuffer
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium binary on PATH, and CI is set: install Debian's chromium package (.ci/run does)")
		}
		t.Skip("no chromium binary on PATH: install Debian's chromium package to run the console's end-to-end test")
	}
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000), chromedp.CombinedOutput(out))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it gets no timeout of its own, as
	// the browser lives as long as its context.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v; its output:\n%s", bin, err, out)
		}
	case <-time.After(browserWait):
		t.Fatalf("%s did not start within %v; its output:\n%s", bin, browserWait, out)
	}
	return &browser{t: t, ctx: ctx, out: out}
}

// do runs actions with a timeout.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\nthe page:\n%s", what, err, b.text())
	}
}

// eval evaluates a script in the page, once.
func eval[T any](b *browser, script string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

// text returns the page's visible text, for failure messages.
func (b *browser) text() string {
	s, err := eval[string](b, `document.body ? document.body.innerText : ""`)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// until evaluates a script until it gives a true value; a script that
// fails (the page is navigating) is tried again.
func (b *browser) until(what, script string) {
	b.t.Helper()
	stop := time.Now().Add(browserWait)
	var last error
	for time.Now().Before(stop) {
		ok, err := eval[bool](b, "!!("+script+")")
		if err == nil && ok {
			return
		}
		last = err
		select {
		case <-b.ctx.Done():
			b.t.Fatalf("%s: the browser stopped: %v", what, b.ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	b.t.Fatalf("%s: not within %v (last error: %v); the page at %s:\n%s", what, browserWait, last, b.location(), b.text())
}

func (b *browser) location() string {
	s, _ := eval[string](b, `location.href`)
	return s
}

// waitText waits until the page's text holds s.
func (b *browser) waitText(s string) {
	b.t.Helper()
	q, _ := json.Marshal(s)
	b.until("the page showing "+string(q), `document.body && document.body.innerText.includes(`+string(q)+`)`)
}

// press clicks the last element that matches a CSS selector, once it is
// there. The click runs in the page, so that a part of the page replaced
// meanwhile cannot swallow it.
func (b *browser) press(selector string) {
	b.t.Helper()
	q, _ := json.Marshal(selector)
	b.until("pressing "+selector, `(function(){ var all = document.querySelectorAll(`+string(q)+`);
		if (!all.length) { return false; } all[all.length-1].click(); return true; })()`)
}

// typeLine types a line in the chat's input and sends it.
func (b *browser) typeLine(text string) {
	b.t.Helper()
	b.until("the chat's input", `document.getElementById("say-text")`)
	b.do("typing "+text, chromedp.SendKeys(chromedp.CSS("#say-text"), text+kb.Enter))
}

// incidentJSON reads an incident through the JSON API.
func incidentJSON(t *testing.T, s *service, id string) map[string]any {
	t.Helper()
	var got struct {
		Incident map[string]any `json:"incident"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents/"+id, "application/json")), &got); err != nil {
		t.Fatal(err)
	}
	return got.Incident
}

// TestTheConsoleInABrowser is the newcomer's story in headless Chromium:
// sign in, send the sample alert through the real Alertmanager webhook,
// find its incident with its runbook, follow two steps in the incident's
// channel of the console's chat, resolve it there and download the report.
func TestTheConsoleInABrowser(t *testing.T) {
	b := newBrowser(t)
	t.Chdir(t.TempDir()) // no breadcrumb.yaml, no ./runbooks: the bundled examples
	vars := serveEnv(t)
	vars["BREADCRUMB_CONSOLE_TOKEN"] = "console-e2e-token"
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-e2e-token"
	s := startServe(t, vars)

	// Sign in with the write token.
	b.do("opening the sign-in page", chromedp.Navigate(s.url+"/signin?next=/"))
	b.do("signing in", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), vars["BREADCRUMB_CONSOLE_TOKEN"]+kb.Enter))
	b.waitText("Send a sample alert")

	// The demo goes through the webhook; its incident shows up in the list.
	b.press(`form[action="/demo"] button`)
	b.until("the incident list after the demo", `location.pathname === "/incidents"`)
	// The list follows new incidents by itself: nobody reloads it here,
	// and it does not reload itself either (the mark would be gone).
	if _, err := eval[bool](b, `window.listMark = true`); err != nil {
		t.Fatal(err)
	}
	b.until("the demo's incident in the list, without a reload", `document.querySelector('a[href^="/incidents/INC-"]') !== null`)
	if marked, err := eval[bool](b, `window.listMark === true`); err != nil || !marked {
		t.Errorf("the list was reloaded to show the new incident (mark %v, %v), want it updated in place", marked, err)
	}
	id, err := eval[string](b, `document.querySelector('a[href^="/incidents/INC-"]').textContent`)
	if err != nil || id == "" {
		t.Fatalf("no incident in the list after the demo (%v); serve's log:\n%s", err, s.stderr)
	}
	inc := incidentJSON(t, s, id)
	rb, _ := inc["runbook"].(map[string]any)
	rbTitle, _ := rb["title"].(string)
	if rbTitle == "" {
		t.Fatalf("the demo's incident %s has no runbook: %v", id, inc)
	}
	b.press(`a[href="/incidents/` + id + `"]`)
	b.waitText(rbTitle)
	// The page follows the incident: acknowledged elsewhere (here, by a
	// script with the write token), it shows the new status by itself,
	// in place.
	if _, err := eval[bool](b, `window.pageMark = true`); err != nil {
		t.Fatal(err)
	}
	ack, _ := http.NewRequest(http.MethodPost, s.url+"/incidents/"+id+"/act", strings.NewReader(url.Values{"action": {"ack"}}.Encode()))
	ack.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ack.Header.Set("Authorization", "Bearer "+vars["BREADCRUMB_CONSOLE_TOKEN"])
	if resp, err := s.client.Do(ack); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	b.until("the incident page showing the acknowledgement by itself", `document.querySelector('h1 + p .status') && document.querySelector('h1 + p .status').textContent.trim() === 'acknowledged'`)
	if marked, err := eval[bool](b, `window.pageMark === true`); err != nil || !marked {
		t.Errorf("the incident page was reloaded to show the new status (mark %v, %v), want it updated in place", marked, err)
	}

	// Its channel in the chat, once the bot has opened it.
	var channel string
	stop := time.Now().Add(browserWait)
	for channel == "" && time.Now().Before(stop) {
		home, _ := incidentJSON(t, s, id)["home"].(map[string]any)
		channel, _ = home["channel"].(string)
		if channel == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if channel == "" {
		t.Fatalf("%s got no home in the chat within %v", id, browserWait)
	}
	b.do("opening the chat", chromedp.Navigate(s.url+"/chat"))
	b.press(`nav.channels a[href="/chat/c/` + channel + `"]`)
	b.waitText(id)

	// What another responder writes shows up without a reload: the mark
	// set on this page survives.
	if _, err := eval[bool](b, `window.breadcrumbMark = true`); err != nil {
		t.Fatal(err)
	}
	other, _ := http.NewRequest(http.MethodPost, s.url+"/chat/say", strings.NewReader(url.Values{"channel": {channel},
		"text": {"a word from another responder"}}.Encode()))
	other.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	other.Header.Set("Authorization", "Bearer "+vars["BREADCRUMB_CONSOLE_TOKEN"])
	if resp, err := s.client.Do(other); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	b.waitText("a word from another responder")
	if marked, err := eval[bool](b, `window.breadcrumbMark === true`); err != nil || !marked {
		t.Errorf("the page was reloaded to show a new message (mark %v, %v), want it updated in place", marked, err)
	}

	// Guided mode: Done on the first two steps.
	b.press(`button[data-bot-action="guided_start"]`)
	b.waitText("Step 1 of")
	b.press(`button[data-bot-action="step_done"]`)
	b.waitText("Step 2 of")
	b.press(`button[data-bot-action="step_done"]`)
	b.waitText("Step 3 of")
	steps, _ := incidentJSON(t, s, id)["steps"].([]any)
	for i := 0; i < 2; i++ {
		st, _ := steps[i].(map[string]any)
		if st["state"] != "done" || st["actor"] != "console" {
			t.Errorf("step %d: got %v by %v, want done by console", i+1, st["state"], st["actor"])
		}
	}

	// Resolve, then export the report into the channel and download it.
	b.typeLine("/incident resolve rolled back the bad deploy")
	b.waitText("Resolved " + id)
	b.typeLine("/incident export")
	b.until("the report's download link", `document.querySelector('a[href^="/chat/files/"]')`)
	type download struct {
		Status      int    `json:"status"`
		Type        string `json:"type"`
		Disposition string `json:"disposition"`
		Body        string `json:"body"`
	}
	got, err := eval[download](b, `(async function(){ var a = document.querySelector('a[href^="/chat/files/"]');
		var r = await fetch(a.href, {credentials: "same-origin"});
		return {status: r.status, type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition"), body: await r.text()}; })()`)
	if err != nil {
		t.Fatalf("downloading the report: %v", err)
	}
	if got.Status != http.StatusOK || !strings.HasPrefix(got.Type, "text/markdown") || !strings.HasPrefix(got.Disposition, "attachment") ||
		!strings.Contains(got.Disposition, id+"-report.md") {
		t.Errorf("the download: got %d %q %q, want 200, text/markdown, an attachment named %s-report.md", got.Status, got.Type, got.Disposition, id)
	}
	for _, want := range []string{id, rbTitle, "rolled back the bad deploy", "resolved"} {
		if !strings.Contains(got.Body, want) {
			t.Errorf("the downloaded report lacks %q:\n%s", want, got.Body)
		}
	}
	// The API's report says the same.
	resp, err := s.client.Get(s.url + "/api/incidents/" + id + "/report")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	report, _ := io.ReadAll(resp.Body)
	for _, want := range []string{rbTitle, "rolled back the bad deploy"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("/api/incidents/%s/report lacks %q:\n%s", id, want, report)
		}
	}
	if st := incidentJSON(t, s, id)["status"]; st != "resolved" {
		t.Errorf("status: got %v, want resolved", st)
	}
	if t.Failed() {
		t.Logf("the browser's output:\n%s", fmt.Sprint(b.out))
	}
}
