package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The kernels against plain Go loops on random data with both signs, zeros of both signs and
// lengths of 8 to 64 elements.

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	if n > 3 {
		x[1], x[2] = 0, float32(math.Copysign(0, -1))
	}
	return x
}

func leakyRef(v, g, slope float32) float32 {
	if math.Signbit(float64(v)) {
		return slope * g
	}
	return g
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestElementKernels(t *testing.T) {
	if !Available {
		t.Skip("no AVX2/FMA")
	}
	r := rand.New(rand.NewPCG(1, 2))
	const slope = 0.2
	for _, n := range []int{8, 16, 24, 64} {
		a, b, c, g, nz := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
		got := make([]float32, n)

		Sum121(&got[0], &a[0], &b[0], &c[0], n)
		for j := range got {
			if want := a[j] + 2*b[j] + c[j]; !near(float64(got[j]), float64(want), 1e-6) {
				t.Fatalf("Sum121 n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}

		tp := append(append([]float32{0}, a...), 0)
		HBlur121(&got[0], &tp[0], n, 1.0/16)
		for j := range got {
			if want := (tp[j] + 2*tp[j+1] + tp[j+2]) / 16; !near(float64(got[j]), float64(want), 1e-6) {
				t.Fatalf("HBlur121 n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}

		LeakyScale(&got[0], &a[0], &g[0], n, slope)
		for j := range got {
			if want := leakyRef(a[j], g[j], slope); got[j] != want {
				t.Fatalf("LeakyScale n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}

		AddConst(&got[0], &a[0], n, 0.5)
		for j := range got {
			if want := a[j] + 0.5; got[j] != want {
				t.Fatalf("AddConst n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}

		BiasLeaky(&got[0], &a[0], n, -0.25, slope)
		for j := range got {
			u := a[j] - 0.25
			if want := leakyRef(u, u, slope); got[j] != want {
				t.Fatalf("BiasLeaky n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}

		s := LeakyGradSum(&got[0], &a[0], &g[0], n, slope)
		var ws float64
		for j := range got {
			want := leakyRef(a[j], g[j], slope)
			ws += float64(want)
			if got[j] != want {
				t.Fatalf("LeakyGradSum n=%d [%d] = %g, want %g", n, j, got[j], want)
			}
		}
		if !near(s, ws, 1e-12) {
			t.Fatalf("LeakyGradSum n=%d sum %g, want %g", n, s, ws)
		}

		var sa, sab float64
		for j := range a {
			sa += float64(a[j])
			sab += float64(a[j] * b[j])
		}
		if v := SumF64(&a[0], n); !near(v, sa, 1e-12) {
			t.Fatalf("SumF64 n=%d = %g, want %g", n, v, sa)
		}
		if v := DotF64(&a[0], &b[0], n); !near(v, sab, 1e-12) {
			t.Fatalf("DotF64 n=%d = %g, want %g", n, v, sab)
		}

		const m, sc, k, c1, c2 = 0.3, 1.7, 0.9, 0.05, -0.4
		sg, sgx := EpiDots(&a[0], &g[0], n, m, sc)
		var wg, wgx float64
		for j := range a {
			xn := (a[j] - m) * sc
			wg += float64(g[j])
			wgx += float64(g[j] * xn)
		}
		if !near(sg, wg, 1e-12) || !near(sgx, wgx, 1e-6) {
			t.Fatalf("EpiDots n=%d = %g %g, want %g %g", n, sg, sgx, wg, wgx)
		}
		sg, sgn := EpiGrad(&got[0], &a[0], &g[0], &nz[0], n, m, sc, k, c1, c2, slope)
		wg, wgn := 0.0, 0.0
		for j := range a {
			xn := (a[j] - m) * sc
			v := leakyRef(a[j], (g[j]-c1-xn*c2)*k, slope)
			wg += float64(v)
			wgn += float64(v * nz[j])
			if !near(float64(got[j]), float64(v), 1e-6) {
				t.Fatalf("EpiGrad n=%d [%d] = %g, want %g", n, j, got[j], v)
			}
		}
		if !near(sg, wg, 1e-6) || !near(sgn, wgn, 1e-6) {
			t.Fatalf("EpiGrad n=%d sums %g %g, want %g %g", n, sg, sgn, wg, wgn)
		}
	}
}

func TestCombos(t *testing.T) {
	if !Available {
		t.Skip("no AVX2/FMA")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{8, 16, 40} {
		const ld = 57
		a, b, e, f := randSlice(r, 2*n), randSlice(r, 2*n), randSlice(r, 2*n), randSlice(r, 2*n)
		eo := make([]float32, 8*ld)
		RowCombos(&eo[0], ld, &a[0], &b[0], &e[0], &f[0], n)
		for i := 0; i < n; i++ {
			for k, c := range [4]func(j int) float32{
				func(j int) float32 { return a[j] - e[j] }, func(j int) float32 { return b[j] + e[j] },
				func(j int) float32 { return e[j] - b[j] }, func(j int) float32 { return b[j] - f[j] },
			} {
				if eo[2*k*ld+i] != c(2*i) || eo[(2*k+1)*ld+i] != c(2*i+1) {
					t.Fatalf("RowCombos n=%d i=%d k=%d: %g %g, want %g %g", n, i, k, eo[2*k*ld+i], eo[(2*k+1)*ld+i], c(2*i), c(2*i+1))
				}
			}
		}
		a4, b4, e4 := randSlice(r, 4*n), randSlice(r, 4*n), randSlice(r, 4*n)
		pq := make([]float32, 6*ld)
		QuadCombos(&pq[0], ld, &a4[0], &b4[0], &e4[0], n)
		for i := 0; i < n; i++ {
			for k, c := range [3]func(j int) float32{
				func(j int) float32 { return a4[j] - b4[j] }, func(j int) float32 { return b4[j] },
				func(j int) float32 { return e4[j] - b4[j] },
			} {
				if pq[2*k*ld+i] != c(4*i) || pq[(2*k+1)*ld+i] != c(4*i+2) {
					t.Fatalf("QuadCombos n=%d i=%d k=%d: %g %g, want %g %g", n, i, k, pq[2*k*ld+i], pq[(2*k+1)*ld+i], c(4*i), c(4*i+2))
				}
			}
		}
		PhaseCombos(&pq[0], ld, &a[0], &b[0], &e[0], n)
		for i := 0; i < n; i++ {
			for k, c := range [3]func(j int) float32{
				func(j int) float32 { return a[j] - b[j] }, func(j int) float32 { return b[j] },
				func(j int) float32 { return e[j] - b[j] },
			} {
				if pq[2*k*ld+i] != c(2*i) || pq[(2*k+1)*ld+i] != c(2*i+1) {
					t.Fatalf("PhaseCombos n=%d i=%d k=%d: %g %g, want %g %g", n, i, k, pq[2*k*ld+i], pq[(2*k+1)*ld+i], c(2*i), c(2*i+1))
				}
			}
		}
	}
}
