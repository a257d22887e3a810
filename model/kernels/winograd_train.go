package kernels

import (
	"runtime"

	"stylegan-tui/model/kernels/simd"
)

// Winograd for the 3×3 pad-1 convolutions of training graphs (float32): the forward pass and
// the input gradient (a convolution of gy with the flipped, transposed kernel) of a Conv2d
// whose weight is not frozen. The weight changes every step, so its transform (16·Cout·Cin
// floats, a few µs) is computed on every call and never cached. The batch is split over the
// cores as the im2col convolutions split it (forBatch), and each core takes its images through
// the fused path (input transform, GEMMs on packed panels, output transform, a group of tiles
// at a time while V and M are in L2) on its own: no further goroutines and no BLAS calls, so
// a single-threaded OpenBLAS (SplitGEMM) and the pure-Go build run the same code.
// Small images whose tiles fill whole panels share a group, several images per GEMM.
// The weight gradient of the same layers runs in the Winograd domain (winogradBackFilterBatch),
// and ConvTranspose2x (with Conv2dDown2x's input gradient) on F(2×2,2×2) (convTBatch), split
// over the cores the same way.

// winogradTrainOn lets tests and benchmarks compare with im2col.
var winogradTrainOn = true

// winogradTrainMinHW is the smallest image (H·W) that takes winogradBatch (a variable so that
// tests can force it).
var winogradTrainMinHW = 256

// useWinogradTrain reports whether a float32 3×3 pad-1 convolution of batch images
// [Cin,H,W] → [Cout,H,W] with a weight transformed per call runs on winogradBatch. It needs the
// AVX2 GEMM kernel (Cout a multiple of its 4 rows) and at least one image per core, so that
// the batch split keeps every core busy.
//
// Measured with BenchmarkConv2dTrainShapes (B=16 on 2 shared cores, interleaved medians, forward
// pass; the input gradient is the same convolution), time of im2col + GEMM over winogradBatch:
//
//	                   8²×64ch  16²×32ch  16²×64ch  32²×32ch  32²×64ch  64²×32ch  16²×128ch  32²×128ch
//	OpenBLAS (1 thr.)  1.0      1.39      1.61      1.43      1.55      1.56      1.98       2.01
//	pure Go            1.13     1.62      1.95      1.84      1.97      2.04      2.13       2.25
//
// With the weight gradient, which then builds its im2col matrices itself instead of taking the
// forward pass's, forward + weight gradient is 1.0-1.45x faster from 16² up and 0.67-0.97x at
// 8²: 8² keeps im2col. The weight gradient of these layers runs in the Winograd domain too
// (winogradBackFilterBatch; OpenBLAS build, against im2col with its own matrices: 1.08-1.56x
// from 16² up, 0.9x at 8²), and forward + weight gradient is then 1.32-1.8x faster than im2col.
// Above 128 channels the 256 KB groups hold fewer than 16 tiles, so each group would read all
// of U (16·Cout·Cin floats) for a few tiles (not measured; the inference path's fused
// convolutions cover those shapes).
func useWinogradTrain(batch, cin, h, w, cout int) bool {
	return trainShapeOK(batch, cin, cout) && h*w >= winogradTrainMinHW
}

// trainShapeOK holds the conditions the batch-split fused paths share: the AVX2 GEMM kernel
// (Cout a multiple of its 4 rows), 16-128 channels, at least one image per core.
func trainShapeOK(batch, cin, cout int) bool {
	return winogradTrainOn && haveSgemmKernel && sgemmKernelOn && cout%4 == 0 && min(cin, cout) >= 16 &&
		max(cin, cout) <= 128 && batch >= runtime.GOMAXPROCS(0)
}

