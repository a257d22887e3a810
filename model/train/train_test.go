package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"stylegan-tui/checkpoints"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// tinyOptions is a 16 px network small enough for exact checks in
// milliseconds.
func tinyOptions() Options {
	o := DefaultOptions()
	o.Arch = Arch{ZDim: 8, WDim: 8, MappingLayers: 2, LRMul: 0.01, Channels: []int{4, 4, 4}}
	o.Schedule = "8:0+16@4,16:16+inf@4"
	o.DataPool = 64
	return o
}

// tinyOptionsD is tinyOptions with a D wider than G (G 8,8,4, D 16,16,8):
// every D shape differs from G's, so a builder that took G's channels
// for D fails.
func tinyOptionsD() Options {
	o := tinyOptions()
	o.Arch.Channels = []int{8, 8, 4}
	o.Arch.DChannels = []int{16, 16, 8}
	return o
}

// archCases are the architectures the D tests run on: channels shared by
// G and D, and D's own channels.
var archCases = []struct {
	name string
	opt  func() Options
}{{"shared", tinyOptions}, {"separateD", tinyOptionsD}}

func fillNormal(t *tensor.Dense, r *rand.Rand, std float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(r.NormFloat64() * std)
		}
	case []float64:
		for i := range d {
			d[i] = r.NormFloat64() * std
		}
	}
}

func fillMix(in *gInputs, r *rand.Rand, W int) {
	L := len(in.Mix)
	for b := 0; b < in.B; b++ {
		cut := 1 + r.IntN(L)
		for i, m := range in.Mix {
			v := 0.0
			if i < cut {
				v = 1
			}
			for k := 0; k < W; k++ {
				switch d := m.Data().(type) {
				case []float32:
					d[b*W+k] = float32(v)
				case []float64:
					d[b*W+k] = v
				}
			}
		}
	}
}

// gradCheck compares the analytic gradients of s (already run inputs set)
// with central differences at a few random entries of every parameter.
func gradCheck(t *testing.T, s *stepGraph, r *rand.Rand) {
	t.Helper()
	if err := s.run(); err != nil {
		t.Fatal(err)
	}
	grads := make([][]float64, len(s.grads))
	for i, g := range s.grads {
		grads[i] = slices.Clone(g.Value().Data().([]float64))
	}
	s.done()
	loss := func() float64 {
		if err := s.run(); err != nil {
			t.Fatal(err)
		}
		defer s.done()
		return scalar(s.loss)
	}
	// h is small because a perturbation of a G parameter moves every unit
	// of D: at 1e-5 some LeakyReLU kinks get crossed (errors of 1e-3..1e-1).
	const h = 1e-7
	worst := 0.0
	for k, p := range s.wrt {
		e := p.Eff.Data().([]float64)
		for trial := 0; trial < 3; trial++ {
			i := r.IntN(len(e))
			x := e[i]
			e[i] = x + h
			lp := loss()
			e[i] = x - h
			lm := loss()
			e[i] = x
			num := (lp - lm) / (2 * h)
			got := grads[k][i]
			err := math.Abs(num-got) / math.Max(1e-4, math.Abs(num)+math.Abs(got))
			worst = math.Max(worst, err)
			if err > 1e-4 {
				t.Errorf("%s[%d]: gradient %.8g, central difference %.8g (relative error %.2g)", p.Name, i, got, num, err)
			}
		}
	}
	t.Logf("%d parameters checked, worst relative error %.2g", len(s.wrt), worst)
}

// TestGradD checks the whole D step graph (both losses, R1 estimate,
// fade-in) against central differences in float64.
func TestGradD(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) { testGradD(t, c.opt()) })
	}
}

