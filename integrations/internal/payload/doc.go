// Package payload holds what the integrations' decoders share: the error a
// bad payload gets, with a sentence for its sender, and the description of
// what is wrong with JSON that could not be decoded.
package payload
