package storetest

import (
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

func TestAnInMemoryStorePassesTheSuite(t *testing.T) {
	RunConformanceTests(t, func(t *testing.T) incidents.Store { return newMemStore() })
}

func BenchmarkAppendToAnInMemoryStore(b *testing.B) {
	BenchmarkAppend(b, func(b *testing.B) incidents.Store { return newMemStore() })
}