func testGradD(t *testing.T, opt Options) {
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	dp := tr.DP.As64()
	ch := opt.Arch.DiscChannels()
	const B = 4
	g, err := buildDStep(tensor.Float64, ch, dp, nil, B, 2, true, false, 2.5, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fillNormal(g.real, r, 0.5)
	fillNormal(g.fake, r, 0.5)
	copy(g.realP.Data().([]float64), g.real.Data().([]float64))
	rp := g.realP.Data().([]float64)
	for i := range rp {
		rp[i] += 0.05 * r.NormFloat64()
	}
	copyFill(g.alpha.Alpha, 0.3)
	if len(g.wrt) != len(dp.List)-2 { // all but the unused 4 px FromRGB
		t.Errorf("D step trains %d of %d parameters", len(g.wrt), len(dp.List))
	}
	gradCheck(t, &g.stepGraph, r)
}

// TestGradG checks the G step graph (mapping, style mixing, noise,
// synthesis, fade-in, D on the fakes) against central differences.
//
// Its D case keeps tinyOptions' G: with G 8,8,4 at seed 1 the inputs sit
// within ~1e-8 of a kink (the error falls from 0.15 at h 1e-7 to 3e-4 at
// 1e-9, and seeds 2..5 pass), with any D.
func TestGradG(t *testing.T) {
	wideD := func() Options {
		o := tinyOptions()
		o.Arch.DChannels = []int{16, 16, 8}
		return o
	}
	for _, c := range []struct {
		name string
		opt  func() Options
	}{{"shared", tinyOptions}, {"separateD", wideD}} {
		t.Run(c.name, func(t *testing.T) { testGradG(t, c.opt()) })
	}
}

func testGradG(t *testing.T, opt Options) {
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	s, gp := gStepToCheck(t, tr, nil, 4, r)
	if len(s.wrt) != len(gp.List)-2 { // all but the unused 4 px ToRGB
		t.Errorf("G step trains %d of %d parameters", len(s.wrt), len(gp.List))
	}
	gradCheck(t, s, r)
}

// gStepToCheck builds tr's G step at 16 px, fading, in float64 (with the
// feature D f, if not nil) on B images, and fills its inputs from r; the
// zero initialisations (noise strengths, biases) are made non-zero first,
// so that their gradients matter. It returns the graph and G's float64
// parameters.
func gStepToCheck(t *testing.T, tr *Trainer, f *featureD, B int, r *rand.Rand) (*stepGraph, *ParamSet) {
	t.Helper()
	for _, p := range tr.GP.List {
		for i := range p.Raw {
			if p.Raw[i] == 0 {
				p.Raw[i] = float32(0.1 * r.NormFloat64())
			}
		}
		p.SyncEff()
	}
	gp, dp := tr.GP.As64(), tr.DP.As64()
	s, in, ai, _, err := buildGStep(tensor.Float64, tr.Cfg, tr.Opt.Arch.DiscChannels(), gp, dp, f, B, 2, true, false)
	if err != nil {
		t.Fatal(err)
	}
	fillNormal(in.Z, r, 1)
	for _, n := range in.Noise {
		fillNormal(n, r, 1)
	}
	fillMix(in, r, tr.Cfg.WDim)
	copyFill(in.Alpha, 0.6)
	copyFill(ai.Alpha, 0.6)
	return s, gp
}

// TestFadeIn checks that the training generator at alpha 0 / 1 (and in
// between) equals the inference generator's progressive output, and the
// discriminator at alpha 0 / 1 equals the lower / higher resolution D.
func TestFadeIn(t *testing.T) {
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range tr.GP.List { // break the zero initialisations
		for i := range p.Raw {
			p.Raw[i] += float32(0.1 * r.NormFloat64())
		}
		p.SyncEff()
	}
	for i, p := range tr.GP.List {
		copy(tr.EMA[i], p.Eff.Data().([]float32))
	}
	const B, step = 4, 2
	s, in, err := buildGFwd(tensor.Float32, tr.Cfg, tr.GP, B, step, true)
	if err != nil {
		t.Fatal(err)
	}
	fillUnmixed(in, r)
	gen, err := tr.Export(step).Generator()
	if err != nil {
		t.Fatal(err)
	}
	sin := generatorInputs(t, gen, in, B)
	for _, alpha := range []float64{0, 0.37, 1} {
		copyFill(in.Alpha, alpha)
		if err := s.run(); err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(in.Img.Value().Data().([]float32))
		s.done()
		want, _, err := gen.Synthesis(sin, model.Options{Step: step, Alpha: alpha, Full: true})
		if err != nil {
			t.Fatal(err)
		}
		if alpha == 0 { // the 8 px output, nearest-upsampled
			lo, _, err := gen.Synthesis(sin, model.Options{Step: step - 1, Alpha: -1, Full: true})
			if err != nil {
				t.Fatal(err)
			}
			up := make([]float32, len(want))
			for p := 0; p < B*3; p++ {
				for y := 0; y < 16; y++ {
					for x := 0; x < 16; x++ {
						up[p*256+y*16+x] = lo[p*64+(y/2)*8+x/2]
					}
				}
			}
			want = up
		}
		if d := maxDiff(got, want); d > 1e-4 {
			t.Errorf("G at alpha %g differs from the inference generator by %g", alpha, d)
		}
	}

	// D: alpha 1 = the 16 px D, alpha 0 = the 8 px D of the downsampled image
	dFade, err := buildDStep(tensor.Float32, tr.Cfg.Channels, tr.DP, nil, B, step, true, false, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	dHi, err := buildDStep(tensor.Float32, tr.Cfg.Channels, tr.DP, nil, B, step, false, false, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	dLo, err := buildDStep(tensor.Float32, tr.Cfg.Channels, tr.DP, nil, B, step-1, false, false, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.DP.List {
		for i := range p.Raw {
			p.Raw[i] += float32(0.1 * r.NormFloat64())
		}
		p.SyncEff()
	}
	fillNormal(dFade.real, r, 0.5)
	fillNormal(dFade.fake, r, 0.5)
	copy(f32(dHi.real), f32(dFade.real))
	copy(f32(dHi.fake), f32(dFade.fake))
	down := func(dst, src []float32) {
		for p := 0; p < B*3; p++ {
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					o := p*256 + 2*y*16 + 2*x
					dst[p*64+y*8+x] = (src[o] + src[o+1] + src[o+16] + src[o+17]) / 4
				}
			}
		}
	}
	down(f32(dLo.real), f32(dFade.real))
	down(f32(dLo.fake), f32(dFade.fake))
	logits := func(g *dGraph) []float32 {
		if err := g.run(); err != nil {
			t.Fatal(err)
		}
		defer g.done()
		return append(slices.Clone(g.realLogits.Value().Data().([]float32)), g.fakeLogits.Value().Data().([]float32)...)
	}
	for _, c := range []struct {
		alpha float64
		ref   *dGraph
	}{{1, dHi}, {0, dLo}} {
		copyFill(dFade.alpha.Alpha, c.alpha)
		if d := maxDiff(logits(dFade), logits(c.ref)); d > 1e-4 {
			t.Errorf("D at alpha %g differs from the plain D by %g", c.alpha, d)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestDStepsLowerLoss: repeated D steps on one fixed batch lower the D
// loss, with channels shared by G and D and with D's own.
func TestDStepsLowerLoss(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) { testDStepsLowerLoss(t, c.opt()) })
	}
}

func testDStepsLowerLoss(t *testing.T, opt Options) {
	opt.LR = 0.002
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildDStep(tensor.Float32, opt.Arch.DiscChannels(), tr.DP, nil, 8, 1, false, false, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	fillNormal(g.real, r, 0.5)
	fillNormal(g.fake, r, 0.5)
	for i := range f32(g.fake) {
		f32(g.fake)[i] += 0.3
	}
	var first, last float64
	for i := 0; i < 10; i++ {
		if err := g.run(); err != nil {
			t.Fatal(err)
		}
		last = scalar(g.loss)
		if i == 0 {
			first = last
		}
		tr.DAdam.Step(g.wrt, g.gradData())
		g.done()
	}
	t.Logf("D loss %.4f -> %.4f", first, last)
	if !(last < first-0.01) {
		t.Errorf("10 D steps on a fixed batch: loss %.4f -> %.4f, want lower", first, last)
	}
}

// TestGStepsLowerLoss: G steps against a fixed D on fixed latents lower the G loss.
func TestGStepsLowerLoss(t *testing.T) {
	opt := tinyOptions()
	opt.LR = 0.002
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	s, in, _, _, err := buildGStep(tensor.Float32, tr.Cfg, tr.Opt.Arch.DiscChannels(), tr.GP, tr.DP, nil, 8, 1, false, false)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	fillNormal(in.Z, r, 1)
	for _, n := range in.Noise {
		fillNormal(n, r, 1)
	}
	fillMix(in, r, tr.Cfg.WDim)
	var first, last float64
	for i := 0; i < 10; i++ {
		if err := s.run(); err != nil {
			t.Fatal(err)
		}
		last = scalar(s.loss)
		if i == 0 {
			first = last
		}
		tr.GAdam.Step(s.wrt, s.gradData())
		s.done()
	}
	t.Logf("G loss %.4f -> %.4f", first, last)
	if !(last < first-0.005) {
		t.Errorf("10 G steps on fixed latents: loss %.4f -> %.4f, want lower", first, last)
	}
}

// TestResumeExact: N steps, save, load, N more steps equals 2N steps
// bitwise, across a phase change with a fade-in and the R1 steps, with
// channels shared by G and D and with D's own.
func TestResumeExact(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) { testResumeExact(t, c.opt()) })
	}
	t.Run("featureD", func(t *testing.T) {
		o := tinyOptions()
		o.FeatureD = &FeatureDOptions{Weight: 0.5, Taps: []int{2, 4}, HeadChannels: 4, FromRes: 8}
		testResumeExact(t, o)
	})
}

