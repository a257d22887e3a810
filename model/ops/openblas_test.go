//go:build openblas

package ops

// With -tags openblas (and CGO_LDFLAGS=-lopenblas, Debian's libopenblas-dev) the tests and
// benchmarks run on OpenBLAS instead of gonum's pure-Go BLAS.

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() { G.Use(netlib.Implementation{}) }
