package ops

import (
	"runtime"
	"sync"

	G "gorgonia.org/gorgonia"

	"stylegan-tui/model/kernels"
)

// Gorgonia's graphs multiply with the BLAS the kernels chose (OpenBLAS with -tags openblas,
// kernels/blas_openblas.go; gonum's otherwise), so the switch is in one place.
func init() { G.Use(kernels.CurrentBLAS()) }

// BLASName names the BLAS the build multiplies with.
func BLASName() string { return kernels.BLASName() }

// float is the element type of every op: float32 in production, float64 for gradient checks.
type float = kernels.Float

// InferenceBLAS prepares the BLAS for a run of inference graphs and returns the function that
// undoes it. With OpenBLAS it makes OpenBLAS single-threaded and lets the convolutions spread
// their GEMMs over the cores: OpenBLAS's own worker threads spin (sched_yield) between calls
// and take a core away from the Winograd transforms and element-wise ops in between, which on
// 2 cores cost ~20% of a 256 px forward. With gonum's BLAS it does nothing. Concurrent
// OpenBLAS users in the process run single-threaded until the returned function is called.
func InferenceBLAS() (restore func()) { return SingleThreadedBLAS() }

// SingleThreadedBLAS is InferenceBLAS for any graphs, training included: OpenBLAS runs
// single-threaded and the kernels spread the work over the cores themselves (the images of a
// batch, the columns or the independent GEMMs of a convolution).
func SingleThreadedBLAS() (restore func()) {
	if !kernels.ExternalBLAS() || runtime.GOMAXPROCS(0) < 2 {
		return func() {}
	}
	inferenceMu.Lock()
	defer inferenceMu.Unlock()
	if inferenceUsers == 0 {
		inferenceOld = kernels.SetBLASThreads(1)
		kernels.SplitGEMM(true)
	}
	inferenceUsers++
	return func() {
		inferenceMu.Lock()
		defer inferenceMu.Unlock()
		if inferenceUsers--; inferenceUsers == 0 {
			kernels.SplitGEMM(false)
			kernels.SetBLASThreads(inferenceOld)
		}
	}
}

var (
	inferenceMu    sync.Mutex
	inferenceUsers int
	inferenceOld   int
)
