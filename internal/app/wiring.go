package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/alertmanager"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/pagerduty"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// intake is the way alerts come in: the webhook handlers, which store
// each delivery in the inbox before they answer, and the worker that
// processes the inbox. It also holds the PagerDuty syncer, which sends
// back what responders do.
type intake struct {
	inbox     inbox.Inbox
	worker    *inbox.Worker
	pagerduty http.Handler
	alertmgr  http.Handler
	syncer    *pagerduty.Syncer
	redirect  http.Handler
}

// newService builds the incident service with its enricher: the runbook
// matcher and the breadcrumb providers.
func newService(cfg *Config, store incidents.Store, lib *runbooks.Library, matcher *search.Matcher, logger *slog.Logger) (*incidents.Service, error) {
	set, err := breadcrumbs.New(cfg.Breadcrumbs)
	if err != nil {
		return nil, err
	}
	en := &enricher{matcher: matcher, lib: lib, now: time.Now, logger: logger,
		links: func(id string, alerts []runbooks.Alert, rb *runbooks.Runbook, now time.Time) []incidents.Link {
			return set.Links(breadcrumbs.Input{IncidentID: id, Alerts: alerts, Runbook: rb, Now: now})
		}}
	return incidents.NewService(store, incidents.Options{Logger: logger, Enricher: en}), nil
}

// newIntake wires the webhooks, the inbox worker and PagerDuty's two-way
// sync over svc.
func newIntake(cfg *Config, pagerdutyAPIURL string, secrets Secrets, queue inbox.Inbox, svc *incidents.Service, logger *slog.Logger) (*intake, error) {
	in := &intake{inbox: queue}
	var client *pagerduty.Client
	if !secrets.PagerDutyToken.IsZero() {
		var err error
		client, err = pagerduty.NewClient(pagerduty.Config{Token: secrets.PagerDutyToken, APIURL: pagerdutyAPIURL,
			HTTPClient: &http.Client{Timeout: 30 * time.Second}})
		if err != nil {
			return nil, err
		}
	}
	hooks, amToken := secrets.PagerDutyWebhooks, secrets.AlertmanagerToken
	handlers := map[string]inbox.Handler{
		pagerduty.Source:    pagerduty.NewProcessor(pagerduty.ProcessorConfig{Incidents: svc, Client: client, Logger: logger.With("integration", "pagerduty")}),
		alertmanager.Source: alertmanager.NewProcessor(alertmanager.ProcessorConfig{Service: svc, AutoResolve: cfg.Alertmanager.AutoResolve, Logger: logger.With("integration", "alertmanager")}),
	}
	in.worker = inbox.NewWorker(queue, handlers, inbox.WorkerOptions{Logger: logger.With("part", "inbox")})
	in.pagerduty = pagerduty.NewWebhookHandler(pagerduty.WebhookConfig{Secrets: pagerduty.ParseSecrets(hooks.Reveal()), Inbox: queue, Kick: in.worker.Kick,
		Logger: logger.With("integration", "pagerduty")})
	in.alertmgr = alertmanager.NewWebhookHandler(alertmanager.WebhookConfig{Token: amToken, Inbox: queue, Kick: in.worker.Kick,
		MaxPending: cfg.Alertmanager.MaxPending, Logger: logger.With("integration", "alertmanager")})
	if client != nil {
		emails := cfg.PagerDuty.UserEmails
		in.syncer = pagerduty.NewSyncer(pagerduty.SyncConfig{Client: client, Incidents: svc, DefaultFrom: cfg.PagerDuty.FromEmail,
			FromEmail: func(actor string) string { return emails[actor] }, Logger: logger.With("integration", "pagerduty")})
		svc.Subscribe(in.syncer)
	}
	in.redirect = breadcrumbs.NewRedirect(svc, logger)
	return in, nil
}

// run processes the inbox and PagerDuty's sync queue until ctx ends, then
// waits for the work in flight.
func (in *intake) run(ctx context.Context, logger *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := in.worker.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("the inbox worker stopped", "err", err)
		}
	}()
	if in.syncer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.syncer.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("the PagerDuty sync stopped", "err", err)
			}
		}()
	}
	return func() {
		wg.Wait()
		if in.syncer != nil {
			if err := in.syncer.Close(); err != nil {
				logger.Warn("PagerDuty sync", "err", err)
			}
		}
	}
}

// publicURL is the address links point at.
func publicURL(cfg *Config, addr string) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	return fmt.Sprintf("http://%s", addr)
}

// newLeadership elects, among the replicas sharing the store, the one
// that does what must happen once: the reminders.
func newLeadership(cfg *Config, leaser replica.Leaser, svc *incidents.Service, b *bot.Bot, logger *slog.Logger) *replica.Elector {
	r := cfg.Reminders
	rem := incidents.NewReminders(svc, incidents.ReminderPolicy{
		AckAfter: time.Duration(r.AckAfter), UpdateAfter: time.Duration(r.UpdateAfter),
		CommanderAfter: time.Duration(r.CommanderAfter), CommanderSeverity: r.CommanderSeverity,
	}, func(ctx context.Context, inc *incidents.Incident, rm incidents.Reminder) error {
		return b.Remind(ctx, inc, rm.Text)
	}, incidents.RemindersOptions{Interval: time.Duration(r.Interval), Logger: logger.With("part", "reminders")})
	return replica.NewElector(leaser, replica.ElectorOptions{Logger: logger.With("part", "lease"),
		OnElected: func(ctx context.Context) {
			logger.Info("this replica leads: it sends the reminders")
			if r.enabled() {
				_ = rem.Run(ctx)
			}
			<-ctx.Done()
		},
		OnDemoted: func() { logger.Info("this replica no longer leads") },
	})
}
