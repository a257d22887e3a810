//go:build !noasm

#include "textflag.h"

// func Sgemm8x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int)
// C[0:8, 0:16] (+)= A[0:8, 0:k] · B[0:k, 0:16] with AVX-512: one zmm row of B per k, the
// eight A values broadcast into the FMAs. acc != 0 adds to C, acc == 0 overwrites it.
TEXT ·Sgemm8x16(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	MOVQ acc+56(FP), R11
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10
	LEAQ (R8)(R8*2), R12 // 3·lda
	LEAQ (SI)(R8*4), R13 // row 4
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JEQ store8

loop8:
	VMOVUPS (DI), Z8
	VFMADD231PS.BCST (SI), Z8, Z0
	VFMADD231PS.BCST (SI)(R8*1), Z8, Z1
	VFMADD231PS.BCST (SI)(R8*2), Z8, Z2
	VFMADD231PS.BCST (SI)(R12*1), Z8, Z3
	VFMADD231PS.BCST (R13), Z8, Z4
	VFMADD231PS.BCST (R13)(R8*1), Z8, Z5
	VFMADD231PS.BCST (R13)(R8*2), Z8, Z6
	VFMADD231PS.BCST (R13)(R12*1), Z8, Z7
	ADDQ $4, SI
	ADDQ $4, R13
	ADDQ R9, DI
	DECQ CX
	JNE loop8

store8:
	LEAQ (R10)(R10*2), R12 // 3·ldc
	LEAQ (DX)(R10*4), R13  // row 4
	TESTQ R11, R11
	JEQ write8
	VADDPS (DX), Z0, Z0
	VADDPS (DX)(R10*1), Z1, Z1
	VADDPS (DX)(R10*2), Z2, Z2
	VADDPS (DX)(R12*1), Z3, Z3
	VADDPS (R13), Z4, Z4
	VADDPS (R13)(R10*1), Z5, Z5
	VADDPS (R13)(R10*2), Z6, Z6
	VADDPS (R13)(R12*1), Z7, Z7

write8:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, (DX)(R10*1)
	VMOVUPS Z2, (DX)(R10*2)
	VMOVUPS Z3, (DX)(R12*1)
	VMOVUPS Z4, (R13)
	VMOVUPS Z5, (R13)(R10*1)
	VMOVUPS Z6, (R13)(R10*2)
	VMOVUPS Z7, (R13)(R12*1)
	VZEROUPPER
	RET
