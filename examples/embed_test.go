package examples

import (
	"bytes"
	"io/fs"
	"path"
	"testing"
)

func TestRunbooks(t *testing.T) {
	fsys := Runbooks()
	var pages []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".md" || p == "README.md" {
			return nil
		}
		pages = append(pages, p)
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(data, []byte("---\n")) {
			t.Errorf("%s: does not start with a front matter delimiter", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 8 {
		t.Errorf("found %d runbooks (%v), want at least 8", len(pages), pages)
	}
	if _, err := fs.Stat(fsys, "README.md"); err != nil {
		t.Errorf("README.md: %v", err)
	}
}
