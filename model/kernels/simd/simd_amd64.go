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

// WinogradIn writes Winograd F(2×2,3×3) input tiles from row combinations: eo holds eight
// rows ld floats apart, E0 O0 E1 O1 E2 O2 E3 O3, each n+1 long, where Ek/Ok are row
// combination k of the tile rows at the even/odd padded columns. For tile t < n and k = 0..3:
// dst[(4k)·stride+t] = Ek[t]−Ek[t+1], dst[(4k+1)·stride+t] = Ok[t]+Ek[t+1],
// dst[(4k+2)·stride+t] = Ek[t+1]−Ok[t], dst[(4k+3)·stride+t] = Ok[t]−Ok[t+1]. n % 8 == 0.
//
//go:noescape
func WinogradIn(dst *float32, stride int, eo *float32, ld int, n int)

// WinogradOut writes the 2×2 output tiles Aᵀ M A of n tiles (n % 8 == 0), M[ξ][t] at
// m[ξ·stride+t], into two image rows: y0[2t], y0[2t+1] and y1[2t], y1[2t+1].
//
//go:noescape
func WinogradOut(y0, y1, m *float32, stride int, n int)

// ConvTIn writes the Winograd F(2×2,2×2) input tiles of one transposed-conv phase from row
// combinations: pq holds six rows ld floats apart, P0 Q0 P1 Q1 P2 Q2 (Pk[t] and Qk[t] are row
// combination k at the first and second column of tile t; Pk is n+1 long). For t < n
// (n % 8 == 0) and k = 0..2: dst[(3k)·stride+t] = Pk[t]−Qk[t], dst[(3k+1)·stride+t] = Qk[t],
// dst[(3k+2)·stride+t] = Pk[t+1]−Qk[t].
//
//go:noescape
func ConvTIn(dst *float32, stride int, pq *float32, ld int, n int)

// ConvTOut writes the output tiles Aᵀ M A of the transposed-conv phases (a,0) from m0 and
// (a,1) from m1 (9 matrices stride floats apart each) for n tiles (n % 8 == 0) into two output
// rows, four floats per tile: y00(0), y00(1), y01(0), y01(1) to y0 and y10(0), y10(1), y11(0),
// y11(1) to y1.
//
//go:noescape
func ConvTOut(y0, y1, m0, m1 *float32, stride int, n int)

// Sgemm4x16 is the GEMM micro-kernel: C[0:4, 0:16] (+)= A[0:4, 0:k] · B[0:k, 0:16], row
// major with strides lda, ldb, ldc in elements; acc != 0 adds to C, acc == 0 overwrites it.
//
//go:noescape
func Sgemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int)

// Available512 reports whether the CPU (and the OS) run the AVX-512 GEMM kernel.
var Available512 = Available && cpu.X86.HasAVX512F

// Sgemm8x16 is Sgemm4x16 for eight rows of C with AVX-512 (check Available512).
//
//go:noescape
func Sgemm8x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int)
