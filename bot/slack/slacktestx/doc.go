// Package slacktestx extends slack-go's slacktest server with the Web API
// methods Breadcrumb's Slack adapter uses (chat.update, chat.postEphemeral,
// chat.getPermalink, conversations.create, list, invite, setTopic,
// history and replies, views.open, the external file upload flow,
// users.info, reactions, and a Socket Mode WebSocket). It keeps what it is
// sent so that tests can look, and plays failures on demand: a 429 with
// Retry-After, a 5xx, a slow answer, or a call that takes effect although
// its caller sees a failure.
package slacktestx
