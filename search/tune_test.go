package search

import (
	"context"
	"os"
	"testing"
)

// TestTune runs variants of the weights over the blind sets (BREADCRUMB_TUNE=1).
func TestTune(t *testing.T) {
	if os.Getenv("BREADCRUMB_TUNE") == "" {
		t.Skip("BREADCRUMB_TUNE not set")
	}
	sets := blindSets(t)
	type prepared struct {
		s  blindSet
		ix *Index
	}
	var ps []prepared
	for _, s := range sets {
		lib := loadBlindCorpus(t, s, true)
		ix := openIndex(t, t.TempDir())
		m := NewMatcher(lib, ix)
		if _, err := ix.UpdateNoted(lib.Pages(), m.Notes(), nil); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, prepared{s, ix})
	}
	base := weights
	for _, v := range tuneVariants() {
		weights = base
		v.apply()
		line := v.name + ":"
		for _, p := range ps {
			p.ix.results.clear()
			var r blindResult
			for _, q := range p.s.Questions {
				hits, err := p.ix.Search(context.Background(), Query{Text: q.Q, Limit: 3})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range hits {
					got = append(got, h.Path)
				}
				r.add(got, q.Want)
			}
			line += " | " + p.s.Name[:6] + " " + r.String()
		}
		t.Log(line)
	}
	weights = base
}

type tuneVariant struct {
	name  string
	apply func()
}

func setField(name string, b float64) {
	fs := append([]fieldWeight(nil), weights.fields...)
	for i := range fs {
		if fs[i].name == name {
			fs[i].boost = b
		}
	}
	weights.fields = fs
}

func tuneVariants() []tuneVariant {
	return []tuneVariant{
		{"base", func() {}},
	}
}
