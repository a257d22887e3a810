package kernels

import (
	"runtime"

	"stylegan-tui/model/kernels/simd"
)

// The fused Winograd forward pass (float32, AVX2 kernel, both builds): instead of
// transforming the whole image, running 16 image-wide GEMMs and transforming back — which
// streams V and M, 16/4 times the size of the input and output, through memory three times —
// each job takes a group of tiles through all three steps while its V and M are in L2. At 256²
// with 64 channels the transforms cost as much as the GEMMs otherwise.

// winogradFusedOn lets tests and benchmarks compare with the unfused path.
var winogradFusedOn = true

// winogradFusedMinTiles is the smallest image (in 2×2 tiles) that takes the fused path: below
// it the image-wide GEMMs have too few columns to matter and the weights dominate.
var winogradFusedMinTiles = 256

// useWinogradFused reports whether a float32 forward conv takes the fused path: each job
// reads all the transformed weights, so groups below 64 tiles (Cin = 512) lose more on that
// than the fusion saves (1.2-1.35x slower at 32² with 512 channels; 0.56-0.94x the unfused time
// with 64-256 channels at 64²-256², measured A/B in one process).
//
// It runs in the OpenBLAS build too: at these shapes (64-256 channels, many tiles) one
// OpenBLAS call per ξ and chunk pays its packing and threading on small matrices.
func useWinogradFused(cin, cout, tiles int) bool {
	return winogradFusedOn && tiles >= winogradFusedMinTiles && haveSgemmKernel && sgemmKernelOn && cout%4 == 0 &&
		(fusedGroup(cin, tiles) >= 64 || winogradFusedMinTiles <= 1)
}

// winogradFused is winogradConv2d on the fused path: y [B,Cout,H,W] = conv3×3(x [B,Cin,H,W])
// with the transformed weight u (matrices us apart).
func winogradFused(y, x, u []float32, us, batch, cin, h, w, cout int) {
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	group := fusedGroup(cin, tiles)
	jobs := (tiles + group - 1) / group
	vs, ms := slabStride(cin*group), slabStride(cout*group)
	in, out := cin*h*w, cout*h*w
	for b := 0; b < batch; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		parallelFor(jobs, 16*cout*cin*tiles, func(j0, j1 int) {
			vp, mp := getBuf[float32](16*vs), getBuf[float32](16*ms)
			defer putBuf(vp)
			defer putBuf(mp)
			v, m := *vp, *mp
			for j := j0; j < j1; j++ {
				ta := j * group
				tb := min(ta+group, tiles)
				np := (tb - ta + 15) &^ 15
				lv, lm := tileLayout{cin, tb - ta, true}, tileLayout{cout, tb - ta, true}
				winogradInput(v, vs, lv, xb, h, w, ta, tb, 0, cin)
				clearPadding(v, vs, 16, lv)
				winogradGroupGEMM(16, u, us, v, vs, m, ms, cout, cin, np/16)
				winogradOutput(yb, m, ms, lm, h, w, ta, tb, 0, cout)
			}
		})
	}
}

// winogradGroupGEMM computes M[ξ] = U[ξ] × V[ξ] for count ξ over a group of packed panels.
func winogradGroupGEMM(count int, u []float32, us int, v []float32, vs int, m []float32, ms int, cout, cin, panels int) {
	for xi := 0; xi < count; xi++ {
		panelGEMM(u[xi*us:], v[xi*vs:], m[xi*ms:], cout, cin, 0, panels)
	}
}

