package gitsource

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
	xssh "golang.org/x/crypto/ssh"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

const (
	remoteName       = "origin"
	checkoutName     = "repo.git"     // the bare repository, inside Config.Dir
	cloneName        = "repo.git.new" // where a fresh clone is made before it replaces checkoutName
	defaultTokenUser = "x-access-token"
	defaultSSHUser   = "git"

	// defaultMaxPacks is how many pack files (one per fetch that brought
	// something) the checkout may gather before Sync replaces it with a
	// fresh clone, which also drops the objects of rewritten history.
	defaultMaxPacks = 50
	// snapshotCacheSize bounds the object cache of one snapshot.
	snapshotCacheSize = 8 * cache.MiByte
)

// Auth holds the credentials for the remote. Leave it empty for a public
// repository or a local one.
type Auth struct {
	// Username goes with Token. It defaults to "x-access-token", which
	// GitHub and GitLab accept for access tokens.
	Username string
	// Token is an access token, sent as the password of HTTP basic
	// authentication. It needs an https URL (or http to a loopback
	// address).
	Token secret.String
	// SSHKeyFile is the path of a private key, for ssh:// and scp-like
	// (git@host:path) URLs. Without it, an SSH URL uses the SSH agent.
	SSHKeyFile string
	// SSHKeyPassphrase decrypts SSHKeyFile, when it is encrypted.
	SSHKeyPassphrase secret.String
	// InsecureIgnoreHostKey accepts any SSH host key. It is for tests only:
	// otherwise the host must be in the known_hosts files (SSH_KNOWN_HOSTS,
	// or ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts).
	InsecureIgnoreHostKey bool
}

// Config describes a git source.
type Config struct {
	// Name is the source's name. Required.
	Name string
	// URL is the repository: https://, ssh://, git@host:path, file:// or a
	// local path. Required. It must not hold credentials: put them in Auth.
	URL string
	// Branch is the branch to follow; "" follows the remote's default
	// branch (its HEAD).
	Branch string
	// Subdir is the slash-separated directory of the repository that is the
	// source's root; "" is the whole repository.
	Subdir string
	// Dir is the local directory that holds the clone. Required. The source
	// owns it: Sync creates and replaces the repository inside it.
	Dir string
	// Auth holds the credentials for the remote.
	Auth Auth
	// Logger receives one Info line per sync that changed the revision,
	// and a Warn line for what the source repairs by itself (a checkout
	// cloned again). A failed sync is returned, not logged. Nil discards
	// them.
	Logger *slog.Logger
}

// Status is the state of a Source, for health checks and the UI.
type Status struct {
	// Branch is the branch followed, "" until the first checkout.
	Branch string
	// Revision is the commit that Snapshot serves, "" when there is none.
	Revision string
	// LastSync is when the last Sync finished, successfully or not.
	LastSync time.Time
	// LastSuccess is when a Sync last succeeded.
	LastSuccess time.Time
	// LastError is the last Sync's error, nil when it succeeded.
	LastError error
}

// Source is a runbooks.Source backed by a git repository. It is safe for
// concurrent use.
type Source struct {
	cfg      Config
	log      *slog.Logger
	protocol string   // the URL's transport: https, http, ssh, git or file
	sshUser  string   // the user for SSH, from the URL
	secrets  []string // strings that must never reach an error or a log line
	maxPacks int

	// syncMu serializes Syncs: only a Sync writes to the checkout.
	syncMu sync.Mutex

	// mu guards the fields below. It is also held while the checkout
	// directory is replaced and while Snapshot reads from it, so that a
	// snapshot never opens a half-replaced checkout. It is not held during
	// network operations.
	mu          sync.Mutex
	loaded      bool          // an existing checkout in Dir has been looked for
	gen         int           // incremented whenever the checkout directory is replaced
	branch      string        // branch of the checkout
	rev         plumbing.Hash // commit served, zero when there is no checkout
	lastSync    time.Time
	lastSuccess time.Time
	lastErr     error
	snap        runbooks.Snapshot // last snapshot, valid for snapRev and snapGen
	snapRev     plumbing.Hash
	snapGen     int
}

var _ runbooks.Source = (*Source)(nil)

