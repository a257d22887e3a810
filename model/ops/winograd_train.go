package ops

import "runtime"

// Winograd for the 3×3 pad-1 convolutions of training graphs (float32): the forward pass and
// the input gradient (a convolution of gy with the flipped, transposed kernel) of a Conv2d
// whose weight is not frozen. The weight changes every step, so its transform (16·Cout·Cin
// floats, a few µs) is computed on every call and never cached. The batch is split over the
// cores as the im2col convolutions split it (forBatch), and each core takes its images through
// the fused path (input transform, GEMMs on packed panels, output transform, a group of tiles
// at a time while V and M are in L2) on its own: no further goroutines and no BLAS calls, so
// a single-threaded OpenBLAS (SingleThreadedBLAS) and the pure-Go build run the same code.
// Small images whose tiles fill whole panels share a group, several images per GEMM.

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
// 8²: 8² keeps im2col. Above 128 channels the 256 KB groups hold fewer than 16 tiles, so each
// group would read all of U (16·Cout·Cin floats) for a few tiles (not measured; the inference
// path's fused convolutions cover those shapes).
func useWinogradTrain(batch, cin, h, w, cout int) bool {
	return winogradTrainOn && haveSgemmKernel && sgemmKernelOn && cout%4 == 0 && min(cin, cout) >= 16 &&
		max(cin, cout) <= 128 && h*w >= winogradTrainMinHW && batch >= runtime.GOMAXPROCS(0)
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
// goroutine, with the transformed weight u (matrices us apart). Images whose tile count is a
// multiple of 16 (whole panels) and below the group size go several to a group; larger ones
// are cut into groups of tiles.
func winogradFusedRange(y, x, u []float32, us, b0, b1, cin, h, w, cout int) {
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	group := trainGroup(cin)
	imgs := 1
	if tiles%16 == 0 && tiles < group {
		imgs = group / tiles
		group = imgs * tiles
	}
	group = min(group, ((tiles+15)&^15)*imgs)
	vs, ms := slabStride(cin*group), slabStride(cout*group)
	vp, mp := getBuf[float32](16*vs), getBuf[float32](16*ms)
	defer putBuf(vp)
	defer putBuf(mp)
	v, m := *vp, *mp
	in, out := cin*h*w, cout*h*w
	if imgs > 1 {
		// each image's tiles are whole panels: image j's panels start at j·tiles/16 panels
		lv, lm := tileLayout{cin, tiles, true}, tileLayout{cout, tiles, true}
		for b := b0; b < b1; b += imgs {
			n := min(imgs, b1-b)
			for j := 0; j < n; j++ {
				winogradInput(v[j*tiles*cin:], vs, lv, x[(b+j)*in:(b+j+1)*in], h, w, 0, tiles, 0, cin)
			}
			winogradGroupGEMM(16, u, us, v, vs, m, ms, cout, cin, n*tiles/16)
			for j := 0; j < n; j++ {
				winogradOutput(y[(b+j)*out:(b+j+1)*out], m[j*tiles*cout:], ms, lm, h, w, 0, tiles, 0, cout)
			}
		}
		return
	}
	for b := b0; b < b1; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for ta := 0; ta < tiles; ta += group {
			tb := min(ta+group, tiles)
			lv, lm := tileLayout{cin, tb - ta, true}, tileLayout{cout, tb - ta, true}
			winogradInput(v, vs, lv, xb, h, w, ta, tb, 0, cin)
			clearPadding(v, vs, 16, lv)
			winogradGroupGEMM(16, u, us, v, vs, m, ms, cout, cin, (tb-ta+15)/16)
			winogradOutput(yb, m, ms, lm, h, w, ta, tb, 0, cout)
		}
	}
}
