//go:build !noasm && !openblas

package ops

import "golang.org/x/sys/cpu"

// sgemm4x16 is the AVX2/FMA micro-kernel of sgemmAVX2 (sgemm_amd64.s).
//
//go:noescape
func sgemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int)

// haveSgemmKernel reports whether the CPU runs sgemm4x16 (AVX2 and FMA).
var haveSgemmKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
