//go:build !noasm

#include "textflag.h"

// Element-wise loops of the training graphs: blur rows, LeakyReLU and its gradient, bias,
// float64 sums, and the two backward passes of the fused style epilogue. n % 8 == 0.

// hsum2 adds the four float64 lanes of lo and hi into X(lo) lane 0 (clobbers hi).
#define hsum2(lo, hi, xlo, xhi) \
	VADDPD hi, lo, lo; \
	VEXTRACTF128 $1, lo, xhi; \
	VADDPD xhi, xlo, xlo; \
	VHADDPD xlo, xlo, xlo

// acc8 adds the eight float32 lanes of v (Y register, xv its low half) to the float64
// accumulators lo and hi (clobbers t and tx).
#define acc8(v, xv, lo, hi, t, tx) \
	VCVTPS2PD xv, t; \
	VADDPD t, lo, lo; \
	VEXTRACTF128 $1, v, tx; \
	VCVTPS2PD tx, t; \
	VADDPD t, hi, hi

// func Sum121(t, a, b, c *float32, n int)
// t = a + 2b + c.
TEXT ·Sum121(SB), NOSPLIT, $0-40
	MOVQ t+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ s121done

s121loop:
	VMOVUPS (DX), Y0
	VADDPS Y0, Y0, Y0
	VADDPS (SI), Y0, Y0
	VADDPS (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, R8
	DECQ CX
	JNE s121loop

s121done:
	VZEROUPPER
	RET

// func HBlur121(dst, t *float32, n int, s float32)
// dst[j] = (t[j] + 2·t[j+1] + t[j+2])·s for j < n (t holds n+2 floats).
TEXT ·HBlur121(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ t+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y15
	SHRQ $3, CX
	JEQ hbdone

hbloop:
	VMOVUPS 4(SI), Y0
	VADDPS Y0, Y0, Y0
	VADDPS (SI), Y0, Y0
	VADDPS 8(SI), Y0, Y0
	VMULPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE hbloop

hbdone:
	VZEROUPPER
	RET

// func LeakyScale(dst, x, gy *float32, n int, slope float32)
// dst = gy where x's sign bit is clear, slope·gy where it is set.
TEXT ·LeakyScale(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gy+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS slope+32(FP), Y15
	SHRQ $3, CX
	JEQ lsdone

lsloop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMULPS Y15, Y1, Y2
	VBLENDVPS Y0, Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE lsloop

lsdone:
	VZEROUPPER
	RET

// func AddConst(dst, x *float32, n int, b float32)
// dst = x + b.
TEXT ·AddConst(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y15
	SHRQ $3, CX
	JEQ acdone

acloop:
	VADDPS (SI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE acloop

acdone:
	VZEROUPPER
	RET

// func BiasLeaky(dst, x *float32, n int, b, slope float32)
// t = x + b; dst = t, or slope·t where t's sign bit is set.
TEXT ·BiasLeaky(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y14
	VBROADCASTSS slope+28(FP), Y15
	SHRQ $3, CX
	JEQ bldone

blloop:
	VADDPS (SI), Y14, Y0
	VMULPS Y15, Y0, Y1
	VBLENDVPS Y0, Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE blloop

bldone:
	VZEROUPPER
	RET

// func LeakyGradSum(gx, y, gy *float32, n int, slope float32) (sum float64)
// gx = gy, or slope·gy where y's sign bit is set; returns Σgx in float64.
TEXT ·LeakyGradSum(SB), NOSPLIT, $0-48
	MOVQ gx+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ gy+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS slope+32(FP), Y15
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	SHRQ $3, CX
	JEQ lgdone

lgloop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMULPS Y15, Y1, Y2
	VBLENDVPS Y0, Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	acc8(Y1, X1, Y8, Y9, Y4, X5)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE lgloop

lgdone:
	hsum2(Y8, Y9, X8, X9)
	MOVSD X8, sum+40(FP)
	VZEROUPPER
	RET

// func SumF64(x *float32, n int) float64
TEXT ·SumF64(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	SHRQ $3, CX
	JEQ sfdone

sfloop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD Y0, Y8, Y8
	VADDPD Y1, Y9, Y9
	ADDQ $32, SI
	DECQ CX
	JNE sfloop

sfdone:
	hsum2(Y8, Y9, X8, X9)
	MOVSD X8, ret+16(FP)
	VZEROUPPER
	RET

// func DotF64(a, b *float32, n int) float64
// Σ a·b, the products in float32, the sum in float64.
TEXT ·DotF64(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ n+16(FP), CX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	SHRQ $3, CX
	JEQ dfdone

dfloop:
	VMOVUPS (SI), Y0
	VMULPS (DX), Y0, Y0
	acc8(Y0, X0, Y8, Y9, Y4, X5)
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE dfloop

dfdone:
	hsum2(Y8, Y9, X8, X9)
	MOVSD X8, ret+24(FP)
	VZEROUPPER
	RET

// func EpiDots(t, gy *float32, n int, m, a float32) (sg, sgx float64)
// With xn = (t − m)·a: sg = Σgy, sgx = Σgy·xn (float64 sums).
TEXT ·EpiDots(SB), NOSPLIT, $0-48
	MOVQ t+0(FP), SI
	MOVQ gy+8(FP), DX
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSS a+28(FP), Y14
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	SHRQ $3, CX
	JEQ eddone

edloop:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0
	VMULPS Y14, Y0, Y0
	VMOVUPS (DX), Y1
	VMULPS Y1, Y0, Y0
	acc8(Y1, X1, Y8, Y9, Y4, X5)
	acc8(Y0, X0, Y10, Y11, Y4, X5)
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE edloop

eddone:
	hsum2(Y8, Y9, X8, X9)
	MOVSD X8, sg+32(FP)
	hsum2(Y10, Y11, X10, X11)
	MOVSD X10, sgx+40(FP)
	VZEROUPPER
	RET

// func EpiGrad(gx, t, gy, nz *float32, n int, m, a, k, c1, c2, slope float32) (sg, sgn float64)
// With xn = (t − m)·a: g = (gy − c1 − xn·c2)·k, times slope where t's sign bit is set;
// gx = g, sg = Σg, sgn = Σg·nz (float64 sums).
TEXT ·EpiGrad(SB), NOSPLIT, $0-80
	MOVQ gx+0(FP), DI
	MOVQ t+8(FP), SI
	MOVQ gy+16(FP), DX
	MOVQ nz+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Y15
	VBROADCASTSS a+44(FP), Y14
	VBROADCASTSS k+48(FP), Y13
	VBROADCASTSS c1+52(FP), Y12
	VBROADCASTSS c2+56(FP), Y11
	VBROADCASTSS slope+60(FP), Y10
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	SHRQ $3, CX
	JEQ egdone

egloop:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y1
	VMULPS Y14, Y1, Y1
	VMULPS Y11, Y1, Y1
	VMOVUPS (DX), Y2
	VSUBPS Y12, Y2, Y2
	VSUBPS Y1, Y2, Y2
	VMULPS Y13, Y2, Y2
	VMULPS Y10, Y2, Y3
	VBLENDVPS Y0, Y3, Y2, Y2
	VMOVUPS Y2, (DI)
	acc8(Y2, X2, Y6, Y7, Y4, X5)
	VMULPS (R8), Y2, Y2
	acc8(Y2, X2, Y8, Y9, Y4, X5)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNE egloop

egdone:
	hsum2(Y6, Y7, X6, X7)
	MOVSD X6, sg+64(FP)
	hsum2(Y8, Y9, X8, X9)
	MOVSD X8, sgn+72(FP)
	VZEROUPPER
	RET

// deinterleave stores the even and odd lanes of the 16 floats lo:hi (Y registers, clobbered
// into t0 and t1) as 8 floats each at de and do.
#define deinterleave(lo, hi, t0, t1, de, do) \
	VSHUFPS $0x88, hi, lo, t0; \
	VSHUFPS $0xDD, hi, lo, t1; \
	VPERMPD $0xD8, t0, t0; \
	VPERMPD $0xD8, t1, t1; \
	VMOVUPS t0, de; \
	VMOVUPS t1, do

// func RowCombos(eo *float32, ld int, a, b, e, f *float32, n int)
// For i < n (n % 8 == 0): Ek[i] = ck[2i] and Ok[i] = ck[2i+1] of the combinations c0 = a−e,
// c1 = b+e, c2 = e−b, c3 = b−f, stored to eo as E0 O0 E1 O1 E2 O2 E3 O3, rows ld apart.
TEXT ·RowCombos(SB), NOSPLIT, $0-56
	MOVQ eo+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ e+32(FP), R12
	MOVQ f+40(FP), R13
	MOVQ n+48(FP), CX
	SHRQ $3, CX
	JEQ rcdone
	LEAQ (R8)(R8*2), R9   // 3·ld
	LEAQ (R8)(R8*4), R10  // 5·ld
	LEAQ (R9)(R8*4), R11  // 7·ld

rcloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VMOVUPS (R12), Y4
	VMOVUPS 32(R12), Y5
	VMOVUPS (R13), Y6
	VMOVUPS 32(R13), Y7
	VSUBPS Y4, Y0, Y8
	VSUBPS Y5, Y1, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI), (DI)(R8*1))
	VADDPS Y4, Y2, Y8
	VADDPS Y5, Y3, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI)(R8*2), (DI)(R9*1))
	VSUBPS Y2, Y4, Y8
	VSUBPS Y3, Y5, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI)(R8*4), (DI)(R10*1))
	VSUBPS Y6, Y2, Y8
	VSUBPS Y7, Y3, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI)(R9*2), (DI)(R11*1))
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $32, DI
	DECQ CX
	JNE rcloop

