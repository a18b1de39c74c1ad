// Package redistest gives tests a real redis-server.
//
// Breadcrumb's Redis-backed code is tested against redis-server itself,
// never a fake: the scripts, the stream IDs and the persistence settings
// are exactly what can go wrong. Server picks the server a test uses:
//
//   - When BREADCRUMB_TEST_REDIS_URL is set (CI sets it, pointing at a
//     server of its own), the test uses that server. The server may be
//     shared with other tests and other packages running at the same
//     time, so nothing is ever flushed: each test gets a key prefix of its
//     own, and the keys under it are deleted when the test ends.
//   - Otherwise, when redis-server is on PATH, the test starts its own on
//     a free loopback port, in a temporary directory, with persistence off,
//     and stops it when the test ends.
//   - Otherwise the test is skipped, or fails when the CI environment
//     variable is set, so that a CI machine without Redis never passes by
//     running nothing.
//
// StartServer is for tests of what survives a crash: it always starts a
// server of the test's own, with an append-only file fsynced on every
// write, that the test can kill with SIGKILL and restart on the same
// directory.
package redistest
