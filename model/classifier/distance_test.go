package classifier

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"stylegan-tui/model/toyfaces"
)

// committed loads the committed classifier (by path: checkpoints imports
// this package, so its tests cannot use checkpoints.DefaultClassifier).
func committed(t *testing.T) *Net {
	t.Helper()
	n, err := Load("../../checkpoints/default/classifier.safetensors")
	if err != nil {
		t.Fatalf("the committed classifier: %v", err)
	}
	return n
}

// perturbed returns x + scale·dir.
func perturbed(x, dir []float32, scale float64) []float32 {
	out := make([]float32, len(x))
	for i := range x {
		out[i] = float32(float64(x[i]) + scale*float64(dir[i]))
	}
	return out
}

func TestPerceptualDistanceSelfAndSymmetry(t *testing.T) {
	n := committed(t)
	const b = 40 // more than one chunk of pairs
	x, _ := heldout(0, b)
	y, _ := heldout(b, b)
	for _, res := range []int{64, 16} {
		xr, yr := x, y
		if res != Size {
			xr, yr = downsample(x, b, res), downsample(y, b, res)
		}
		self, err := n.PerceptualDistance(xr, xr, b, res)
		if err != nil {
			t.Fatal(err)
		}
		ab, err := n.PerceptualDistance(xr, yr, b, res)
		if err != nil {
			t.Fatal(err)
		}
		ba, err := n.PerceptualDistance(yr, xr, b, res)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			if self[i] != 0 {
				t.Errorf("%d px image %d: d(x, x) = %g, want exactly 0", res, i, self[i])
			}
			if ab[i] <= 0 || math.Abs(ab[i]-ba[i]) > 1e-12*ab[i] {
				t.Errorf("%d px pair %d: d(x, y) = %g, d(y, x) = %g", res, i, ab[i], ba[i])
			}
		}
		t.Logf("%d px: d between different faces, first pairs: %.4f %.4f %.4f", res, ab[0], ab[1], ab[2])
	}
}

// downsample area-averages b 64 px NCHW images to res px.
func downsample(x []float32, b, res int) []float32 {
	f := Size / res
	out := make([]float32, b*3*res*res)
	for p := range b * 3 {
		for y := range res {
			for xx := range res {
				var s float64
				for yy := y * f; yy < (y+1)*f; yy++ {
					for xi := xx * f; xi < (xx+1)*f; xi++ {
						s += float64(x[p*Size*Size+yy*Size+xi])
					}
				}
				out[p*res*res+y*res+xx] = float32(s / float64(f*f))
			}
		}
	}
	return out
}

// TestPerceptualDistanceQuadratic checks that for small perturbations the
// distance grows as the square of their size, down to the ~1e-4 image
// differences of a path length's epsilon: what is measured there is the
// net's response, not float32 rounding.
func TestPerceptualDistanceQuadratic(t *testing.T) {
	n := committed(t)
	const b = 8
	x, _ := heldout(100, b)
	r := rand.New(rand.NewPCG(1, 2))
	dir := make([]float32, len(x))
	for i := range dir {
		dir[i] = float32(r.NormFloat64())
	}
	dist := func(scale float64) []float64 {
		d, err := n.PerceptualDistance(x, perturbed(x, dir, scale), b, Size)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, delta := range []float64{1e-5, 1e-4, 1e-3} {
		d1, d2 := dist(delta), dist(2*delta)
		for i := range b {
			ratio := d2[i] / d1[i]
			if i == 0 {
				t.Logf("δ %g: d %.4g, d(2δ)/d(δ) %.4f, d/δ² %.4g", delta, d1[i], ratio, d1[i]/(delta*delta))
			}
			if !(ratio >= 3.5 && ratio <= 4.5) {
				t.Errorf("δ %g, image %d: d(2δ)/d(δ) = %.4f (%g / %g), want 4 ± 0.5", delta, i, ratio, d2[i], d1[i])
			}
		}
	}
}

// TestPerceptualDistanceStochastic checks that the distance sees what a
// face is: redrawing only an image's stochastic details (freckles, hair
// strands, skin grain) moves it less than replacing the face by another.
func TestPerceptualDistanceStochastic(t *testing.T) {
	n := committed(t)
	const b = 16
	const m = 3 * Size * Size
	a, c := make([]float32, b*m), make([]float32, b*m)
	for i := range b {
		draws := make([]float32, 2*m)
		toyfaces.FillDraws(draws, HeldoutSeed(200+i), []uint64{1, 2}, Size)
		copy(a[i*m:], draws[:m])
		copy(c[i*m:], draws[m:])
	}
	other, _ := heldout(300, b)
	dn, err := n.PerceptualDistance(a, c, b, Size)
	if err != nil {
		t.Fatal(err)
	}
	df, err := n.PerceptualDistance(a, other, b, Size)
	if err != nil {
		t.Fatal(err)
	}
	var sn, sf float64
	for i := range b {
		sn += dn[i] / b
		sf += df[i] / b
		if dn[i] >= df[i] {
			t.Errorf("image %d: d to its stochastic redraw %g ≥ d to another face %g", i, dn[i], df[i])
		}
	}
	t.Logf("mean d: stochastic redraw %.4f, another face %.4f", sn, sf)
}

func TestPerceptualDistanceErrors(t *testing.T) {
	n, err := initNet(tiny, 1)
	if err != nil {
		t.Fatal(err)
	}
	img := func(b, res int) []float32 { return make([]float32, b*3*res*res) }
	cases := []struct {
		a, b       []float32
		batch, res int
		want       string
	}{
		{img(1, 12), img(1, 12), 1, 12, "resolution 12"},
		{img(1, 128), img(1, 128), 1, 128, "resolution 128"},
		{img(1, 16), img(2, 16), 1, 16, "values"},
		{img(2, 16), img(1, 16), 2, 16, "values"},
		{img(1, 16), img(1, 16), 1, 8, "values"},
		{nil, nil, -1, 16, "values"},
	}
	for _, c := range cases {
		_, err := n.PerceptualDistance(c.a, c.b, c.batch, c.res)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "classifier: PerceptualDistance") {
			t.Errorf("%d+%d values, batch %d, res %d: error %v, want one naming %q", len(c.a), len(c.b), c.batch, c.res, err, c.want)
		}
	}
	d, err := n.PerceptualDistance(nil, nil, 0, 64)
	if err != nil || len(d) != 0 {
		t.Errorf("empty batch: %v, %v", d, err)
	}
}
