package gitsource

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

var (
	errIsDir  = errors.New("is a directory")
	errNotDir = errors.New("not a directory")
)

// treeFS is a read-only fs.FS over one git tree. Because a tree is named by
// the hash of its content, the view never changes, whatever happens to the
// branch afterwards.
//
// Directories are read from their tree objects when first visited and kept;
// a file's content is read from its blob when the file is opened. Symbolic
// links and submodules are left out: a link could point outside the tree,
// and a submodule's content is in another repository.
//
// treeFS is safe for concurrent use: the object storage behind it is not,
// so every access to it holds mu.
type treeFS struct {
	mu      sync.Mutex
	objects storer.EncodedObjectStorer
	modTime time.Time
	root    *treeNode
}

// treeNode is a file or directory of a treeFS. Its fields other than name,
// mode and hash are guarded by treeFS.mu.
type treeNode struct {
	name     string // base name, "." for the root
	mode     fs.FileMode
	hash     plumbing.Hash
	size     int64       // a file's size, -1 until known
	loaded   bool        // a directory's children have been read
	children []*treeNode // sorted by name
}

func (n *treeNode) isDir() bool { return n.mode.IsDir() }

// newTreeFS returns the file system of the tree with hash root, read from
// objects. Every entry has modTime as its modification time (git keeps
// none per file; the caller passes the commit's time).
func newTreeFS(objects storer.EncodedObjectStorer, root plumbing.Hash, modTime time.Time) *treeFS {
	return &treeFS{
		objects: objects,
		modTime: modTime,
		root:    &treeNode{name: ".", mode: fs.ModeDir | 0o555, hash: root},
	}
}

