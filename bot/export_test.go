package bot

// BoundMemory makes b keep at most homes incident homes and states
// incident states, for tests that go past the bounds with few incidents.
func BoundMemory(b *Bot, homes, states int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.homes
	b.homes = newLRU(homes, old.evicted)
	b.state = newLRU[string, *incState](states, nil)
}