rcdone:
	VZEROUPPER
	RET

// func PhaseCombos(pq *float32, ld int, p, q, s *float32, n int)
// For i < n (n % 8 == 0): Pk[i] = ck[2i] and Qk[i] = ck[2i+1] of the combinations c0 = p−q,
// c1 = q, c2 = s−q, stored to pq as P0 Q0 P1 Q1 P2 Q2, rows ld apart.
TEXT ·PhaseCombos(SB), NOSPLIT, $0-48
	MOVQ pq+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ p+16(FP), SI
	MOVQ q+24(FP), DX
	MOVQ s+32(FP), R12
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	JEQ pcdone
	LEAQ (R8)(R8*2), R9   // 3·ld
	LEAQ (R8)(R8*4), R10  // 5·ld

pcloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VMOVUPS (R12), Y4
	VMOVUPS 32(R12), Y5
	VSUBPS Y2, Y0, Y8
	VSUBPS Y3, Y1, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI), (DI)(R8*1))
	deinterleave(Y2, Y3, Y10, Y11, (DI)(R8*2), (DI)(R9*1))
	VSUBPS Y2, Y4, Y8
	VSUBPS Y3, Y5, Y9
	deinterleave(Y8, Y9, Y10, Y11, (DI)(R8*4), (DI)(R10*1))
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R12
	ADDQ $32, DI
	DECQ CX
	JNE pcloop

