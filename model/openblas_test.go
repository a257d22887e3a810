//go:build openblas

package model

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas (CGO_LDFLAGS=-lopenblas) the tests and benchmarks multiply through
// OpenBLAS, as the openblas build of the binary does.
func init() { G.Use(netlib.Implementation{}) }
