// Package payload holds what the integrations' decoders share: the error a
// body over its limit gets, and the description of what is wrong with JSON
// that could not be decoded. A bad payload's error is a fault.Error, whose
// message is for its sender.
package payload
