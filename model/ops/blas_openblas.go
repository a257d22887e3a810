//go:build openblas

package ops

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"

	"stylegan-tui/model/kernels"
)

// With -tags openblas every gorgonia graph, custom op and kernel of every
// program and test that uses this package multiplies through OpenBLAS (cgo;
// Debian's libopenblas-dev). This is the only place that switches.
func init() {
	G.Use(netlib.Implementation{})
	kernels.UseBLAS(netlib.Implementation{})
}

// BLASName names the BLAS the build multiplies with.
func BLASName() string { return "OpenBLAS (netlib)" }

// setBLASThreads sets OpenBLAS's thread count and returns the previous one.
func setBLASThreads(n int) int {
	old := int(C.openblas_get_num_threads())
	if n != old {
		C.openblas_set_num_threads(C.int(n))
	}
	return old
}
