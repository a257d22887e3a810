package latent

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func angle(a, b []float32) float64 {
	ua, _ := unit64(a)
	ub, _ := unit64(b)
	return math.Acos(math.Max(-1, math.Min(1, dot64(ua, ub))))
}

func maxAbsDiff(a, b []float32) float64 {
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

func unit32(v []float32) []float32 {
	u, _ := unit64(v)
	return to32(u)
}

func TestLerp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := randVec(r, 512), randVec(r, 512)
	if !equal32(Lerp(a, b, 0), a) || !equal32(Lerp(a, b, 1), b) {
		t.Fatal("Lerp endpoints are not exactly a and b")
	}
	mid := Lerp(a, b, 0.5)
	for i := range mid {
		want := (float64(a[i]) + float64(b[i])) / 2
		if math.Abs(float64(mid[i])-want) > 1e-6 {
			t.Fatalf("Lerp(0.5)[%d] = %v, want %v", i, mid[i], want)
		}
	}
	// Extrapolation is allowed: t = 2 is b + (b - a).
	ex := Lerp(a, b, 2)
	for i := range ex {
		want := 2*float64(b[i]) - float64(a[i])
		if math.Abs(float64(ex[i])-want) > 1e-5 {
			t.Fatalf("Lerp(2)[%d] = %v, want %v", i, ex[i], want)
		}
	}
	aCopy := append([]float32(nil), a...)
	Lerp(a, b, 0.3)
	if !equal32(a, aCopy) {
		t.Fatal("Lerp changed its input")
	}
}

// slerpRef is the textbook formula sin((1-t)θ)/sin θ·a + sin(tθ)/sin θ·b on
// unit vectors, for angles away from 0 and π where it is well conditioned.
func slerpRef(a, b []float32, t float64) []float32 {
	ua, _ := unit64(a)
	ub, _ := unit64(b)
	th := math.Acos(dot64(ua, ub))
	out := make([]float32, len(a))
	for i := range out {
		out[i] = float32((math.Sin((1-t)*th)*ua[i] + math.Sin(t*th)*ub[i]) / math.Sin(th))
	}
	return out
}

func TestSlerpMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		n := 1 + r.IntN(600)
		if n == 1 {
			n = 2
		}
		a, b := randVec(r, n), randVec(r, n)
		if th := angle(a, b); th < 1e-3 || th > math.Pi-1e-3 {
			continue
		}
		for _, tt := range []float64{0, 0.1, 0.5, 0.77, 1, -0.5, 1.5} {
			got, want := Slerp(a, b, tt), slerpRef(a, b, tt)
			if d := maxAbsDiff(got, want); d > 1e-6 {
				t.Fatalf("n=%d t=%v: max |Slerp - ref| = %g", n, tt, d)
			}
		}
	}
}

func TestSlerpProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b := randVec(r, 512), randVec(r, 512)

	// Endpoints are the normalised inputs.
	if d := maxAbsDiff(Slerp(a, b, 0), unit32(a)); d > 1e-7 {
		t.Errorf("Slerp(t=0) differs from a/|a| by %g", d)
	}
	if d := maxAbsDiff(Slerp(a, b, 1), unit32(b)); d > 1e-6 {
		t.Errorf("Slerp(t=1) differs from b/|b| by %g", d)
	}
	// Unit norm everywhere, and the angle to a grows linearly in t.
	th := angle(a, b)
	for _, tt := range []float64{0, 0.25, 0.5, 0.9, 1} {
		s := Slerp(a, b, tt)
		if n := norm32(s); math.Abs(n-1) > 1e-6 {
			t.Errorf("|Slerp(t=%v)| = %v", tt, n)
		}
		if got := angle(a, s); math.Abs(got-tt*th) > 1e-5 {
			t.Errorf("angle(a, Slerp(t=%v)) = %v, want %v", tt, got, tt*th)
		}
	}

	// Orthogonal inputs: the midpoint is at 45° to both.
	x := []float32{3, 0, 0, 0}
	y := []float32{0, 0, 0.5, 0}
	m := Slerp(x, y, 0.5)
	h := float32(math.Sqrt(0.5))
	if d := maxAbsDiff(m, []float32{h, 0, h, 0}); d > 1e-7 {
		t.Errorf("Slerp of orthogonal vectors at 0.5 = %v", m)
	}
	for _, v := range [][]float32{x, y} {
		if got := angle(v, m); math.Abs(got-math.Pi/4) > 1e-6 {
			t.Errorf("angle to the midpoint = %v rad, want π/4", got)
		}
	}
}

