package search

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// examplePages loads the bundled example runbooks.
func examplePages(t testing.TB) []*runbooks.Runbook {
	t.Helper()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return lib.Pages()
}

func openIndex(t testing.TB, dir string) *Index {
	t.Helper()
	ix, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	return ix
}

func TestSearchFindsTheRunbookATiredResponderDescribes(t *testing.T) {
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(examplePages(t), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  string // path of the expected first hit
	}{
		{"pods keep restarting", "platform/PodCrashLooping.md"},
		{"pod crash looping", "platform/PodCrashLooping.md"},
		{"PodCrashLooping", "platform/PodCrashLooping.md"},
		{"crashloping", "platform/PodCrashLooping.md"},
		{"disk full", "platform/NodeDiskAlmostFull.md"},
		{"certificate expires", "platform/TLSCertificateExpiringSoon.md"},
		{"replication lag", "databases/PostgresReplicationLagHigh.md"},
		{"kafka consumer lag orders", "fulfilment/KafkaConsumerLagHigh.md"},
		{"payments 500 errors", "payments/PaymentsAPIHigh5xxRate.md"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), Query{Text: tt.query, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Fatalf("no hits, want %s", tt.want)
			}
			if hits[0].Path != tt.want {
				var got []string
				for _, h := range hits {
					got = append(got, h.Path)
				}
				t.Errorf("hits %v, want %s first", got, tt.want)
			}
			if hits[0].Snippet.Text == "" {
				t.Error("the first hit has no snippet")
			}
		})
	}
}

func TestSplitIdentifier(t *testing.T) {
	tests := map[string]string{
		"KubePodCrashLooping":    "Kube Pod Crash Looping",
		"etcdMembersDown":        "etcd Members Down",
		"HTTPServerDown":         "HTTP Server Down",
		"node_exporter":          "node exporter",
		"PaymentsAPIHigh5xxRate": "Payments API High 5xx Rate",
		"plain":                  "",
		"kube.pod:ready":         "kube pod ready",
	}
	for in, want := range tests {
		var got []string
		for _, p := range splitIdentifier([]byte(in)) {
			got = append(got, in[p[0]:p[1]])
		}
		if strings.Join(got, " ") != want {
			t.Errorf("splitIdentifier(%q) = %q, want %q", in, strings.Join(got, " "), want)
		}
	}
}

func TestUpdateIsIncrementalAndSurvivesRestarts(t *testing.T) {
	dir := t.TempDir()
	pages := examplePages(t)
	ix := openIndex(t, dir)
	st, err := ix.Update(pages, nil)
	if err != nil || st.Indexed != len(pages) {
		t.Fatalf("first update: %+v, %v; want all %d pages indexed", st, err, len(pages))
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix = openIndex(t, dir)
	if ix.Rebuilt() {
		t.Error("an up-to-date index was rebuilt on restart")
	}
	st, err = ix.Update(pages, nil)
	if err != nil || st.Indexed != 0 || st.Deleted != 0 || st.Unchanged != len(pages) {
		t.Fatalf("update after restart: %+v, %v; want nothing reindexed", st, err)
	}

	changed := *pages[0]
	changed.Hash = "changed"
	changed.Title = "Completely different zebra title"
	st, err = ix.Update(append([]*runbooks.Runbook{&changed}, pages[2:]...), nil)
	if err != nil || st.Indexed != 1 || st.Deleted != 1 {
		t.Fatalf("update with one page changed and one gone: %+v, %v", st, err)
	}
	hits, err := ix.Search(context.Background(), Query{Text: "zebra"})
	if err != nil || len(hits) != 1 || hits[0].ID != changed.ID {
		t.Errorf("search for the changed page: %+v, %v", hits, err)
	}
	hits, _ = ix.Search(context.Background(), Query{Text: pages[1].Title})
	for _, h := range hits {
		if h.ID == pages[1].ID {
			t.Errorf("the deleted page %s is still found", h.ID)
		}
	}
}

func TestASecondProcessFailsFastWithAClearMessage(t *testing.T) {
	dir := t.TempDir()
	openIndex(t, dir)
	_, err := Open(Config{Dir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "in use by process") {
		t.Errorf("error %q does not say who holds the index", err)
	}
}

func TestBrokenOrOldIndexIsRebuilt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"missing index directory", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "index.bleve")); err != nil {
				t.Fatal(err)
			}
		}},
		{"corrupt index", func(t *testing.T, dir string) {
			files, _ := filepath.Glob(filepath.Join(dir, "index.bleve", "*"))
			for _, f := range files {
				_ = os.RemoveAll(f)
				_ = os.WriteFile(f, []byte("garbage"), 0o644)
			}
		}},
		{"older schema", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"schema":0,"pages":{}}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"unreadable manifest", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{`), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	pages := examplePages(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ix, err := Open(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ix.Update(pages, nil); err != nil {
				t.Fatal(err)
			}
			_ = ix.Close()
			tt.damage(t, dir)
			ix = openIndex(t, dir)
			if !ix.Rebuilt() {
				t.Error("the index was not rebuilt")
			}
			st, err := ix.Update(pages, nil)
			if err != nil || st.Indexed != len(pages) {
				t.Fatalf("update after rebuild: %+v, %v", st, err)
			}
			if hits, _ := ix.Search(context.Background(), Query{Text: "crash looping"}); len(hits) == 0 {
				t.Error("the rebuilt index finds nothing")
			}
		})
	}
}

func TestSyncIndexesTheWholePagesOfASlimLibrary(t *testing.T) {
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{Slim: true})
	if err := lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	lib.ReleaseFresh() // the index must read every page whole again
	ix := openIndex(t, t.TempDir())
	if _, err := ix.UpdateNoted(lib.Pages(), nil, nil); err == nil {
		t.Error("an update of slim pages without their library succeeded: it would index pages without their text")
	}
	if _, err := ix.Sync(lib, nil, nil); err != nil {
		t.Fatal(err)
	}
	// A command inside a step of the crash-looping page: only the whole
	// page has it.
	hits, err := ix.Search(context.Background(), Query{Text: "kubectl logs previous", Limit: 3})
	if err != nil || len(hits) == 0 || hits[0].Path != "platform/PodCrashLooping.md" || hits[0].Snippet.Text == "" {
		t.Errorf("got %+v, %v; want the crash-looping page, with a snippet of its text", hits, err)
	}
}
