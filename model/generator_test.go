package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"stylegan-tui/latent"
)

// smallConfig is a fast generator with both conventions' features: fused
// up-conv from 32 px, per-layer styles.
func smallConfig(perBlock bool) *Config {
	return &Config{Name: "small", ZDim: 8, WDim: 8, MappingLayers: 2, Channels: []int{8, 8, 6, 4},
		StylePerBlock: perBlock, NoisePerBlock: perBlock, BiasBeforeBlur: perBlock, NormEps: 1e-8,
		FusedFrom: 32, TruncPsi: 0.7, TruncCutoff: 3}
}

func newSmall(t *testing.T, perBlock bool) *Generator {
	t.Helper()
	c := smallConfig(perBlock)
	g, err := New(c, RandomWeights(c, 3))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newFading is newSmall's generator (per-layer styles) exported in the
// middle of the fade-in of its 32 px block.
func newFading(t *testing.T, alpha float64) *Generator {
	t.Helper()
	c := smallConfig(false)
	c.FadeAlpha = alpha
	g, err := New(c, RandomWeights(c, 3))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestIncrementalEqualsFull applies random edit sequences and checks that
// the cached (incremental) result equals a full recompute bit for bit; for
// a fading model the recompute asks for the fade explicitly.
func TestIncrementalEqualsFull(t *testing.T) {
	for _, tc := range []struct {
		perBlock bool
		fade     float64
	}{{false, 0}, {true, 0}, {false, 0.3}} {
		perBlock := tc.perBlock
		g, full := newSmall(t, perBlock), newSmall(t, perBlock) // full always recomputes
		alpha := -1.0
		if tc.fade > 0 {
			g, full, alpha = newFading(t, tc.fade), newSmall(t, perBlock), tc.fade
		}
		c := g.Cfg
		r := rand.New(rand.NewPCG(1, 2))
		st := g.NewState()
		sawPartial := false
		for step := 0; step < 60; step++ {
			switch r.IntN(6) {
			case 0:
				st = st.ToggleStyle(r.IntN(c.NumStyles()))
			case 1:
				st.B.Seed = r.Int64N(100)
			case 2:
				j := r.IntN(c.NumNoise())
				st.Noise[j].Seed = r.Int64N(1000)
			case 3:
				st.Noise[r.IntN(c.NumNoise())].Mode = latent.NoiseMode(r.IntN(3))
			case 4:
				st.Psi = float64(r.IntN(20)-5) / 10
				st.Cutoff = r.IntN(c.NumStyles() + 1)
			case 5:
				st.A.Seed = r.Int64N(100)
			}
			st = st.Clone()
			got, stats, err := g.Render(st, nil)
			if err != nil {
				t.Fatal(err)
			}
			in, err := full.Inputs(st)
			if err != nil {
				t.Fatal(err)
			}
			raw, _, err := full.Synthesis(in, Options{Step: -1, Alpha: alpha, Full: true})
			if err != nil {
				t.Fatal(err)
			}
			want := ToImage(raw, c.Resolution(), 0)
			if !slices.Equal(got.Pix, want.Pix) {
				t.Fatalf("perBlock=%v fade %g step %d: incremental (from layer %d) differs from full", perBlock, tc.fade, step, stats.FromLayer)
			}
			if stats.FromLayer > 0 {
				sawPartial = true
			}
		}
		if !sawPartial {
			t.Errorf("perBlock=%v fade %g: no edit was incremental", perBlock, tc.fade)
		}
	}
}

// TestIncrementalFromLayer checks which layer a fine edit restarts at.
func TestIncrementalFromLayer(t *testing.T) {
	g := newSmall(t, false)
	st := g.NewState()
	if _, _, err := g.Render(st, nil); err != nil {
		t.Fatal(err)
	}
	last := g.Cfg.NumStyles() - 1
	_, stats, err := g.Render(st.WithStyles(last, last, latent.FromB), nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.FromLayer != last {
		t.Errorf("last-slot edit recomputed from layer %d, want %d", stats.FromLayer, last)
	}
	_, stats, _ = g.Render(st.WithStyles(last, last, latent.FromB), nil)
	if stats.FromLayer != g.Cfg.NumLayers() {
		t.Errorf("an unchanged state recomputed from layer %d", stats.FromLayer)
	}
}

// TestBatchMatchesSingles checks that a batch of two gives each image as
// when rendered alone.
func TestBatchMatchesSingles(t *testing.T) {
	g := newSmall(t, false)
	c := g.Cfg
	z := append(latent.SeedZ(1, c.ZDim), latent.SeedZ(2, c.ZDim)...)
	w, err := g.Mapping(z, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := SynthesisInput{B: 2}
	for s := 0; s < c.NumStyles(); s++ {
		in.W = append(in.W, w)
	}
	for j := 0; j < c.NumNoise(); j++ {
		r := c.NoiseRes(j)
		in.Noise = append(in.Noise, append(latent.NoiseMap(1, j, r, r), latent.NoiseMap(2, j, r, r)...))
	}
	both, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1})
	if err != nil {
		t.Fatal(err)
	}
	n := 3 * c.Resolution() * c.Resolution()
	for b := 0; b < 2; b++ {
		one := SynthesisInput{B: 1}
		for s := 0; s < c.NumStyles(); s++ {
			one.W = append(one.W, w[b*c.WDim:(b+1)*c.WDim])
		}
		for j := 0; j < c.NumNoise(); j++ {
			r := c.NoiseRes(j)
			one.Noise = append(one.Noise, in.Noise[j][b*r*r:(b+1)*r*r])
		}
		out, _, err := g.Synthesis(one, Options{Step: -1, Alpha: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if d := out[i] - both[b*n+i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("image %d pixel %d: batch %g vs single %g", b, i, both[b*n+i], out[i])
			}
		}
	}
}

// TestStepAndFade checks progressive outputs: Step gives the lower
// resolution, and the fade at alpha 0 is the upsampled lower ToRGB.
func TestStepAndFade(t *testing.T) {
	g := newSmall(t, false)
	in, err := g.Inputs(g.NewState())
	if err != nil {
		t.Fatal(err)
	}
	low, _, err := g.Synthesis(in, Options{Step: 2, Alpha: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(low) != 3*16*16 {
		t.Fatalf("step 2 output has %d values, want 3x16x16", len(low))
	}
	fade0, _, err := g.Synthesis(in, Options{Step: 3, Alpha: 0})
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 3; p++ {
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				if fade0[p*1024+y*32+x] != low[p*256+(y/2)*16+x/2] {
					t.Fatalf("alpha 0 is not the upsampled 16px output at %d,%d,%d", p, y, x)
				}
			}
		}
	}
	fade1, _, _ := g.Synthesis(in, Options{Step: 3, Alpha: 0.999999})
	top, _, _ := g.Synthesis(in, Options{Step: 3, Alpha: -1})
	for i := range top {
		if d := fade1[i] - top[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("alpha ~1 differs from the 32px output at %d", i)
		}
	}
}

// TestModelFade checks the rule for Options.Alpha against Config.FadeAlpha:
// a negative Alpha gives a fading model's fade on a whole-network pass and
// nothing else changes; an explicit alpha (0 included) or Alpha 1 wins.
func TestModelFade(t *testing.T) {
	const fade = 0.42
	plain, fading := newSmall(t, false), newFading(t, fade) // the same weights
	in, err := plain.Inputs(plain.NewState())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want Options
	}{
		{"model's fade, Step -1", Options{Step: -1, Alpha: -1}, Options{Step: -1, Alpha: fade}},
		{"model's fade, Step = last block", Options{Step: 3, Alpha: -1}, Options{Step: 3, Alpha: fade}},
		{"model's fade, Step past the last block", Options{Step: 9, Alpha: -1}, Options{Step: 3, Alpha: fade}},
		{"no fade below the last block", Options{Step: 2, Alpha: -1}, Options{Step: 2, Alpha: -1}},
		{"explicit alpha", Options{Step: -1, Alpha: 0.7}, Options{Step: -1, Alpha: 0.7}},
		{"explicit alpha 0", Options{Step: -1, Alpha: 0}, Options{Step: -1, Alpha: 0}},
		{"alpha 1 = the last block alone", Options{Step: -1, Alpha: 1}, Options{Step: -1, Alpha: -1}},
	} {
		tc.got.Full, tc.want.Full = true, true
		got, _, err := fading.Synthesis(in, tc.got)
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := plain.Synthesis(in, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the fading model's %+v differs from the plain model's %+v", tc.name, tc.got, tc.want)
		}
	}
	// and the fade is a real blend: neither end
	for _, a := range []float64{0, 1} {
		end, _, _ := plain.Synthesis(in, Options{Step: -1, Alpha: a, Full: true})
		got, _, _ := fading.Synthesis(in, Options{Step: -1, Alpha: -1, Full: true})
		if slices.Equal(got, end) {
			t.Errorf("the fading model renders as alpha %g", a)
		}
	}
}

// TestFadeAlphaConfig checks the validation and JSON of Config.FadeAlpha.
func TestFadeAlphaConfig(t *testing.T) {
	c := smallConfig(false)
	if s := c.JSON(); strings.Contains(s, "fade") {
		t.Errorf("a config without a fade writes one: %s", s)
	}
	c.FadeAlpha = 0.25
	back, err := ParseConfig(c.JSON())
	if err != nil || back.FadeAlpha != 0.25 || !back.Fading() {
		t.Errorf("fade_alpha 0.25 round-trips as %+v, %v", back, err)
	}
	for _, bad := range []float64{-0.1, 1, 1.5, math.NaN(), math.Inf(1)} {
		c.FadeAlpha = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "fade_alpha") {
			t.Errorf("fade_alpha %g: %v", bad, err)
		}
	}
	one := &Config{ZDim: 4, WDim: 4, MappingLayers: 1, Channels: []int{4}, NormEps: 1e-8, FadeAlpha: 0.5}
	if err := one.Validate(); err == nil || !strings.Contains(err.Error(), "fade_alpha") {
		t.Errorf("a fading 4 px model: %v", err)
	}
	c.FadeAlpha = 0.5
	w := RandomWeights(c, 1)
	w.ToRGB[2] = ToRGB{}
	if err := w.Check(c); err == nil || !strings.Contains(err.Error(), "16px") {
		t.Errorf("a fading model without the previous ToRGB: %v", err)
	}
}

func TestInputErrors(t *testing.T) {
	g := newSmall(t, false)
	in, _ := g.Inputs(g.NewState())
	bad := in
	bad.W = bad.W[:1]
	if _, _, err := g.Synthesis(bad, Options{Step: -1}); err == nil {
		t.Error("too few style vectors accepted")
	}
	bad = in
	bad.Noise = append([][]float32{make([]float32, 3)}, in.Noise[1:]...)
	if _, _, err := g.Synthesis(bad, Options{Step: -1}); err == nil {
		t.Error("a wrong-sized noise map accepted")
	}
	st := g.NewState()
	st.Styles = st.Styles[:2]
	if _, _, err := g.Render(st, nil); err == nil {
		t.Error("a state with the wrong slot count accepted")
	}
}

// TestToImageRounding checks ToImage against the official scripts' formula,
// round((x+1)·127.5) clamped to 0..255, on values around every rounding edge.
func TestToImageRounding(t *testing.T) {
	const res = 64
	x := make([]float32, 3*res*res)
	for i := range x {
		// sweep -1.1 .. 1.1 in steps that hit the .5 edges exactly and the floats next to them
		v := float32(-1.1 + 2.2*float64(i)/float64(len(x)-1))
		switch i % 3 {
		case 1:
			v = float32(float64(i%512)/255 - 1) // k/127.5 - 1: v = k/2 exactly
		case 2:
			v = math.Nextafter32(float32(float64(i%512)/255-1), 2)
		}
		x[i] = v
	}
	img := ToImage(x, res, 0)
	for ch := 0; ch < 3; ch++ {
		for p := 0; p < res*res; p++ {
			want := uint8(max(0, min(255, math.Round((float64(x[ch*res*res+p])+1)*127.5))))
			if got := img.Pix[4*p+ch]; got != want {
				t.Fatalf("x = %v: %d, want %d", x[ch*res*res+p], got, want)
			}
		}
	}
}

// TestConfigTruncPsiFusedFrom: a checkpoint's truncation_psi and fused_from
// are checked with the rest of the config (ParseConfig validates), so a bad
// file is named as a bad config and not as a bad explorer state later.
func TestConfigTruncPsiFusedFrom(t *testing.T) {
	for _, ok := range []func(*Config){
		func(c *Config) { c.TruncPsi, c.FusedFrom = -1, 0 },
		func(c *Config) { c.TruncPsi, c.FusedFrom = 0.7, 128 },
		func(c *Config) { c.FusedFrom = 8 },
	} {
		c := smallConfig(false)
		ok(c)
		if err := c.Validate(); err != nil {
			t.Errorf("psi %g, fused_from %d: %v", c.TruncPsi, c.FusedFrom, err)
		}
	}
	for _, bad := range []struct {
		psi   float64
		fused int
		field string
	}{
		{1e12, 0, "truncation_psi"}, {math.NaN(), 0, "truncation_psi"}, {math.Inf(-1), 0, "truncation_psi"},
		{0.7, -8, "fused_from"}, {0.7, 96, "fused_from"}, {0.7, 1 << 20, "fused_from"},
	} {
		c := smallConfig(false)
		c.TruncPsi, c.FusedFrom = bad.psi, bad.fused
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("psi %g, fused_from %d: %v, want an error naming %s", bad.psi, bad.fused, err, bad.field)
		}
	}
}