// winogradBatch computes y [B,Cout,H,W] = conv3×3 pad 1 of x [B,Cin,H,W] with w [Cout,Cin,3,3],
// transforming w on this call, the batch split over the cores.
func winogradBatch(y, x, w []float32, batch, cin, h, wd, cout int) {
	up := getBuf[float32](winogradLen(cout, cin))
	defer putBuf(up)
	u := *up
	winogradWeights(u, w, cout, cin)
	us := slabStride(cout * cin)
	workers := max(1, min(runtime.GOMAXPROCS(0), batch))
	forBatch(batch, workers, func(_, b0, b1 int, _ bool) {
		winogradFusedRange(y, x, u, us, b0, b1, cin, h, wd, cout)
	})
}

// winogradBackDataBatch computes the input gradient gx [B,Cin,H,W] of a 3×3 pad-1 convolution
// with w [Cout,Cin,3,3] from gy [B,Cout,H,W]: gx = gy ⋆ flip(wᵀ), on winogradBatch.
func winogradBackDataBatch(gx, gy, w []float32, batch, cin, h, wd, cout int) {
	wt := getBuf[float32](cin * cout * 9)
	defer putBuf(wt)
	flipTranspose(*wt, w, cout, cin)
	winogradBatch(gx, gy, *wt, batch, cout, h, wd, cin)
}

// trainGroup is the number of tiles per group of winogradFusedRange: V (16·Cin·group floats,
// 256 KB) and M stay in L2 while the group goes through the three steps. Measured at B=16 with
// 32 and 64 channels: 4096/Cin tiles (64 at 64 channels, 128 at 32) is up to 1.2x faster than
// 256 tiles, and 16384/Cin (the inference path's fusedGroup) as slow as 256.
func trainGroup(cin int) int { return min(256, max(16, 4096/cin&^15)) }

// winogradFusedRange is the fused Winograd convolution of images [b0,b1) on the calling
// goroutine, with the transformed weight u (matrices us apart): fusedConv.run with F(2×2,3×3).
func winogradFusedRange(y, x, u []float32, us, b0, b1, cin, h, w, cout int) {
	f := fusedConv{nm: 16, k: cin, cout: cout, tiles: ((h + 1) / 2) * ((w + 1) / 2), group: trainGroup(cin),
		in: cin * h * w, out: cout * h * w,
		input: func(v []float32, vs int, l tileLayout, x []float32, ta, tb int) {
			winogradInput(v, vs, l, x, h, w, ta, tb, 0, cin)
		},
		output: func(y, m []float32, ms int, l tileLayout, ta, tb int) {
			winogradOutput(y, m, ms, l, h, w, ta, tb, 0, cout)
		},
	}
	f.run(y, x, u, us, b0, b1)
}

// fusedConv is one fused Winograd forward pass, the 3×3 convolution's (16 matrices) or the
// stride-2 one's (9): per group of tiles, input writes V[ξ] [k, tiles], the nm GEMMs
// M[ξ] = U[ξ]·V[ξ] [cout, tiles] run on packed panels, and output writes y from M.
type fusedConv struct {
	nm, k, cout  int // transform-domain matrices; rows of V; output channels
	tiles, group int // output tiles per image; tiles per group
	in, out      int // elements of one image of x and of y
	// input writes V (layout l, matrices vs apart) for tiles [ta,tb) of the image x.
	input func(v []float32, vs int, l tileLayout, x []float32, ta, tb int)
	// output writes the image y's tiles [ta,tb) from M (layout l, matrices ms apart).
	output func(y, m []float32, ms int, l tileLayout, ta, tb int)
}

