package metrics

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// pixelDistance is the mean squared pixel difference, in float64.
type pixelDistance struct{ calls int }

func (p *pixelDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	p.calls++
	m := 3 * res * res
	d := make([]float64, batch)
	for i := range batch {
		for j := range m {
			v := float64(a[i*m+j]) - float64(b[i*m+j])
			d[i] += v * v / float64(m)
		}
	}
	return d, nil
}

var tinyPPL = PPLOptions{Samples: 20, Batch: 8, Seed: 5}

func runPPL(t *testing.T, g *model.Generator, o PPLOptions) *PPLReport {
	t.Helper()
	r, err := PPL(context.Background(), g, &pixelDistance{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// refDistance renders sample i of a measurement the slow, obvious way: one
// image per generator call, mapping and interpolation written out.
func refDistance(t *testing.T, g *model.Generator, o PPLOptions, i int) float64 {
	t.Helper()
	cfg := g.Cfg
	z0 := latent.SeedZ(derive(o.Seed, streamPPLZ0, i), cfg.ZDim)
	z1 := latent.SeedZ(derive(o.Seed, streamPPLZ1, i), cfg.ZDim)
	tt := 0.0
	if o.Sampling != "end" {
		tt = float64(derive(o.Seed, streamPPLT, i)) / (1 << 32)
	}
	mapping := func(z []float32) []float32 {
		w, err := g.Mapping(z, 1)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	img := func(tt float64) []float32 {
		var w []float32
		if o.Space == "w" {
			w = latent.Lerp(mapping(z0), mapping(z1), tt)
		} else {
			w = mapping(latent.Slerp(z0, z1, tt))
		}
		in := model.SynthesisInput{B: 1}
		for range cfg.NumStyles() {
			in.W = append(in.W, w)
		}
		for j := range cfg.NumNoise() {
			rr := cfg.NoiseRes(j)
			in.Noise = append(in.Noise, latent.NoiseMap(derive(o.Seed, streamPPLNoise, i), j, rr, rr))
		}
		x, _, err := g.Synthesis(in, model.Options{Step: -1, Alpha: -1, Full: true})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	d, _ := (&pixelDistance{}).Distance(img(tt), img(tt+o.Epsilon), 1, cfg.Resolution())
	return d[0] / (o.Epsilon * o.Epsilon)
}

// TestPPLReference compares every sample's distance, both spaces and both
// samplings, with refDistance. A large ε keeps float32 rounding, which
// differs between batch sizes, out of the comparison.
func TestPPLReference(t *testing.T) {
	g := tinyGenerator(t, "", false)
	for _, space := range []string{"z", "w"} {
		for _, sampling := range []string{"full", "end"} {
			o := tinyPPL
			o.Samples, o.Space, o.Sampling, o.Epsilon = 10, space, sampling, 1e-2
			var done int
			o.Progress = func(n int) { done += n }
			r := runPPL(t, g, o)
			if len(r.Distances) != o.Samples || done != PPLWork(o) || done != o.Samples {
				t.Fatalf("%s %s: %d distances, progress %d samples, PPLWork %d", space, sampling, len(r.Distances), done, PPLWork(o))
			}
			for i, d := range r.Distances {
				if want := refDistance(t, g, o, i); math.Abs(d-want) > 1e-3*want {
					t.Errorf("%s %s sample %d: %g, reference %g", space, sampling, i, d, want)
				}
			}
			t.Logf("%s %s: PPL %.4g (raw mean %.4g, median %.4g, kept %d)", space, sampling, r.PPL, r.RawMean, r.Median, r.Kept)
			if r.Space != space || r.Sampling != sampling || r.Samples != 10 || r.Epsilon != 1e-2 || r.Resolution != 16 || r.Seed != 5 {
				t.Errorf("report options %+v", r)
			}
		}
	}
}

func TestPPLDeterministic(t *testing.T) {
	g := tinyGenerator(t, "", false)
	for _, space := range []string{"z", "w"} {
		o := tinyPPL
		o.Space = space
		a, b := runPPL(t, g, o), runPPL(t, g, o)
		if a.PPL != b.PPL || a.RawMean != b.RawMean || a.Median != b.Median {
			t.Errorf("%s: same seed, PPL %g and %g", space, a.PPL, b.PPL)
		}
		for i := range a.Distances {
			if a.Distances[i] != b.Distances[i] {
				t.Errorf("%s sample %d: %g and %g", space, i, a.Distances[i], b.Distances[i])
			}
		}
		o.Seed++
		if c := runPPL(t, g, o); c.PPL == a.PPL {
			t.Errorf("%s: seeds 5 and 6 give the same PPL %g", space, a.PPL)
		}
		// The batch size changes how images are grouped, not the samples.
		o.Seed, o.Batch = tinyPPL.Seed, 3
		if c := runPPL(t, g, o); math.Abs(c.PPL-a.PPL) > 1e-3*a.PPL {
			t.Errorf("%s: batch 3 gives PPL %g, batch 8 %g", space, c.PPL, a.PPL)
		}
	}
}

// TestPPLEpsilon checks that d/ε² measures a derivative: for a smooth
// generator halving ε leaves the path length about the same.
func TestPPLEpsilon(t *testing.T) {
	g := tinyGenerator(t, "", false)
	for _, space := range []string{"z", "w"} {
		o := tinyPPL
		o.Space = space
		a := runPPL(t, g, o)
		o.Epsilon = DefaultPPLOptions.Epsilon / 2
		b := runPPL(t, g, o)
		t.Logf("%s: PPL %.5g at ε 1e-4, %.5g at 5e-5", space, a.PPL, b.PPL)
		if a.PPL <= 0 || math.Abs(a.PPL-b.PPL) > 0.02*a.PPL {
			t.Errorf("%s: PPL %g at ε 1e-4, %g at 5e-5: want within 2%%", space, a.PPL, b.PPL)
		}
	}
}

func TestPPLSampling(t *testing.T) {
	g := tinyGenerator(t, "", false)
	for _, space := range []string{"z", "w"} {
		o := tinyPPL
		o.Space = space
		full := runPPL(t, g, o)
		o.Sampling = "end"
		end := runPPL(t, g, o)
		t.Logf("%s: PPL full %.5g, end %.5g", space, full.PPL, end.PPL)
		if full.PPL == end.PPL || end.PPL <= 0 {
			t.Errorf("%s: full %g, end %g: want different positive lengths", space, full.PPL, end.PPL)
		}
	}
}

// TestPPLStyleFree checks the wiring with a generator whose image ignores
// w (every style weight zero) and has no noise: every path has length 0.
func TestPPLStyleFree(t *testing.T) {
	g := tinyGenerator(t, "none", true)
	for _, space := range []string{"z", "w"} {
		o := tinyPPL
		o.Space = space
		if r := runPPL(t, g, o); r.PPL != 0 || r.RawMean != 0 || r.Kept != o.Samples {
			t.Errorf("%s: PPL %g, raw mean %g, kept %d: want 0, 0, %d", space, r.PPL, r.RawMean, r.Kept, o.Samples)
		}
	}
}

func TestPPLSummary(t *testing.T) {
	// 0..199 and an outlier, shuffled: numpy's lower 1st percentile is 2
	// and its higher 99th 198 (sorted indices 2 and 198 of 201).
	r := &PPLReport{Distances: []float64{1e9}}
	for _, v := range rand.New(rand.NewPCG(1, 1)).Perm(200) {
		r.Distances = append(r.Distances, float64(v))
	}
	r.summarise()
	if r.P1 != 2 || r.P99 != 198 || r.Kept != 197 || r.Median != 100 || r.PPL != 100 {
		t.Errorf("p1 %g p99 %g kept %d median %g ppl %g", r.P1, r.P99, r.Kept, r.Median, r.PPL)
	}
	if r.RawMean < 1e6 {
		t.Errorf("raw mean %g: the outlier is in it", r.RawMean)
	}
	r = &PPLReport{Distances: []float64{4, 1, 3, 2}}
	r.summarise()
	if r.P1 != 1 || r.P99 != 4 || r.Kept != 4 || r.Median != 2.5 || r.PPL != 2.5 {
		t.Errorf("four values: %+v", r)
	}
}

func TestPPLCancel(t *testing.T) {
	g := tinyGenerator(t, "", false)
	ctx, cancel := context.WithCancel(context.Background())
	o := tinyPPL
	o.Progress = func(int) { cancel() }
	d := &pixelDistance{}
	if _, err := PPL(ctx, g, d, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if d.calls != 1 {
		t.Errorf("%d distance calls after the cancel, want the batch in flight only", d.calls)
	}
}

type failDistance struct{ short, nan bool }

func (f failDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	switch {
	case f.short:
		return make([]float64, batch-1), nil
	case f.nan:
		d := make([]float64, batch)
		d[2] = math.NaN()
		return d, nil
	}
	return nil, errors.New("no distance at 16 px")
}

func TestPPLBadOptions(t *testing.T) {
	g := tinyGenerator(t, "", false)
	cases := []struct {
		o    PPLOptions
		d    Distance
		want string
	}{
		{PPLOptions{Space: "x"}, &pixelDistance{}, `space "x"`},
		{PPLOptions{Sampling: "middle"}, &pixelDistance{}, `sampling "middle"`},
		{PPLOptions{Samples: -1}, &pixelDistance{}, "samples -1"},
		{PPLOptions{Epsilon: -1e-4}, &pixelDistance{}, "epsilon -0.0001"},
		{PPLOptions{Epsilon: math.NaN()}, &pixelDistance{}, "epsilon NaN"},
		{PPLOptions{Epsilon: math.Inf(1)}, &pixelDistance{}, "epsilon +Inf"},
		{PPLOptions{Batch: -2}, &pixelDistance{}, "batch -2"},
		{PPLOptions{Samples: 4}, failDistance{}, "no distance at 16 px"},
		{PPLOptions{Samples: 4}, failDistance{short: true}, "3 values for 4 pairs"},
		{PPLOptions{Samples: 4}, failDistance{nan: true}, "distance of sample 2 is NaN"},
	}
	for _, c := range cases {
		_, err := PPL(context.Background(), g, c.d, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "metrics: PPL") {
			t.Errorf("%+v: error %v, want one naming %q", c.o, err, c.want)
		}
	}
	if PPLWork(PPLOptions{Samples: -1}) != 0 || PPLWork(PPLOptions{}) != DefaultPPLOptions.Samples {
		t.Errorf("PPLWork: %d for bad options, %d for defaults", PPLWork(PPLOptions{Samples: -1}), PPLWork(PPLOptions{}))
	}
}

// TestPPLPrepare checks NVlabs' crop and box downsampling against the
// formulas written out per pixel: images[:, :, 3c:7c, 2c:6c] with c = H/8,
// then the mean of each f×f block, f = side/256.
func TestPPLPrepare(t *testing.T) {
	for _, c := range []struct {
		res  int
		crop bool
		want int
	}{{1024, true, 256}, {1024, false, 256}, {512, true, 256}, {256, true, 128}, {256, false, 256}, {64, true, 32}, {32, true, 16}, {2048, false, 256}} {
		if got := DistanceRes(c.res, c.crop); got != c.want {
			t.Errorf("DistanceRes(%d, %v) = %d, want %d", c.res, c.crop, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct {
		res  int
		crop bool
	}{{1024, true}, {1024, false}, {64, true}, {256, false}} {
		n := 2
		x := make([]float32, n*3*c.res*c.res)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		got := Prepare(x, n, c.res, c.crop)
		s := DistanceRes(c.res, c.crop)
		if len(got) != n*3*s*s {
			t.Fatalf("%d px crop %v: %d values, want %d", c.res, c.crop, len(got), n*3*s*s)
		}
		r0, c0, side := 0, 0, c.res
		if c.crop {
			q := c.res / 8
			r0, c0, side = 3*q, 2*q, 4*q
		}
		f := side / s
		for k := 0; k < 200; k++ {
			p, i, j := r.IntN(n*3), r.IntN(s), r.IntN(s)
			var want float64
			for u := range f {
				for v := range f {
					want += float64(x[p*c.res*c.res+(r0+i*f+u)*c.res+c0+j*f+v])
				}
			}
			want /= float64(f * f)
			if v := float64(got[(p*s+i)*s+j]); math.Abs(v-want) > 1e-6 {
				t.Fatalf("%d px crop %v: plane %d (%d, %d) = %g, want %g", c.res, c.crop, p, i, j, v, want)
			}
		}
	}
}

// TestPPLBootstrap checks the interval against the spread the statistic
// really has: for normal distances, PPL's standard error is close to
// sd/sqrt(n), so the 95% interval is about ±1.96 of it around PPL, and it
// is deterministic in the seed.
func TestPPLBootstrap(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{400, 4000} {
		d := make([]float64, n)
		for i := range d {
			d[i] = 100 + 10*r.NormFloat64()
		}
		rep := &PPLReport{Distances: d}
		rep.summarise()
		lo, hi := bootstrapCI(d, 1000, 7)
		if lo2, hi2 := bootstrapCI(d, 1000, 7); lo2 != lo || hi2 != hi {
			t.Errorf("n %d: same seed, intervals [%g, %g] and [%g, %g]", n, lo, hi, lo2, hi2)
		}
		// The filter trims 2% of a normal sample, which shrinks the spread a little.
		half := 1.96 * 10 / math.Sqrt(float64(n))
		t.Logf("n %d: PPL %.4g, 95%% [%.4g, %.4g], ±%.3g expected about ±%.3g", n, rep.PPL, lo, hi, (hi-lo)/2, half)
		if !(lo < rep.PPL && rep.PPL < hi) || (hi-lo)/2 < 0.7*half || (hi-lo)/2 > 1.3*half {
			t.Errorf("n %d: PPL %g, interval [%g, %g]: want about ±%g around it", n, rep.PPL, lo, hi, half)
		}
	}
}
