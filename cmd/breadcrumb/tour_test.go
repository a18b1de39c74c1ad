package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

// axeSource is axe-core's script, from BREADCRUMB_AXE (the path of
// axe.min.js, as `npm install axe-core` lays it out); "" without it.
func axeSource(t *testing.T) string {
	p := os.Getenv("BREADCRUMB_AXE")
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("BREADCRUMB_AXE is not set, and CI is: .ci/run installs axe-core from npm and sets it")
		}
		t.Log("BREADCRUMB_AXE is not set: the pages are not checked with axe-core (npm install axe-core, then BREADCRUMB_AXE=node_modules/axe-core/axe.min.js)")
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("BREADCRUMB_AXE: %v", err)
	}
	return string(b)
}

// artifacts is where the tour's screenshots go: BREADCRUMB_ARTIFACTS,
// else the test's own directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("BREADCRUMB_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// A tour of the console, as its readers meet it: every page, on a phone
// (390 px), a laptop (1366 px) and a large screen (1920 px), in light and
// dark. On each, nothing is wider than the window, every control is
// inside it and reachable with the keyboard, no script fails, every link to the console answers, and
// axe-core finds nothing serious or critical. The screenshots are kept
// (BREADCRUMB_ARTIFACTS) for a person to look at.
func TestATourOfTheConsoleAtEveryWidth(t *testing.T) {
	b := newBrowser(t)
	axe := axeSource(t)
	shots := artifacts(t)
	t.Chdir(t.TempDir())
	vars := serveEnv(t)
	vars["BREADCRUMB_CONSOLE_TOKEN"] = "tour-token"
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s := startServe(t, vars)
	if code, msg := s.post("/webhooks/alertmanager", app.DemoAlert(time.Now()), map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
		t.Fatalf("the demo alert: %d %s", code, msg)
	}
	id := s.waitIncidents(1).Incidents[0].ID
	// Every page records its script errors, from its first line.
	b.do("watching for script errors", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.tourErrors = [];
			window.addEventListener('error', function(e){ window.tourErrors.push(String(e.message)); });
			window.addEventListener('unhandledrejection', function(e){ window.tourErrors.push(String(e.reason)); });
			var consoleError = console.error;
			console.error = function(){ window.tourErrors.push([].join.call(arguments, ' ')); consoleError.apply(console, arguments); };`})
		return err
	}))
	b.do("signing in", chromedp.Navigate(s.url+"/signin?token=tour-token&next=/"))

	pages := []string{"/", "/incidents", "/incidents/" + id, "/runbooks", "/runbooks/" + app.DemoRunbook,
		"/runbooks/examples:platform/PodCrashLooping.md", "/search?q=" + url.QueryEscape("pods keep restarting"), "/coverage",
		"/runbooks/new?incident=" + id, "/chat", "/signin"}
	checkedLinks := map[string]bool{}
	for _, width := range []int64{390, 1366, 1920} {
		for _, scheme := range []string{"light", "dark"} {
			b.do("the window", chromedp.EmulateViewport(width, 900), colorScheme(scheme))
			for _, page := range pages {
				where := fmt.Sprintf("%s at %d px, %s", page, width, scheme)
				b.do("opening "+where, chromedp.Navigate(s.url+page))
				type layout struct {
					Overflow int      `json:"overflow"`
					Outside  []string `json:"outside"`
					Links    []string `json:"links"`
					Errors   []string `json:"errors"`
				}
				got, err := eval[layout](b, `(function(){
					var w = window.innerWidth, out = [];
					document.querySelectorAll('button, input, select, textarea, a.button').forEach(function(el){
						var r = el.getBoundingClientRect();
						if (r.width > 0 && (r.left < -1 || r.right > w + 1)) out.push(el.outerHTML.slice(0, 80));
					});
					// Every control can be reached with the keyboard: native
					// controls, none taken out of the tab order, and nothing
					// clickable that is not one.
					document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea').forEach(function(el){
						if (el.tabIndex < 0 && !el.disabled) out.push('not reachable by keyboard: ' + el.outerHTML.slice(0, 80));
					});
					document.querySelectorAll('[onclick]').forEach(function(el){
						if (!/^(A|BUTTON|INPUT)$/.test(el.tagName)) out.push('clickable but not a control: ' + el.outerHTML.slice(0, 80));
					});
					var links = [];
					document.querySelectorAll('a[href]').forEach(function(a){ if (a.origin === location.origin) links.push(a.pathname + a.search); });
					return {overflow: document.documentElement.scrollWidth - w, outside: out, links: links, errors: window.tourErrors || []};
				})()`)
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if got.Overflow > 1 {
					t.Errorf("%s: the page is %d px wider than the window", where, got.Overflow)
				}
				for _, o := range got.Outside {
					t.Errorf("%s: a control outside the window: %s", where, o)
				}
				for _, e := range got.Errors {
					t.Errorf("%s: a script failed: %s", where, e)
				}
				shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
				if err == nil {
					name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(page), "-"), "-")
					_ = os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%d-%s.png", cmp.Or(name, "home"), width, scheme)), shot, 0o644)
				}
				if width == 1366 && scheme == "light" {
					links := []string{}
					for _, l := range got.Links {
						if !checkedLinks[l] && !strings.HasPrefix(l, "/b/") { // a breadcrumb's redirect leads off the console
							checkedLinks[l] = true
							links = append(links, l)
						}
					}
					// Fetched by the page, with its cookies, as a click would.
					list, _ := json.Marshal(links)
					statuses, err := eval[map[string]int](b, `Promise.all(`+string(list)+`.map(function(l){
						return fetch(l, {credentials: 'same-origin'}).then(function(r){ return [l, r.status]; }, function(){ return [l, 0]; });
					})).then(function(all){ var m = {}; all.forEach(function(p){ m[p[0]] = p[1]; }); return m; })`)
					if err != nil {
						t.Fatalf("%s: following its links: %v", where, err)
					}
					for l, code := range statuses {
						if code != http.StatusOK {
							t.Errorf("%s: the link %s answers %d", where, l, code)
						}
					}
				}
				if axe != "" {
					type violation struct {
						ID     string   `json:"id"`
						Impact string   `json:"impact"`
						Nodes  []string `json:"nodes"`
					}
					found, err := eval[[]violation](b, axe+`;
						axe.run(document, {resultTypes: ['violations']}).then(function(r){
							return r.violations.filter(function(v){ return v.impact === 'serious' || v.impact === 'critical'; })
								.map(function(v){ return {id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(function(n){ return n.html.slice(0, 100); })}; });
						})`)
					if err != nil {
						t.Fatalf("%s: axe-core: %v", where, err)
					}
					for _, v := range found {
						t.Errorf("%s: axe-core, %s (%s): %q", where, v.ID, v.Impact, v.Nodes)
					}
				}
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}