// run is the pass over images [b0,b1) on the calling goroutine with the transformed weight u
// (matrices us apart). Images whose tile count is a multiple of 16 (whole panels) and below
// the group size go several to a group; larger ones are cut into groups of tiles.
func (f *fusedConv) run(y, x, u []float32, us, b0, b1 int) {
	tiles, group := f.tiles, f.group
	imgs := 1
	if tiles%16 == 0 && tiles < group {
		imgs = group / tiles
		group = imgs * tiles
	}
	group = min(group, ((tiles+15)&^15)*imgs)
	vs, ms := slabStride(f.k*group), slabStride(f.cout*group)
	vp, mp := getBuf[float32](f.nm*vs), getBuf[float32](f.nm*ms)
	defer putBuf(vp)
	defer putBuf(mp)
	v, m := *vp, *mp
	in, out := f.in, f.out
	if imgs > 1 {
		// each image's tiles are whole panels: image j's panels start at j·tiles/16 panels
		lv, lm := tileLayout{f.k, tiles, true}, tileLayout{f.cout, tiles, true}
		for b := b0; b < b1; b += imgs {
			n := min(imgs, b1-b)
			for j := 0; j < n; j++ {
				f.input(v[j*tiles*f.k:], vs, lv, x[(b+j)*in:(b+j+1)*in], 0, tiles)
			}
			winogradGroupGEMM(f.nm, u, us, v, vs, m, ms, f.cout, f.k, n*tiles/16)
			for j := 0; j < n; j++ {
				f.output(y[(b+j)*out:(b+j+1)*out], m[j*tiles*f.cout:], ms, lm, 0, tiles)
			}
		}
		return
	}
	for b := b0; b < b1; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for ta := 0; ta < tiles; ta += group {
			tb := min(ta+group, tiles)
			lv, lm := tileLayout{f.k, tb - ta, true}, tileLayout{f.cout, tb - ta, true}
			f.input(v, vs, lv, xb, ta, tb)
			clearPadding(v, vs, f.nm, lv)
			winogradGroupGEMM(f.nm, u, us, v, vs, m, ms, f.cout, f.k, (tb-ta+15)/16)
			f.output(yb, m, ms, lm, ta, tb)
		}
	}
}

// winogradTrainGradOn lets tests and benchmarks compare the weight gradient with im2col.
var winogradTrainGradOn = true

// winogradGradTiles is the number of tiles per group of winogradBackFilterRange (a variable
// so that tests can make groups end mid-image and benchmarks can tune it).
var winogradGradTiles = 128

// winogradBackFilterBatch computes the weight gradient dw [Cout,Cin,3,3] of a 3×3 pad-1
// convolution of x [B,Cin,H,W] whose output gradient is gy [B,Cout,H,W], in the Winograd
// domain of the forward pass Y = Aᵀ[U ⊙ V]A (U = G g Gᵀ, V = Bᵀ d B): dU[ξ] = Σ_tiles
// Z[ξ] V[ξ]ᵀ with Z = A gY Aᵀ, then dw = Gᵀ dU G. That is 16 GEMMs of Cout × Cin over
// K = B·tiles, 16·tiles = 4·H·W multiply-adds per weight pair instead of im2col's 9·H·W.
// The batch is split over the cores (forBatch) as in winogradBatch; each core sums its images
// into its own dU, and the partial sums are added in core order, so that a run gives the same
// bits as the last one.
func winogradBackFilterBatch(dw, x, gy []float32, batch, cin, h, wd, cout int) {
	c4, o16 := (cin+3)&^3, (cout+15)&^15
	ds := slabStride(c4 * o16)
	workers := max(1, min(runtime.GOMAXPROCS(0), batch))
	pp := getBuf[float32](workers * 16 * ds)
	defer putBuf(pp)
	parts := *pp
	forBatch(batch, workers, func(wk, b0, b1 int, _ bool) {
		winogradBackFilterRange(parts[wk*16*ds:(wk+1)*16*ds], ds, x, gy, b0, b1, cin, h, wd, cout)
	})
	du := parts[:16*ds]
	for wk := 1; wk < workers; wk++ {
		for i, v := range parts[wk*16*ds : (wk+1)*16*ds] {
			du[i] += v
		}
	}
	winogradWeightsAdjoint(dw, du, ds, cout, cin, 1, o16)
}

