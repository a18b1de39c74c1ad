package incidents_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

func TestAnIncidentStoredWithASlackHomeReadsItAsItsHome(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		want       incidents.Home
	}{
		{"stored before the home had its name", `{"id":"INC-1","slack":{"channel":"C1","thread":"1.2","header":"3.4"}}`,
			incidents.Home{Channel: "C1", Thread: "1.2", Header: "3.4"}},
		{"stored since", `{"id":"INC-1","home":{"channel":"C2","header":"5.6"}}`, incidents.Home{Channel: "C2", Header: "5.6"}},
		{"both: home wins", `{"id":"INC-1","home":{"channel":"C2"},"slack":{"channel":"C1"}}`, incidents.Home{Channel: "C2"}},
		{"none", `{"id":"INC-1"}`, incidents.Home{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var inc incidents.Incident
			if err := json.Unmarshal([]byte(tt.data), &inc); err != nil {
				t.Fatal(err)
			}
			if inc.ID != "INC-1" || inc.Home != tt.want {
				t.Errorf("got ID %q home %+v, want INC-1 and %+v", inc.ID, inc.Home, tt.want)
			}
			out, err := json.Marshal(&inc)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), `"slack"`) {
				t.Errorf("written again with the old name: %s", out)
			}
		})
	}
}
