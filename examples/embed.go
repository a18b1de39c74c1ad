// Package examples bundles the example runbooks that ship inside the
// breadcrumb binary.
//
// The pages under runbooks/ describe the on-call procedures of Larkspur, a
// fictional online shop. `breadcrumb serve` falls back to them when no
// runbooks directory is configured or present, so that a fresh install has
// pages to match alerts against, search and walk through. They double as
// worked examples of the runbook format and as fixtures for tests.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed runbooks
var files embed.FS

// Runbooks returns the bundled runbooks as a read-only file system rooted
// at the runbooks directory, so that paths look like
// "payments/PaymentsAPIHigh5xxRate.md".
func Runbooks() fs.FS {
	sub, err := fs.Sub(files, "runbooks")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "runbooks" is a
		// constant that the go:embed directive above guarantees exists.
		panic("examples: " + err.Error())
	}
	return sub
}
