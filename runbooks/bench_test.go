package runbooks

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark/text"
)

// benchCorpus returns the pages the benchmark parses: the golden pages and
// the bundled examples, plus ../shared/corpora when it is present.
func benchCorpus(b *testing.B) map[string][]byte {
	pages := map[string][]byte{}
	for _, root := range []string{"testdata/pages", "../examples/runbooks", "../../shared/corpora"} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
				if data, err := os.ReadFile(p); err == nil {
					pages[p] = data
				}
			}
			return nil
		})
	}
	if len(pages) == 0 {
		b.Fatal("no pages to parse")
	}
	return pages
}

// BenchmarkParse measures parse throughput over a corpus of real and
// synthetic pages. The goldmark sub-benchmark parses the same markdown
// with goldmark alone and is the baseline: the difference is what
// Breadcrumb's own analysis costs.
//
//	go test ./runbooks -run '^$' -bench BenchmarkParse -benchmem
func BenchmarkParse(b *testing.B) {
	pages := benchCorpus(b)
	var total int
	for _, p := range pages {
		total += len(p)
	}
	run := func(b *testing.B, parse func(path string, data []byte)) {
		b.SetBytes(int64(total))
		b.ReportAllocs()
		for b.Loop() {
			for p, data := range pages {
				parse(p, data)
			}
		}
		b.ReportMetric(float64(len(pages))*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	}
	b.Run("goldmark-only", func(b *testing.B) {
		run(b, func(_ string, data []byte) { md.Parser().Parse(text.NewReader(data)) })
	})
	b.Run("breadcrumb", func(b *testing.B) {
		run(b, func(p string, data []byte) { Parse(p, data, ParseOptions{Source: "bench"}) })
	})
}

// BenchmarkParseLargePage parses one 1 MB service page.
func BenchmarkParseLargePage(b *testing.B) {
	section := "## Mitigation\n\n1. Restart the pods\n   ```bash\n   kubectl rollout restart deploy/api\n   ```\n2. Check `kubectl get pods -n prod`\n\nSome prose about [the dashboard](https://grafana.example/d/x) and **why** it matters.\n\n"
	page := []byte("# Big\n\n" + strings.Repeat(section, 1<<20/len(section)))
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		Parse("big.md", page, ParseOptions{})
	}
}