// winogradBackFilterRange sets du (16 matrices ds apart, each dU[ξ]ᵀ: Cin rounded up to 4
// rows of Cout rounded up to 16) to the sum over images [b0,b1) of V[ξ] Z[ξ]ᵀ, a group of
// tiles at a time: V (plain layout, Cin rows of tiles) from winogradInput, Z transposed (a row
// of Cout per tile) from winogradGradInput, then the GEMM kernels (sgemmBlock) with K = the
// group's tiles (A = V, B = Zᵀ). Groups run across image boundaries, so small images share one.
func winogradBackFilterRange(du []float32, ds int, x, gy []float32, b0, b1, cin, h, w, cout int) {
	c4, o16 := (cin+3)&^3, (cout+15)&^15
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	group := winogradGradTiles
	vs, zs := slabStride(c4*group), slabStride(group*o16)
	vp, zp := getBuf[float32](16*vs), getBuf[float32](16*zs)
	defer putBuf(vp)
	defer putBuf(zp)
	v, z := *vp, *zp
	if c4 != cin { // the padding rows of V stay zero
		for xi := 0; xi < 16; xi++ {
			clear(v[xi*vs+cin*group : xi*vs+c4*group])
		}
	}
	if o16 != cout { // so do the padding columns of Z (stale denormals would slow the kernel)
		clear(z)
	}
	clear(du)
	in, out := cin*h*w, cout*h*w
	lv := tileLayout{c4, group, false}
	gradGroups(du, ds, v, vs, z, zs, 16, c4, o16, group, tiles, b0, b1, func(q, b, ta, tb int) {
		winogradInput(v[q:], vs, lv, x[b*in:(b+1)*in], h, w, ta, tb, 0, cin)
		winogradGradInput(z[q*o16:], zs, o16, gy[b*out:(b+1)*out], h, w, ta, tb, cout)
	})
}

// gradGroups runs the weight-gradient GEMMs of the Winograd domain, dU[ξ] += V[ξ]·Z[ξ] for
// the count matrices ξ (du[ξ·ds], k rows of o16 columns), over the tiles of images [b0,b1)
// (tiles each) in groups of group tiles that may span images: fill(q, b, ta, tb) writes the
// transformed input and output gradient of image b's tiles [ta,tb) at tile q of the group
// into V (k rows of group tiles, matrices vs apart) and Z (group rows of o16, zs apart).
func gradGroups(du []float32, ds int, v []float32, vs int, z []float32, zs, count, k, o16, group, tiles, b0, b1 int, fill func(q, b, ta, tb int)) {
	for s, end := b0*tiles, b1*tiles; s < end; s += group {
		n := min(group, end-s)
		for p := s; p < s+n; {
			b, ta := p/tiles, p%tiles
			tb := min(tiles, ta+s+n-p)
			fill(p-s, b, ta, tb)
			p += tb - ta
		}
		for xi := 0; xi < count; xi++ {
			vx, zx, dx := v[xi*vs:], z[xi*zs:], du[xi*ds:]
			for j := 0; j < o16; j += 16 {
				sgemmBlock(k, n, vx, group, &zx[j], o16, dx[j:], o16, 1)
			}
		}
	}
}

// winogradGradInput writes Z[ξ][t−ta][o] = (A gY Aᵀ)[ξ] (ld floats per tile row, matrices
// stride apart) for output channels [0,cout) and the 2×2 tiles [ta,tb) of gy [Cout,H,W], zero
// outside the image: the adjoint of winogradOutput, transposed so that the weight gradient's
// GEMM reads it as its B operand.
func winogradGradInput(z []float32, stride, ld int, gy []float32, h, w, ta, tb, cout int) {
	tw := (w + 1) / 2
	hw := h * w
	for t := ta; t < tb; t++ {
		i, j := 2*(t/tw), 2*(t%tw)
		row := (t - ta) * ld
		var d [16][]float32
		for xi := range d {
			d[xi] = z[xi*stride+row : xi*stride+row+cout]
		}
		at := i*w + j
		full := i+1 < h && j+1 < w
		o0 := 0
		if full && simd.Available && combosKernelOn {
			// eight channels at a time, gathered
			if o0 = cout &^ 7; o0 > 0 {
				simd.GradTile(&z[row], stride, &gy[at], hw, w, o0)
			}
		}
		for o := o0; o < cout; o++ {
			var g00, g01, g10, g11 float32
			if full {
				g := gy[o*hw+at : o*hw+at+w+2]
				g00, g01, g10, g11 = g[0], g[1], g[w], g[w+1]
			} else {
				g := gy[o*hw : (o+1)*hw]
				g00 = g[at]
				if j+1 < w {
					g01 = g[at+1]
				}
				if i+1 < h {
					g10 = g[at+w]
					if j+1 < w {
						g11 = g[at+w+1]
					}
				}
			}
			// rows of A gY: (g00,g01), (g00+g10, g01+g11), (g00-g10, g01-g11), (-g10,-g11);
			// each row (p,q) times Aᵀ is (p, p+q, p-q, -q).
			p1, q1 := g00+g10, g01+g11
			p2, q2 := g00-g10, g01-g11
			d[0][o], d[1][o], d[2][o], d[3][o] = g00, g00+g01, g00-g01, -g01
			d[4][o], d[5][o], d[6][o], d[7][o] = p1, p1+q1, p1-q1, -q1
			d[8][o], d[9][o], d[10][o], d[11][o] = p2, p2+q2, p2-q2, -q2
			d[12][o], d[13][o], d[14][o], d[15][o] = -g10, -g10-g11, g11-g10, g11
		}
	}
}

