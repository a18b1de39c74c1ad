package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SocketConfig configures Socket Mode.
type SocketConfig struct {
	InboundConfig
	// API is a client made with the app-level token (NewAPI with
	// AppToken set).
	API *slackgo.Client
	// Concurrency bounds the envelopes handled at once (default 64).
	Concurrency int
}

// RunSocketMode connects to Slack over Socket Mode and hands what comes
// to h until ctx ends; it returns nil then, or the error that stopped it
// (a refused app token). Every envelope is acknowledged at once: a
// command's answer rides on its acknowledgement when the bot gives it
// within AckWithin, and goes to response_url otherwise. Envelopes Slack
// delivers again (retry_attempt, or an event or trigger already seen)
// are acknowledged and change nothing.
func RunSocketMode(ctx context.Context, cfg SocketConfig, h bot.Handler) error {
	if cfg.API == nil {
		return errors.New("slack: socket mode: no API client")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	in := newInbound(cfg.InboundConfig, h)
	log := in.cfg.Logger
	client := socketmode.New(cfg.API, socketmode.OptionLog(slogPrinter{log}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- client.RunContext(ctx) }()
	sem := make(chan struct{}, cfg.Concurrency)
	seenEnvelopes := newRecent(10000)
	defer func() {
		// Let the envelopes in hand finish their acknowledgements.
		for range cfg.Concurrency {
			sem <- struct{}{}
		}
		_ = in.wait(context.WithoutCancel(ctx))
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt := <-client.Events:
			switch evt.Type {
			case socketmode.EventTypeInvalidAuth:
				return errors.New("slack: socket mode: the app token was refused")
			case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
				log.Warn("slack: socket mode connection trouble", "err", fmt.Sprint(evt.Data))
				continue
			case socketmode.EventTypeConnected:
				log.Info("slack: socket mode connected")
				continue
			case socketmode.EventTypeErrorBadMessage:
				// An envelope slack-go cannot read is still acknowledged,
				// or Slack would deliver it again and again.
				if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
					var env struct {
						EnvelopeID string `json:"envelope_id"`
					}
					if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
						ack(client, log, socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
					}
					log.Warn("slack: socket mode: an envelope could not be read", "err", bad.Cause)
				}
				continue
			}
			if evt.Request == nil || evt.Request.EnvelopeID == "" {
				continue
			}
			req := *evt.Request
			redelivered := !seenEnvelopes.add(req.EnvelopeID, in.cfg.Now())
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				if redelivered {
					ack(client, log, req, nil)
					return
				}
				handleEnvelope(ctx, in, client, req)
			}()
		}
	}
}

// handleEnvelope maps one envelope like the HTTP transport maps a request.
func handleEnvelope(ctx context.Context, in *inbound, client *socketmode.Client, req socketmode.Request) {
	log := in.cfg.Logger
	switch req.Type {
	case socketmode.RequestTypeSlashCommands:
		var sc slackgo.SlashCommand
		if err := json.Unmarshal(req.Payload, &sc); err != nil {
			ack(client, log, req, nil)
			log.Warn("slack: socket mode: bad command", "err", err)
			return
		}
		reply := in.command(ctx, sc)
		if reply == nil || reply.Empty() {
			ack(client, log, req, nil)
			return
		}
		if !ack(client, log, req, answer(*reply, false)) {
			// Too big for an acknowledgement (20 KB): the answer goes
			// the other way.
			ack(client, log, req, nil)
			in.background(ctx, func(ctx context.Context) { in.respond(ctx, sc.ResponseURL, *reply, false) })
		}
	case socketmode.RequestTypeInteractive:
		var cb slackgo.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			ack(client, log, req, nil)
			log.Warn("slack: socket mode: bad interaction", "err", err)
			return
		}
		if cb.Type != slackgo.InteractionTypeViewSubmission {
			ack(client, log, req, nil)
			in.interaction(ctx, &cb)
			return
		}
		if body := in.interaction(ctx, &cb); body != nil {
			ack(client, log, req, json.RawMessage(body))
			return
		}
		ack(client, log, req, nil)
	case socketmode.RequestTypeEventsAPI:
		ack(client, log, req, nil)
		e, err := parseEvent(req.Payload)
		if err != nil {
			log.Warn("slack: socket mode: bad event", "err", err)
			return
		}
		in.event(ctx, e)
	default:
		ack(client, log, req, nil)
	}
}

// ack acknowledges an envelope, with payload when not nil, and reports
// whether it could.
func ack(client *socketmode.Client, log *slog.Logger, req socketmode.Request, payload any) bool {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		log.Warn("slack: socket mode: could not acknowledge an envelope", "envelope_id", req.EnvelopeID, "err", err)
		return false
	}
	return true
}

// ackTimeout bounds the wait for room in the client's queue of answers.
const ackTimeout = 5 * time.Second

// slogPrinter gives slack-go's socket mode logger to log/slog, at debug.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Output(_ int, s string) error {
	p.l.Debug("slack: socket mode", "detail", s)
	return nil
}
