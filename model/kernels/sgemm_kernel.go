package kernels

import "stylegan-tui/model/kernels/simd"

// haveSgemmKernel reports whether the CPU runs the AVX2/FMA GEMM micro-kernel
// (simd.Sgemm4x16). Both builds have it: the pure-Go build's GEMMs use it, and so do the
// fused Winograd paths of the OpenBLAS build.
var haveSgemmKernel = simd.Available

// sgemm512On: the AVX-512 8×16 kernel (simd.Sgemm8x16) takes eight rows at a time where the
// CPU has it; on this machine's Zen 5 cores (full-width AVX-512) it runs at 1.85x the AVX2
// kernel's GFLOPS from L1 (BenchmarkSgemmKernels in model/kernels/simd). A variable so that
// tests can compare the two.
var sgemm512On = simd.Available512

// sgemmBlock computes C[i][0:16] (+)= A[i][0:k] · B[0:k][0:16] for the rows i < m (m a
// multiple of 4) of one 16-column block: A row i at a[i·lda], C row i at c[i·ldc].
func sgemmBlock(m, k int, a []float32, lda int, b *float32, ldb int, c []float32, ldc, acc int) {
	i := 0
	if sgemm512On {
		for ; i+8 <= m; i += 8 {
			simd.Sgemm8x16(k, &a[i*lda], lda, b, ldb, &c[i*ldc], ldc, acc)
		}
	}
	for ; i < m; i += 4 {
		simd.Sgemm4x16(k, &a[i*lda], lda, b, ldb, &c[i*ldc], ldc, acc)
	}
}
