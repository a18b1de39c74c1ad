package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// alertBody is an Alertmanager v4 notification of one alert of group.
func alertBody(group, name, namespace, summary string) []byte {
	labels := map[string]string{"alertname": name, "namespace": namespace, "severity": "warning", "cluster": "prod-eu1"}
	body := map[string]any{
		"version": "4", "status": "firing", "receiver": "breadcrumb", "groupKey": "{}:{group=\"" + group + "\"}",
		"groupLabels": map[string]string{"group": group}, "commonLabels": labels, "commonAnnotations": map[string]string{"summary": summary},
		"externalURL": "http://alertmanager.example:9093",
		"alerts": []map[string]any{{"status": "firing", "labels": labels, "annotations": map[string]string{"summary": summary},
			"startsAt": time.Now().UTC().Format(time.RFC3339), "endsAt": "0001-01-01T00:00:00Z", "fingerprint": group}},
	}
	b, _ := json.Marshal(body)
	return b
}

// story drives one incident through the console's chat, as its
// responder would.
type story struct {
	*service
	t     *testing.T
	token string
}

// open fires an alert and waits for its incident and its home.
func (s *story) open(group, name, namespace, summary string) (id, home string) {
	s.t.Helper()
	if code, msg := s.post("/webhooks/alertmanager", alertBody(group, name, namespace, summary), map[string]string{"Authorization": "Bearer am-token"}); code/100 != 2 {
		s.t.Fatalf("%s: %d %s", group, code, msg)
	}
	stop := time.Now().Add(deadline)
	for time.Now().Before(stop) {
		var list struct {
			Incidents []struct {
				ID, Title string
				Home      struct{ Channel string }
			}
		}
		_ = json.Unmarshal([]byte(s.get("/api/incidents?limit=100", "application/json")), &list)
		for _, inc := range list.Incidents {
			if inc.Title == summary && inc.Home.Channel != "" {
				return inc.ID, inc.Home.Channel
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no incident with a home for %s within %v", group, deadline)
	return "", ""
}

// say types text in a channel of the console's chat, and returns the
// channel's page as its user then sees it.
func (s *story) say(channel, text string) string {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/chat/say", strings.NewReader(url.Values{"channel": {channel}, "text": {text}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("say %q: %d %s", text, resp.StatusCode, body)
	}
	return html.UnescapeString(string(body))
}

var usedIn = regexp.MustCompile(`Used in [34] incidents, 3 resolved`)

type similarAnswer struct {
	Similar []struct {
		ID         string
		Reasons    []string
		ResolvedBy []string `json:"resolved_by"`
	}
	SeenBefore struct{ Count int } `json:"seen_before"`
}

func (s *story) similar(id string) similarAnswer {
	s.t.Helper()
	var a similarAnswer
	if err := json.Unmarshal([]byte(s.get("/api/incidents/"+id+"/similar", "application/json")), &a); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// Three past crash loops, resolved with notes; two unrelated incidents;
// then a new crash loop. Its home says the alert was seen before and
// what resolved it, /incident similar lists the three crash loops first,
// and the API and the console's page say the same.
func TestANewCrashLoopRemembersThePastOnes(t *testing.T) {
	vars := serveEnv(t)
	vars["ALERTMANAGER_WEBHOOK_TOKEN"] = "am-token"
	vars["BREADCRUMB_CONSOLE_TOKEN"] = "console-token"
	s := &story{service: startServe(t, vars), t: t, token: "console-token"}

	var past []string
	for i, ns := range []string{"shop", "shop", "payments"} {
		id, home := s.open(fmt.Sprintf("crash-%d", i), "KubePodCrashLooping", ns, fmt.Sprintf("Pod checkout-%d is crash looping", i))
		s.say(home, "/incident ack")
		s.say(home, fmt.Sprintf("/incident note OOMKilled after the release; raised the memory limit to %dGi", i+2))
		s.say(home, "/incident resolve")
		past = append(past, id)
	}
	for _, u := range [][3]string{{"disk", "NodeDiskAlmostFull", "Disk on node-3 is 91% full"}, {"cert", "TLSCertificateExpiringSoon", "The certificate of shop.example.com expires in 6 days"}} {
		_, home := s.open(u[0], u[1], "monitoring", u[2])
		s.say(home, "/incident note cleared it")
		s.say(home, "/incident resolve")
	}
	// The index follows the changes within a second or so.
	stop := time.Now().Add(deadline)
	for len(s.similar(past[2]).Similar) < 2 && time.Now().Before(stop) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)

	id, home := s.open("crash-now", "KubePodCrashLooping", "shop", "Pod checkout-9 is crash looping")
	page := s.say(home, "/incident similar")
	for _, want := range []string{"Seen before:", "3 times in 30 days", "raised the memory limit", "Past incidents like " + id, "same alert KubePodCrashLooping"} {
		if !strings.Contains(page, want) {
			t.Errorf("the new incident's home lacks %q", want)
		}
	}
	if n := strings.Count(page, "Seen before:"); n != 1 {
		t.Errorf("the home says “seen before” %d times, want once", n)
	}
	a := s.similar(id)
	if len(a.Similar) < 3 || a.SeenBefore.Count != 3 {
		t.Fatalf("similar: %+v, want the three crash loops, seen 3 times", a)
	}
	top := map[string]bool{}
	for _, m := range a.Similar[:3] {
		top[m.ID] = true
		if len(m.ResolvedBy) == 0 || !strings.Contains(m.ResolvedBy[0], "raised the memory limit") {
			t.Errorf("%s: resolved by %q, want the note that raised the memory limit", m.ID, m.ResolvedBy)
		}
	}
	for _, p := range past {
		if !top[p] {
			t.Errorf("the crash loop %s is not among the first three: %+v", p, a.Similar)
		}
	}
	if p := s.get("/incidents/"+id, "text/html"); !strings.Contains(p, "Seen before") || !strings.Contains(p, "Past incidents like this one") {
		t.Error("the console's incident page shows neither “seen before” nor the past incidents")
	}
	if p := s.get("/runbooks/examples:platform/PodCrashLooping.md", "text/html"); !strings.Contains(p, "In past incidents") || !usedIn.MatchString(p) {
		t.Errorf("the runbook's page does not say what incidents it served in:\n%s", p)
	}
}
