package train

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"stylegan-tui/checkpoints"
	"stylegan-tui/model/classifier"
)

// tinyBackbone is a classifier-shaped backbone small enough for float64
// gradient checks: 3→3→4→4 channels at 64, 32, 16, 8 px.
func tinyBackbone(r *rand.Rand) []classifier.Stage {
	var st []classifier.Stage
	in, res := 3, classifier.Size
	for _, c := range []int{3, 4, 4} {
		s := classifier.Stage{In: in, Out: c, Res: res, Pool: true, W: make([]float32, c*in*9), B: make([]float32, c)}
		for i := range s.W {
			s.W[i] = float32(r.NormFloat64() / 3)
		}
		for i := range s.B {
			s.B[i] = float32(0.1 * r.NormFloat64())
		}
		st = append(st, s)
		in, res = c, res/2
	}
	return st
}

// tinyFeatureD is a float64 feature D on tinyBackbone with heads on stages
// 1 and 2, its head biases made non-zero so their gradients matter.
func tinyFeatureD(t *testing.T, r *rand.Rand) *featureD {
	f, err := newFeatureD(FeatureDOptions{Weight: 0.7, Taps: []int{1, 2}, HeadChannels: 3, FromRes: 8}, tinyBackbone(r), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.FH.List {
		for i := range p.Raw {
			p.Raw[i] += float32(0.1 * r.NormFloat64())
		}
		p.SyncEff()
	}
	f.FB, f.FH = f.FB.As64(), f.FH.As64()
	return f
}

// TestFeatureDGradD checks the D step with the feature D (pixel D, heads on
// real and fake, R1, fade-in) against central differences; the step trains
// the heads and never the backbone.
func TestFeatureDGradD(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	f := tinyFeatureD(t, r)
	dp := tr.DP.As64()
	const B = 2
	g, err := buildDStep(tensor.Float64, tr.Opt.Arch.DiscChannels(), dp, f, B, 2, true, false, 2.5, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	fillNormal(g.real, r, 0.5)
	fillNormal(g.fake, r, 0.5)
	copy(g.realP.Data().([]float64), g.real.Data().([]float64))
	copyFill(g.alpha.Alpha, 0.3)
	heads := 0
	for _, p := range g.wrt {
		if f.FB.Has(p.Name) {
			t.Errorf("the D step trains backbone parameter %s", p.Name)
		}
		if f.FH.Has(p.Name) {
			heads++
		}
	}
	if heads != len(f.FH.List) {
		t.Errorf("the D step trains %d of %d head parameters", heads, len(f.FH.List))
	}
	gradCheck(t, &g.stepGraph, r)
}

// TestFeatureDGradG checks the G step with the feature D: G's gradient
// through the frozen backbone (upsampled from 16 px) against central
// differences, with no gradient for the backbone or the heads.
func TestFeatureDGradG(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	f := tinyFeatureD(t, r)
	s, gp := gStepToCheck(t, tr, f, 2, r)
	for _, p := range s.wrt {
		if !gp.Has(p.Name) {
			t.Errorf("the G step trains %s", p.Name)
		}
	}
	gradCheck(t, s, r)
}

// TestFeatureDBackbone: the trainer's backbone graph computes the embedded
// classifier's stage activations (the same net, nearest-upsampled input).
func TestFeatureDBackbone(t *testing.T) {
	net, err := checkpoints.DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultFeatureD()
	f, err := newFeatureD(opt, net.Stages(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	const B, res = 3, 16
	b := newBuilder(tensor.Float32, nil)
	x, xt := b.input("x", B, 3, res, res)
	fillNormal(xt, rand.New(rand.NewPCG(3, 4)), 0.5)
	acts := buildBackbone(b, f, x, res)
	s := &stepGraph{b: b}
	if err := s.compile(newParamSet()); err != nil {
		t.Fatal(err)
	}
	if err := s.run(); err != nil {
		t.Fatal(err)
	}
	defer s.done()
	up := make([]float32, B*3*classifier.Size*classifier.Size)
	classifier.Upsample(up, xt.Data().([]float32), B, res)
	want := net.StageActivations(up, B)
	if len(acts) != opt.Taps[len(opt.Taps)-1]+1 {
		t.Fatalf("%d stages built, want up to the last tap %d", len(acts), opt.Taps[len(opt.Taps)-1])
	}
	for i, a := range acts {
		got := a.Value().Data().([]float32)
		if d := maxDiff(got, want[i]); d > 1e-4 {
			t.Errorf("stage %d: max |graph - classifier| = %g", i, d)
		}
	}
}

// TestFeatureDFrozen: training steps with the feature D move G, D and the
// heads and leave the backbone exactly the classifier's weights.
func TestFeatureDFrozen(t *testing.T) {
	opt := tinyOptions()
	opt.FeatureD = &FeatureDOptions{Weight: 1, Taps: []int{2, 3}, HeadChannels: 4, FromRes: 8}
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	net, err := checkpoints.DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string][]float32{}
	for _, p := range tr.FeatureHeads().List {
		heads[p.Name] = slices.Clone(p.Raw)
	}
	for range 3 {
		if err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if tr.Last.FeatReal == 0 && tr.Last.FeatFake == 0 {
		t.Error("the feature D's logits were not reported")
	}
	for i, s := range net.Stages()[:4] {
		for _, c := range []struct {
			name string
			want []float32
		}{{backboneName(i, "weight"), s.W}, {backboneName(i, "bias"), s.B}} {
			p := tr.FeatureBackbone().P(c.name)
			if !slices.Equal(p.Raw, c.want) || !slices.Equal(p.Eff.Data().([]float32), c.want) {
				t.Errorf("backbone %s changed in training", c.name)
			}
		}
	}
	for _, p := range tr.FeatureHeads().List {
		if slices.Equal(p.Raw, heads[p.Name]) {
			t.Errorf("head %s did not change in training", p.Name)
		}
	}
}

// TestFeatureDOptions: bad options are refused with what was expected, and
// turning the feature D on twice is an error.
func TestFeatureDOptions(t *testing.T) {
	st := tinyBackbone(rand.New(rand.NewPCG(1, 1)))
	for _, o := range []FeatureDOptions{
		{Weight: 0, Taps: []int{1}, HeadChannels: 4, FromRes: 8},
		{Weight: 1, Taps: nil, HeadChannels: 4, FromRes: 8},
		{Weight: 1, Taps: []int{3}, HeadChannels: 4, FromRes: 8},
		{Weight: 1, Taps: []int{2, 1}, HeadChannels: 4, FromRes: 8},
		{Weight: 1, Taps: []int{1}, HeadChannels: 0, FromRes: 8},
		{Weight: 1, Taps: []int{1}, HeadChannels: 4, FromRes: 12},
	} {
		if _, err := newFeatureD(o, st, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	tr, err := New(tinyOptions())
	if err != nil {
		t.Fatal(err)
	}
	o := FeatureDOptions{Weight: 1, Taps: []int{1}, HeadChannels: 4, FromRes: 8}
	if err := tr.EnableFeatureD(o, st); err != nil {
		t.Fatal(err)
	}
	if err := tr.EnableFeatureD(o, st); err == nil {
		t.Error("enabled twice")
	}
}
