//go:build openblas

package kernels

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import "gonum.org/v1/netlib/blas/netlib"

// With -tags openblas the kernels multiply through OpenBLAS (cgo; Debian's libopenblas-dev),
// in every program and test binary that links this package, model/ops' gorgonia graphs
// included (ops hands gorgonia CurrentBLAS()). This is the only place that switches.
func init() { UseBLAS(netlib.Implementation{}) }

// BLASName names the BLAS the build multiplies with.
func BLASName() string { return "OpenBLAS (netlib)" }

// SetBLASThreads sets OpenBLAS's thread count and returns the previous one.
func SetBLASThreads(n int) int {
	old := int(C.openblas_get_num_threads())
	if n != old {
		C.openblas_set_num_threads(C.int(n))
	}
	return old
}