func testResumeExact(t *testing.T, opt Options) {
	run := func(tr *Trainer, n int) {
		for i := 0; i < n; i++ {
			if err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	run(a, 10)
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	run(b, 5)
	path := filepath.Join(t.TempDir(), StateFile)
	if err := b.SaveState(path, time.Second); err != nil {
		t.Fatal(err)
	}
	b.Close()
	c, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !slices.Equal(c.Opt.Arch.DChannels, opt.Arch.DChannels) {
		t.Fatalf("D channels %v after resume, saved %v", c.Opt.Arch.DChannels, opt.Arch.DChannels)
	}
	run(c, 5)
	if a.Images != c.Images || a.Iter != c.Iter || a.DataPos != c.DataPos || a.GAdam.T != c.GAdam.T || a.DAdam.T != c.DAdam.T {
		t.Fatalf("counters differ: %d/%d/%d vs %d/%d/%d", a.Images, a.Iter, a.DataPos, c.Images, c.Iter, c.DataPos)
	}
	as, cs := a.trainedSets(), c.trainedSets()
	if len(as) != len(cs) || a.FAdam.T != c.FAdam.T {
		t.Fatalf("%d trained sets after resume, %d before; feature D Adam step %d vs %d", len(cs), len(as), c.FAdam.T, a.FAdam.T)
	}
	for k, set := range as {
		for i, p := range set.ps.List {
			q := cs[k].ps.List[i]
			if !slices.Equal(p.Raw, q.Raw) || !slices.Equal(p.V, q.V) {
				t.Errorf("%s differs after resume", p.Name)
			}
		}
	}
	for i := range a.EMA {
		if !slices.Equal(a.EMA[i], c.EMA[i]) {
			t.Errorf("EMA of %s differs after resume", a.GP.List[i].Name)
		}
	}
	if !slices.Equal(a.WAvg, c.WAvg) {
		t.Error("w_avg differs after resume")
	}
	if a.Last != c.Last {
		t.Errorf("last stats differ: %+v vs %+v", a.Last, c.Last)
	}
}

// TestDChannels: D's parameters follow DChannels and G's Channels; empty
// DChannels is D with G's channels, drawn as before; bad D channels are
// refused; the saved options hold DChannels only when set, so states saved
// before the field existed have the same options.
func TestDChannels(t *testing.T) {
	opt := tinyOptionsD()
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	dch, gch := opt.Arch.DChannels, opt.Arch.Channels
	want := map[string][]int{
		dName("final.conv.weight"):   {dch[0], dch[0] + 1, 3, 3},
		dName("final.dense0.weight"): {dch[0] * 16, dch[0]},
		dName("final.dense1.weight"): {dch[0], 1},
		constName:                    {1, gch[0] * 16},
		layerName(5, "conv"):         {gch[2], gch[2], 3, 3},
	}
	for b, c := range dch {
		want[dName("fromrgb%d.weight", b)] = []int{c, 3, 1, 1}
		if b > 0 {
			want[dName("block%d.conv0.weight", b)] = []int{c, c, 3, 3}
			want[dName("block%d.conv1.weight", b)] = []int{dch[b-1], c, 3, 3}
			want[dName("block%d.conv1.bias", b)] = []int{dch[b-1]}
		}
		want[torgbName(b, "weight")] = []int{3, gch[b], 1, 1}
	}
	for name, shape := range want {
		set := tr.GP
		if strings.HasPrefix(name, "d.") {
			set = tr.DP
		}
		if got := set.P(name).Shape; !slices.Equal(got, shape) {
			t.Errorf("%s: shape %v, want %v", name, got, shape)
		}
	}

	// DChannels equal to Channels draws the same D as no DChannels.
	a, b := tinyOptions(), tinyOptions()
	b.Arch.DChannels = slices.Clone(b.Arch.Channels)
	ta, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][2]*ParamSet{{ta.GP, tb.GP}, {ta.DP, tb.DP}} {
		for i, p := range set[0].List {
			if q := set[1].List[i]; p.Name != q.Name || !slices.Equal(p.Raw, q.Raw) {
				t.Errorf("%s: explicit D channels equal to G's draw another parameter", p.Name)
			}
		}
	}

	for _, c := range []struct {
		d    []int
		want string
	}{
		{[]int{16, 16}, "2 D channel blocks"},
		{[]int{16, 16, 8, 8}, "4 D channel blocks"},
		{[]int{16, 0, 8}, "D block 1 (8px) has 0 channels, want 1..8192"},
		{[]int{16, 16, -3}, "D block 2 (16px) has -3 channels"},
		{[]int{9000, 16, 8}, "D block 0 (4px) has 9000 channels"},
	} {
		o := tinyOptionsD()
		o.Arch.DChannels = c.d
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("D channels %v: error %v, want %q", c.d, err, c.want)
		}
	}

	// The saved options: without DChannels, the JSON of the Arch before the
	// field existed; with them, they round-trip (TestResumeExact resumes both).
	options := func(opt Options) string {
		tr, err := New(opt)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), StateFile)
		if err := tr.SaveState(path, 0); err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return f.Metadata["options"]
	}
	var saved struct{ Arch json.RawMessage }
	if err := json.Unmarshal([]byte(options(tinyOptions())), &saved); err != nil {
		t.Fatal(err)
	}
	a0 := tinyOptions().Arch
	old, _ := json.Marshal(struct { // Arch before DChannels
		ZDim, WDim    int
		MappingLayers int
		LRMul         float64
		Channels      []int
	}{a0.ZDim, a0.WDim, a0.MappingLayers, a0.LRMul, a0.Channels})
	if string(saved.Arch) != string(old) {
		t.Errorf("saved Arch without D channels %s, want the old options %s", saved.Arch, old)
	}
	var back Options
	if err := json.Unmarshal([]byte(options(tinyOptionsD())), &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Arch.DChannels, dch) || !slices.Equal(back.Arch.Channels, gch) {
		t.Errorf("saved arch %+v, want G %v D %v", back.Arch, gch, dch)
	}
}

