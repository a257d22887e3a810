//go:build !noasm

#include "textflag.h"

// func LeakySum(dst, x, nz *float32, n int, s, b, slope float32) (sum, sumsq float64)
// For n a multiple of 8: t = leaky(x + nz·s + b) with slope for t < 0, stored to dst, and
// the float64 sum and sum of squares of t. nz·s is rounded before the add (no FMA), as in the
// reference implementations.
TEXT ·LeakySum(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nz+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y13
	VBROADCASTSS b+36(FP), Y14
	VBROADCASTSS slope+40(FP), Y15
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	SHRQ $3, CX
	JEQ done

loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMULPS Y13, Y1, Y1
	VADDPS Y1, Y0, Y0
	VADDPS Y14, Y0, Y0
	VMULPS Y15, Y0, Y2
	VBLENDVPS Y0, Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	VCVTPS2PD X0, Y4
	VEXTRACTF128 $1, Y0, X5
	VCVTPS2PD X5, Y5
	VADDPD Y4, Y8, Y8
	VADDPD Y5, Y9, Y9
	VFMADD231PD Y4, Y4, Y10
	VFMADD231PD Y5, Y5, Y11
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE loop

done:
	VADDPD Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPD X9, X8, X8
	VHADDPD X8, X8, X8
	MOVSD X8, sum+48(FP)
	VADDPD Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPD X11, X10, X10
	VHADDPD X10, X10, X10
	MOVSD X10, sumsq+56(FP)
	VZEROUPPER
	RET

// func NormAffine(dst *float32, n int, m, a, c float32)
// For n a multiple of 8: dst = (dst − m)·a + c.
TEXT ·NormAffine(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y13
	VBROADCASTSS a+20(FP), Y14
	VBROADCASTSS c+24(FP), Y15
	SHRQ $3, CX
	JEQ fin

aloop:
	VMOVUPS (DI), Y0
	VSUBPS Y13, Y0, Y0
	VMULPS Y14, Y0, Y0
	VADDPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNE aloop

fin:
	VZEROUPPER
	RET
