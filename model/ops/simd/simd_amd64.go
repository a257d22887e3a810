//go:build !noasm

package simd

import "golang.org/x/sys/cpu"

// Available reports whether the CPU runs these loops (AVX2 and FMA).
var Available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// LeakySum sets dst = t = LeakyReLU(x + nz·s + b) (slope for t < 0) over n elements and
// returns the float64 sum and sum of squares of t. nz·s is rounded before the add, as in the
// reference implementations.
//
//go:noescape
func LeakySum(dst, x, nz *float32, n int, s, b, slope float32) (sum, sumsq float64)

// NormAffine sets dst = (dst − m)·a + c over n elements (a multiply and an add, no FMA:
// one rounding less moves the parity figures).
//
//go:noescape
func NormAffine(dst *float32, n int, m, a, c float32)
