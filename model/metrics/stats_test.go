package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"stylegan-tui/model/toyfaces"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTotalVariation(t *testing.T) {
	cases := []struct {
		p, q []float64
		want float64
	}{
		{[]float64{0.5, 0.5}, []float64{0.5, 0.5}, 0},
		{[]float64{1, 0}, []float64{0, 1}, 1},
		{[]float64{0.5, 0.25, 0.25}, []float64{0.25, 0.25, 0.5}, 0.25},
		{[]float64{0.2, 0.3, 0.5}, []float64{0.3, 0.3, 0.4}, 0.1},
	}
	for _, c := range cases {
		if got := TotalVariation(c.p, c.q); !near(got, c.want, 1e-12) {
			t.Errorf("TotalVariation(%v, %v) = %g, want %g", c.p, c.q, got, c.want)
		}
	}
}

func labelsWith(vals map[int]int) toyfaces.Labels {
	l := make(toyfaces.Labels, len(toyfaces.Factors))
	for f, v := range vals {
		l[f] = v
	}
	return l
}

func TestHistogramAndHole(t *testing.T) {
	// hair: bald, short, long, bun = 0..3; beard: none, stubble, full = 0..2.
	ls := []toyfaces.Labels{
		labelsWith(map[int]int{toyfaces.FHair: 2, toyfaces.FBeard: 2}), // the hole
		labelsWith(map[int]int{toyfaces.FHair: 2, toyfaces.FBeard: 1}),
		labelsWith(map[int]int{toyfaces.FHair: 1, toyfaces.FBeard: 2}),
		labelsWith(map[int]int{toyfaces.FHair: 0, toyfaces.FBeard: 0}),
	}
	h := Histogram(ls, toyfaces.FHair)
	want := []float64{0.25, 0.25, 0.5, 0}
	for i := range want {
		if !near(h[i], want[i], 1e-12) {
			t.Fatalf("hair histogram %v, want %v", h, want)
		}
	}
	if got := HoleRate(ls); got != 0.25 {
		t.Errorf("HoleRate = %g, want 0.25", got)
	}
	if got := HoleRate(nil); got != 0 {
		t.Errorf("HoleRate(nil) = %g, want 0", got)
	}
}

