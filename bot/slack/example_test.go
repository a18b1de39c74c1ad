package slack_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// The wiring of the Slack side: one slack-go client, a Chat over it for
// the bot, and the transport that SLACK_APP_TOKEN selects. claim is the
// incident store's Claim, so that replicas agree on duplicates.
func Example() {
	ctx := context.Background()
	log := slog.Default()
	api := slack.NewAPI(slack.APIConfig{
		BotToken: secret.New(os.Getenv("SLACK_BOT_TOKEN")),
		AppToken: secret.New(os.Getenv("SLACK_APP_TOKEN")),
		APIURL:   os.Getenv("SLACK_API_URL"),
	})
	chat := slack.NewChat(api, slack.ChatConfig{Logger: log})
	var b bot.Handler // bot.New(cfg, bot.Deps{Chat: chat, ...})
	var claim slack.ClaimFunc
	in := slack.InboundConfig{Claim: claim, Users: chat, Chat: chat, Logger: log}

	if os.Getenv("SLACK_APP_TOKEN") != "" {
		go func() { _ = slack.RunSocketMode(ctx, slack.SocketConfig{InboundConfig: in, API: api}, b) }()
	} else {
		h := slack.NewHTTPHandler(slack.HTTPConfig{InboundConfig: in, SigningSecret: secret.New(os.Getenv("SLACK_SIGNING_SECRET"))}, b)
		mux := http.NewServeMux()
		for _, p := range []string{slack.CommandsPath, slack.InteractionsPath, slack.EventsPath} {
			mux.Handle("POST "+p, h)
		}
		// On shutdown, after the HTTP server: h.Wait(ctx).
	}

	// On shutdown, after the bot: send what the outbox holds.
	done, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = chat.Close(done)
}
