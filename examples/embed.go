package examples

import (
	"embed"
	"io/fs"
)

//go:embed runbooks rules
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

// Rules returns the alert rules of the bundled runbooks' alerts, as a
// read-only file system of Prometheus rule files ("platform.yaml").
func Rules() fs.FS {
	sub, err := fs.Sub(files, "rules")
	if err != nil {
		panic("examples: " + err.Error())
	}
	return sub
}
