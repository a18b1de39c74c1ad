// Package localchat is a chat that lives in memory: channels, threads,
// messages with their blocks, messages only one user sees, forms opened
// and files shared. It implements bot.Chat, so that the bot can be run
// without Slack: the web console's local chat talks to the bot through
// it, and tests read back what the bot said.
//
// Everything a Chat holds can be read back (Channels, Conversation,
// Thread, Ephemerals, Forms, Uploads), and Text renders a bot.Message as
// plain text for display. A Chat is safe for concurrent use.
//
// A Chat keeps Options.MaxChannels channels (200) of Options.MaxMessages
// messages (1,000) at the most: the bot opens a channel for every
// incident, and the incidents' timelines, not the chat, are what is kept
// on disk. Past the bound, the channel used least recently is forgotten
// with its messages, and a channel's oldest message is forgotten.
package localchat
