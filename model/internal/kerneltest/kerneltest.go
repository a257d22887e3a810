// Package kerneltest holds what the tests and benchmarks of model/kernels and model/ops share:
// slow, obviously-correct float64 references written from the definitions of the ops (Ref*),
// reproducible random inputs, error measures and the interleaved benchmark runner.
package kerneltest

import (
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// Size is the number of elements of a tensor of shape s.
func Size(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// RandInputs returns reproducible inputs in [-1,1] of the given shapes, kept away from 0 so
// that the finite differences of LeakyReLU do not straddle its kink.
func RandInputs(shapes [][]int, seed int64) [][]float64 {
	r := rand.New(rand.NewSource(seed))
	in := make([][]float64, len(shapes))
	for i, s := range shapes {
		in[i] = make([]float64, Size(s))
		for j := range in[i] {
			v := r.Float64()*2 - 1
			if math.Abs(v) < 0.01 {
				v = 0.5
			}
			in[i][j] = v
		}
	}
	return in
}

// RandF32 returns n reproducible floats in [-1,1).
func RandF32(n int, seed int64) []float32 {
	r := rand.New(rand.NewSource(seed))
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// F32 rounds v to float32.
func F32(v []float64) []float32 {
	s := make([]float32, len(v))
	for i, x := range v {
		s[i] = float32(x)
	}
	return s
}

// F64 widens v to float64.
func F64(v []float32) []float64 {
	s := make([]float64, len(v))
	for i, x := range v {
		s[i] = float64(x)
	}
	return s
}

// MaxRelErr is max|a-b| / max(max|b|, floor).
func MaxRelErr(a, b []float64, floor float64) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / math.Max(m, floor)
}

// CheckFastSlow checks a fast float32 path and a slow one (named slowName) against the float64
// reference want within the relative bound tol each, and against each other within 2·tol
// (tol = 4·u·√K, K the length of the sums).
func CheckFastSlow(t *testing.T, slowName string, fast, slow []float32, want []float64, tol float64) {
	t.Helper()
	for _, e := range []struct {
		name     string
		got, ref []float64
		tol      float64
	}{
		{"Winograd vs float64", F64(fast), want, tol}, {slowName + " vs float64", F64(slow), want, tol},
		{"Winograd vs " + slowName, F64(fast), F64(slow), 2 * tol},
	} {
		err := MaxRelErr(e.got, e.ref, 0)
		if err > e.tol || math.IsNaN(err) {
			t.Errorf("%s: relative error %.3g > %.3g", e.name, err, e.tol)
		}
		t.Logf("%s: relative error %.2g (%.2f·u·√K, bound %.2g)", e.name, err, err/(e.tol/4), e.tol)
	}
}

// SameTwice runs run into two n-float buffers filled with different stale values (NaN and
// 1e30, which must not leak into the result) and fails unless both come out bit-identical;
// it returns the first.
func SameTwice(t *testing.T, n int, run func(out []float32)) []float32 {
	t.Helper()
	a, b := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], b[i] = float32(math.NaN()), 1e30
	}
	run(a)
	run(b)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("second call differs at %d: %v, %v", i, a[i], b[i])
		}
	}
	return a
}

// The benchmarks run their variants interleaved (A B C A B C ...) and report the median time of
// each, in ms, and its speed relative to the first variant ("x_NAME": >1 is faster). The machine
// is shared and noisy: read the ratios, not the absolute times. Run with a small -benchtime,
// e.g. go test -run XXX -bench . -benchtime 5x ./model/kernels/

// Variant is one contender of a benchmark.
type Variant struct {
	Name string
	Run  func()
}

// Interleave runs the variants in turn b.N times each and reports their medians.
func Interleave(b *testing.B, vs []Variant) {
	times := make([][]float64, len(vs))
	for _, v := range vs { // warm up pools and caches
		v.Run()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, v := range vs {
			t0 := time.Now()
			v.Run()
			times[j] = append(times[j], float64(time.Since(t0))/1e6)
		}
	}
	med := make([]float64, len(vs))
	for j, ts := range times {
		slices.Sort(ts)
		med[j] = ts[len(ts)/2]
		b.ReportMetric(med[j], "ms_"+vs[j].Name)
		if j > 0 {
			b.ReportMetric(med[0]/med[j], "x_"+vs[j].Name)
		}
	}
}

// ConvShapes are the production shapes of a 256 px rosinality generator (B=1, 3×3, pad 1).
var ConvShapes = []struct{ Cin, Cout, HW int }{
	{512, 512, 32}, {512, 256, 64}, {256, 256, 64}, {128, 64, 256}, {64, 64, 256},
	{512, 512, 8}, {512, 512, 16}, {32, 32, 256},
}
