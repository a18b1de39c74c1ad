package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/breadcrumbs"
	"github.com/breadcrumb-oncall/breadcrumb/internal/api"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// chatSide is the bot and the chat it speaks in: Slack when
// SLACK_BOT_TOKEN is set (Socket Mode when SLACK_APP_TOKEN is set too,
// else HTTP), else the console's local chat. Only one bot watches the
// incidents, so that each incident has one home.
type chatSide struct {
	bot *bot.Bot
	// slack is the Slack chat and its transports; nil when Slack is off.
	slack  *slack.Chat
	http   *slack.HTTPHandler
	socket *slack.SocketConfig
	// local is the console's chat when Slack is off.
	local *localchat.Chat
	mode  string
}

// newChatSide builds the bot over svc and the chat the environment
// selects.
func newChatSide(cfg *Config, slackAPIURL string, secrets Secrets, store incidents.Store, svc *incidents.Service,
	lib *runbooks.Library, ix *search.Index, past *memory.Index, base string, logger *slog.Logger) (*chatSide, error) {
	botToken, appToken, signing := secrets.SlackBotToken, secrets.SlackAppToken, secrets.SlackSigningSecret
	side := &chatSide{}
	var chat bot.Chat
	var in slack.InboundConfig
	overHTTP := false
	source := "slack"
	switch {
	case botToken.IsZero() && !appToken.IsZero():
		return nil, errors.New("SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: Socket Mode needs both")
	case botToken.IsZero():
		side.local = localchat.New(localchat.Options{PermalinkBase: base + "/chat"})
		chat, source, side.mode = side.local, "web", "local chat in the console (Slack is off: SLACK_BOT_TOKEN is not set)"
	default:
		api := slack.NewAPI(slack.APIConfig{BotToken: botToken, AppToken: appToken, APIURL: slackAPIURL})
		side.slack = slack.NewChat(api, slack.ChatConfig{Logger: logger.With("part", "slack")})
		chat = side.slack
		in = slack.InboundConfig{Claim: store.Claim, Users: side.slack, Chat: side.slack, Logger: logger.With("part", "slack"),
			HelpCommand: cfg.Slack.Commands.Incident, ResponseHosts: apiHost(slackAPIURL)}
		if !appToken.IsZero() {
			side.socket = &slack.SocketConfig{InboundConfig: in, API: api}
			side.mode = "Slack over Socket Mode"
		} else {
			if signing.IsZero() {
				return nil, errors.New("SLACK_BOT_TOKEN is set without SLACK_SIGNING_SECRET: Slack over HTTP needs it to check requests (or set SLACK_APP_TOKEN for Socket Mode)")
			}
			side.mode, overHTTP = "Slack over HTTP", true
		}
	}
	b, err := bot.New(bot.Config{
		Home: cfg.Slack.Home, ChannelName: cfg.Slack.ChannelName, Channels: cfg.Slack.Channels, DefaultChannel: cfg.Slack.DefaultChannel,
		PinEmoji: cfg.Slack.PinEmoji, Invite: cfg.Slack.Invite, Source: source,
		Commands: bot.CommandNames{Runbook: cfg.Slack.Commands.Runbook, Incident: cfg.Slack.Commands.Incident},
	}, bot.Deps{
		Incidents: svc, Search: bot.SearchIndex(ix), Runbooks: lib, Chat: chat, Logger: logger.With("part", "bot"),
		LinkURL:       func(id string, n int, user string) string { return breadcrumbs.RedirectURLFor(base, id, n, user) },
		NewRunbookURL: func(id string) string { return base + "/runbooks/new?incident=" + url.QueryEscape(id) },
		IncidentURL:   func(id string) string { return base + "/incidents/" + url.PathEscape(id) },
		Memory:        past,
		PageURL: func(id, anchor string) string {
			u := base + "/runbooks/" + (&url.URL{Path: id}).EscapedPath()
			if anchor != "" {
				u += "#" + url.PathEscape(strings.TrimPrefix(anchor, "#"))
			}
			return u
		},
	})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	side.bot = b
	if overHTTP {
		side.http = slack.NewHTTPHandler(slack.HTTPConfig{InboundConfig: in, SigningSecret: signing}, b)
	}
	svc.Subscribe(b)
	return side, nil
}

// run starts Socket Mode when it is the transport; wait stops what runs
// in the background, after the HTTP server has stopped: Slack's answers
// in flight, the bot's queues, then the outbox.
func (c *chatSide) run(ctx context.Context, logger *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	if c.socket != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := slack.RunSocketMode(ctx, *c.socket, c.bot); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("Slack Socket Mode stopped", "err", err)
			}
		}()
	}
	return func() {
		wg.Wait()
		done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c.http != nil {
			if err := c.http.Wait(done); err != nil {
				logger.Warn("Slack answers still in flight at shutdown", "err", err)
			}
		}
		if err := c.bot.Close(); err != nil {
			logger.Warn("bot", "err", err)
		}
		if c.slack != nil {
			if err := c.slack.Close(done); err != nil {
				logger.Warn("Slack outbox not drained", "err", err)
			}
		}
	}
}

// mount adds Slack's HTTP paths when Slack speaks over HTTP.
func (c *chatSide) mount(mux *http.ServeMux, m *api.Metrics) {
	if c.http == nil {
		return
	}
	for _, p := range []string{slack.CommandsPath, slack.InteractionsPath, slack.EventsPath} {
		mux.Handle("POST "+p, m.Webhook("slack", c.http))
	}
}

// apiHost is the host of SLACK_API_URL when it is set: a proxy or a
// test server in Slack's place, whose response_url addresses the bot may
// then answer at too.
func apiHost(apiURL string) []string {
	u, err := url.Parse(apiURL)
	if apiURL == "" || err != nil || u.Hostname() == "" {
		return nil
	}
	return []string{u.Hostname()}
}
