package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// act is POST /incidents/{id}/act: the incident page's own controls.
// action is ack, mitigate, resolve or reopen; note (with text); or done
// or skip (with step). It takes the chat's checks (the write token, the
// same origin and the form token), acts as the chat's user, and goes
// back to the incident's page.
func (c *Console) act(w http.ResponseWriter, r *http.Request) {
	if !checkForm(w, r, 16<<10) {
		return
	}
	id := r.PathValue("id")
	a := incidents.Action{Actor: user(r).Name, Source: "web", Key: "web-" + randomHex(12)}
	var err error
	switch action := r.PostFormValue("action"); action {
	case "ack", "mitigate", "resolve", "reopen":
		to := map[string]incidents.Status{"ack": incidents.StatusAcknowledged, "mitigate": incidents.StatusMitigated,
			"resolve": incidents.StatusResolved, "reopen": incidents.StatusTriggered}[action]
		_, err = c.cfg.Incidents.Transition(r.Context(), id, to, a)
	case "note":
		a.Text = strings.TrimSpace(r.PostFormValue("text"))
		if a.Text == "" {
			http.Redirect(w, r, "/incidents/"+url.PathEscape(id), http.StatusSeeOther)
			return
		}
		err = c.cfg.Incidents.Note(r.Context(), id, a)
	case "done", "skip":
		n, convErr := strconv.Atoi(r.PostFormValue("step"))
		if convErr != nil {
			http.Error(w, "step must be a step's number", http.StatusBadRequest)
			return
		}
		state := incidents.StepDone
		if action == "skip" {
			state = incidents.StepSkipped
		}
		_, err = c.cfg.Incidents.Step(r.Context(), id, n, state, a)
	default:
		http.Error(w, "action must be ack, mitigate, resolve, reopen, note, done or skip", http.StatusBadRequest)
		return
	}
	switch {
	case errors.Is(err, incidents.ErrNotFound):
		c.render(w, http.StatusNotFound, "notfound.html", map[string]any{"Title": "Not found", "What": "incident " + id})
		return
	case errors.Is(err, incidents.ErrInvalid):
		msg, ok := fault.Message(err)
		if !ok {
			msg = err.Error()
		}
		http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"?refused="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	case err != nil:
		c.fail(w, "changing an incident", err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id), http.StatusSeeOther)
}