// Open opens the named file or directory.
func (f *treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if n.isDir() {
		if err := f.load(n); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &treeDir{fsys: f, node: n, path: name, info: f.dirInfo(n)}, nil
	}
	data, err := f.read(n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &treeFile{r: bytes.NewReader(data), path: name, info: f.fileInfo(n)}, nil
}

// ReadFile returns the content of the named file.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup(name)
	if err == nil && n.isDir() {
		err = errIsDir
	}
	var data []byte
	if err == nil {
		data, err = f.read(n)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir returns the entries of the named directory, sorted by name.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup(name)
	if err == nil && !n.isDir() {
		err = errNotDir
	}
	if err == nil {
		err = f.load(n)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return f.entries(n.children), nil
}

// Stat describes the named file or directory.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup(name)
	var info fs.FileInfo
	if err == nil {
		info, err = f.stat(n)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return info, nil
}

// lookup finds the node of a valid path. f.mu must be held.
func (f *treeFS) lookup(name string) (*treeNode, error) {
	n := f.root
	if name == "." {
		return n, nil
	}
	for _, elem := range strings.Split(name, "/") {
		if !n.isDir() {
			return nil, fs.ErrNotExist
		}
		if err := f.load(n); err != nil {
			return nil, err
		}
		i := sort.Search(len(n.children), func(i int) bool { return n.children[i].name >= elem })
		if i == len(n.children) || n.children[i].name != elem {
			return nil, fs.ErrNotExist
		}
		n = n.children[i]
	}
	return n, nil
}

// load reads the children of directory n from its tree object, once.
// f.mu must be held.
func (f *treeFS) load(n *treeNode) error {
	if n.loaded {
		return nil
	}
	tree, err := object.GetTree(f.objects, n.hash)
	if err != nil {
		return err
	}
	children := make([]*treeNode, 0, len(tree.Entries))
	for _, e := range tree.Entries {
		if !validName(e.Name) {
			continue
		}
		var mode fs.FileMode
		switch e.Mode {
		case filemode.Dir:
			mode = fs.ModeDir | 0o555
		case filemode.Regular, filemode.Deprecated:
			mode = 0o444
		case filemode.Executable:
			mode = 0o555
		default: // symbolic links, submodules
			continue
		}
		children = append(children, &treeNode{name: e.Name, mode: mode, hash: e.Hash, size: -1})
	}
	// Git sorts a directory as if its name ended in "/"; fs.ReadDir
	// promises plain name order.
	sort.SliceStable(children, func(i, j int) bool { return children[i].name < children[j].name })
	// A well-formed tree has no duplicate names; keep the first of any.
	out := children[:0]
	for i, c := range children {
		if i > 0 && c.name == children[i-1].name {
			continue
		}
		out = append(out, c)
	}
	n.children = out
	n.loaded = true
	return nil
}

// validName reports whether a tree entry's name can be a path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// read returns the content of file n. f.mu must be held.
func (f *treeFS) read(n *treeNode) ([]byte, error) {
	obj, err := f.objects.EncodedObject(plumbing.BlobObject, n.hash)
	if err != nil {
		return nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	n.size = int64(len(data))
	return data, nil
}

// stat describes n, reading a file's size from its blob if it is not yet
// known. f.mu must be held.
func (f *treeFS) stat(n *treeNode) (fs.FileInfo, error) {
	if n.isDir() {
		return f.dirInfo(n), nil
	}
	if n.size < 0 {
		obj, err := f.objects.EncodedObject(plumbing.BlobObject, n.hash)
		if err != nil {
			return nil, err
		}
		n.size = obj.Size()
	}
	return f.fileInfo(n), nil
}

func (f *treeFS) dirInfo(n *treeNode) *fileInfo {
	return &fileInfo{name: n.name, mode: n.mode, modTime: f.modTime}
}

// fileInfo describes a file whose size is known. f.mu must be held.
func (f *treeFS) fileInfo(n *treeNode) *fileInfo {
	return &fileInfo{name: n.name, size: n.size, mode: n.mode, modTime: f.modTime}
}

func (f *treeFS) entries(nodes []*treeNode) []fs.DirEntry {
	out := make([]fs.DirEntry, len(nodes))
	for i, n := range nodes {
		out[i] = &dirEntry{fsys: f, node: n}
	}
	return out
}

// fileInfo is the fs.FileInfo of a treeFS entry.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.modTime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

// dirEntry is the fs.DirEntry of a treeFS entry.
type dirEntry struct {
	fsys *treeFS
	node *treeNode
}

func (e *dirEntry) Name() string      { return e.node.name }
func (e *dirEntry) IsDir() bool       { return e.node.isDir() }
func (e *dirEntry) Type() fs.FileMode { return e.node.mode.Type() }
func (e *dirEntry) String() string    { return fs.FormatDirEntry(e) }

func (e *dirEntry) Info() (fs.FileInfo, error) {
	e.fsys.mu.Lock()
	defer e.fsys.mu.Unlock()
	return e.fsys.stat(e.node)
}

// treeFile is an open file of a treeFS: its whole content, read when it
// was opened.
type treeFile struct {
	r      *bytes.Reader
	path   string
	info   *fileInfo
	closed bool
}

func (f *treeFile) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "stat", Path: f.path, Err: fs.ErrClosed}
	}
	return f.info, nil
}

func (f *treeFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrClosed}
	}
	return f.r.Read(p)
}

func (f *treeFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrClosed}
	}
	return f.r.ReadAt(p, off)
}

func (f *treeFile) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.path, Err: fs.ErrClosed}
	}
	return f.r.Seek(offset, whence)
}

func (f *treeFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.path, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// treeDir is an open directory of a treeFS.
type treeDir struct {
	fsys   *treeFS
	node   *treeNode // loaded
	path   string
	info   *fileInfo
	offset int
	closed bool
}

func (d *treeDir) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.path, Err: fs.ErrClosed}
	}
	return d.info, nil
}

func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errIsDir}
}

// ReadDir returns the next n entries, or all remaining ones when n <= 0,
// as fs.ReadDirFile specifies.
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: fs.ErrClosed}
	}
	rest := d.node.children[d.offset:] // children never change once loaded
	if n <= 0 {
		d.offset += len(rest)
		return d.fsys.entries(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.offset += n
	return d.fsys.entries(rest[:n]), nil
}

func (d *treeDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.path, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

var (
	_ fs.ReadDirFS   = (*treeFS)(nil)
	_ fs.ReadFileFS  = (*treeFS)(nil)
	_ fs.StatFS      = (*treeFS)(nil)
	_ fs.ReadDirFile = (*treeDir)(nil)
	_ io.ReaderAt    = (*treeFile)(nil)
	_ io.Seeker      = (*treeFile)(nil)
)
