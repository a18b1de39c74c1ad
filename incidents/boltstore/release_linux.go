//go:build linux

package boltstore

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops the pages of the file that bbolt maps in memory
// from this process's resident set (madvise MADV_DONTNEED): the file's
// pages stay in the kernel's page cache, and a later read maps them again
// without reading the disk. It runs in a read transaction, during which
// bbolt cannot map the file elsewhere.
func (s *Store) releaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error {
		size := uintptr(tx.Size())
		if size == 0 {
			return nil
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, s.db.Info().Data, size, syscall.MADV_DONTNEED); errno != 0 {
			return errno
		}
		return nil
	})
}
