package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmFast compares the AVX2 GEMM with gonum's on shapes with edges, strides wider than
// the matrices, K beyond one block, and beta 0 and 1.
func TestSgemmFast(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2/FMA kernel on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{4, 16, 1}, {64, 1024, 64}, {7, 37, 300}, {3, 40, 5}, {128, 100, 513}, {12, 16, 256}, {5, 17, 2}, {3, 4096, 64}, {1, 33, 7}, {2, 16, 512}} {
		m, n, k := s[0], s[1], s[2]
		lda, ldb, ldc := k+3, n+5, n+7
		a, b := make([]float32, m*lda), make([]float32, k*ldb)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		for _, beta := range []float32{0, 1} {
			c0 := make([]float32, m*ldc)
			for i := range c0 {
				c0[i] = float32(r.NormFloat64())
			}
			want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
			if m < 4 && beta == 0 {
				sgemmFewRows(m, n, k, a, lda, b, ldb, got, ldc)
			} else {
				sgemmFast(m, n, k, a, lda, b, ldb, beta, got, ldc)
			}
			for i := range want {
				if d := math.Abs(float64(want[i] - got[i])); d > 1e-4*math.Sqrt(float64(k)) {
					t.Fatalf("m=%d n=%d k=%d beta=%g: element %d: got %g, want %g", m, n, k, beta, i, got[i], want[i])
				}
			}
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{64, 1024, 64}, {512, 256, 512}, {128, 2048, 256}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = 1
		}
		for i := range bb {
			bb[i] = 1
		}
		name := func(x string) string { return x + "/" + string(rune('0'+m/64)) }
		for _, pack := range []bool{true, false} {
			b.Run(name(map[bool]string{true: "pack", false: "nopack"}[pack]), func(b *testing.B) {
				defer func(p bool) { sgemmPack = p }(sgemmPack)
				sgemmPack = pack
				for i := 0; i < b.N; i++ {
					sgemmFast(m, n, k, a, k, bb, n, 0, c, n)
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
		b.Run(name("gonum"), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
