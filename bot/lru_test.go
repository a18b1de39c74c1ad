package bot

import (
	"fmt"
	"testing"
)

func TestTheLRUKeepsTheEntriesUsedLast(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		ops     []string // "put k" or "get k"
		kept    []string
		evicted []string
	}{
		{"within the bound", 3, []string{"put a", "put b", "put c"}, []string{"a", "b", "c"}, nil},
		{"the oldest goes", 2, []string{"put a", "put b", "put c"}, []string{"b", "c"}, []string{"a"}},
		{"a read keeps an entry", 2, []string{"put a", "put b", "get a", "put c"}, []string{"a", "c"}, []string{"b"}},
		{"a second put keeps an entry", 2, []string{"put a", "put b", "put a", "put c"}, []string{"a", "c"}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evicted []string
			c := newLRU(tt.max, func(k string, v int) { evicted = append(evicted, k) })
			for i, op := range tt.ops {
				var verb, k string
				fmt.Sscan(op, &verb, &k)
				if verb == "put" {
					c.put(k, i)
				} else {
					c.get(k)
				}
			}
			for _, k := range tt.kept {
				if _, ok := c.get(k); !ok {
					t.Errorf("%s was forgotten, want it kept", k)
				}
			}
			if c.len() != len(tt.kept) {
				t.Errorf("the LRU holds %d entries, want %d", c.len(), len(tt.kept))
			}
			if fmt.Sprint(evicted) != fmt.Sprint(tt.evicted) {
				t.Errorf("evicted %v, want %v", evicted, tt.evicted)
			}
		})
	}
}
