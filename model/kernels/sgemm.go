package kernels

import "runtime"

// A pure-Go-build float32 GEMM for the shapes of the convolutions (C = A·B + beta·C, neither
// transposed, beta 0 or 1): gonum's Sgemm updates C one row at a time with an SSE axpy of at
// most 64 elements, so it loads and stores C once per multiply-add pair; this one keeps a 4×16
// block of C in eight AVX registers over a K block (simd.Sgemm4x16; 8×16 in AVX-512 registers
// where the CPU has them, sgemmBlock), with each 16-column panel of B packed contiguously
// (rows of B are often 4 KB apart, which would alias in L1). Panels are spread over the cores.
// Edges (m%4 rows, n%16 columns) go to gonum.

// sgemmKC is the K block: an M×KC block of A stays in L2 while the panels of B stream by.
const sgemmKC = 256

// useSgemmKernel reports whether gemm should use sgemmFast for this call (m < 4 with beta 0:
// sgemmFewRows, e.g. ToRGB's 3 output channels).
func useSgemmKernel(tA, tB bool, m, n, k int, alpha, beta float32) bool {
	return haveSgemmKernel && sgemmKernelOn && !tA && !tB && alpha == 1 && (beta == 0 || beta == 1) &&
		(m >= 4 || beta == 0) && m >= 1 && n >= 16 && k >= 1 && !ExternalBLAS()
}

// sgemmFewRows computes C = A·B for m < 4 rows by padding A with zero rows to 4 and copying
// the m rows of the result out.
func sgemmFewRows(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ap, cp := getBuf[float32](4*k), getBuf[float32](4*n)
	defer putBuf(ap)
	defer putBuf(cp)
	a4, c4 := *ap, *cp
	clear(a4)
	for i := 0; i < m; i++ {
		copy(a4[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
	// One row block uses each panel of B once: packing it would only copy it.
	sgemmPanels(false, 4, n, k, a4, k, b, ldb, 0, c4, n)
	for i := 0; i < m; i++ {
		copy(c[i*ldc:i*ldc+n], c4[i*n:(i+1)*n])
	}
}

// sgemmKernelOn lets tests compare against gonum.
var sgemmKernelOn = true

// sgemmPack copies each K block of a 16-column panel of B into a contiguous buffer first.
var sgemmPack = true

// sgemmFast computes C = A·B + beta·C (beta 0 or 1), row major.
func sgemmFast(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmPanels(sgemmPack, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// sgemmPanels is sgemmFast, packing B's panels or not.
func sgemmPanels(pack bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m4, n16 := m/4*4, n/16*16
	panels := n16 / 16
	p := runtime.GOMAXPROCS(0)
	work := m4 * n16 * k
	if work < 1<<18 {
		p = 1
	}
	p = max(1, min(p, panels))
	run := func(q0, q1 int) {
		buf := getBuf[float32](sgemmKC * 16)
		defer putBuf(buf)
		pb := *buf
		for q := q0; q < q1; q++ {
			j := q * 16
			for k0 := 0; k0 < k; k0 += sgemmKC {
				kc := min(sgemmKC, k-k0)
				bp, lb := &b[k0*ldb+j], ldb
				if pack {
					for l := 0; l < kc; l++ {
						*(*[16]float32)(pb[l*16:]) = *(*[16]float32)(b[(k0+l)*ldb+j:])
					}
					bp, lb = &pb[0], 16
				}
				acc := 1
				if k0 == 0 && beta == 0 {
					acc = 0
				}
				sgemmBlock(m4, kc, a[k0:], lda, bp, lb, c[j:], ldc, acc)
			}
		}
	}
	if p == 1 {
		run(0, panels)
	} else {
		parallelFor(p, minParallel, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				run(t*panels/p, (t+1)*panels/p)
			}
		})
	}
	if n16 < n { // right edge, all rows
		impl.Sgemm(trans(false), trans(false), m, n-n16, k, 1, a, lda, b[n16:], ldb, beta, c[n16:], ldc)
	}
	if m4 < m { // bottom rows, left part
		impl.Sgemm(trans(false), trans(false), m-m4, n16, k, 1, a[m4*lda:], lda, b, ldb, beta, c[m4*ldc:], ldc)
	}
}
