package simd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSgemm8x16 checks the AVX-512 kernel against a float64 product and against two calls of
// the AVX2 kernel, overwriting and accumulating, with strides wider than the block.
func TestSgemm8x16(t *testing.T) {
	if !Available512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{0, 1, 7, 32, 130} {
		const lda, ldb, ldc = 140, 20, 24
		a, b := randSlice(r, 8*lda), randSlice(r, max(k, 1)*ldb)
		c0 := randSlice(r, 8*ldc)
		for _, acc := range []int{0, 1} {
			c := append([]float32(nil), c0...)
			Sgemm8x16(k, &a[0], lda, &b[0], ldb, &c[0], ldc, acc)
			c2 := append([]float32(nil), c0...)
			Sgemm4x16(k, &a[0], lda, &b[0], ldb, &c2[0], ldc, acc)
			Sgemm4x16(k, &a[4*lda], lda, &b[0], ldb, &c2[4*ldc], ldc, acc)
			for i := 0; i < 8; i++ {
				for j := 0; j < ldc; j++ {
					got := c[i*ldc+j]
					if j >= 16 {
						if got != c0[i*ldc+j] {
							t.Fatalf("k=%d acc=%d: C[%d][%d] outside the block changed", k, acc, i, j)
						}
						continue
					}
					var want float64
					if acc != 0 {
						want = float64(c0[i*ldc+j])
					}
					for p := 0; p < k; p++ {
						want += float64(a[i*lda+p]) * float64(b[p*ldb+j])
					}
					if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want))*math.Sqrt(float64(k+1)) {
						t.Fatalf("k=%d acc=%d: C[%d][%d] = %g, want %g", k, acc, i, j, got, want)
					}
					if d := math.Abs(float64(got - c2[i*ldc+j])); d > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("k=%d acc=%d: C[%d][%d] = %g, AVX2 kernel %g", k, acc, i, j, got, c2[i*ldc+j])
					}
				}
			}
		}
	}
}

// BenchmarkSgemmKernels times 8×16 blocks with K = 64 from L1, two AVX2 4×16 calls against
// one AVX-512 8×16 call, interleaved in chunks (medians: the machine is shared).
func BenchmarkSgemmKernels(b *testing.B) {
	if !Available512 {
		b.Skip("no AVX-512")
	}
	const k, chunk = 64, 2000
	r := rand.New(rand.NewPCG(1, 1))
	a, bb, c := randSlice(r, 8*k), randSlice(r, 16*k), make([]float32, 8*16)
	var t2, t5 []float64
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for j := 0; j < chunk; j++ {
			Sgemm4x16(k, &a[0], k, &bb[0], 16, &c[0], 16, 1)
			Sgemm4x16(k, &a[4*k], k, &bb[0], 16, &c[64], 16, 1)
		}
		t1 := time.Now()
		for j := 0; j < chunk; j++ {
			Sgemm8x16(k, &a[0], k, &bb[0], 16, &c[0], 16, 1)
		}
		t2, t5 = append(t2, float64(t1.Sub(t0))), append(t5, float64(time.Since(t1)))
	}
	slices.Sort(t2)
	slices.Sort(t5)
	flop := float64(2 * 8 * 16 * k * chunk)
	b.ReportMetric(flop/t2[0], "GFLOPS_avx2_best")
	b.ReportMetric(flop/t5[0], "GFLOPS_avx512_best")
	b.ReportMetric(t2[len(t2)/2]/t5[len(t5)/2], "x_avx512_median")
}
