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

// func WinogradIn(dst *float32, stride int, eo *float32, ld int, n int)
// Winograd F(2×2,3×3) input tiles from the row combinations eo (E0 O0 E1 O1 E2 O2 E3 O3, ld
// floats apart, each n+1 long): for tile t and k = 0..3,
// dst[(4k+0)·stride+t] = Ek[t] − Ek[t+1], dst[(4k+1)·stride+t] = Ok[t] + Ek[t+1],
// dst[(4k+2)·stride+t] = Ek[t+1] − Ok[t], dst[(4k+3)·stride+t] = Ok[t] − Ok[t+1]. n % 8 == 0.
TEXT ·WinogradIn(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ eo+16(FP), SI
	MOVQ ld+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ indone
	LEAQ (R8)(R8*2), R10  // 3·stride
	LEAQ (R8)(R8*4), R11  // 5·stride
	LEAQ (R10)(R8*4), R12 // 7·stride
	LEAQ (DI)(R8*8), R13  // xi 8..15
	LEAQ (R9)(R9*2), R14  // 3·ld
	LEAQ (R9)(R9*4), R15  // 5·ld
	LEAQ (R14)(R9*4), BX  // 7·ld
	LEAQ (R14)(R14*1), AX // 6·ld

inloop:
	// k = 0: E0 at 0, O0 at ld
	VMOVUPS (SI), Y0
	VMOVUPS 4(SI), Y1
	VMOVUPS (SI)(R9*1), Y2
	VMOVUPS 4(SI)(R9*1), Y3
	VSUBPS Y1, Y0, Y4
	VADDPS Y1, Y2, Y5
	VSUBPS Y2, Y1, Y6
	VSUBPS Y3, Y2, Y7
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, (DI)(R8*1)
	VMOVUPS Y6, (DI)(R8*2)
	VMOVUPS Y7, (DI)(R10*1)
	// k = 1: E1 at 2ld, O1 at 3ld
	VMOVUPS (SI)(R9*2), Y0
	VMOVUPS 4(SI)(R9*2), Y1
	VMOVUPS (SI)(R14*1), Y2
	VMOVUPS 4(SI)(R14*1), Y3
	VSUBPS Y1, Y0, Y4
	VADDPS Y1, Y2, Y5
	VSUBPS Y2, Y1, Y6
	VSUBPS Y3, Y2, Y7
	VMOVUPS Y4, (DI)(R8*4)
	VMOVUPS Y5, (DI)(R11*1)
	VMOVUPS Y6, (DI)(R10*2)
	VMOVUPS Y7, (DI)(R12*1)
	// k = 2: E2 at 4ld, O2 at 5ld
	VMOVUPS (SI)(R9*4), Y0
	VMOVUPS 4(SI)(R9*4), Y1
	VMOVUPS (SI)(R15*1), Y2
	VMOVUPS 4(SI)(R15*1), Y3
	VSUBPS Y1, Y0, Y4
	VADDPS Y1, Y2, Y5
	VSUBPS Y2, Y1, Y6
	VSUBPS Y3, Y2, Y7
	VMOVUPS Y4, (R13)
	VMOVUPS Y5, (R13)(R8*1)
	VMOVUPS Y6, (R13)(R8*2)
	VMOVUPS Y7, (R13)(R10*1)
	// k = 3: E3 at 6ld, O3 at 7ld
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 4(SI)(AX*1), Y1
	VMOVUPS (SI)(BX*1), Y2
	VMOVUPS 4(SI)(BX*1), Y3
	VSUBPS Y1, Y0, Y4
	VADDPS Y1, Y2, Y5
	VSUBPS Y2, Y1, Y6
	VSUBPS Y3, Y2, Y7
	VMOVUPS Y4, (R13)(R8*4)
	VMOVUPS Y5, (R13)(R11*1)
	VMOVUPS Y6, (R13)(R10*2)
	VMOVUPS Y7, (R13)(R12*1)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R13
	DECQ CX
	JNE inloop

indone:
	VZEROUPPER
	RET

// func WinogradOut(y0, y1, m *float32, stride int, n int)
// Winograd F(2×2,3×3) output tiles Aᵀ M A for n tiles (n % 8 == 0) from M[ξ][t] (ξ·stride
// floats apart) into two image rows: y0[2t], y0[2t+1], y1[2t], y1[2t+1].
TEXT ·WinogradOut(SB), NOSPLIT, $0-40
	MOVQ y0+0(FP), DI
	MOVQ y1+8(FP), DX
	MOVQ m+16(FP), SI
	MOVQ stride+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ outdone
	LEAQ (R8)(R8*2), R10  // 3·stride
	LEAQ (R8)(R8*4), R11  // 5·stride
	LEAQ (R10)(R8*4), R12 // 7·stride

outloop:
	LEAQ (SI)(R8*8), R13 // ξ 8..15
	// column q: u0q = s[q] + s[4+q] + s[8+q], u1q = s[4+q] − s[8+q] − s[12+q]
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*4), Y1
	VMOVUPS (R13), Y2
	VMOVUPS (R13)(R8*4), Y3
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y8
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y12
	VMOVUPS (SI)(R8*1), Y0
	VMOVUPS (SI)(R11*1), Y1
	VMOVUPS (R13)(R8*1), Y2
	VMOVUPS (R13)(R11*1), Y3
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y9
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y13
	VMOVUPS (SI)(R8*2), Y0
	VMOVUPS (SI)(R10*2), Y1
	VMOVUPS (R13)(R8*2), Y2
	VMOVUPS (R13)(R10*2), Y3
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y10
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y14
	VMOVUPS (SI)(R10*1), Y0
	VMOVUPS (SI)(R12*1), Y1
	VMOVUPS (R13)(R10*1), Y2
	VMOVUPS (R13)(R12*1), Y3
	VADDPS Y1, Y0, Y0
	VADDPS Y2, Y0, Y11
	VSUBPS Y2, Y1, Y1
	VSUBPS Y3, Y1, Y15
	// y00 = u00+u01+u02, y01 = u01−u02−u03 (and the same for row 1)
	VADDPS Y9, Y8, Y0
	VADDPS Y10, Y0, Y0
	VSUBPS Y10, Y9, Y1
	VSUBPS Y11, Y1, Y1
	VADDPS Y13, Y12, Y2
	VADDPS Y14, Y2, Y2
	VSUBPS Y14, Y13, Y3
	VSUBPS Y15, Y3, Y3
	// interleave (y00, y01) into row 0 and (y10, y11) into row 1
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VPERM2F128 $0x20, Y5, Y4, Y6
	VPERM2F128 $0x31, Y5, Y4, Y7
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VUNPCKLPS Y3, Y2, Y4
	VUNPCKHPS Y3, Y2, Y5
	VPERM2F128 $0x20, Y5, Y4, Y6
	VPERM2F128 $0x31, Y5, Y4, Y7
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ $32, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ CX
	JNE outloop

