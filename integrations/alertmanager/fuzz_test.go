package alertmanager

import (
	"bytes"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add(documentedSample(f))
	for _, name := range []string{"firing_and_resolved.json", "several_alerts.json", "missing_fields.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"version":"4","alerts":[{"startsAt":"","endsAt":null,"labels":null}]}`))
	f.Add([]byte(`{"version":"4","alerts":[{}],"commonLabels":{"alertname":"X"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(bytes.NewReader(body), 1<<16)
		if err != nil {
			if m != nil {
				t.Fatalf("got a message and an error %v", err)
			}
			return
		}
		if m.Version != Version || m.AlertList == nil {
			t.Fatalf("accepted version %q with alerts %v", m.Version, m.AlertList)
		}
		alerts := m.Alerts()
		if len(alerts) != len(m.AlertList) {
			t.Fatalf("got %d alerts from %d", len(alerts), len(m.AlertList))
		}
		for _, a := range alerts {
			if a.Source != "alertmanager" {
				t.Fatalf("got source %q", a.Source)
			}
		}
	})
}
