package search

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
)

// DefaultResultCache is how many recent searches an Index keeps the
// results of when Config.ResultCache is 0.
const DefaultResultCache = 512

// resultCache keeps the hits of recent searches, the least recently used
// going first when it is full. Update empties it: its generation tells a
// search that began before an Update not to store what it found.
type resultCache struct {
	mu    sync.Mutex
	size  int
	gen   uint64
	order *list.List // of *cachedResult, most recent first
	byKey map[string]*list.Element
}

type cachedResult struct {
	key  string
	hits []Hit
}

func newResultCache(size int) *resultCache {
	if size == 0 {
		size = DefaultResultCache
	}
	if size < 0 {
		return nil
	}
	return &resultCache{size: size, order: list.New(), byKey: map[string]*list.Element{}}
}

// key names a search by everything its hits depend on besides the index.
func (q Query) key(limit int) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(limit))
	for _, s := range append([]string{q.Text, q.Service, q.Team}, q.Tags...) {
		b.WriteByte(0)
		b.WriteString(s)
	}
	return b.String()
}

// get returns a copy of the hits kept for key, and the generation to
// store new hits under.
func (c *resultCache) get(key string) ([]Hit, bool, uint64) {
	if c == nil {
		return nil, false, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false, c.gen
	}
	c.order.MoveToFront(e)
	return append([]Hit(nil), e.Value.(*cachedResult).hits...), true, c.gen
}

// put keeps hits for key, unless the index changed since gen.
func (c *resultCache) put(key string, gen uint64, hits []Hit) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if e, ok := c.byKey[key]; ok {
		e.Value.(*cachedResult).hits = append([]Hit(nil), hits...)
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cachedResult{key: key, hits: append([]Hit(nil), hits...)})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cachedResult).key)
	}
}

// clear forgets every result.
func (c *resultCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.order.Init()
	c.byKey = map[string]*list.Element{}
}
