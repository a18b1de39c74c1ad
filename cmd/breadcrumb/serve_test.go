package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	runtimemetrics "runtime/metrics"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// deadline bounds every wait on the service: generous, so that a loaded
// machine is slow rather than failing.
const deadline = 20 * time.Second

// service is `breadcrumb serve` running in the test's process.
type service struct {
	t      testing.TB
	url    string // http://host:port
	cancel context.CancelFunc
	stderr *syncBuffer
	done   chan struct{} // closed when run has returned
	code   int           // run's exit code, once done is closed
	client *http.Client
}

// startServe runs `breadcrumb serve args...` with the environment vars and
// waits until it listens and its runbooks are loaded.
func startServe(t testing.TB, vars map[string]string, args ...string) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{t: t, cancel: cancel, stderr: &syncBuffer{}, done: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second}}
	go func() {
		defer close(s.done)
		s.code = run(ctx, append([]string{"serve"}, args...), fakeEnv(vars), strings.NewReader(""), io.Discard, s.stderr)
	}()
	// Registered after the caller's t.TempDir, so it runs before they are
	// removed.
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(deadline):
			t.Errorf("serve did not stop within %v of its context being cancelled", deadline)
		}
	})
	s.url = s.waitForAddress()
	s.waitReady()
	return s
}