// TestFadeExport: an EMA export taken mid fade-in is the new resolution
// with the current alpha, and after Save and checkpoints.Load renders what
// the trainer's own generator graph does at that alpha; exports outside a
// fade (and at alpha 0, the previous resolution) have no fade.
func TestFadeExport(t *testing.T) {
	tr, err := New(tinyOptions()) // 8 px for 16 images, then 16 images of 16 px fade-in
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	r := rand.New(rand.NewPCG(7, 8))
	for _, p := range tr.GP.List { // break the zero initialisations
		for i := range p.Raw {
			p.Raw[i] += float32(0.1 * r.NormFloat64())
		}
		p.SyncEff()
	}
	for i, p := range tr.GP.List { // the EMA is the trained generator
		copy(tr.EMA[i], p.Eff.Data().([]float32))
	}
	dir := t.TempDir()
	export := func(images int64) *checkpoints.Checkpoint {
		t.Helper()
		tr.Images = images
		path := filepath.Join(dir, fmt.Sprintf("ema-%d.safetensors", images))
		if err := checkpoints.Save(path, tr.Export(-1)); err != nil {
			t.Fatal(err)
		}
		m, err := checkpoints.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		images int64
		res    int
	}{{8, 8}, {16, 8}, {32, 16}, {1000, 16}} { // stable 8 px, alpha 0, stable 16 px
		if m := export(c.images); m.Cfg.Resolution() != c.res || m.Cfg.FadeAlpha != 0 {
			t.Errorf("export at %d images: %dpx fade %g, want %dpx without a fade", c.images, m.Cfg.Resolution(), m.Cfg.FadeAlpha, c.res)
		}
	}

	const images, B, step = 22, 4, 2
	m := export(images)
	pos := tr.Position()
	if !pos.Fade || pos.Alpha != 6.0/16 {
		t.Fatalf("at %d images: %+v, want the fade-in at alpha 6/16", images, pos)
	}
	if m.Cfg.Resolution() != 16 || m.Cfg.FadeAlpha != pos.Alpha || !strings.Contains(m.Provenance, "fading in at alpha 0.3750") {
		t.Fatalf("mid-fade export: %dpx fade %g (%s), want 16px fade %g", m.Cfg.Resolution(), m.Cfg.FadeAlpha, m.Provenance, pos.Alpha)
	}
	gen, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	s, in, err := buildGFwd(tensor.Float32, tr.Cfg, tr.GP, B, step, true)
	if err != nil {
		t.Fatal(err)
	}
	fillUnmixed(in, r)
	copyFill(in.Alpha, pos.Alpha)
	if err := s.run(); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(in.Img.Value().Data().([]float32))
	s.done()
	sin := generatorInputs(t, gen, in, B)
	want, _, err := gen.Synthesis(sin, model.Options{Step: -1, Alpha: -1, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got, want); d > 1e-4 {
		t.Errorf("the mid-fade export differs from the trainer's generator at alpha %g by %g", pos.Alpha, d)
	}
	unblended, _, _ := gen.Synthesis(sin, model.Options{Step: -1, Alpha: 1, Full: true})
	if d := maxDiff(got, unblended); d < 1e-3 {
		t.Errorf("the trainer's faded output is the unblended 16 px one (%g): the test checks nothing", d)
	}
}

// TestCheckpointRenders: the EMA generator written mid-training (during a
// fade-in: the new resolution with its fade) loads with checkpoints.Load
// and renders.
func TestCheckpointRenders(t *testing.T) {
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	dir := t.TempDir()
	err = tr.Run(context.Background(), RunConfig{Out: dir, Cadence: Cadence{CheckpointEvery: 8}, MaxImages: 24, LogEvery: time.Hour, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	m, err := checkpoints.Load(filepath.Join(dir, EMAFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Cfg.Resolution() != 16 || m.Cfg.FadeAlpha != 0.5 { // at 24 images the 16 px block is half faded in
		t.Errorf("exported %dpx fade %g during the 16 px fade-in, want 16px fade 0.5", m.Cfg.Resolution(), m.Cfg.FadeAlpha)
	}
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	st := g.NewState()
	st.A = latent.Source{Seed: 3}
	img, _, err := g.Render(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 16 {
		t.Errorf("rendered %v", b)
	}
	if _, err := LoadState(filepath.Join(dir, StateFile)); err != nil {
		t.Error(err)
	}
}

func TestSchedule(t *testing.T) {
	sc, err := ParseSchedule(DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	if sc.String() != DefaultSchedule {
		t.Errorf("round trip: %s", sc)
	}
	i, fade, alpha, in, ok := sc.At(300000 + 12500)
	if i != 1 || !fade || alpha != 0.25 || in != 12500 || !ok {
		t.Errorf("At: %d %v %g %d %v", i, fade, alpha, in, ok)
	}
	for _, bad := range []string{"8:10+0@32", "8:0+1@32,32:0+1@16", "8:0+inf@32,16:0+1@32", "8:0+1@6"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDivergenceKeepsCheckpoint: a NaN loss stops Run with ErrDiverged and
// leaves the last checkpoint as it was.
func TestDivergenceKeepsCheckpoint(t *testing.T) {
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	dir := t.TempDir()
	if err := tr.Run(context.Background(), RunConfig{Out: dir, Cadence: Cadence{CheckpointEvery: 8}, MaxImages: 8, LogEvery: time.Hour, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	p := tr.DP.P(dName("final.dense1.bias"))
	p.Raw[0] = float32(math.NaN())
	p.SyncEff()
	err = tr.Run(context.Background(), RunConfig{Out: dir, Cadence: Cadence{CheckpointEvery: 4}, MaxImages: 32, LogEvery: time.Hour, Log: io.Discard})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Run with a NaN weight: %v, want ErrDiverged", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the checkpoint changed after divergence")
	}
}

// TestInterruptWritesCheckpoint: a cancelled context (SIGINT/SIGTERM in
// the CLI) writes a checkpoint and returns nil.
func TestInterruptWritesCheckpoint(t *testing.T) {
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	run := func(ctx context.Context, dir string) {
		if err := tr.Run(ctx, RunConfig{Out: dir, LogEvery: time.Hour, Log: io.Discard, MaxImages: 12}); err != nil {
			t.Fatal(err)
		}
	}
	run(context.Background(), t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	run(ctx, dir)
	s, err := LoadState(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != tr.Images {
		t.Errorf("state at %d images, trainer at %d", s.Images, tr.Images)
	}
}

// TestFadeReals: during a fade-in D sees reals blended like the fakes:
// alpha 0 gives the half-resolution reals, nearest-upsampled (so D at alpha
// 0 is exactly the lower-resolution D on the lower-resolution reals, see
// TestFadeIn), alpha 1 the reals themselves, linear in between; and Step
// feeds D the blended reals.
func TestFadeReals(t *testing.T) {
	d := newDataset(3, 8)
	defer d.close()
	const B = 2
	hi := make([]float32, B*3*16*16)
	lo := make([]float32, B*3*8*8)
	d.fill(hi, 0, B, 16)
	d.fill(lo, 0, B, 8)
	up := make([]float32, len(hi))
	for p := 0; p < B*3; p++ {
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				up[p*256+y*16+x] = lo[p*64+(y/2)*8+x/2]
			}
		}
	}
	for _, alpha := range []float64{0, 0.37, 1} {
		x := slices.Clone(hi)
		fadeReals(x, 16, alpha)
		want := make([]float32, len(hi))
		for i := range want {
			want[i] = up[i] + float32(alpha)*(hi[i]-up[i])
		}
		if m := maxDiff(x, want); m > 1e-6 {
			t.Errorf("alpha %g: reals differ from lerp(up2(down2(x)), x, alpha) by %g", alpha, m)
		}
	}
	if maxDiff(hi, up) < 0.05 {
		t.Fatal("the 16 px reals are already blocky; the test cannot tell a blend")
	}

	// Step at the start of the fade-in (alpha 0): D's reals are the 8 px
	// reals, nearest-upsampled.
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for !tr.Position().Fade {
		if err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if a := tr.Position().Alpha; a != 0 {
		t.Fatalf("fade starts at alpha %g", a)
	}
	first := tr.DataPos
	if err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	ph := tr.graphs
	real := f32(ph.d.real)
	if ph.dR1 != nil && (tr.Iter-1)%int64(tr.Opt.R1Every) == 0 {
		real = f32(ph.dR1.real)
	}
	n := ph.B
	lo = make([]float32, n*3*8*8)
	tr.data.fill(lo, first, n, 8)
	up = make([]float32, n*3*16*16)
	for p := 0; p < n*3; p++ {
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				up[p*256+y*16+x] = lo[p*64+(y/2)*8+x/2]
			}
		}
	}
	if m := maxDiff(real, up); m > 1e-6 {
		t.Errorf("D's reals at alpha 0 differ from the 8 px reals upsampled by %g", m)
	}
}

// fillUnmixed draws z and the noise maps of a generator graph's inputs and
// takes every style slot from w1 (no style mixing).
func fillUnmixed(in *gInputs, r *rand.Rand) {
	fillNormal(in.Z, r, 1)
	for _, n := range in.Noise {
		fillNormal(n, r, 1)
	}
	for _, m := range in.Mix {
		copyFill(m, 1)
	}
}

// generatorInputs are a training graph's inputs (z through gen's mapping,
// one w for every layer, the same noise) for model.Generator's synthesis.
func generatorInputs(t *testing.T, gen *model.Generator, in *gInputs, B int) model.SynthesisInput {
	t.Helper()
	w, err := gen.Mapping(f32(in.Z)[:B*gen.Cfg.ZDim], B)
	if err != nil {
		t.Fatal(err)
	}
	sin := model.SynthesisInput{B: B}
	for i := 0; i < gen.Cfg.NumLayers(); i++ {
		sin.W = append(sin.W, w)
		sin.Noise = append(sin.Noise, f32(in.Noise[i]))
	}
	return sin
}

// TestDLowpass: with Options.LowpassRes the pixel D sees only the 2x2
// averages of its input, so a change with zero mean in every 2x2 block
// (the phase's top octave) cannot move its logits; without it, it does.
// The lowpass D step's gradients are checked too.
func TestDLowpass(t *testing.T) {
	tr, err := New(tinyOptionsD())
	if err != nil {
		t.Fatal(err)
	}
	dp := tr.DP.As64()
	ch := tr.Opt.Arch.DiscChannels()
	const B, step = 4, 2
	r := rand.New(rand.NewPCG(7, 8))
	logits := func(lowpass bool) (real, fake float64) {
		g, err := buildDStep(tensor.Float64, ch, dp, nil, B, step, false, lowpass, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		fillNormal(g.real, rand.New(rand.NewPCG(9, 10)), 0.5)
		x, y := g.real.Data().([]float64), g.fake.Data().([]float64)
		res := model.BlockRes(step)
		for i := range y { // + - / - + in every 2x2 block
			row, col := i/res%res, i%res
			s := 0.3
			if (row+col)%2 == 1 {
				s = -0.3
			}
			y[i] = x[i] + s
		}
		if err := g.run(); err != nil {
			t.Fatal(err)
		}
		defer g.done()
		return scalar(g.realMean), scalar(g.fakeMean)
	}
	if a, b := logits(true); math.Abs(a-b) > 1e-12 {
		t.Errorf("lowpass D: mean logit %.15g on x, %.15g on x plus a zero-mean 2x2 pattern", a, b)
	}
	if a, b := logits(false); math.Abs(a-b) < 1e-6 {
		t.Errorf("plain D: mean logit %.15g on x, %.15g with the pattern: the test pattern does not reach D", a, b)
	}
	g, err := buildDStep(tensor.Float64, ch, dp, nil, B, step, true, true, 2.5, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	fillNormal(g.real, r, 0.5)
	fillNormal(g.fake, r, 0.5)
	rp := g.realP.Data().([]float64)
	copy(rp, g.real.Data().([]float64))
	for i := range rp {
		rp[i] += 0.05 * r.NormFloat64()
	}
	copyFill(g.alpha.Alpha, 0.3)
	gradCheck(t, &g.stepGraph, r)
}

// TestMixCrossovers: with MixProb 1 every image mixes; one crossover gives
// w1 on slots [0,c) and w2 after it, two give w2 on an inner run [c,b)
// and w1 on both sides, with every pair of crossovers drawn.
func TestMixCrossovers(t *testing.T) {
	const B, L = 256, 6
	for _, n := range []int{1, 2} {
		opt := tinyOptions()
		opt.MixProb, opt.MixCrossovers = 1, n
		seen := map[string]bool{}
		for b, s := range drawMasks(t, opt, B, L) {
			// w1 first, then a run of w2, then (two crossovers) w1 again
			parts := strings.FieldsFunc(s, func(r rune) bool { return r == '0' })
			if !strings.HasPrefix(s, "1") || !strings.Contains(s, "0") || len(parts) != n {
				t.Errorf("%d crossovers: image %d mask %s", n, b, s)
			}
			seen[s] = true
		}
		if want := map[int]int{1: L - 1, 2: (L - 1) * (L - 2) / 2}[n]; len(seen) != want {
			t.Errorf("%d crossovers: %d distinct masks in %d images, want %d", n, len(seen), B, want)
		}
	}
}

// drawMasks draws the style-mixing masks of B images with L style slots
// under opt: per image, '1' for a slot from w1 and '0' for one from w2.
func drawMasks(t *testing.T, opt Options, B, L int) []string {
	t.Helper()
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	W := tr.Cfg.WDim
	in := &gInputs{B: B, Z: tensor.New(tensor.WithShape(2*B, tr.Cfg.ZDim), tensor.Of(tensor.Float32))}
	for i := 0; i < L; i++ {
		in.Mix = append(in.Mix, tensor.New(tensor.WithShape(B, W), tensor.Of(tensor.Float32)))
	}
	tr.fillLatents(in, 1)
	masks := make([]string, B)
	for b := range masks {
		var mask []byte
		for _, m := range in.Mix {
			row := f32(m)[b*W : (b+1)*W]
			if slices.Min(row) != slices.Max(row) {
				t.Fatalf("image %d has a mixed row %v", b, row)
			}
			mask = append(mask, '0'+byte(row[0]))
		}
		masks[b] = string(mask)
	}
	return masks
}

// TestMixCuts: with MixCuts the crossovers fall only on the given slots,
// every allowed mask is drawn, a phase without a cut inside it does not
// mix, and invalid mixing (or R1, EMA) options are refused by New.
func TestMixCuts(t *testing.T) {
	const B = 256
	for _, c := range []struct {
		crossovers int
		cuts       []int
		L          int
		want       []string
	}{
		{1, []int{2, 4}, 6, []string{"110000", "111100"}},
		{2, []int{2, 4}, 6, []string{"110011"}},
		{2, []int{1, 3, 5}, 6, []string{"100111", "100001", "111001"}},
		{1, []int{4, 8}, 6, []string{"111100"}},
		{2, []int{4, 8}, 6, []string{"111100"}}, // one cut inside: one crossover
		{1, []int{4, 8}, 4, []string{"1111"}},   // none inside: no mixing
	} {
		opt := tinyOptions()
		opt.MixProb, opt.MixCrossovers, opt.MixCuts = 1, c.crossovers, c.cuts
		seen := map[string]bool{}
		for _, m := range drawMasks(t, opt, B, c.L) {
			seen[m] = true
		}
		got := slices.Sorted(maps.Keys(seen))
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%d crossovers at %v, %d slots: masks %v, want %v", c.crossovers, c.cuts, c.L, got, c.want)
		}
	}
	for _, bad := range []func(*Options){
		func(o *Options) { o.MixCuts = []int{4, 4} },
		func(o *Options) { o.MixCuts = []int{0, 4} },
		func(o *Options) { o.MixCrossovers = 3 },
		func(o *Options) { o.MixProb = 1.5 },
		func(o *Options) { o.R1Gamma = -1 },
		func(o *Options) { o.R1Every = 0 },
		func(o *Options) { o.EMAHalfLife = -1 },
	} {
		opt := tinyOptions()
		bad(&opt)
		if tr, err := New(opt); err == nil {
			tr.Close()
			t.Errorf("New accepted options %+v", opt)
		}
	}
}

// TestLoadOlderOptions: a state whose options an older binary accepted and
// today's checks refuse (R1 every 0, a negative EMA half-life, a mixing
// probability of 1.5) still resumes, with the values that train the same
// way; a state no binary could train names its file.
func TestLoadOlderOptions(t *testing.T) {
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), StateFile)
	if err := tr.SaveState(path, 0); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	rewrite := func(edit func(*Options)) {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var o Options
		if err := json.Unmarshal([]byte(f.Metadata["options"]), &o); err != nil {
			t.Fatal(err)
		}
		edit(&o)
		b, _ := json.Marshal(o)
		f.Metadata["options"] = string(b)
		if err := safetensors.WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(func(o *Options) { o.R1Every, o.EMAHalfLife, o.MixProb, o.MixCrossovers = 0, -1, 1.5, 3 })
	old, err := LoadState(path)
	if err != nil {
		t.Fatalf("a state of an older binary: %v", err)
	}
	if o := old.Opt; o.R1Gamma != 0 || o.R1Every != 1 || o.EMAHalfLife != 0 || o.MixProb != 1 || o.MixCrossovers != 0 {
		t.Errorf("older options loaded as R1 %v every %d, EMA %v, mix %v ×%d; want 0, 1, 0, 1, 0", o.R1Gamma, o.R1Every, o.EMAHalfLife, o.MixProb, o.MixCrossovers)
	}
	old.Close()
	rewrite(func(o *Options) { o.DataPool = 0 })
	if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "data pool 0") {
		t.Errorf("a state with data pool 0: %v, want an error naming the file and the pool", err)
	}
}