func hasNaN(v []float32) bool {
	for _, x := range v {
		if x != x {
			return true
		}
	}
	return false
}

func TestSlerpDegenerate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	a := randVec(r, 512)
	scaled := make([]float32, len(a))
	neg := make([]float32, len(a))
	for i := range a {
		scaled[i] = 2 * a[i]
		neg[i] = -a[i]
	}
	for _, tt := range []float64{0, 0.3, 1} {
		// a == b and a parallel to b: no NaN, the walk stays at a/|a|.
		for _, b := range [][]float32{a, scaled} {
			s := Slerp(a, b, tt)
			if hasNaN(s) || maxAbsDiff(s, unit32(a)) > 1e-6 {
				t.Errorf("Slerp(a, ka, %v) is not a/|a|", tt)
			}
		}
	}
	// Antipodal: no unique path, but a unit vector at the right angle.
	for _, tt := range []float64{0, 0.5, 1} {
		s := Slerp(a, neg, tt)
		if hasNaN(s) || math.Abs(norm32(s)-1) > 1e-6 {
			t.Fatalf("Slerp(a, -a, %v) = NaN or not unit", tt)
		}
		if got := angle(a, s); math.Abs(got-tt*math.Pi) > 1e-3 {
			t.Errorf("angle(a, Slerp(a, -a, %v)) = %v, want %v", tt, got, tt*math.Pi)
		}
	}
	// One dimension: the sphere is two points.
	if s := Slerp([]float32{2}, []float32{-1}, 0.7); s[0] != -1 {
		t.Errorf("1-D antipodal Slerp at 0.7 = %v, want [-1]", s)
	}
	// Zero inputs have no direction: zeros, not NaN.
	zero := make([]float32, len(a))
	if s := Slerp(zero, a, 0.5); hasNaN(s) || norm32(s) != 0 {
		t.Errorf("Slerp(0, a) = %v...", s[:3])
	}
	if s := Slerp(nil, nil, 0.5); len(s) != 0 {
		t.Errorf("Slerp of empty vectors has %d values", len(s))
	}
}

func TestSlerpZ(t *testing.T) {
	za, zb := SeedZ(888, 512), SeedZ(1733, 512)
	if d := maxAbsDiff(SlerpZ(za, zb, 0), za); d > 1e-5 {
		t.Errorf("SlerpZ(t=0) differs from za by %g", d)
	}
	if d := maxAbsDiff(SlerpZ(za, zb, 1), zb); d > 1e-5 {
		t.Errorf("SlerpZ(t=1) differs from zb by %g", d)
	}
	na, nb := norm32(za), norm32(zb)
	for _, tt := range []float64{0.25, 0.5, 0.75} {
		s := SlerpZ(za, zb, tt)
		if want := (1-tt)*na + tt*nb; math.Abs(norm32(s)-want) > 1e-4 {
			t.Errorf("|SlerpZ(t=%v)| = %v, want %v", tt, norm32(s), want)
		}
		if d := maxAbsDiff(unit32(s), Slerp(za, zb, tt)); d > 1e-6 {
			t.Errorf("SlerpZ(t=%v) is not along Slerp (%g)", tt, d)
		}
	}
	zero := make([]float32, 512)
	if d := maxAbsDiff(SlerpZ(zero, zb, 0.5), Lerp(zero, zb, 0.5)); d != 0 {
		t.Errorf("SlerpZ from zero is not Lerp (%g)", d)
	}
}

func TestTruncate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	w, avg := randVec(r, 512), randVec(r, 512)
	if !equal32(Truncate(w, avg, 1), w) {
		t.Error("psi=1 does not return w exactly")
	}
	if !equal32(Truncate(w, avg, 0), avg) {
		t.Error("psi=0 does not return avg exactly")
	}
	for _, psi := range []float64{0.7, 0.5, -0.7, 1.5} {
		got := Truncate(w, avg, psi)
		for i := range got {
			want := float64(avg[i]) + psi*(float64(w[i])-float64(avg[i]))
			if math.Abs(float64(got[i])-want) > 1e-6 {
				t.Fatalf("psi=%v [%d] = %v, want %v", psi, i, got[i], want)
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Lerp":     func() { Lerp(make([]float32, 2), make([]float32, 3), 0) },
		"Slerp":    func() { Slerp(make([]float32, 2), make([]float32, 3), 0) },
		"SlerpZ":   func() { SlerpZ(make([]float32, 2), make([]float32, 3), 0) },
		"Truncate": func() { Truncate(make([]float32, 2), make([]float32, 3), 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s of mismatched lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}
