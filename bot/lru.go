package bot

import "container/list"

// lru maps keys to values and keeps the max most recently used of them:
// what the bot remembers of each incident is bounded, not as large as
// the incidents it has seen. Its callers hold the bot's lock.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of *lruEntry, the most recently used first
	items map[K]*list.Element
	// evicted, when set, is told of each entry forgotten for room.
	evicted func(K, V)
}

type lruEntry[K comparable, V any] struct {
	key   K
	value V
}

func newLRU[K comparable, V any](max int, evicted func(K, V)) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}, evicted: evicted}
}

// get returns the value of k and marks it used.
func (c *lru[K, V]) get(k K) (V, bool) {
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).value, true
}

// put sets the value of k, marks it used, and forgets the least recently
// used entry when there are more than max.
func (c *lru[K, V]) put(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry[K, V]).value = v
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, value: v})
	if c.order.Len() > c.max {
		last := c.order.Back()
		old := last.Value.(*lruEntry[K, V])
		c.order.Remove(last)
		delete(c.items, old.key)
		if c.evicted != nil {
			c.evicted(old.key, old.value)
		}
	}
}

// len counts the entries.
func (c *lru[K, V]) len() int { return c.order.Len() }
