package metrics

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"testing"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/model/toyfaces"
)

// hashClassifier labels every factor of an image by a hash of its pixels:
// a deterministic function of the image under which any pixel change gives
// new labels. Its features are the image's channel means.
type hashClassifier struct{ calls int }

func (h *hashClassifier) Classify(x []float32, batch, res int) (*Prediction, error) {
	h.calls++
	n := 3 * res * res
	p := &Prediction{}
	for b := 0; b < batch; b++ {
		img := x[b*n : (b+1)*n]
		l := make(toyfaces.Labels, len(toyfaces.Factors))
		for f, fac := range toyfaces.Factors {
			hs := fnv.New64a()
			hs.Write([]byte{byte(f)})
			for _, v := range img {
				q := uint16(math.Round(float64(v+1) * 127.5))
				hs.Write([]byte{byte(q), byte(q >> 8)})
			}
			l[f] = int(hs.Sum64() % uint64(len(fac.Classes)))
		}
		var feat []float32
		for c := 0; c < 3; c++ {
			s := float32(0)
			for _, v := range img[c*res*res : (c+1)*res*res] {
				s += v
			}
			feat = append(feat, s/float32(res*res))
		}
		p.Labels = append(p.Labels, l)
		p.Features = append(p.Features, feat)
	}
	return p, nil
}

// constClassifier gives every image the same labels (long hair, full beard:
// the hole) and the same features.
type constClassifier struct{}

func (constClassifier) Classify(x []float32, batch, res int) (*Prediction, error) {
	p := &Prediction{}
	for range batch {
		l := make(toyfaces.Labels, len(toyfaces.Factors))
		l[toyfaces.FHair], l[toyfaces.FBeard] = 2, 2
		p.Labels = append(p.Labels, l)
		p.Features = append(p.Features, []float32{1, 2})
	}
	return p, nil
}