func TestSqrtSym(t *testing.T) {
	// [[2 1] [1 2]] has eigenvalues 3 and 1 with eigenvectors (1, ±1)/√2, so
	// its square root is [[a b] [b a]] with a = (√3+1)/2, b = (√3−1)/2.
	s, err := SqrtSym(mat.NewSymDense(2, []float64{2, 1, 1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	a, b := (math.Sqrt(3)+1)/2, (math.Sqrt(3)-1)/2
	want := [][]float64{{a, b}, {b, a}}
	for i := range 2 {
		for j := range 2 {
			if !near(s.At(i, j), want[i][j], 1e-12) {
				t.Fatalf("sqrt = %v, want %v", mat.Formatted(s), want)
			}
		}
	}
	// A random SPD matrix: S·S = A.
	r := rand.New(rand.NewPCG(1, 2))
	A := randomSPD(r, 6)
	s, err = SqrtSym(A)
	if err != nil {
		t.Fatal(err)
	}
	var ss mat.Dense
	ss.Mul(s, s)
	if !mat.EqualApprox(&ss, A, 1e-10) {
		t.Errorf("S·S != A:\n%v\n%v", mat.Formatted(&ss), mat.Formatted(A))
	}
}

func randomSPD(r *rand.Rand, d int) *mat.SymDense {
	x := mat.NewDense(d+3, d, nil)
	for i := range d + 3 {
		for j := range d {
			x.Set(i, j, r.NormFloat64())
		}
	}
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1, x.T())
	return s
}

func gaussian(mean []float64, cov []float64) Gaussian {
	return Gaussian{Mean: mean, Cov: mat.NewSymDense(len(mean), cov)}
}

func TestFrechetDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	A := randomSPD(r, 5)
	B := randomSPD(r, 5)
	rot := func(th float64, a, b float64) []float64 {
		// R·diag(a, b)·Rᵀ for a rotation by th
		c, s := math.Cos(th), math.Sin(th)
		return []float64{a*c*c + b*s*s, (a - b) * c * s, (a - b) * c * s, a*s*s + b*c*c}
	}
	mu := []float64{0.5, -1, 2, 0, 3}
	cases := []struct {
		name string
		a, b Gaussian
		want float64
	}{
		{"identical", Gaussian{mu, A}, Gaussian{mu, A}, 0},
		{"shifted means, same covariance", Gaussian{[]float64{1, 2, 3, 4, 5}, A}, Gaussian{[]float64{1, 0, 3, 4, 8}, A}, 4 + 9},
		// diagonal covariances: Σ (√a_i − √b_i)²
		{"diagonal", gaussian([]float64{0, 0}, []float64{4, 0, 0, 9}), gaussian([]float64{1, 0}, []float64{1, 0, 0, 16}), 1 + 1 + 1},
		// 4I against a rotated diag(1, 9): tr = 8 + 10 − 2·2·(1 + 3) = 2
		{"isotropic vs rotated", gaussian([]float64{0, 0}, []float64{4, 0, 0, 4}), gaussian([]float64{0, 0}, rot(0.7, 1, 9)), 2},
		// the same spectrum rotated: distance from the rotation alone,
		// tr(C1 + C2) − 2·tr((C1·C2)^½); for diag(1, 9) against its 90°
		// rotation diag(9, 1): (1−3)² + (3−1)² = 8.
		{"90 degree rotation", gaussian([]float64{0, 0}, []float64{1, 0, 0, 9}), gaussian([]float64{0, 0}, rot(math.Pi/2, 1, 9)), 8},
		// singular covariances (rank 1): points on a line vs a point
		{"rank-deficient", gaussian([]float64{0, 0}, []float64{1, 1, 1, 1}), gaussian([]float64{0, 0}, []float64{0, 0, 0, 0}), 2},
	}
	for _, c := range cases {
		got, err := FrechetDistance(c.a, c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !near(got, c.want, 1e-8*max(1, c.want)) {
			t.Errorf("%s: FD = %.12g, want %g", c.name, got, c.want)
		}
	}
	// Symmetric although C1·C2 is not.
	ab, err1 := FrechetDistance(Gaussian{mu, A}, Gaussian{make([]float64, 5), B})
	ba, err2 := FrechetDistance(Gaussian{make([]float64, 5), B}, Gaussian{mu, A})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !near(ab, ba, 1e-8*ab) || ab <= 0 {
		t.Errorf("FD(a, b) = %g, FD(b, a) = %g", ab, ba)
	}
	if _, err := FrechetDistance(gaussian([]float64{0}, []float64{1}), Gaussian{mu, A}); err == nil {
		t.Error("FD of Gaussians in 1 and 5 dimensions: no error")
	}
}

func TestFitGaussian(t *testing.T) {
	// (±1, 0), (0, ±1) shifted by (3, −2): mean (3, −2), covariance
	// Σx²/(n−1) = 2/3 on the diagonal, 0 off it.
	g, err := FitGaussian([][]float32{{4, -2}, {2, -2}, {3, -1}, {3, -3}})
	if err != nil {
		t.Fatal(err)
	}
	if !near(g.Mean[0], 3, 1e-12) || !near(g.Mean[1], -2, 1e-12) {
		t.Errorf("mean %v, want [3 -2]", g.Mean)
	}
	want := mat.NewSymDense(2, []float64{2.0 / 3, 0, 0, 2.0 / 3})
	if !mat.EqualApprox(g.Cov, want, 1e-12) {
		t.Errorf("cov %v, want %v", mat.Formatted(g.Cov), mat.Formatted(want))
	}
	if _, err := FitGaussian([][]float32{{1, 2}}); err == nil {
		t.Error("fit of one vector: no error")
	}
	if _, err := FitGaussian([][]float32{{1, 2}, {1}}); err == nil {
		t.Error("fit of ragged vectors: no error")
	}
	// Samples of N(μ, diag(1, 4)) against the true Gaussian: FD near 0
	// (the estimate's error shrinks like d/n).
	r := rand.New(rand.NewPCG(5, 6))
	x := make([][]float32, 20000)
	for i := range x {
		x[i] = []float32{float32(1 + r.NormFloat64()), float32(-1 + 2*r.NormFloat64())}
	}
	fit, err := FitGaussian(x)
	if err != nil {
		t.Fatal(err)
	}
	d, err := FrechetDistance(fit, gaussian([]float64{1, -1}, []float64{1, 0, 0, 4}))
	if err != nil {
		t.Fatal(err)
	}
	if d > 0.01 {
		t.Errorf("FD of 20000 samples against their own Gaussian = %g, want about 0", d)
	}
}

func TestTopShare(t *testing.T) {
	if got := TopShare([]float64{1, 6, 1, 1, 1}, 0.2); !near(got, 0.6, 1e-12) {
		t.Errorf("TopShare = %g, want 0.6", got)
	}
	// uniform values: the top 20% hold 20%
	if got := TopShare([]float64{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 0.2); !near(got, 0.2, 1e-12) {
		t.Errorf("TopShare uniform = %g, want 0.2", got)
	}
	if got := TopShare(make([]float64, 10), 0.2); got != 0 {
		t.Errorf("TopShare of zeros = %g, want 0", got)
	}
}

func TestMixTally(t *testing.T) {
	// A and B differ on yaw and hair (coarse), eyes (middle) and skin (fine);
	// they agree on everything else.
	a := labelsWith(map[int]int{toyfaces.FYaw: 0, toyfaces.FHair: 1, toyfaces.FEyes: 0, toyfaces.FSkin: 2})
	b := labelsWith(map[int]int{toyfaces.FYaw: 2, toyfaces.FHair: 3, toyfaces.FEyes: 1, toyfaces.FSkin: 0})
	// The mix takes B's yaw but keeps A's hair, keeps A's eyes, shows a
	// third skin tone, and changes roll (where A and B agree: not counted).
	mix := labelsWith(map[int]int{toyfaces.FYaw: 2, toyfaces.FHair: 1, toyfaces.FEyes: 0, toyfaces.FSkin: 3, toyfaces.FRoll: 1})
	var tc MixTally
	tc.Add("coarse", a, b, mix)
	if want := (MixTally{OwnHits: 1, OwnCases: 2, KeepHits: 1, KeepCases: 2}); tc != want {
		t.Errorf("coarse tally %+v, want %+v", tc, want)
	}
	var tm MixTally
	tm.Add("middle", a, b, mix)
	if want := (MixTally{OwnHits: 0, OwnCases: 1, KeepHits: 1, KeepCases: 3}); tm != want {
		t.Errorf("middle tally %+v, want %+v", tm, want)
	}
	// A mix equal to B: own 1, keep 0; equal to A: own 0, keep 1.
	var tb, ta MixTally
	tb.Add("fine", a, b, b)
	ta.Add("fine", a, b, a)
	if tb.Own() != 1 || tb.Keep() != 0 || ta.Own() != 0 || ta.Keep() != 1 {
		t.Errorf("mix = B: own %g keep %g; mix = A: own %g keep %g", tb.Own(), tb.Keep(), ta.Own(), ta.Keep())
	}
	// Identical A and B count nothing.
	var tn MixTally
	tn.Add("coarse", a, a, b)
	if tn != (MixTally{}) || tn.Own() != 0 {
		t.Errorf("A = B tally %+v", tn)
	}
}

func TestNoiseTally(t *testing.T) {
	a := labelsWith(map[int]int{toyfaces.FMouth: 1})
	b := labelsWith(map[int]int{toyfaces.FMouth: 2})
	var n NoiseTally
	n.Add(a, a)
	n.Add(a, b)
	n.Add(b, b)
	n.Add(b, b)
	if n.Cases != 4 || n.AllStay != 3 {
		t.Errorf("cases %d all-stay %d, want 4 and 3", n.Cases, n.AllStay)
	}
	for f, s := range n.Stay {
		want := 4
		if f == toyfaces.FMouth {
			want = 3
		}
		if s != want {
			t.Errorf("factor %s stays %d times, want %d", toyfaces.Factors[f].Name, s, want)
		}
	}
}
