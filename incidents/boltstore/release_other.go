//go:build !linux

package boltstore

// releaseMapped does nothing where madvise is not used.
func (s *Store) releaseMapped() error { return nil }