// tinyGenerator is a 16 px generator with random weights: coarse slots 0-3
// (4 and 8 px), middle slots 4-5 (16 px), no fine slots. With styleOnly
// set, only the coarse layers' styles depend on w (the others' style
// weights are zero), so the image is a function of the coarse styles and
// the noise alone. With quiet set, every noise strength is zero.
func tinyGenerator(t *testing.T, styleOnly string, quiet bool) *model.Generator {
	t.Helper()
	c := &model.Config{Name: "tiny", ZDim: 8, WDim: 8, MappingLayers: 2, Channels: []int{8, 8, 8},
		NormEps: 1e-8, TruncPsi: 0.7, TruncCutoff: 4}
	w := model.RandomWeights(c, 7)
	for i := range w.Layers {
		if styleOnly != "" && latent.GroupOf(c.LayerRes(i)) != styleOnly {
			clear(w.Layers[i].Style.W)
		}
		if quiet {
			clear(w.Layers[i].Noise)
		}
	}
	g, err := model.New(c, w)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var tinyOptions = Options{N: 24, Pairs: 12, NoiseCases: 10, StdLatents: 2, StdDraws: 5, Batch: 8, Seed: 3}

func TestEvaluateMixingWiring(t *testing.T) {
	// Only the coarse styles matter: A with B's coarse styles (same noise)
	// is B's image, so every coarse factor shows B's label (own 1) and no
	// other factor keeps A's (keep 0); A with B's middle styles is A's
	// image (own 0, keep 1).
	g := tinyGenerator(t, "coarse", false)
	var done int
	opt := tinyOptions
	opt.Progress = func(n int) { done += n }
	r, err := Evaluate(context.Background(), g, &hashClassifier{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mixing) != 3 {
		t.Fatalf("%d mixing groups, want 3", len(r.Mixing))
	}
	coarse, middle, fine := r.Mixing[0], r.Mixing[1], r.Mixing[2]
	if !coarse.Present || coarse.Lo != 0 || coarse.Hi != 3 || !middle.Present || middle.Lo != 4 || middle.Hi != 5 || fine.Present {
		t.Fatalf("groups %+v", r.Mixing)
	}
	if coarse.OwnCases == 0 || coarse.KeepCases == 0 || middle.OwnCases == 0 || middle.KeepCases == 0 {
		t.Fatalf("no cases: %+v", r.Mixing)
	}
	if coarse.Own() != 1 || coarse.Keep() != 0 {
		t.Errorf("coarse from B: own %g keep %g, want 1 and 0", coarse.Own(), coarse.Keep())
	}
	if middle.Own() != 0 || middle.Keep() != 1 {
		t.Errorf("middle from B: own %g keep %g, want 0 and 1", middle.Own(), middle.Keep())
	}
	// Noise changes pixels, so the hash labels change: hardly any latent
	// keeps all eleven.
	if r.NoiseStay > 0.2 || r.StdMean == 0 || r.StdTop20 < 0.2 || r.StdTop20 > 1 {
		t.Errorf("noise stay %g, std mean %g, top-20%% share %g", r.NoiseStay, r.StdMean, r.StdTop20)
	}
	// Noise makes part of the pixel variance here; toyfaces' stochastic
	// details are subtle (TestStochastic: at most 1.2% mean change), and
	// average out further at 16 px.
	t.Logf("noise share %.4f generated, %.5f real", r.NoiseShare, r.NoiseShareReal)
	if r.NoiseShare <= 0 || r.NoiseShareReal <= 0 || r.NoiseShareReal > 0.01 {
		t.Errorf("noise share %g generated, %g real; want > 0 and in (0, 0.01]", r.NoiseShare, r.NoiseShareReal)
	}
	if w := Work(g.Cfg, opt); done != w {
		t.Errorf("progress counted %d images, Work says %d", done, w)
	}
	if len(r.StdCells) != 2 || len(r.StdCells[0]) != 4 || r.StdCells[0][3].Bounds().Dx() != 16 {
		t.Errorf("std figure cells %v", r.StdCells)
	}
	if len(r.Checks()) != len(toyfaces.Factors)+1+4+1 {
		t.Errorf("%d checks, want TV per factor, hole, own/keep for 2 groups, noise", len(r.Checks()))
	}
}

func TestEvaluateQuietNoise(t *testing.T) {
	// No noise strength: resampling noise changes nothing.
	g := tinyGenerator(t, "", true)
	r, err := Evaluate(context.Background(), g, &hashClassifier{}, tinyOptions)
	if err != nil {
		t.Fatal(err)
	}
	if r.NoiseStay != 1 || r.StdMean != 0 || r.StdTop20 != 0 || r.StdScale != 0 || r.NoiseShare != 0 {
		t.Errorf("noise stay %g, std mean %g, top share %g, scale %g, noise share %g; want 1, 0, 0, 0, 0",
			r.NoiseStay, r.StdMean, r.StdTop20, r.StdScale, r.NoiseShare)
	}
	for f, s := range r.NoiseFactorStay {
		if s != 1 {
			t.Errorf("%s stays %g", toyfaces.Factors[f].Name, s)
		}
	}
}

// TestEvaluateNoiseOff: with every noise input off, a generator that uses
// its noise measures like one without noise strength.
func TestEvaluateNoiseOff(t *testing.T) {
	g := tinyGenerator(t, "coarse", false)
	opt := tinyOptions
	opt.NoiseOff = make([]bool, g.Cfg.NumNoise())
	for j := range opt.NoiseOff {
		opt.NoiseOff[j] = true
	}
	r, err := Evaluate(context.Background(), g, &hashClassifier{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.NoiseStay != 1 || r.StdMean != 0 || r.NoiseShare != 0 || len(r.NoiseOff) != g.Cfg.NumNoise() {
		t.Errorf("noise stay %g, std mean %g, noise share %g, off %v; want 1, 0, 0, every input", r.NoiseStay, r.StdMean, r.NoiseShare, r.NoiseOff)
	}
	var b strings.Builder
	r.WriteText(&b, g.Cfg)
	if !strings.HasPrefix(b.String(), "Noise inputs 0, 1, ") {
		t.Errorf("report starts %q", b.String()[:60])
	}
	opt.NoiseOff = append(opt.NoiseOff, true)
	if _, err := Evaluate(context.Background(), g, &hashClassifier{}, opt); err == nil || !strings.Contains(err.Error(), "noise inputs") {
		t.Errorf("one input too many: %v", err)
	}
}

func TestEvaluateConstClassifier(t *testing.T) {
	// Equal labels and features everywhere: no distance, every image in the
	// hole, and the classifier's accuracy on the real images is the share
	// of real images with those labels.
	g := tinyGenerator(t, "", false)
	opt := tinyOptions
	rs, err := NewRealSet(context.Background(), constClassifier{}, 16, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Real = rs
	r, err := Evaluate(context.Background(), g, constClassifier{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.TVMax != 0 || r.TVMean != 0 || r.FDGen != 0 || r.FDReal != 0 || r.Hole != 1 || r.HoleReal != 1 {
		t.Errorf("TV %g/%g, FD %g/%g, hole %g/%g", r.TVMean, r.TVMax, r.FDGen, r.FDReal, r.Hole, r.HoleReal)
	}
	hair := Histogram(rs.Truth[0], toyfaces.FHair)[2]
	if got := r.Factors[toyfaces.FHair].Accuracy; !near(got, hair, 1e-12) {
		t.Errorf("hair accuracy %g, want the real share of long hair %g", got, hair)
	}
	// The real sets are disjoint toyfaces images at the model's size.
	if len(rs.Truth[0]) != opt.N || len(rs.Truth[1]) != opt.N {
		t.Errorf("real sets of %d and %d images, want %d", len(rs.Truth[0]), len(rs.Truth[1]), opt.N)
	}
	// A real set of the wrong size is refused.
	opt.N++
	if _, err := Evaluate(context.Background(), g, constClassifier{}, opt); err == nil {
		t.Error("real set of another N: no error")
	}
}

func TestEvaluateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, tinyGenerator(t, "", false), constClassifier{}, tinyOptions); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestPixelStats(t *testing.T) {
	// Two 1x1 images: channel values 0 and 2 (variance 1), 1 and 1 (0), -1
	// and 3 (4): the per-pixel variance summed over channels is 5.
	var st pixelStats
	st.add([]float32{0, 1, -1}, 1)
	st.add([]float32{2, 1, 3}, 1)
	if v := st.variance(1); len(v) != 1 || math.Abs(v[0]-5) > 1e-12 {
		t.Errorf("variance %v, want [5]", v)
	}
	if m := mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("mean %g, want 3", m)
	}
}

func TestWriteCurveNoiseShare(t *testing.T) {
	var b strings.Builder
	WriteCurve(&b, []CurvePoint{{Images: 1100000, Report: &Report{Resolution: 64, NoiseShare: 0.074, NoiseShareReal: 0.00071}}})
	if row := strings.Split(b.String(), "\n")[2]; !strings.HasPrefix(row, "| 1.10M | 64 |") || !strings.HasSuffix(row, "| 7.4% / 0.071% |") {
		t.Errorf("row %q", row)
	}
}

// TestWriteCurveSlots: with per-slot mixing, the curve is followed by each
// snapshot's slot table (once written only to the JSON).
func TestWriteCurveSlots(t *testing.T) {
	n := len(toyfaces.Factors)
	hits, cases := make([]int, n), make([]int, n)
	for f := range cases {
		cases[f], hits[f] = 4, f%5 // own f%5/4: .00 .25 .50 .75 1.00
	}
	slots := []SlotMix{{Slot: 0, Res: 4, Hits: hits, Cases: cases}, {Slot: 1, Res: 4, Hits: make([]int, n), Cases: cases}}
	var b strings.Builder
	WriteCurve(&b, []CurvePoint{
		{Images: 100000, Report: &Report{Resolution: 8}},
		{Images: 150000, Report: &Report{Resolution: 8, Slots: slots}},
	})
	out := b.String()
	if strings.Count(out, "Style mixing one slot at a time") != 1 || !strings.Contains(out, "\n150k images (8 px). Style mixing") {
		t.Fatalf("want one slot table, headed by its snapshot:\n%s", out)
	}
	var row0, row1 string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "  0 (4px)"):
			row0 = l
		case strings.HasPrefix(l, "  1 (4px)"):
			row1 = l
		}
	}
	if f := strings.Fields(row0); len(f) != 2+n || f[2] != "0.00" || f[3] != "0.25" || f[6] != "1.00" {
		t.Errorf("slot 0 row %q", row0)
	}
	if f := strings.Fields(row1); len(f) != 2+n || f[3] != "0.00" {
		t.Errorf("slot 1 row %q", row1)
	}
}

// TestEvaluatePerSlot: in a generator where only layer 0's style depends on
// w, slot 0 from B is B's image (every differing factor shows B's label)
// and any other slot from B is A's image (none does).
func TestEvaluatePerSlot(t *testing.T) {
	c := &model.Config{Name: "tiny", ZDim: 8, WDim: 8, MappingLayers: 2, Channels: []int{8, 8, 8},
		NormEps: 1e-8, TruncPsi: 0.7, TruncCutoff: 4}
	w := model.RandomWeights(c, 7)
	for i := range w.Layers {
		if c.StyleSlot(i) != 0 {
			clear(w.Layers[i].Style.W)
		}
	}
	g, err := model.New(c, w)
	if err != nil {
		t.Fatal(err)
	}
	var done int
	opt := tinyOptions
	opt.PerSlot = true
	opt.Progress = func(n int) { done += n }
	r, err := Evaluate(context.Background(), g, &hashClassifier{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Slots) != c.NumStyles() {
		t.Fatalf("%d slot rows, want one per style slot (%d)", len(r.Slots), c.NumStyles())
	}
	for _, s := range r.Slots {
		if s.Res != c.SlotRes(s.Slot) {
			t.Errorf("slot %d at %d px, want %d", s.Slot, s.Res, c.SlotRes(s.Slot))
		}
		for f := range toyfaces.Factors {
			want := 0
			if s.Slot == 0 {
				want = s.Cases[f]
			}
			if s.Cases[f] == 0 || s.Hits[f] != want {
				t.Errorf("slot %d, factor %s: %d of %d show B's label, want %d", s.Slot, toyfaces.Factors[f].Name, s.Hits[f], s.Cases[f], want)
			}
		}
	}
	if w := Work(g.Cfg, opt); done != w {
		t.Errorf("progress counted %d images, Work says %d", done, w)
	}
	var b strings.Builder
	r.WriteText(&b, g.Cfg)
	if !strings.Contains(b.String(), "one slot at a time") || !strings.Contains(b.String(), "5 (16px)") {
		t.Errorf("report has no per-slot table:\n%s", b.String())
	}
}
