package inbox

import "context"

// Handler processes one delivery taken from an Inbox. Returning nil
// marks it done; an error that says retrying cannot help (fault.Permanent:
// a body that will never decode) drops it, with a log line; any other
// error leaves it for another attempt later.
type Handler interface {
	HandleDelivery(ctx context.Context, d Delivery) error
}
