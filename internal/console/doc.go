// Package console is Breadcrumb's web console: server-rendered pages
// (html/template, and goldmark for runbooks; no JavaScript build step) over
// the incidents, the runbook library and the search index, and a local
// chat that drives the bot's own core, so that the whole flow can be tried
// without a Slack workspace.
//
// Reading is open (put the console behind an authenticating proxy when
// the network is not trusted); anything that writes (the chat, declaring,
// the demo alert) needs the configured write token, given as a bearer
// token or through the sign-in form, which sets a cookie.
package console
