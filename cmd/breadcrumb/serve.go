package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

// runServe parses serve's flags, resolves the options once and runs the
// service: exit 2 for a configuration that cannot work, 1 for a service
// that fails to start or stops on an error, 0 after a clean stop.
func runServe(ctx context.Context, e env, args []string) int {
	var cfgFile string
	var dirs stringList
	fs := newFlags(e, "serve", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	if rest, code, ok := parseFlags(fs, args); !ok {
		return code
	} else if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "breadcrumb serve: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	err := serve(ctx, e, cfgFile, dirs)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, app.ErrConfig):
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "breadcrumb serve: %v\n", err)
		return exitProblems
	}
}

// serve is the service's one path from options to a stop: every error,
// at start or after, comes back here once.
func serve(ctx context.Context, e env, cfgFile string, dirs []string) error {
	o, err := app.Resolve(cfgFile, dirs, e.getenv)
	if err != nil {
		return err
	}
	o.Version, o.Stdout, o.Stderr = version, e.stdout, e.stderr
	a, err := app.New(ctx, o)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
