package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

var flagLine = regexp.MustCompile(`(?m)^  -([a-z-]+)`)

// Finding: the usage lines left out flags that the README shows (serve
// --runbooks, lint --fail-on and --notes). Every flag a command takes is
// named in its usage line.
func TestEveryUsageLineNamesEveryFlag(t *testing.T) {
	for _, c := range commands() {
		var stderr bytes.Buffer
		run(context.Background(), []string{c.name, "-h"}, func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &stderr)
		for _, m := range flagLine.FindAllStringSubmatch(stderr.String(), -1) {
			if c.name == "version" && m[1] == "config" {
				continue // every command takes --config; version reads nothing of it
			}
			if !strings.Contains(c.usage, "--"+m[1]) {
				t.Errorf("breadcrumb %s: the usage line %q does not name --%s", c.name, c.usage, m[1])
			}
		}
	}
}