// Mapping alone builds no synthesis net: EstimateWAvg maps batches of 256,
// and a synthesis net of that batch reserved 35 GB at 256 px (and ran out of
// memory at 1024 px). The w it gives equals the w a synthesis net's
// mapping gives, which shares the graph.
func TestMappingAloneBuildsNoSynthesis(t *testing.T) {
	g := newSmall(t, false)
	defer g.Close()
	z := make([]float32, 3*g.Cfg.ZDim)
	for i := range z {
		z[i] = float32(i%5) - 2
	}
	w, err := g.Mapping(z, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.EstimateWAvg(600, 1); err != nil {
		t.Fatal(err)
	}
	if len(g.nets) != 0 {
		t.Errorf("Mapping and EstimateWAvg built %d synthesis nets, want none", len(g.nets))
	}
	n, err := g.net(3)
	if err != nil {
		t.Fatal(err)
	}
	if n.mapping != g.maps[3] {
		t.Error("the batch-3 net does not share Mapping's graph")
	}
	again, err := g.Mapping(z, 3)
	if err != nil || !slices.Equal(again, w) {
		t.Errorf("Mapping after the net was built: %v, %v; want %v", again, err, w)
	}
	g.Close()
	if len(g.maps) != 0 || len(g.nets) != 0 {
		t.Error("Close kept graphs")
	}
}

// TestNetInputsHoldNoActivations checks that a synthesis net allocates
// only the inputs it fills itself (the constant's ones, the noise maps, w
// and Mapping's z): the conv parts, epilogues and ToRGBs read activations
// bound at run time, and a tensor of their own would be a whole activation
// of the batch left unused (0.57 GB of 1.6 at 1024 px, batch 1).
func TestNetInputsHoldNoActivations(t *testing.T) {
	for _, perBlock := range []bool{false, true} {
		g := newSmall(t, perBlock)
		c := g.Cfg
		const B = 3
		in, err := g.Inputs(g.NewState())
		if err != nil {
			t.Fatal(err)
		}
		for s := range in.W {
			in.W[s] = slices.Repeat(in.W[s], B)
		}
		in.B = B
		want, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1})
		if err != nil {
			t.Fatal(err)
		}
		n := g.nets[B]
		got := 0
		for _, s := range slices.Concat([]*stage{n.mapping}, n.conv, n.epi, n.rgb) {
			for _, x := range s.in {
				if x != nil {
					got += x.Size()
				}
			}
		}
		filled := B*c.ZDim + B // z, the constant's ones
		for _, l := range c.Layers() {
			filled += B*l.Res*l.Res + B*c.WDim // the noise map and w of its epilogue
		}
		if got != filled {
			t.Errorf("perBlock %v: the net's own input tensors hold %d values, want %d (z, ones, noise, w)", perBlock, got, filled)
		}
		// Its result does not depend on those tensors.
		again, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1, Full: true})
		if err != nil || !slices.Equal(again, want) {
			t.Errorf("perBlock %v: a full recompute differs (%v)", perBlock, err)
		}
		g.Close()
	}
}
