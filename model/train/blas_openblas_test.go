//go:build openblas

package train

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas the tests multiply through OpenBLAS, as the trainer does.
func init() { G.Use(netlib.Implementation{}) }