pcdone:
	VZEROUPPER
	RET

// evens sets t to the eight even lanes of the 16 floats lo:hi.
#define evens(lo, hi, t) \
	VSHUFPS $0x88, hi, lo, t; \
	VPERMPD $0xD8, t, t

// func QuadCombos(pq *float32, ld int, p, q, s *float32, n int)
// For i < n (n % 8 == 0): Pk[i] = ck[4i] and Qk[i] = ck[4i+2] of the combinations c0 = p−q,
// c1 = q, c2 = s−q, stored to pq as P0 Q0 P1 Q1 P2 Q2, rows ld apart.
TEXT ·QuadCombos(SB), NOSPLIT, $0-48
	MOVQ pq+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ p+16(FP), SI
	MOVQ q+24(FP), DX
	MOVQ s+32(FP), R12
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	JEQ qcdone
	LEAQ (R8)(R8*2), R9   // 3·ld
	LEAQ (R8)(R8*4), R10  // 5·ld

qcloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS (DX), Y4
	VMOVUPS 32(DX), Y5
	VMOVUPS 64(DX), Y6
	VMOVUPS 96(DX), Y7
	VMOVUPS (R12), Y8
	VMOVUPS 32(R12), Y9
	VMOVUPS 64(R12), Y10
	VMOVUPS 96(R12), Y11
	// c0 = p − q
	VSUBPS Y4, Y0, Y12
	VSUBPS Y5, Y1, Y13
	evens(Y12, Y13, Y12)
	VSUBPS Y6, Y2, Y13
	VSUBPS Y7, Y3, Y14
	evens(Y13, Y14, Y13)
	deinterleave(Y12, Y13, Y14, Y15, (DI), (DI)(R8*1))
	// c1 = q
	evens(Y4, Y5, Y12)
	evens(Y6, Y7, Y13)
	deinterleave(Y12, Y13, Y14, Y15, (DI)(R8*2), (DI)(R9*1))
	// c2 = s − q
	VSUBPS Y4, Y8, Y12
	VSUBPS Y5, Y9, Y13
	evens(Y12, Y13, Y12)
	VSUBPS Y6, Y10, Y13
	VSUBPS Y7, Y11, Y14
	evens(Y13, Y14, Y13)
	deinterleave(Y12, Y13, Y14, Y15, (DI)(R8*4), (DI)(R10*1))
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, R12
	ADDQ $32, DI
	DECQ CX
	JNE qcloop

