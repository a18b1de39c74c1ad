// Package gitsource provides a runbooks.Source backed by a git repository,
// so that teams keep their runbooks in git next to their code and Breadcrumb
// follows one branch of it.
//
// # Checkout
//
// The source keeps a bare, shallow (depth 1), single-branch clone in
// Config.Dir/repo.git; there is no working tree. The first Sync clones; later
// ones fetch the branch with a forced refspec
// (+refs/heads/B:refs/remotes/origin/B) and move the local branch to the
// fetched commit, so the checkout always ends exactly at the remote's commit,
// also after a force-push. Files deleted upstream are gone from the next
// snapshot, since nothing is ever merged.
//
// A checkout that cannot be opened or read, or that was cloned from another
// URL or branch, is replaced by a fresh clone. So is a checkout that has
// gathered many pack files (one per fetch that brought something), which
// also drops the objects of rewritten history. A fresh clone is made in
// Config.Dir/repo.git.new and renamed into place only once it is complete,
// so a failed clone never destroys a working checkout. The source touches
// nothing else in Config.Dir.
//
// Config.Branch "" follows the remote's default branch: each Sync asks the
// remote where its HEAD points, and clones again if that changed.
//
// # Snapshots
//
// Snapshot does not read a working tree: it returns an fs.FS over the git
// tree of the checked-out commit (of Config.Subdir in it). Directories are
// read from tree objects when first visited, a file's content from its blob
// when the file is opened. A snapshot is therefore stable: a Sync that runs
// while it is read cannot change what it shows. Were the checkout replaced
// meanwhile (a fresh clone, which is rare), reads from an older snapshot may
// fail, but they never return other content. Entries have the commit's time
// as modification time; symbolic links and submodules are left out.
//
// When a Sync fails, Snapshot keeps serving the commit checked out before,
// and Status reports the error. A checkout left in Config.Dir by an earlier
// run of the process is served before the first Sync, if it matches the
// configuration.
//
// # Credentials
//
// Credentials go to the transport, never into the URL (which go-git repeats
// in its errors), and New rejects a URL that holds any. An https token is
// sent as the password of basic authentication, with the user name
// "x-access-token" unless Auth.Username says otherwise; SSH uses a key file
// or, without one, the SSH agent, and checks host keys against the
// known_hosts files. Error messages and log lines are scrubbed of the token
// and passphrase, also when a server echoes them in an error response.
//
// # Concurrency
//
// Sync and Snapshot may be called from different goroutines. Syncs run one
// at a time; a Snapshot does not wait for a Sync's network operations.
package gitsource
