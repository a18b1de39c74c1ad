package runbooks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Source is one collection of runbook pages: a directory, a git
// repository, or the examples bundled in the binary.
type Source interface {
	// Name is the source's configured name, unique among the sources of a
	// Library. It is the first half of every runbook ID.
	Name() string
	// Sync brings the source up to date (a git source fetches and resets to
	// the remote branch). A source with nothing to fetch returns nil. An
	// error leaves the last good copy in place.
	Sync(ctx context.Context) error
	// Snapshot returns the files of the source as they are now. It fails
	// when the source has never been read (a repository not yet cloned, a
	// missing directory).
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Snapshot is a read-only view of a source at one revision.
type Snapshot struct {
	// FS is rooted at the source's root (a git source's subdirectory).
	FS fs.FS
	// Revision is the commit the files were read at, "" when the source
	// has no revisions.
	Revision string
}

// FSSource serves a fixed file system, such as a local directory or the
// bundled examples.
type FSSource struct {
	name string
	fsys fs.FS
	dir  string
}

// NewDirSource returns a source that reads the directory dir on every
// snapshot.
func NewDirSource(name, dir string) *FSSource {
	return &FSSource{name: name, fsys: os.DirFS(dir), dir: dir}
}

// NewFSSource returns a source over fsys, which must not change.
func NewFSSource(name string, fsys fs.FS) *FSSource {
	return &FSSource{name: name, fsys: fsys}
}

// Name returns the source's name.
func (s *FSSource) Name() string { return s.name }

// Sync does nothing: a directory is always current.
func (s *FSSource) Sync(context.Context) error { return nil }

// Snapshot returns the file system. For a directory it checks first that
// the directory exists, so that a missing one is reported rather than read
// as empty.
func (s *FSSource) Snapshot(context.Context) (Snapshot, error) {
	if s.dir != "" {
		st, err := os.Stat(s.dir)
		if err != nil {
			return Snapshot{}, fmt.Errorf("runbooks: source %s: %w", s.name, err)
		}
		if !st.IsDir() {
			return Snapshot{}, fmt.Errorf("runbooks: source %s: %s is not a directory", s.name, s.dir)
		}
	}
	if s.fsys == nil {
		return Snapshot{}, errors.New("runbooks: source " + s.name + " has no files")
	}
	return Snapshot{FS: s.fsys}, nil
}