outdone:
	VZEROUPPER
	RET

// func ConvTIn(dst *float32, stride int, pq *float32, ld int, n int)
// Winograd F(2×2,2×2) input tiles of one transposed-conv phase from row combinations pq
// (P0 Q0 P1 Q1 P2 Q2, ld floats apart): for tile t < n (n % 8 == 0) and k = 0..2,
// dst[(3k)·stride+t] = Pk[t] − Qk[t], dst[(3k+1)·stride+t] = Qk[t],
// dst[(3k+2)·stride+t] = Pk[t+1] − Qk[t].
TEXT ·ConvTIn(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ pq+16(FP), SI
	MOVQ ld+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ ctidone
	LEAQ (R8)(R8*2), R10  // 3·stride
	LEAQ (R8)(R8*4), R11  // 5·stride
	LEAQ (R10)(R8*4), R12 // 7·stride
	LEAQ (R9)(R9*2), R14  // 3·ld
	LEAQ (R9)(R9*4), R15  // 5·ld

ctiloop:
	VMOVUPS (SI), Y0
	VMOVUPS 4(SI), Y1
	VMOVUPS (SI)(R9*1), Y2
	VSUBPS Y2, Y0, Y3
	VSUBPS Y2, Y1, Y4
	VMOVUPS Y3, (DI)
	VMOVUPS Y2, (DI)(R8*1)
	VMOVUPS Y4, (DI)(R8*2)
	VMOVUPS (SI)(R9*2), Y0
	VMOVUPS 4(SI)(R9*2), Y1
	VMOVUPS (SI)(R14*1), Y2
	VSUBPS Y2, Y0, Y3
	VSUBPS Y2, Y1, Y4
	VMOVUPS Y3, (DI)(R10*1)
	VMOVUPS Y2, (DI)(R8*4)
	VMOVUPS Y4, (DI)(R11*1)
	VMOVUPS (SI)(R9*4), Y0
	VMOVUPS 4(SI)(R9*4), Y1
	VMOVUPS (SI)(R15*1), Y2
	VSUBPS Y2, Y0, Y3
	VSUBPS Y2, Y1, Y4
	VMOVUPS Y3, (DI)(R10*2)
	VMOVUPS Y2, (DI)(R12*1)
	VMOVUPS Y4, (DI)(R8*8)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE ctiloop

ctidone:
	VZEROUPPER
	RET

// convTPhase computes, from the 9 matrices at base (stride R8, R10 = 3, R11 = 5, R12 = 7
// strides), y00 → ra, y01 → rb, y10 → rc, y11 → rd of 8 tiles, with u0c = s[c]+s[3+c],
// u1c = s[3+c]+s[6+c], y00 = u00+u01, y01 = u01+u02, y10 = u10+u11, y11 = u11+u12.
#define convTPhase(base, ra, rb, rc, rd) \
	VMOVUPS (base), Y0; \
	VMOVUPS (base)(R10*1), Y1; \
	VADDPS Y1, Y0, Y0; \
	VMOVUPS (base)(R8*1), Y2; \
	VMOVUPS (base)(R8*4), Y3; \
	VADDPS Y3, Y2, Y2; \
	VMOVUPS (base)(R8*2), Y4; \
	VMOVUPS (base)(R11*1), Y5; \
	VADDPS Y5, Y4, Y4; \
	VADDPS Y2, Y0, ra; \
	VADDPS Y4, Y2, rb; \
	VMOVUPS (base)(R10*2), Y6; \
	VADDPS Y6, Y1, Y1; \
	VMOVUPS (base)(R12*1), Y7; \
	VADDPS Y7, Y3, Y3; \
	VMOVUPS (base)(R8*8), Y6; \
	VADDPS Y6, Y5, Y5; \
	VADDPS Y3, Y1, rc; \
	VADDPS Y5, Y3, rd

// interleave4 stores A B C D (8 tiles each) as A0 B0 C0 D0 A1 B1 C1 D1 ... at dst.
#define interleave4(A, B, C, D, dst) \
	VUNPCKLPS B, A, Y0; \
	VUNPCKHPS B, A, Y1; \
	VUNPCKLPS D, C, Y2; \
	VUNPCKHPS D, C, Y3; \
	VUNPCKLPD Y2, Y0, Y4; \
	VUNPCKHPD Y2, Y0, Y5; \
	VUNPCKLPD Y3, Y1, Y6; \
	VUNPCKHPD Y3, Y1, Y7; \
	VPERM2F128 $0x20, Y5, Y4, Y0; \
	VPERM2F128 $0x20, Y7, Y6, Y1; \
	VPERM2F128 $0x31, Y5, Y4, Y2; \
	VPERM2F128 $0x31, Y7, Y6, Y3; \
	VMOVUPS Y0, (dst); \
	VMOVUPS Y1, 32(dst); \
	VMOVUPS Y2, 64(dst); \
	VMOVUPS Y3, 96(dst)

// func ConvTOut(y0, y1, m0, m1 *float32, stride int, n int)
// Winograd F(2×2,2×2) output tiles of the transposed-conv phases (a,0) (from m0) and (a,1)
// (from m1), 9 matrices stride floats apart each, for n tiles (n % 8 == 0): output row 0 gets
// y00(b=0), y00(b=1), y01(b=0), y01(b=1) per tile, row 1 the same with y10, y11.
TEXT ·ConvTOut(SB), NOSPLIT, $0-48
	MOVQ y0+0(FP), DI
	MOVQ y1+8(FP), R13
	MOVQ m0+16(FP), SI
	MOVQ m1+24(FP), DX
	MOVQ stride+32(FP), R8
	SHLQ $2, R8
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	JEQ ctodone
	LEAQ (R8)(R8*2), R10  // 3·stride
	LEAQ (R8)(R8*4), R11  // 5·stride
	LEAQ (R10)(R8*4), R12 // 7·stride

ctoloop:
	convTPhase(SI, Y8, Y9, Y10, Y11)
	convTPhase(DX, Y12, Y13, Y14, Y15)
	interleave4(Y8, Y12, Y9, Y13, DI)
	interleave4(Y10, Y14, Y11, Y15, R13)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $128, DI
	ADDQ $128, R13
	DECQ CX
	JNE ctoloop

ctodone:
	VZEROUPPER
	RET