// waitForAddress reads the address from the "breadcrumb is listening" log
// line.
func (s *service) waitForAddress() string {
	s.t.Helper()
	stop := time.Now().Add(deadline)
	for time.Now().Before(stop) {
		for _, l := range lines(s.stderr.String()) {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "breadcrumb is listening" {
				if !strings.HasPrefix(rec.Addr, "http://127.0.0.1:") {
					s.t.Fatalf("listening address: got %q, want http://127.0.0.1:PORT", rec.Addr)
				}
				return rec.Addr
			}
		}
		select {
		case <-s.done:
			s.t.Fatalf("serve exited with code %d before listening; stderr:\n%s", s.code, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.t.Fatalf("serve did not log its address within %v; stderr:\n%s", deadline, s.stderr)
	return ""
}

// waitReady polls /readyz until the runbooks are loaded.
func (s *service) waitReady() {
	s.t.Helper()
	stop := time.Now().Add(deadline)
	last := ""
	for time.Now().Before(stop) {
		resp, err := s.client.Get(s.url + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		select {
		case <-s.done:
			s.t.Fatalf("serve exited with code %d before it was ready; stderr:\n%s", s.code, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("/readyz not 200 within %v (last: %s); stderr:\n%s", deadline, last, s.stderr)
}

// get fetches path and fails the test unless the answer is 200 with the
// given content type.
func (s *service) get(path, contentType string) string {
	s.t.Helper()
	resp, err := s.client.Get(s.url + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: got %s, want 200 OK; body:\n%s", path, resp.Status, body)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, contentType) {
		s.t.Errorf("GET %s: Content-Type: got %q, want %q", path, got, contentType)
	}
	return string(body)
}

// stop cancels the context, as a SIGTERM would, and checks that run
// returns 0.
func (s *service) stop() {
	s.t.Helper()
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(deadline):
		s.t.Fatalf("serve did not stop within %v; stderr:\n%s", deadline, s.stderr)
	}
	if s.code != exitOK {
		s.t.Errorf("exit code after shutdown: got %d, want %d; stderr:\n%s", s.code, exitOK, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"shutting down"`) {
		s.t.Errorf("stderr: got\n%s\nwant a shutting down line", s.stderr)
	}
}

type apiRunbook struct {
	ID          string   `json:"id"`
	Source      string   `json:"source"`
	Path        string   `json:"path"`
	Title       string   `json:"title"`
	Alerts      []string `json:"alerts"`
	Steps       int      `json:"steps"`
	Problems    int      `json:"problems"`
	Commit      string   `json:"commit"`
	Diagnostics []string `json:"diagnostics"`
}

type apiRunbooks struct {
	Runbooks []apiRunbook `json:"runbooks"`
	Sources  []struct {
		Name     string `json:"name"`
		Revision string `json:"revision"`
		Pages    int    `json:"pages"`
		Error    string `json:"error"`
	} `json:"sources"`
}

func (s *service) runbooks() apiRunbooks {
	s.t.Helper()
	body := s.get("/api/runbooks", "application/json")
	var got apiRunbooks
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		s.t.Fatalf("/api/runbooks: %v; body:\n%s", err, body)
	}
	for _, rb := range got.Runbooks {
		if want := rb.Source + ":" + rb.Path; rb.ID != want {
			s.t.Errorf("runbook id: got %q, want %q", rb.ID, want)
		}
		if rb.Alerts == nil {
			s.t.Errorf("runbook %s: alerts: got null, want a list", rb.ID)
		}
	}
	return got
}

func byID(rbs []apiRunbook) map[string]apiRunbook {
	m := map[string]apiRunbook{}
	for _, rb := range rbs {
		m[rb.ID] = rb
	}
	return m
}

// checkIndex checks that the web console lists every title, escaped.
func checkIndex(t *testing.T, page string, rbs []apiRunbook) {
	t.Helper()
	if !strings.HasPrefix(page, "<!doctype html>") {
		t.Errorf("/runbooks: got %.60q..., want an HTML page", page)
	}
	text := html.UnescapeString(page)
	for _, rb := range rbs {
		if !strings.Contains(text, rb.Title) {
			t.Errorf("/: the title %q is missing", rb.Title)
		}
		if strings.ContainsAny(rb.Title, `<>&"'`) && strings.Contains(page, rb.Title) {
			t.Errorf("/: the title %q appears unescaped", rb.Title)
		}
	}
}

// serveEnv is the environment of a service on a free port with its data in
// a temporary directory.
func serveEnv(t *testing.T) map[string]string {
	return map[string]string{
		"BREADCRUMB_LISTEN":   "127.0.0.1:0",
		"BREADCRUMB_DATA_DIR": filepath.Join(t.TempDir(), "data"),
	}
}

func TestServeWithoutConfigurationServesTheBundledExamples(t *testing.T) {
	t.Chdir(t.TempDir()) // no breadcrumb.yaml, no ./runbooks
	vars := serveEnv(t)
	s := startServe(t, vars)

	if got := s.get("/healthz", "text/plain"); strings.TrimSpace(got) != "ok" {
		t.Errorf("/healthz: got %q, want ok", got)
	}
	if _, err := os.Stat(vars["BREADCRUMB_DATA_DIR"]); err != nil {
		t.Errorf("data directory: %v", err)
	}

	got := s.runbooks()
	if len(got.Runbooks) < 8 {
		t.Errorf("runbooks: got %d, want the bundled examples (at least 8)", len(got.Runbooks))
	}
	pages := byID(got.Runbooks)
	for _, id := range []string{
		"examples:platform/PodCrashLooping.md",
		"examples:payments/PaymentsAPIHigh5xxRate.md",
		"examples:databases/PostgresConnectionsExhausted.md",
	} {
		if _, ok := pages[id]; !ok {
			t.Errorf("runbooks: %s is missing", id)
		}
	}
	crash := pages["examples:platform/PodCrashLooping.md"]
	if crash.Title != "Pod crash looping" {
		t.Errorf("PodCrashLooping title: got %q, want %q", crash.Title, "Pod crash looping")
	}
	if !contains(crash.Alerts, "PodCrashLooping") {
		t.Errorf("PodCrashLooping alerts: got %q, want it to hold PodCrashLooping", crash.Alerts)
	}
	if crash.Steps == 0 {
		t.Errorf("PodCrashLooping steps: got 0, want some")
	}
	if crash.Commit != "" {
		t.Errorf("PodCrashLooping commit: got %q, want none for the bundled pages", crash.Commit)
	}
	if len(got.Sources) != 1 || got.Sources[0].Name != "examples" || got.Sources[0].Pages != len(got.Runbooks) || got.Sources[0].Error != "" {
		t.Errorf("sources: got %+v, want the examples source with %d pages", got.Sources, len(got.Runbooks))
	}

	checkIndex(t, s.get("/runbooks", "text/html"), got.Runbooks)
	s.stop()
}

func TestServeWithARunbooksDirectory(t *testing.T) {
	dir := absPath(t, "testdata/team-runbooks")
	t.Chdir(t.TempDir())
	s := startServe(t, serveEnv(t), "--runbooks", dir)

	got := s.runbooks()
	var ids []string
	for _, rb := range got.Runbooks {
		ids = append(ids, rb.ID)
	}
	sort.Strings(ids)
	// The source is named after the directory; the bundled examples are
	// not served once runbooks are configured.
	want := []string{"team-runbooks:PaymentsDown.md", "team-runbooks:queues/OrdersQueueBacklog.md"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("runbooks: got %q, want %q", ids, want)
	}
	queue := byID(got.Runbooks)["team-runbooks:queues/OrdersQueueBacklog.md"]
	if want := `Orders queue <script>alert("backlog")</script> & retries`; queue.Title != want {
		t.Errorf("title: got %q, want %q", queue.Title, want)
	}
	if !contains(queue.Alerts, "OrdersQueueBacklog") || queue.Steps != 1 || queue.Problems != 0 {
		t.Errorf("queue page: got %+v, want alert OrdersQueueBacklog, 1 step and no problems", queue)
	}
	if len(got.Sources) != 1 || got.Sources[0].Name != "team-runbooks" || got.Sources[0].Pages != 2 {
		t.Errorf("sources: got %+v, want team-runbooks with 2 pages", got.Sources)
	}

	page := s.get("/runbooks", "text/html")
	checkIndex(t, page, got.Runbooks)
	if strings.Contains(page, "<script>alert") {
		t.Errorf("/: a title's markup reached the page unescaped:\n%s", page)
	}
	s.stop()
}

func TestServeFollowsAGitSource(t *testing.T) {
	repoDir := t.TempDir()
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatalf("git init: %v", err)
	}
	writeFile(t, repoDir, "docs/runbooks/KafkaConsumerLag.md", "---\ntitle: Kafka consumer lag\nalerts: [KafkaConsumerLagHigh]\n---\n\n# Kafka consumer lag\n\n## Mitigation\n\n1. Scale the consumers.\n\n   ```bash\n   kubectl -n orders scale deploy/consumer --replicas=6\n   ```\n")
	writeFile(t, repoDir, "README.md", "# Not a runbook\n\nOutside the source's subdirectory.\n")
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"docs/runbooks/KafkaConsumerLag.md", "README.md"} {
		if _, err := wt.Add(p); err != nil {
			t.Fatalf("git add %s: %v", p, err)
		}
	}
	sig := &object.Signature{Name: "Breadcrumb Test", Email: "test@example.com", When: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	hash, err := wt.Commit("Add the Kafka runbook", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatalf("git commit: %v", err)
	}

	cfgFile := writeFile(t, t.TempDir(), "breadcrumb.yaml", fmt.Sprintf(`
runbooks:
  sources:
    - name: orders
      git:
        url: %q
        subdir: docs/runbooks
`, repoDir))
	t.Chdir(t.TempDir())
	vars := serveEnv(t)
	// Credentials meant for other git sources must not stop a local one.
	vars["GIT_TOKEN"] = "token-for-https-sources"
	vars["GIT_USERNAME"] = "ci-bot"
	vars["GIT_SSH_KEY_FILE"] = filepath.Join(t.TempDir(), "id_ed25519")
	s := startServe(t, vars, "--config", cfgFile)

	got := s.runbooks()
	if len(got.Runbooks) != 1 {
		t.Fatalf("runbooks: got %+v, want the one page of the repository's subdirectory; stderr:\n%s", got.Runbooks, s.stderr)
	}
	rb := got.Runbooks[0]
	if want := "orders:KafkaConsumerLag.md"; rb.ID != want {
		t.Errorf("id: got %q, want %q", rb.ID, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(rb.Commit) {
		t.Errorf("commit: got %q, want 40 hex digits", rb.Commit)
	}
	if rb.Commit != hash.String() {
		t.Errorf("commit: got %q, want %q", rb.Commit, hash)
	}
	if rb.Title != "Kafka consumer lag" || !contains(rb.Alerts, "KafkaConsumerLagHigh") || rb.Steps != 1 {
		t.Errorf("page: got %+v", rb)
	}
	if len(got.Sources) != 1 || got.Sources[0].Revision != hash.String() || got.Sources[0].Error != "" {
		t.Errorf("sources: got %+v, want orders at %s without error", got.Sources, hash)
	}
	checkIndex(t, s.get("/runbooks", "text/html"), got.Runbooks)
	s.stop()
	if strings.Contains(s.stderr.String(), vars["GIT_TOKEN"]) {
		t.Errorf("stderr: the token reached the log:\n%s", s.stderr)
	}
}

func TestServeFailsToStartOnBadConfiguration(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		vars       map[string]string
		wantStderr string
	}{
		{"a missing runbooks directory", []string{"--runbooks", "testdata/no-such-dir"}, nil, "no-such-dir"},
		{"a runbooks file instead of a directory", []string{"--runbooks", showPage}, nil, "not a directory"},
		{"a missing config file", []string{"--config", "testdata/no-such.yaml"}, nil, "no-such.yaml"},
		{"an address that is not one", nil, map[string]string{"BREADCRUMB_LISTEN": "127.0.0.1:notaport"}, `listen "127.0.0.1:notaport"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := serveEnv(t)
			for k, v := range tt.vars {
				vars[k] = v
			}
			res := runCLI(t, vars, append([]string{"serve"}, tt.args...)...)
			if res.code != exitUsage {
				t.Errorf("exit code: got %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", res.stderr, tt.wantStderr)
			}
		})
	}
}

// A service configured right that cannot start (its address is taken) is
// a failure, not a usage error: exit 1, said once on stderr.
func TestServeThatCannotListenExitsWithAFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	vars := serveEnv(t)
	vars["BREADCRUMB_LISTEN"] = taken.Addr().String()
	res := runCLI(t, vars, "serve")
	if res.code != exitProblems {
		t.Errorf("exit code: got %d, want %d; stderr:\n%s", res.code, exitProblems, res.stderr)
	}
	if n := strings.Count(res.stderr, "cannot listen on "+taken.Addr().String()); n != 1 {
		t.Errorf("stderr says \"cannot listen\" %d times, want once:\n%s", n, res.stderr)
	}
	// Finding: a newcomer whose port was taken got only "bind: address
	// already in use", with no word of how to choose another.
	if !strings.Contains(res.stderr, "another program already uses that address") || !strings.Contains(res.stderr, "BREADCRUMB_LISTEN=127.0.0.1:") {
		t.Errorf("stderr does not say how to choose another address:\n%s", res.stderr)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// gcPercent is the garbage collector's target now, as GOGC gives it.
func gcPercent(t *testing.T) int {
	t.Helper()
	s := []runtimemetrics.Sample{{Name: "/gc/gogc:percent"}}
	runtimemetrics.Read(s)
	if s[0].Value.Kind() != runtimemetrics.KindUint64 {
		t.Fatalf("/gc/gogc:percent is not available here")
	}
	return int(s[0].Value.Uint64())
}

func TestServeCollectsLessOftenOnceRunbooksAreIndexed(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	s := startServe(t, map[string]string{"BREADCRUMB_LISTEN": "127.0.0.1:0", "BREADCRUMB_DATA_DIR": t.TempDir()})
	// The sync loop sets the serving target right after the ready flag.
	for stop := time.Now().Add(deadline); gcPercent(t) != app.ServeGOGC && time.Now().Before(stop); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := gcPercent(t); got != app.ServeGOGC {
		t.Errorf("GOGC unset, serving: the collector's target is %d, want %d", got, app.ServeGOGC)
	}
	s.stop()

	// With GOGC set, it is the user's: serve leaves it alone.
	debug.SetGCPercent(37)
	s = startServe(t, map[string]string{"BREADCRUMB_LISTEN": "127.0.0.1:0", "BREADCRUMB_DATA_DIR": t.TempDir(), "GOGC": "37"})
	s.get("/api/search?q=disk", "application/json")
	if got := gcPercent(t); got != 37 {
		t.Errorf("GOGC=37, serving: the collector's target is %d, want 37", got)
	}
	s.stop()
}

// Behind a proxy that ends TLS and says nothing of it (no
// X-Forwarded-Proto), the public address is what tells serve that the
// browser is on HTTPS: the sign-in cookie and the chat's are all Secure.
func TestBehindAnHTTPSProxyEveryConsoleCookieIsSecure(t *testing.T) {
	vars := serveEnv(t)
	vars["BREADCRUMB_PUBLIC_URL"] = "https://breadcrumb.example"
	vars["BREADCRUMB_CONSOLE_TOKEN"] = "a-console-token-for-this-test"
	s := startServe(t, vars)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	cookies := map[string]*http.Cookie{}
	fetch := func(method, path string, form url.Values, header http.Header) (location string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, s.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(req.Header, header)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: got %d", method, path, resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			cookies[c.Name] = c
		}
		return resp.Header.Get("Location")
	}
	bearer := http.Header{"Authorization": {"Bearer " + vars["BREADCRUMB_CONSOLE_TOKEN"]}}
	fetch(http.MethodGet, "/signin?token="+vars["BREADCRUMB_CONSOLE_TOKEN"]+"&next=/chat", nil, nil)
	fetch(http.MethodPost, "/chat/name", url.Values{"name": {"alice"}}, bearer)
	named := bearer.Clone()
	named.Set("Cookie", "breadcrumb_chat_name=alice")
	if channel := fetch(http.MethodGet, "/chat", nil, named); channel != "" {
		fetch(http.MethodGet, channel, nil, named) // the chat's first channel
	}
	if len(cookies) < 3 {
		t.Fatalf("got the cookies %v, want the sign-in cookie and the chat's two", slices.Collect(maps.Keys(cookies)))
	}
	for name, c := range cookies {
		if !c.Secure {
			t.Errorf("the cookie %s is not Secure behind https://breadcrumb.example", name)
		}
	}
}
