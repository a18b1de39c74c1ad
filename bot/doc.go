// Package bot is Breadcrumb's conversation: it turns commands, clicks,
// form submissions and reactions from a chat into calls on the incident
// and search domains, and answers with platform-neutral messages (text,
// sections, code, links and buttons). It knows no chat platform: a Chat
// (the Slack adapter in bot/slack, or the web console's local chat) posts
// and renders what it says.
package bot