// New checks cfg and returns a source for it. It does no I/O: the first
// Sync clones the repository.
func New(cfg Config) (*Source, error) {
	if cfg.Name == "" {
		return nil, errors.New("gitsource: config: Name is required")
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("gitsource: config %s: %s", cfg.Name, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, bad("URL is required")
	}
	if cfg.Dir == "" {
		return nil, bad("Dir is required")
	}
	cfg.Dir = filepath.Clean(cfg.Dir)

	ep, err := transport.NewEndpoint(cfg.URL)
	if err != nil {
		// The parser's message repeats the URL, which may hold a secret.
		return nil, bad("URL is not a git URL (https://, ssh://, user@host:path, file:// or a local path)")
	}
	switch ep.Protocol {
	case "https", "http", "ssh", "git", "file":
	default:
		return nil, bad("URL scheme %q is not supported (use https, http, ssh, git or file)", ep.Protocol)
	}
	isHTTP := ep.Protocol == "https" || ep.Protocol == "http"
	if ep.Password != "" || (isHTTP && ep.User != "") {
		return nil, bad("URL must not hold credentials: put the token in Auth.Token")
	}

	if cfg.Subdir == "." {
		cfg.Subdir = ""
	}
	if cfg.Subdir != "" && (!fs.ValidPath(cfg.Subdir) || strings.Contains(cfg.Subdir, `\`)) {
		return nil, bad("Subdir %q must be a clean relative slash path inside the repository, without ..", cfg.Subdir)
	}

	if cfg.Branch != "" {
		if strings.HasPrefix(cfg.Branch, "refs/") {
			return nil, bad("Branch %q must be a branch name, without refs/heads/", cfg.Branch)
		}
		if plumbing.NewBranchReferenceName(cfg.Branch).Validate() != nil {
			return nil, bad("Branch %q is not a valid branch name", cfg.Branch)
		}
	}

	a := &cfg.Auth
	if !a.Token.IsZero() {
		if !isHTTP {
			return nil, bad("Auth.Token needs an https URL")
		}
		if ep.Protocol == "http" && !isLoopback(ep.Host) {
			return nil, bad("Auth.Token would travel in clear text over http: use an https URL")
		}
		if a.Username == "" {
			a.Username = defaultTokenUser
		}
	} else if a.Username != "" {
		return nil, bad("Auth.Username is only used with Auth.Token")
	}
	if a.SSHKeyFile != "" && ep.Protocol != "ssh" {
		return nil, bad("Auth.SSHKeyFile needs an ssh URL")
	}
	if !a.SSHKeyPassphrase.IsZero() && a.SSHKeyFile == "" {
		return nil, bad("Auth.SSHKeyPassphrase needs Auth.SSHKeyFile")
	}
	if a.InsecureIgnoreHostKey && ep.Protocol != "ssh" {
		return nil, bad("Auth.InsecureIgnoreHostKey needs an ssh URL")
	}

	s := &Source{
		cfg:      cfg,
		log:      cfg.Logger,
		protocol: ep.Protocol,
		sshUser:  ep.User,
		maxPacks: defaultMaxPacks,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.sshUser == "" {
		s.sshUser = defaultSSHUser
	}
	if tok := a.Token.Reveal(); tok != "" {
		s.secrets = append(s.secrets, tok, url.QueryEscape(tok), url.PathEscape(tok),
			base64.StdEncoding.EncodeToString([]byte(a.Username+":"+tok)))
	}
	if pass := a.SSHKeyPassphrase.Reveal(); pass != "" {
		s.secrets = append(s.secrets, pass)
	}
	return s, nil
}

// isLoopback reports whether host (as in a URL, IPv6 in brackets) is this
// machine.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name returns the source's name.
func (s *Source) Name() string { return s.cfg.Name }

// Status reports the outcome of the last Sync and the revision served.
func (s *Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Branch:      s.branch,
		LastSync:    s.lastSync,
		LastSuccess: s.lastSuccess,
		LastError:   s.lastErr,
	}
	if !s.rev.IsZero() {
		st.Revision = s.rev.String()
	}
	return st
}

// Sync brings the checkout to the remote branch's commit: it clones the
// repository the first time and fetches afterwards, following force-pushes.
// A checkout that cannot be used (corrupt, or cloned from another URL or
// branch) is replaced by a fresh clone. When Sync fails, the last checkout
// stays in place and Snapshot keeps serving it.
func (s *Source) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()

	s.mu.Lock()
	s.loadLocked()
	old := s.rev
	s.mu.Unlock()

	res, err := s.sync(ctx)

	s.mu.Lock()
	if err == nil && res.fresh {
		err = s.installLocked()
	}
	s.lastSync = time.Now()
	if err != nil {
		err = s.redact(fmt.Errorf("gitsource: sync %s: %w", s.cfg.Name, err))
		s.lastErr = err
		s.mu.Unlock()
		// Returned, not logged: the caller (the runbook library) decides
		// what the failure means and says it once.
		return err
	}
	s.rev, s.branch = res.rev, res.branch
	s.lastErr = nil
	s.lastSuccess = s.lastSync
	s.mu.Unlock()

	if res.rev != old {
		oldRev := ""
		if !old.IsZero() {
			oldRev = old.String()
		}
		s.log.Info("gitsource: synced", "source", s.cfg.Name, "branch", res.branch,
			"old", oldRev, "new", res.rev.String())
	}
	return nil
}

// syncResult is what a successful sync checked out.
type syncResult struct {
	rev    plumbing.Hash
	branch string
	fresh  bool // the clone is in cloneName, to replace the checkout
}

// sync fetches into the checkout, or clones afresh into cloneName. It
// runs without s.mu: only Sync writes to Dir, and syncMu is held.
func (s *Source) sync(ctx context.Context) (syncResult, error) {
	auth, err := s.authMethod()
	if err != nil {
		return syncResult{}, err
	}
	repo, local, openErr := s.openCheckout()

	branch := s.cfg.Branch
	if branch == "" {
		branch, err = s.remoteHEAD(ctx, auth)
		if err != nil {
			return syncResult{}, err
		}
	}

	switch {
	case openErr != nil:
		s.log.Warn("gitsource: cloning again: the checkout cannot be used",
			"source", s.cfg.Name, "dir", s.checkoutPath(), "reason", s.redact(openErr))
	case repo != nil && local != branch:
		s.log.Info("gitsource: cloning again: the branch changed",
			"source", s.cfg.Name, "old", local, "new", branch)
	case repo != nil:
		rev, err := s.fetch(ctx, repo, branch, auth)
		if err == nil {
			if n := countPacks(s.checkoutPath()); n > s.maxPacks {
				res, cerr := s.clone(ctx, branch, auth)
				if cerr == nil {
					return res, nil
				}
				s.log.Warn("gitsource: compacting the checkout failed; keeping it",
					"source", s.cfg.Name, "packs", n, "err", s.redact(cerr))
			}
			return syncResult{rev: rev, branch: branch}, nil
		}
		if ctx.Err() != nil {
			return syncResult{}, err
		}
		herr := checkHealth(repo)
		if herr == nil {
			return syncResult{}, err // the remote failed, not the checkout
		}
		s.log.Warn("gitsource: cloning again: the checkout cannot be read",
			"source", s.cfg.Name, "dir", s.checkoutPath(), "reason", s.redact(herr), "err", s.redact(err))
	}
	return s.clone(ctx, branch, auth)
}

func (s *Source) checkoutPath() string { return filepath.Join(s.cfg.Dir, checkoutName) }

// openStorage opens the object and reference storage of a bare repository.
func openStorage(path string, cacheSize cache.FileSize) *filesystem.Storage {
	return filesystem.NewStorage(osfs.New(path), cache.NewObjectLRU(cacheSize))
}

// openCheckout opens the checkout in Dir and returns it with its branch. It
// returns a nil repository and a nil error when there is none, and an error
// when the checkout cannot be used for this configuration.
func (s *Source) openCheckout() (*git.Repository, string, error) {
	path := s.checkoutPath()
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	repo, err := git.Open(openStorage(path, cache.DefaultMaxSize), nil)
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", path, err)
	}
	cfg, err := repo.Config()
	if err != nil {
		return nil, "", fmt.Errorf("read the configuration of %s: %w", path, err)
	}
	rc := cfg.Remotes[remoteName]
	if rc == nil || len(rc.URLs) != 1 || rc.URLs[0] != s.cfg.URL {
		return nil, "", fmt.Errorf("%s was not cloned from %s", path, s.cfg.URL)
	}
	head, err := repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return nil, "", fmt.Errorf("read HEAD of %s: %w", path, err)
	}
	if head.Type() != plumbing.SymbolicReference || !head.Target().IsBranch() {
		return nil, "", fmt.Errorf("HEAD of %s is not a branch", path)
	}
	branch := head.Target().Short()
	if s.cfg.Branch != "" && branch != s.cfg.Branch {
		return nil, "", fmt.Errorf("%s holds branch %s, not %s", path, branch, s.cfg.Branch)
	}
	return repo, branch, nil
}

// checkHealth checks that the checkout's commit and root tree can be read.
func checkHealth(repo *git.Repository) error {
	head, err := repo.Head()
	if err != nil {
		return err
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return err
	}
	_, err = commit.Tree()
	return err
}

// remoteHEAD returns the branch that the remote's HEAD points to.
func (s *Source) remoteHEAD(ctx context.Context, auth transport.AuthMethod) (string, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{
		Name: remoteName,
		URLs: []string{s.cfg.URL},
	})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return "", fmt.Errorf("list the branches of %s: %w", s.cfg.URL, err)
	}
	for _, ref := range refs {
		if ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference && ref.Target().IsBranch() {
			return ref.Target().Short(), nil
		}
	}
	return "", fmt.Errorf("%s has no default branch: set Branch", s.cfg.URL)
}

// fetch fetches branch into repo, forcing the remote-tracking reference so
// that rewritten history is followed, and points the local branch and HEAD
// at the fetched commit, which it returns.
func (s *Source) fetch(ctx context.Context, repo *git.Repository, branch string, auth transport.AuthMethod) (plumbing.Hash, error) {
	tracking := plumbing.NewRemoteReferenceName(remoteName, branch)
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{refSpec(branch)},
		Depth:      1,
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, fmt.Errorf("fetch branch %s from %s: %w", branch, s.cfg.URL, err)
	}
	ref, err := repo.Storer.Reference(tracking)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s after fetching: %w", tracking, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", ref.Hash(), err)
	}
	if _, err := commit.Tree(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read the tree of commit %s: %w", commit.Hash, err)
	}
	local := plumbing.NewBranchReferenceName(branch)
	for _, ref := range []*plumbing.Reference{
		plumbing.NewHashReference(local, commit.Hash),
		plumbing.NewSymbolicReference(plumbing.HEAD, local),
	} {
		if cur, err := repo.Storer.Reference(ref.Name()); err == nil && cur.String() == ref.String() {
			continue // unchanged: spare the write
		}
		if err := repo.Storer.SetReference(ref); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("update %s: %w", ref.Name(), err)
		}
	}
	return commit.Hash, nil
}

func refSpec(branch string) config.RefSpec {
	return config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/%s/%[1]s", branch, remoteName))
}

// clone makes a fresh bare, shallow, single-branch clone in cloneName.
func (s *Source) clone(ctx context.Context, branch string, auth transport.AuthMethod) (res syncResult, err error) {
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return syncResult{}, err
	}
	path := filepath.Join(s.cfg.Dir, cloneName)
	if err := os.RemoveAll(path); err != nil {
		return syncResult{}, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(path)
		}
	}()
	repo, err := git.Init(openStorage(path, cache.DefaultMaxSize), nil) // nil worktree: bare
	if err != nil {
		return syncResult{}, fmt.Errorf("create a repository in %s: %w", path, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{
		Name:  remoteName,
		URLs:  []string{s.cfg.URL},
		Fetch: []config.RefSpec{refSpec(branch)},
	}); err != nil {
		return syncResult{}, fmt.Errorf("configure the remote in %s: %w", path, err)
	}
	rev, err := s.fetch(ctx, repo, branch, auth)
	if err != nil {
		return syncResult{}, err
	}
	return syncResult{rev: rev, branch: branch, fresh: true}, nil
}

// installLocked replaces the checkout with the fresh clone. s.mu must be
// held.
func (s *Source) installLocked() error {
	s.gen++
	path := s.checkoutPath()
	if err := os.RemoveAll(path); err != nil {
		s.rev = plumbing.ZeroHash // part of it may be gone
		return fmt.Errorf("remove the old checkout: %w", err)
	}
	if err := os.Rename(filepath.Join(s.cfg.Dir, cloneName), path); err != nil {
		s.rev = plumbing.ZeroHash
		return fmt.Errorf("install the new clone: %w", err)
	}
	return nil
}

// countPacks returns the number of pack files of the repository at path.
func countPacks(path string) int {
	entries, err := os.ReadDir(filepath.Join(path, "objects", "pack"))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pack") {
			n++
		}
	}
	return n
}

// loadLocked looks, once, for a checkout left in Dir by an earlier run, so
// that Snapshot can serve it before the first Sync. s.mu must be held.
func (s *Source) loadLocked() {
	if s.loaded {
		return
	}
	s.loaded = true
	repo, branch, err := s.openCheckout()
	if repo == nil || err != nil {
		return
	}
	if checkHealth(repo) != nil {
		return
	}
	head, err := repo.Head()
	if err != nil {
		return
	}
	s.rev, s.branch = head.Hash(), branch
}

// Snapshot returns the files of Subdir at the checked-out commit. The view
// is read from git objects, so it does not change when a later Sync moves
// the branch. It fails when nothing has been checked out yet or when Subdir
// does not exist at that commit. When the last Sync failed, it serves the
// commit read before.
func (s *Source) Snapshot(ctx context.Context) (runbooks.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return runbooks.Snapshot{}, fmt.Errorf("gitsource: snapshot %s: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.snapshotLocked()
	if err != nil {
		return runbooks.Snapshot{}, s.redact(fmt.Errorf("gitsource: snapshot %s: %w", s.cfg.Name, err))
	}
	return snap, nil
}

func (s *Source) snapshotLocked() (runbooks.Snapshot, error) {
	s.loadLocked()
	if s.rev.IsZero() {
		if s.lastErr != nil {
			return runbooks.Snapshot{}, fmt.Errorf("nothing checked out yet: %w", s.lastErr)
		}
		return runbooks.Snapshot{}, errors.New("nothing checked out yet: Sync has not succeeded")
	}
	if s.snap.FS != nil && s.snapRev == s.rev && s.snapGen == s.gen {
		return s.snap, nil
	}
	// A storage of its own: the snapshot reads from it after s.mu is
	// released, concurrently with Syncs that write to the checkout. The
	// objects it needs are in pack files that a fetch never changes; the
	// pack index is loaded here, under s.mu, when the commit is read.
	objects := openStorage(s.checkoutPath(), snapshotCacheSize)
	commit, err := object.GetCommit(objects, s.rev)
	if err != nil {
		return runbooks.Snapshot{}, fmt.Errorf("read commit %s: %w", s.rev, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return runbooks.Snapshot{}, fmt.Errorf("read the tree of commit %s: %w", s.rev, err)
	}
	root := tree.Hash
	if s.cfg.Subdir != "" {
		e, err := tree.FindEntry(s.cfg.Subdir)
		if err != nil || e.Mode != filemode.Dir {
			return runbooks.Snapshot{}, fmt.Errorf("directory %q does not exist at revision %s", s.cfg.Subdir, s.rev)
		}
		root = e.Hash
	}
	s.snap = runbooks.Snapshot{
		FS:       newTreeFS(objects, root, commit.Committer.When),
		Revision: s.rev.String(),
	}
	s.snapRev, s.snapGen = s.rev, s.gen
	return s.snap, nil
}

// authMethod builds the transport credentials. Credentials never go into
// the URL, which go-git repeats in its errors.
func (s *Source) authMethod() (transport.AuthMethod, error) {
	a := s.cfg.Auth
	switch s.protocol {
	case "https", "http":
		if a.Token.IsZero() {
			return nil, nil
		}
		return &githttp.BasicAuth{Username: a.Username, Password: a.Token.Reveal()}, nil
	case "ssh":
		switch {
		case a.SSHKeyFile != "":
			keys, err := gitssh.NewPublicKeysFromFile(s.sshUser, a.SSHKeyFile, a.SSHKeyPassphrase.Reveal())
			if err != nil {
				return nil, fmt.Errorf("read SSH key %s: %w", a.SSHKeyFile, err)
			}
			if a.InsecureIgnoreHostKey {
				keys.HostKeyCallback = xssh.InsecureIgnoreHostKey()
			}
			return keys, nil
		case a.InsecureIgnoreHostKey:
			agent, err := gitssh.NewSSHAgentAuth(s.sshUser)
			if err != nil {
				return nil, err
			}
			agent.HostKeyCallback = xssh.InsecureIgnoreHostKey()
			return agent, nil
		}
	}
	return nil, nil // go-git's defaults: none, or the SSH agent
}

// redact hides the secrets of the configuration in err's message. A
// server may echo credentials in the body of an error response, which
// go-git puts into its errors.
func (s *Source) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, sec := range s.secrets {
		clean = strings.ReplaceAll(clean, sec, "<redacted>")
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError is an error whose message had secrets removed. It does
// not unwrap, since the wrapped error's message holds them, but errors.Is
// still sees the wrapped chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
