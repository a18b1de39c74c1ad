// This file documents the command's place.
//
// cmd/breadcrumb parses flags and prints for people: each command reads
// its flags, resolves its options through internal/app (configuration,
// secrets, sources, stores) and reports what happened with an exit code.
// serve hands the service to app.New and app.Run. main turns signals
// into a context and calls run, which the end-to-end tests call directly
// with their own arguments, environment and output.

package main