qcdone:
	VZEROUPPER
	RET

// func GradTile(z *float32, stride int, gy *float32, hw, w, n int)
// The Winograd F(2×2,3×3) weight-gradient transform A gY Aᵀ of one interior 2×2 tile for n
// channels (n % 8 == 0): gY of channel o is g[o·hw], g[o·hw+1], g[o·hw+w], g[o·hw+w+1]
// (gathered eight channels at a time, g = gy); the 16 results go to z[ξ·stride+o].
TEXT ·GradTile(SB), NOSPLIT, $0-48
	MOVQ z+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ gy+16(FP), SI
	MOVQ hw+24(FP), R9
	MOVQ w+32(FP), R10
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	JEQ gtdone
	// indices o·hw for o = 0..7 (int32)
	MOVL R9, X0
	VPBROADCASTD X0, Y1        // hw in every lane
	MOVQ $0x0000000100000000, AX
	MOVQ AX, X2
	MOVQ $0x0000000300000002, AX
	MOVQ AX, X3
	VPUNPCKLQDQ X3, X2, X2     // 0 1 2 3
	VPBROADCASTD X1, X3
	VPSLLD $2, X3, X3          // 4·hw
	VPMULLD X1, X2, X2         // 0 hw 2hw 3hw
	VPADDD X3, X2, X3          // 4hw 5hw 6hw 7hw
	VINSERTI128 $1, X3, Y2, Y12 // Y12: o·hw
	MOVL $0x80000000, AX
	MOVL AX, X0
	VPBROADCASTD X0, Y13       // sign mask
	SHLQ $5, R9                // 8·hw floats in bytes
	LEAQ (R8)(R8*2), R11       // 3·stride bytes
	SHLQ $2, R10               // w in bytes

gtloop:
	VPCMPEQD Y14, Y14, Y14
	VGATHERDPS Y14, (SI)(Y12*4), Y0     // g00
	VPCMPEQD Y14, Y14, Y14
	VGATHERDPS Y14, 4(SI)(Y12*4), Y1    // g01
	LEAQ (SI)(R10*1), DX
	VPCMPEQD Y14, Y14, Y14
	VGATHERDPS Y14, (DX)(Y12*4), Y2     // g10
	VPCMPEQD Y14, Y14, Y14
	VGATHERDPS Y14, 4(DX)(Y12*4), Y3    // g11
	MOVQ DI, DX
	// row 0: g00, g00+g01, g00−g01, −g01
	VADDPS Y1, Y0, Y4
	VSUBPS Y1, Y0, Y5
	VXORPS Y13, Y1, Y6
	VMOVUPS Y0, (DX)
	VMOVUPS Y4, (DX)(R8*1)
	VMOVUPS Y5, (DX)(R8*2)
	VMOVUPS Y6, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	// row 1 from p1 = g00+g10, q1 = g01+g11: p1, p1+q1, p1−q1, −q1
	VADDPS Y2, Y0, Y7
	VADDPS Y3, Y1, Y8
	VADDPS Y8, Y7, Y4
	VSUBPS Y8, Y7, Y5
	VXORPS Y13, Y8, Y6
	VMOVUPS Y7, (DX)
	VMOVUPS Y4, (DX)(R8*1)
	VMOVUPS Y5, (DX)(R8*2)
	VMOVUPS Y6, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	// row 2 from p2 = g00−g10, q2 = g01−g11
	VSUBPS Y2, Y0, Y7
	VSUBPS Y3, Y1, Y8
	VADDPS Y8, Y7, Y4
	VSUBPS Y8, Y7, Y5
	VXORPS Y13, Y8, Y6
	VMOVUPS Y7, (DX)
	VMOVUPS Y4, (DX)(R8*1)
	VMOVUPS Y5, (DX)(R8*2)
	VMOVUPS Y6, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	// row 3: −g10, −g10−g11, g11−g10, g11
	VXORPS Y13, Y2, Y7
	VSUBPS Y3, Y7, Y4
	VSUBPS Y2, Y3, Y5
	VMOVUPS Y7, (DX)
	VMOVUPS Y4, (DX)(R8*1)
	VMOVUPS Y5, (DX)(R8*2)
	VMOVUPS Y3, (DX)(R11*1)
	ADDQ R9, SI
	ADDQ $32, DI
	DECQ CX
	JNE gtloop

gtdone:
	VZEROUPPER
	RET
