package kernels

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Float is the element type of every kernel: float32 in production, float64 for gradient checks.
type Float interface{ float32 | float64 }

// is32 reports whether T is float32.
func is32[T Float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

func as32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
func as64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// BLAS is the interface of gonum's BLAS implementations and of gorgonia's BLAS (the kernels
// use only the real ones; the complex ones let model/ops hand the same BLAS to gorgonia).
type BLAS interface {
	blas.Float32
	blas.Float64
	blas.Complex64
	blas.Complex128
}

// impl is the BLAS the GEMMs go to when the package's own float32 GEMM does not take them.
var impl BLAS = gonum.Implementation{}

// UseBLAS makes the kernels multiply with b (OpenBLAS through gonum's netlib wrapper, say).
// Call it before any kernel runs, as gorgonia.Use is called. The openblas build calls it
// (blas_openblas.go).
func UseBLAS(b BLAS) { impl = b }

// CurrentBLAS returns the BLAS the kernels multiply with, for gorgonia (model/ops) to use too.
func CurrentBLAS() BLAS { return impl }

// ExternalBLAS reports whether the kernels use a BLAS other than gonum's pure-Go one
// (OpenBLAS): GEMMs are then several times faster and Winograd's transforms weigh more.
func ExternalBLAS() bool {
	_, ok := impl.(gonum.Implementation)
	return !ok
}

// gemm computes C = alpha·op(A)·op(B) + beta·C (row major) with the package's BLAS.
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if is32[T]() {
		if useSgemmKernel(tA, tB, m, n, k, float32(alpha), float32(beta)) {
			if m < 4 {
				sgemmFewRows(m, n, k, as32(a), lda, as32(b), ldb, as32(c), ldc)
				return
			}
			sgemmFast(m, n, k, as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
			return
		}
		impl.Sgemm(trans(tA), trans(tB), m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	impl.Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}

// minParallel is the number of element operations below which a kernel stays on one goroutine.
const minParallel = 1 << 15

// parallelFor splits [0,n) into one contiguous range per P (GOMAXPROCS) and runs fn on each,
// unless work (the total number of element operations) is too small to pay for goroutines.
func parallelFor(n, work int, fn func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p > n {
		p = n
	}
	if p <= 1 || work < minParallel {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(p - 1)
	for i := 1; i < p; i++ {
		lo, hi := i*n/p, (i+1)*n/p
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/p)
	wg.Wait()
}

// Scratch buffers (im2col columns, Winograd tiles) come from pools so that re-running a graph
// does not allocate them again. Pools are per dtype and per power-of-two capacity.
var pool32, pool64 [48]sync.Pool

// getBuf returns a scratch slice of length n with unspecified contents.
func getBuf[T Float](n int) *[]T {
	c := bits.Len(uint(max(n, 1) - 1)) // capacity class: 1<<c >= n
	p := &pool64[c]
	if is32[T]() {
		p = &pool32[c]
	}
	if v, ok := p.Get().(*[]T); ok {
		*v = (*v)[:n]
		return v
	}
	s := make([]T, n, 1<<c)
	return &s
}

func putBuf[T Float](b *[]T) {
	c := bits.Len(uint(cap(*b) - 1))
	if 1<<c != cap(*b) {
		return
	}
	if is32[T]() {
		pool32[c].Put(b)
	} else {
		pool64[c].Put(b)
	}
}

// splitGEMM, when positive, makes the convolutions run their independent GEMMs (the 16 or 9
// Winograd products, column halves of an im2col product) on GOMAXPROCS goroutines themselves.
var splitGEMM atomic.Int32

// SplitGEMM makes the convolutions spread their independent GEMMs over the cores themselves
// (on) or leave each GEMM's parallelism to the BLAS (off, the default). It is meant for a
// single-threaded OpenBLAS.
func SplitGEMM(on bool) {
	if on {
		splitGEMM.Store(1)
	} else {
		splitGEMM.Store(0)
	}
}

// gemms runs fn(0..count-1), count independent GEMMs, on the cores when splitGEMM is set and
// there are at least flops multiply-adds in all; otherwise in order (the BLAS parallelizes each).
func gemms(count, flops int, fn func(i int)) {
	if splitGEMM.Load() == 0 || flops < 1<<20 {
		for i := 0; i < count; i++ {
			fn(i)
		}
		return
	}
	parallelFor(count, minParallel, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// gemmCols is gemm for C = alpha·A·op(B) + beta·C with B not transposed, split over the
// columns of B and C onto the cores when splitGEMM is set.
func gemmCols[T Float](m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	p := runtime.GOMAXPROCS(0)
	if splitGEMM.Load() == 0 || m*n*k < 1<<20 || n < 64*p {
		gemm(false, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallelFor(p, minParallel, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			j0, j1 := q*n/p/16*16, (q+1)*n/p/16*16
			if q == p-1 {
				j1 = n
			}
			gemm(false, false, m, j1-j0, k, alpha, a, lda, b[j0:], ldb, beta, c[j0:], ldc)
		}
	})
}
