//go:build openblas

package main

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas every gorgonia graph and custom op multiplies
// through OpenBLAS (cgo; Debian's libopenblas-dev, CGO_LDFLAGS=-lopenblas).
func init() { G.Use(netlib.Implementation{}) }

func blasName() string { return "OpenBLAS (netlib)" }
