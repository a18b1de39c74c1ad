// Package replica is how the replicas that share one store agree: a lease
// that one of them holds at a time (Leaser), the Elector that keeps this
// process's claim on it and runs the leader's work while it holds it
// (reminders, fetching the runbooks' git sources), and a Bulletin, a small
// board on which the leader tells the others facts such as the revision of
// the runbooks it fetched.
//
// The stores implement Leaser and Bulletin (incidents/boltstore for the
// one process that holds its file, incidents/redisstore across
// processes), and pass the conformance suites in incidents/storetest.
//
// replica imports nothing of Breadcrumb's: it knows neither incidents nor
// what the leader does.
package replica
