package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

// Finding: only a header timeout was set. Two hundred connections that
// sent their headers and 2 bytes of a 100 KB body stayed open for
// minutes, on every POST route, and idle keep-alive connections too.
func TestSlowClientsAreCutOffByTheirDeadlineWhileProbesAndWebhooksAnswer(t *testing.T) {
	const bodyTimeout = 4 * time.Second
	vars := serveEnv(t)
	vars["BREADCRUMB_HTTP_BODY_TIMEOUT"] = bodyTimeout.String()
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s := startServe(t, vars)
	host := strings.TrimPrefix(s.url, "http://")

	// Every POST route, the console's and the webhooks': more slow
	// console clients than the console may have in flight, and a good
	// share of the webhooks'.
	routes := []string{"/signin", "/chat/say", "/webhooks/alertmanager", "/webhooks/pagerduty", "/api/match"}
	conns := make([]net.Conn, 200)
	for i := range conns {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"", routes[i%len(routes)], host); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns[i] = c
	}
	held := time.Now()

	// While they hang, the probes and the webhooks answer.
	if code := getStatus(t, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while 200 clients hang: got %d, want 200", code)
	}
	if code, msg := s.post("/webhooks/alertmanager", app.DemoAlert(time.Now()), map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
		t.Errorf("an Alertmanager delivery while 200 clients hang: got %d %s, want 2xx", code, msg)
	}
	if took := time.Since(held); took >= bodyTimeout {
		t.Logf("the probe and the delivery took %v, as long as the deadline: the machine is slow, and they may have answered after it", took)
	}

	// Each slow connection is closed by its deadline (or, past the
	// console's share, answered 503 sooner), never left open.
	limit := bodyTimeout + 10*time.Second
	var mu sync.Mutex
	var open []int
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(held.Add(limit))
			_, err := io.Copy(io.Discard, c)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				open = append(open, i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(open) > 0 {
		t.Errorf("%d of 200 slow connections still open %v after they stopped sending (first: to %s)", len(open), limit, routes[open[0]%len(routes)])
	}
	if took := time.Since(held); took < bodyTimeout-time.Second {
		t.Errorf("the slow connections were closed after %v, before their %v deadline", took, bodyTimeout)
	}
}

// Finding: idle keep-alive connections stayed open for minutes.
func TestAnIdleKeepAliveConnectionIsClosed(t *testing.T) {
	vars := serveEnv(t)
	vars["BREADCRUMB_HTTP_IDLE_TIMEOUT"] = "2s"
	s := startServe(t, vars)
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	start := time.Now()
	b, err := io.ReadAll(c) // the answer, then the end of the connection
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an idle keep-alive connection was still open after %v", time.Since(start))
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") {
		t.Errorf("got %.40q, want a 200 answer before the close", b)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Finding: without a token, the Alertmanager webhook took anything from
// anyone, and nothing said so.
func TestAnUnauthenticatedAlertmanagerWebhookIsSaidAtStartOnReadyzAndInTheConsole(t *testing.T) {
	s := startServe(t, serveEnv(t))
	const warning = "the Alertmanager webhook is unauthenticated"
	if !strings.Contains(s.stderr.String(), warning) {
		t.Errorf("the log at start does not warn %q:\n%s", warning, s.stderr)
	}
	if body := s.get("/readyz", "text/plain"); !strings.HasPrefix(body, "ok\n") || !strings.Contains(body, "warning: "+warning) {
		t.Errorf("/readyz: got %q, want ok and the warning", body)
	}
	if body := s.get("/", "text/html"); !strings.Contains(body, warning) {
		t.Errorf("the console's home page does not warn %q", warning)
	}
	if code, _ := s.post("/webhooks/alertmanager", app.DemoAlert(time.Now()), map[string]string{"Content-Type": "text/plain"}); code != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain post, as another site's form would send: got %d, want 415", code)
	}

	vars := serveEnv(t)
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	s = startServe(t, vars)
	if strings.Contains(s.stderr.String(), warning) || strings.Contains(s.get("/readyz", "text/plain"), "warning") || strings.Contains(s.get("/", "text/html"), warning) {
		t.Errorf("with a token, something still warns that the webhook is unauthenticated")
	}
}

// Finding: the repository had no LICENSE, so nobody could legally
// self-host it; and test data copied from others must keep its own
// licences beside it.
func TestTheRepositoryCarriesItsLicenceAndTheCopiedTestDataTheirs(t *testing.T) {
	licence, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(string(licence), want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	notice, err := os.ReadFile("../../NOTICE")
	if err != nil || !strings.Contains(string(notice), "Apache License, Version 2.0") {
		t.Errorf("NOTICE: %v, want one that names the licence", err)
	}
	for _, f := range []string{
		"runbooks/testdata/rules/kube-prometheus/LICENSE", "runbooks/testdata/rules/thanos/LICENSE",
		"integrations/alertmanager/testdata/LICENSE.alertmanager", "integrations/pagerduty/testdata/LICENSE.go-pagerduty",
		"bot/slack/testdata/payloads/LICENSE.bolt-python", "bot/slack/testdata/payloads/LICENSE.slack-go", "bot/slack/testdata/payloads/LICENSE.python-slack-sdk",
	} {
		if _, err := os.Stat("../../" + f); err != nil {
			t.Errorf("copied test data without its licence: %v", err)
		}
		dir := f[:strings.Index(f, "/testdata/")]
		if !strings.Contains(string(notice), dir) {
			t.Errorf("NOTICE does not list the copied test data of %s", dir)
		}
	}
}

// Finding: the demo button stayed on the home page when other runbooks
// were served, and led to an incident that none fitted.
func TestTheDemoIsOfferedOnlyWithTheRunbookItIsWrittenFor(t *testing.T) {
	dir := absPath(t, "testdata/team-runbooks")
	t.Chdir(t.TempDir())
	vars := serveEnv(t)
	vars["BREADCRUMB_CONSOLE_TOKEN"] = "tok"
	s := startServe(t, vars, "--runbooks", dir)
	if home := s.get("/", "text/html"); strings.Contains(home, "Send a sample alert") {
		t.Error("the home page offers the demo over runbooks it was not written for")
	}
	if code, _ := s.post("/demo", nil, map[string]string{"Authorization": "Bearer tok"}); code != http.StatusConflict {
		t.Errorf("POST /demo: got %d, want 409", code)
	}
	if got := s.get("/api/incidents", "application/json"); strings.Contains(got, "INC-") {
		t.Errorf("the refused demo opened an incident: %s", got)
	}
}