// panelGEMM computes the packed panels [q0,q1) of M = A × V (A [Cout][Cin] row major; V and M
// packed, tileLayout), with the panel loop innermost so that each 4×KC block of A is read once.
func panelGEMM(a, v, m []float32, cout, cin, q0, q1 int) {
	for k0 := 0; k0 < cin; k0 += sgemmKC {
		kc := min(sgemmKC, cin-k0)
		acc := 0
		if k0 > 0 {
			acc = 1
		}
		for i := 0; i < cout; {
			if sgemm512On && i+8 <= cout {
				for q := q0; q < q1; q++ {
					simd.Sgemm8x16(kc, &a[i*cin+k0], cin, &v[(q*cin+k0)*16], 16, &m[(q*cout+i)*16], 16, acc)
				}
				i += 8
				continue
			}
			for q := q0; q < q1; q++ {
				simd.Sgemm4x16(kc, &a[i*cin+k0], cin, &v[(q*cin+k0)*16], 16, &m[(q*cout+i)*16], 16, acc)
			}
			i += 4
		}
	}
}

// fusedGroup is the number of tiles per job of a fused path: a group's V (16·Cin·group
// floats) should fit L2 next to M, with at least two jobs per core.
func fusedGroup(cin, tiles int) int {
	group := min(256, max(16, 16384/cin&^15))
	p := runtime.GOMAXPROCS(0)
	return max(16, min(group, (tiles/(2*p)+15)&^15))
}

// clearPadding zeroes the padding tiles past l.n in the last panel of count packed matrices
// (stride apart): stale denormals there would slow the kernel.
func clearPadding(v []float32, stride, count int, l tileLayout) {
	n := l.n
	if n&15 == 0 {
		return
	}
	for xi := 0; xi < count; xi++ {
		for c := 0; c < l.rows; c++ {
			at := xi*stride + l.at(c, n)
			clear(v[at : at+16-n&15])
		}
	}
}

// convTFused is convT2xWinograd on the fused path: each job takes a group of tiles through
// the four phases' input transforms, GEMMs and output transforms while V and M are in L2.
// u holds the four phases' transformed weights (9 matrices us apart each).
func convTFused(y, x, u []float32, us, batch, cin, h, w, cout int) {
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	group := fusedGroup(cin, tiles)
	jobs := (tiles + group - 1) / group
	vs, ms := slabStride(cin*group), slabStride(cout*group)
	in, out := cin*h*w, cout*4*h*w
	for b := 0; b < batch; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		parallelFor(jobs, 36*cout*cin*tiles, func(j0, j1 int) {
			vp, mp0, mp1 := getBuf[float32](9*vs), getBuf[float32](9*ms), getBuf[float32](9*ms)
			defer putBuf(vp)
			defer putBuf(mp0)
			defer putBuf(mp1)
			v, m := *vp, [2][]float32{*mp0, *mp1}
			for j := j0; j < j1; j++ {
				ta := j * group
				convTGroup(yb, xb, u, us, v, vs, m, ms, cin, h, w, cout, ta, min(ta+group, tiles))
			}
		})
	}
}

// convTGroup runs tiles [ta,tb) of one image xb [Cin,H,W] through the F(2×2,2×2) transposed
// conv into yb [Cout,2H,2W]: per output phase the input transform, the 9 GEMMs with the
// phase's weight transform in u, and the output transform, in the work buffers v and m.
func convTGroup(yb, xb, u []float32, us int, v []float32, vs int, m [2][]float32, ms, cin, h, w, cout, ta, tb int) {
	np := (tb - ta + 15) &^ 15
	lv, lm := tileLayout{cin, tb - ta, true}, tileLayout{cout, tb - ta, true}
	for pa := 0; pa < 2; pa++ {
		// phases (pa,0) and (pa,1) fill the output rows of pa together
		for pb := 0; pb < 2; pb++ {
			convTInput(v, vs, lv, xb, h, w, pa, pb, ta, tb, 0, cin)
			clearPadding(v, vs, 9, lv)
			winogradGroupGEMM(9, u[(2*pa+pb)*9*us:], us, v, vs, m[pb], ms, cout, cin, np/16)
		}
		convTOutput(yb, m[0], m[1], ms, lm, h, w, pa, 0, ta, tb, 0, cout)
	}
}