// convTTrainMinHW is the smallest input image (H·W) of a ConvTranspose2x that takes
// convTBatch (a variable so that tests can force it).
var convTTrainMinHW = 256

// UseConvTTrain reports whether a float32 ConvTranspose2x of batch images [Cin,H,W] →
// [Cout,2H,2W] with a weight transformed per call runs on convTBatch: the same conditions as
// useWinogradTrain. It serves the generator's transposed convolutions and the input gradient
// of Conv2dDown2x (the adjoint of a stride-2 4×4 pad-1 convolution is a ConvTranspose2x with
// the same kernel), which otherwise run a GEMM and col2im.
//
// Measured with BenchmarkConvTTrainShapes (B=16 on 2 shared cores, OpenBLAS 1 thread), time of
// GEMM + col2im over convTBatch: 64→32 channels at 32² 1.24, 64→64 at 16² 1.85, 128→64 at 16²
// 1.48, 64→64 at 8² 1.0 (8² keeps col2im).
func UseConvTTrain(batch, cin, h, w, cout int) bool {
	return trainShapeOK(batch, cin, cout) && h*w >= convTTrainMinHW
}

// convTBatch computes y [B,Cout,2H,2W] = ConvTranspose2x of x [B,Cin,H,W] with w [Cin,Cout,4,4]
// on the Winograd F(2×2,2×2) fused path (convTFused's steps), transforming w on this call, the
// batch split over the cores and each core taking its images a group of tiles at a time.
func convTBatch(y, x, w []float32, batch, cin, h, wd, cout int) {
	up := getBuf[float32](convTLen(cin, cout))
	defer putBuf(up)
	u := *up
	convTAllWeights(u, w, cin, cout)
	us := slabStride(cout * cin)
	workers := max(1, min(runtime.GOMAXPROCS(0), batch))
	forBatch(batch, workers, func(_, b0, b1 int, _ bool) {
		convTFusedRange(y, x, u, us, b0, b1, cin, h, wd, cout)
	})
}

// convTFusedRange is convTFused for images [b0,b1) on the calling goroutine, in groups of
// trainGroup(cin) tiles.
func convTFusedRange(y, x, u []float32, us, b0, b1, cin, h, w, cout int) {
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	group := min(trainGroup(cin), (tiles+15)&^15)
	vs, ms := slabStride(cin*group), slabStride(cout*group)
	vp, mp0, mp1 := getBuf[float32](9*vs), getBuf[float32](9*ms), getBuf[float32](9*ms)
	defer putBuf(vp)
	defer putBuf(mp0)
	defer putBuf(mp1)
	v, m := *vp, [2][]float32{*mp0, *mp1}
	in, out := cin*h*w, cout*4*h*w
	for b := b0; b < b1; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for ta := 0; ta < tiles; ta += group {
			convTGroup(yb, xb, u, us, v, vs, m, ms, cin, h, w, cout, ta, min(ta+group, tiles))
		}
	}
}
