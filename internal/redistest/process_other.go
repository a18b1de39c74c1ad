//go:build !linux

package redistest

import "os/exec"

// setDeathSignal does nothing where there is no parent-death signal: a
// test killed by a timeout may leave its redis-server running.
func setDeathSignal(cmd *exec.Cmd) {}
