// Package fault is the one shape of an error that has a side for people,
// and the one way an error says whether trying again can help.
//
// An Error carries a Kind (a sentinel for errors.Is, such as
// incidents.ErrInvalid), a sentence for the person who asked (Msg: the
// body of a 400, a reply in the chat), and the Cause for the operator's
// log. Message finds that sentence in any error, so that no caller
// recovers it by cutting an error's text.
//
// An error says whether a retry can help by having a Retryable() bool
// method anywhere in its chain; Retryable reads it, Permanent and
// Temporary add it. The inbox worker, the bot's chat calls and the
// PagerDuty calls all decide their retries through it.
//
// fault imports nothing of Breadcrumb's, and every package may import it.
package fault
