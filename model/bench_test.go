package model

import (
	"flag"
	"testing"

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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1, Full: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFineEdit256 alternates the fine styles (64 px and up) between
// A and B: the cache recomputes those layers only.
func BenchmarkFineEdit256(b *testing.B) {
	g, st := benchGenerator(b)
	lo, _, _ := g.Cfg.GroupSlots("fine")
	edited := st.WithStyles(lo, g.Cfg.NumStyles()-1, latent.FromB)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := st
		if i%2 == 0 {
			s = edited
		}
		if _, _, err := g.Render(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLastEdit256 changes only the last slot's style.
func BenchmarkLastEdit256(b *testing.B) {
	g, st := benchGenerator(b)
	last := g.Cfg.NumStyles() - 1
	edited := st.WithStyles(last, last, latent.FromB)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := st
		if i%2 == 0 {
			s = edited
		}
		if _, _, err := g.Render(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}
