package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets this test binary be `breadcrumb` itself, for the tests that
// need a process of their own to kill: with BREADCRUMB_TEST_MAIN set, it
// runs the command named by its arguments instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("BREADCRUMB_TEST_MAIN") == "1" {
		ctx, stop := signalContext()
		code := run(ctx, flagArgs(), os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// flagArgs are the arguments after "--" (the test binary's own flags come
// before it).
func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

// process is `breadcrumb serve` in a process of its own.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func startProcess(t *testing.T, dataDir string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--", "serve")
	cmd.Env = append(os.Environ(), "BREADCRUMB_TEST_MAIN=1", "BREADCRUMB_LISTEN=127.0.0.1:0", "BREADCRUMB_DATA_DIR="+dataDir,
		"BREADCRUMB_REDIS_URL=", "ALERTMANAGER_WEBHOOK_TOKEN=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &syncBuffer{}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "breadcrumb is listening" {
				addr <- rec.Addr
			}
		}
	}()
	select {
	case p.url = <-addr:
	case <-time.After(deadline):
		t.Fatalf("the process did not listen within %v; logs:\n%s", deadline, p.logs)
	}
	return p
}

func TestNoAcknowledgedWebhookIsLostToAKill(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("needs SIGKILL")
	}
	data := filepath.Join(t.TempDir(), "data")
	p := startProcess(t, data)
	client := &http.Client{Timeout: 5 * time.Second}

	// Senders stream notifications, each of a group of its own, and keep
	// the ones answered 2xx; the process is killed in the middle.
	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				group := fmt.Sprintf("kill-%d-%d", w, i)
				body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"b","groupKey":%q,"groupLabels":{},"commonLabels":{"alertname":"DiskFull"},
"commonAnnotations":{},"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","group":%q},"annotations":{},
"startsAt":"2026-11-25T03:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":%q}]}`, group, group, group)
				resp, err := client.Post(p.url+"/webhooks/alertmanager", "application/json", strings.NewReader(body))
				if err != nil {
					continue // the process is gone: this one was not acknowledged
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					acked[group] = true
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a fair number were acknowledged.
	stopAt := time.Now().Add(deadline)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 || time.Now().After(stopAt) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) < 40 {
		t.Fatalf("only %d notifications were acknowledged before the kill; logs:\n%s", len(acked), p.logs)
	}

	// After a restart, every acknowledged notification has its incident.
	q := startProcess(t, data)
	stopAt = time.Now().Add(deadline)
	var missing []string
	for {
		resp, err := client.Get(q.url + "/api/incidents")
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Incidents []struct {
				Refs map[string]string `json:"refs"`
			} `json:"incidents"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]int{}
		for _, inc := range list.Incidents {
			have[inc.Refs["alertmanager_group"]]++
		}
		missing = missing[:0]
		for g := range acked {
			if have[g] != 1 {
				missing = append(missing, fmt.Sprintf("%s (%d incidents)", g, have[g]))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(stopAt) {
			t.Fatalf("%d of %d acknowledged notifications have no incident (or several) after the restart: %v\nlogs:\n%s", len(missing), len(acked), missing, q.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d acknowledged notifications before the kill, all there after the restart", len(acked))
	_ = q.cmd.Process.Signal(syscall.SIGTERM)
	_ = q.cmd.Wait()
}
