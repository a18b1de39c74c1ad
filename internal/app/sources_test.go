package app

import (
	"path/filepath"
	"testing"
)

func TestADefaultRunbooksDirectoryCountsOnlyWithPagesOutsideTestdata(t *testing.T) {
	goPackage := t.TempDir()
	writeFile(t, goPackage, "doc.go", "package runbooks\n")
	writeFile(t, goPackage, "testdata/pages/a.md", "# A test page\n")
	writeFile(t, goPackage, ".hidden/b.md", "# hidden\n")
	real := t.TempDir()
	writeFile(t, real, "team/DiskFull.md", "# Disk full\n")
	for _, c := range []struct {
		dir  string
		want bool
	}{{goPackage, false}, {real, true}, {t.TempDir(), false}, {filepath.Join(t.TempDir(), "absent"), false}} {
		if got := holdsRunbooks(c.dir); got != c.want {
			t.Errorf("holdsRunbooks(%s) = %v, want %v", c.dir, got, c.want)
		}
	}
}
