// Package inbox is the durable queue between a webhook's answer and its
// processing. A webhook handler Puts the body it received as a Delivery
// and answers 2xx only once Put has returned, so that nothing answered is
// lost; a Worker Takes deliveries, in order per order key (one alert
// group, one PagerDuty incident), and hands each to the Handler of its
// source, with retries and backoff. A handler's error marked permanent
// (fault.Permanent) drops the delivery instead (a body that will never
// decode).
//
// The Inbox interface is implemented by the stores (incidents/boltstore,
// incidents/redisstore), which pass the conformance suite in
// incidents/storetest. A delivery carries its webhook request's trace in
// its Meta (InjectTrace, ExtractTrace), so that its processing joins the
// request's trace on any replica.
//
// inbox knows nothing of what a delivery holds: it never imports an
// integration, the bot, search or a store. It uses the incidents
// package only for its error kinds, and replica to name its consumer.
package inbox
