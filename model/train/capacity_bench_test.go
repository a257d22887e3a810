package train

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkStepVariants times, interleaved step by step in one process (so
// that a machine shared with other jobs slows every variant alike), the
// training step of the default run against its variants at 32 and 64 px:
// the feature-space D on (DefaultFeatureD), and G with 64 channels at
// 32–64 px instead of 32. It reports each variant's images/s and its cost
// per image as a ratio to the default's.
//
//	CGO_LDFLAGS=-lopenblas go test -tags openblas -run XXX -bench StepVariants ./model/train
func BenchmarkStepVariants(b *testing.B) {
	wide := []int{64, 64, 64, 64, 64}
	for _, c := range []struct{ res, batch int }{{32, 16}, {64, 16}} {
		b.Run(fmt.Sprintf("%dpx", c.res), func(b *testing.B) {
			variants := []struct {
				name string
				opt  func(*Options)
			}{
				{"default", func(*Options) {}},
				{"featureD", func(o *Options) { f := DefaultFeatureD(); o.FeatureD = &f }},
				{"wideG", func(o *Options) {
					o.Arch.DChannels = o.Arch.Channels
					o.Arch.Channels = wide
				}},
			}
			trs := make([]*Trainer, len(variants))
			for i, v := range variants {
				opt := DefaultOptions()
				opt.DataPool = 256
				opt.Schedule = ""
				for r := 8; r <= c.res; r *= 2 {
					stable := "1"
					if r == c.res {
						stable = "inf"
					}
					opt.Schedule += fmt.Sprintf("%d:0+%s@%d,", r, stable, c.batch)
				}
				opt.Schedule = opt.Schedule[:len(opt.Schedule)-1]
				v.opt(&opt)
				tr, err := New(opt)
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Close()
				tr.Images = int64(c.batch) * int64(stepOf(c.res)) // past the 1-image phases
				for range 4 {                                     // build graphs, warm the data pool
					if err := tr.Step(); err != nil {
						b.Fatal(err)
					}
				}
				trs[i] = tr
			}
			spent := make([]time.Duration, len(variants))
			steps := 0
			for b.Loop() {
				for i, tr := range trs {
					t0 := time.Now()
					if err := tr.Step(); err != nil {
						b.Fatal(err)
					}
					spent[i] += time.Since(t0)
				}
				steps++
			}
			for i, v := range variants {
				b.ReportMetric(float64(steps*c.batch)/spent[i].Seconds(), v.name+"-images/s")
				if i > 0 {
					b.ReportMetric(spent[i].Seconds()/spent[0].Seconds(), v.name+"-cost/default")
				}
			}
		})
	}
}
