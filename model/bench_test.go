package model

import (
	"flag"
	"slices"
	"testing"
	"time"

	"stylegan-tui/latent"
)

var benchNVlabs = flag.Bool("nvlabs", false, "benchmark the NVlabs-convention 256 px generator (per-layer styles) instead of rosinality's")

// rosinality256 is the published 256 px rosinality generator's size.
func rosinality256() *Config {
	return &Config{Name: "rosinality-256", ZDim: 512, WDim: 512, MappingLayers: 8,
		Channels: []int{512, 512, 512, 512, 256, 128, 64}, StylePerBlock: true, NoisePerBlock: true,
		BiasBeforeBlur: true, NormEps: 1e-5, FusedFrom: 128, TruncPsi: 0.7, TruncCutoff: 7}
}

// nvlabs256 is an NVlabs-convention 256 px generator (per-layer styles).
func nvlabs256() *Config {
	return &Config{Name: "nvlabs-256", ZDim: 512, WDim: 512, MappingLayers: 8,
		Channels: NVlabsChannels(256, 8192, 512), NormEps: 1e-8, FusedFrom: 128, TruncPsi: 0.7, TruncCutoff: 8}
}

// timer records each iteration's time and reports the median and the
// minimum (ms): on a shared machine they are steadier than the mean.
type timer struct {
	t0 time.Time
	ds []time.Duration
}

func (t *timer) start() { t.t0 = time.Now() }
func (t *timer) stop()  { t.ds = append(t.ds, time.Since(t.t0)) }
func (t *timer) report(b *testing.B) {
	if len(t.ds) == 0 {
		return
	}
	slices.Sort(t.ds)
	b.ReportMetric(float64(t.ds[len(t.ds)/2].Microseconds())/1000, "med-ms")
	b.ReportMetric(float64(t.ds[0].Microseconds())/1000, "min-ms")
}

func benchGenerator(b *testing.B) (*Generator, latent.State) {
	c := rosinality256()
	if *benchNVlabs {
		c = nvlabs256()
	}
	g, err := New(c, RandomWeights(c, 1))
	if err != nil {
		b.Fatal(err)
	}
	st := g.NewState()
	if _, _, err := g.Render(st, nil); err != nil {
		b.Fatal(err)
	}
	return g, st
}

// BenchmarkForward256 is a full 256 px forward pass (cache disabled).
func BenchmarkForward256(b *testing.B) {
	g, st := benchGenerator(b)
	in, err := g.Inputs(st)
	if err != nil {
		b.Fatal(err)
	}
	var t timer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.start()
		if _, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1, Full: true}); err != nil {
			b.Fatal(err)
		}
		t.stop()
	}
	t.report(b)
}

// BenchmarkFineEdit256 alternates the fine styles (64 px and up) between
// A and B: the cache recomputes those layers only.
func BenchmarkFineEdit256(b *testing.B) {
	g, st := benchGenerator(b)
	lo, _, _ := g.Cfg.GroupSlots("fine")
	edited := st.WithStyles(lo, g.Cfg.NumStyles()-1, latent.FromB)
	var t timer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := st
		if i%2 == 0 {
			s = edited
		}
		t.start()
		if _, _, err := g.Render(s, nil); err != nil {
			b.Fatal(err)
		}
		t.stop()
	}
	t.report(b)
}

// BenchmarkLastEdit256 changes only the last slot's style.
func BenchmarkLastEdit256(b *testing.B) {
	g, st := benchGenerator(b)
	last := g.Cfg.NumStyles() - 1
	edited := st.WithStyles(last, last, latent.FromB)
	var t timer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := st
		if i%2 == 0 {
			s = edited
		}
		t.start()
		if _, _, err := g.Render(s, nil); err != nil {
			b.Fatal(err)
		}
		t.stop()
	}
	t.report(b)
}
