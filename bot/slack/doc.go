// Package slack is the bot's Slack adapter. It renders the bot's
// platform-neutral messages as Block Kit, escaping every untrusted text
// for mrkdwn and keeping to Slack's limits; it implements bot.Chat with
// slack-go's Web API client behind an Outbox that paces, merges and
// retries the writes of each channel without posting twice; and it
// drives a bot.Handler from Slack's two transports: HTTP (slash
// commands, interactions and events, each request's signature checked)
// and Socket Mode.
//
// Slack wants every command and interaction acknowledged within three
// seconds. Both transports wait a little (InboundConfig.AckWithin) for the
// bot's answer and carry it in the acknowledgement when it is ready;
// otherwise they acknowledge at once and send the answer to the
// response_url when it comes.
package slack
