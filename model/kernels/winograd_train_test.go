package kernels

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"stylegan-tui/model/internal/kerneltest"
)

// convTrainRun runs the convolutions of a float32 training graph loss = Σ Conv2d(x, w, 1) ⊙ r
// as the Conv2d op and its gradient ops call them (the forward pass keeping its im2col
// matrices for the weight gradient), twice, and returns y, ∂loss/∂x (the back-data conv of r)
// and ∂loss/∂w, on winogradBatch (on) or on im2col (the other Winograd paths off too).
func convTrainRun(t *testing.T, on bool, xs, ws []int, x, w, r []float64) (y, gx, gw []float64) {
	t.Helper()
	defer func(old bool, minC int) { winogradTrainOn, winogradMinC = old, minC }(winogradTrainOn, winogradMinC)
	winogradTrainOn = on
	if !on {
		winogradMinC = 1 << 30
	}
	d := ConvDims{B: xs[0], C: xs[1], H: xs[2], W: xs[3], Cout: ws[0], Ho: xs[2], Wo: xs[3], K: 3}
	x32, w32, r32 := kerneltest.F32(x), kerneltest.F32(w), kerneltest.F32(r)
	var cc ColCache
	var y32, gx32, gw32 []float32
	for i := 0; i < 2; i++ { // the second run reuses pooled scratch and the column cache
		y32, gx32, gw32 = make([]float32, len(r)), make([]float32, len(x)), make([]float32, len(w))
		Conv(Conv2dForward, 1, d, x32, w32, y32, &cc, key(x32))
		Conv(Conv2dBackData, 1, d, r32, w32, gx32, nil, 0)
		Conv(Conv2dBackFilter, 1, d, x32, r32, gw32, &cc, key(x32))
	}
	return kerneltest.F64(y32), kerneltest.F64(gx32), kerneltest.F64(gw32)
}

// TestWinogradTrain checks the training Conv2d's forward pass and input gradient on
// winogradBatch (float32) against the im2col path (float32) and against float64 im2col (forward)
// and col2im (input gradient) references, at the trainer's shapes (B=16; 32 channels at 16²-64²,
// 64 at 16²) and at odd ones: batches that split into unequal chunks (3 = 1+2, 5 = 2+3, 7 on three
// cores), Cin ≠ Cout, and images whose tile count is not a multiple of 16 (17×19: the last
// group of each image ends mid-panel).
//
// Error bound: the error is measured as max|got − ref| / max|ref|. A float32 dot product of
// K = 9·Cin terms of random sign has a rounding error that grows like u·√K (u = 2⁻²⁴) relative
// to its size. Winograd F(2×2,3×3) adds the rounding of its transforms and sums products of
// transformed values that are larger than the inputs (Bᵀ·B up to 4×, G·Gᵀ up to 2.25×, and the
// output transform sums 9 of the 16 products): Lavin & Gray and Barabasz et al. ("Error
// analysis and improving the accuracy of Winograd convolution", 2020) find F(2×2,3×3) a few
// times less accurate than direct convolution. Observed here: 2-5e-7 for Winograd and 4-7e-7
// for im2col (0.2-0.4·u·√K; the inputs are uniform in [-1,1]). The test allows 4·u·√K (1.6e-6
// at Cin = 32, 2.3e-6 at 64), three to ten times that, for both paths, and twice it between
// them: a wrong tile or a lost image (errors of order 1) cannot pass, and neither can a loss
// of accuracy of a few bits.
func TestWinogradTrain(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2/FMA GEMM kernel: training convolutions stay on im2col")
	}
	for _, s := range []struct{ b, cin, h, w, cout, procs int }{
		{16, 32, 64, 64, 32, 2}, {16, 32, 32, 32, 32, 2}, {16, 64, 16, 16, 64, 2}, {16, 32, 16, 16, 32, 2},
		{3, 32, 16, 16, 64, 2}, {5, 64, 17, 19, 32, 2}, {7, 16, 20, 20, 16, 3}, {2, 128, 16, 16, 128, 2},
	} {
		t.Run(fmt.Sprintf("B%d_%dx%dx%d_to%d_P%d", s.b, s.cin, s.h, s.w, s.cout, s.procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(s.procs))
			if !useWinogradTrain(s.b, s.cin, s.h, s.w, s.cout) || !useWinogradTrain(s.b, s.cout, s.h, s.w, s.cin) {
				t.Fatalf("shape does not take the Winograd path")
			}
			xs, ws := []int{s.b, s.cin, s.h, s.w}, []int{s.cout, s.cin, 3, 3}
			shapes := [][]int{xs, ws, {s.b, s.cout, s.h, s.w}}
			in := kerneltest.RandInputs(shapes, 7)
			x, w, r := in[0], in[1], in[2]
			g := conv2dGeom(s.cin, s.h, s.w, 3, 1)
			wantY := make([]float64, kerneltest.Size(shapes[2]))
			convForward(g, s.cout, s.b, x, w, wantY)
			wantGX := make([]float64, len(x))
			convBackData(g, s.cout, s.b, r, w, wantGX)

			y, gx, gw := convTrainRun(t, true, xs, ws, x, w, r)
			y0, gx0, gw0 := convTrainRun(t, false, xs, ws, x, w, r)
			tolY := 4 * 0x1p-24 * math.Sqrt(float64(9*s.cin))
			tolX := 4 * 0x1p-24 * math.Sqrt(float64(9*s.cout))
			for _, e := range []struct {
				name     string
				got, ref []float64
				tol      float64
			}{
				{"forward, Winograd vs float64", y, wantY, tolY}, {"forward, im2col vs float64", y0, wantY, tolY},
				{"forward, Winograd vs im2col", y, y0, 2 * tolY},
				{"input gradient, Winograd vs float64", gx, wantGX, tolX}, {"input gradient, im2col vs float64", gx0, wantGX, tolX},
				{"input gradient, Winograd vs im2col", gx, gx0, 2 * tolX},
			} {
				err := kerneltest.MaxRelErr(e.got, e.ref, 0)
				if err > e.tol || math.IsNaN(err) {
					t.Errorf("%s: relative error %.3g > %.3g", e.name, err, e.tol)
				}
				t.Logf("%s: relative error %.2g (bound %.2g)", e.name, err, e.tol)
			}
			// the weight gradient, in the Winograd domain (winogradBackFilterBatch) against
			// im2col with the forward pass's matrices: TestWinogradTrainGrad's bound
			tolW := 8 * 0x1p-24 * math.Sqrt(float64(s.b*s.h*s.w))
			if err := kerneltest.MaxRelErr(gw, gw0, 0); err > tolW || math.IsNaN(err) {
				t.Errorf("weight gradient, Winograd vs im2col: relative error %.3g > %.3g", err, tolW)
			}
		})
	}
}

// TestWinogradTrainGrad checks winogradBackFilterBatch, the weight gradient in the Winograd
// domain, against convBackFilter on im2col (float32) and against a float64 reference (float64
// im2col on the same float32-rounded inputs), at the trainer's shapes (B=16; 32 channels at
// 16²-64², 64 at 16²) and odd ones: batches that split unevenly over the cores (3, 5, 7),
// Cin ≠ Cout, channel counts that leave padding rows (Cin not a multiple of 4) and columns
// (Cout not a multiple of 16) in its GEMMs, 17×19 images (edge tiles), and groups that end
// mid-image and span images (winogradGradTiles forced to 48 tiles: tile counts of 80, 90, 100
// are not multiples of it). Two calls must give the same bits.
//
// Error bound: each weight's gradient is a sum of K = B·H·W products x·gy (direct form), K
// large here (65536 at B=16, 64²). Summed in float32 with random signs, the rounding error of
// a plain chain of K additions grows like u·√K (u = 2⁻²⁴) relative to the sum (each partial
// sum of size s·√k rounds by about u·s·√k, and the K roundings add up with random signs to
// about u·s·K/√2 against a sum of size s·√K), so the bound scales with u·√K (1.5e-5 at 65536).
// The Winograd form sums each of its 16 matrices over the B·H·W/4 tiles: the GEMM kernel sums
// a group's tiles (128) in registers and adds that to dU, one chain of groups per core, and
// the cores' sums are added at the end — blocked, so the error grows more slowly than the
// chain's. Its terms are products of transformed values larger than the inputs (V sums up to
// 4 input values, Z up to 4 gradient values) and Gᵀ dU G adds up to 16 such sums with weights
// ¼ to 1, cancelling most of their size: a few times the rounding of a direct sum. im2col
// (blocked GEMM, partial sums per core) is as accurate. Observed: 3-7e-7 (0.03-0.4·u·√K) for
// Winograd, 1-7e-7 for im2col (inputs uniform in [-1,1]); the test allows 4·u·√K for both and
// 8·u·√K between them, as TestWinogradTrain allows 4·u·√K for its K: a lost tile, image or
// core's share (an error of order 1/√(tiles), ≥ 1e-3 here) cannot pass.
func TestWinogradTrainGrad(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2/FMA GEMM kernel: training convolutions stay on im2col")
	}
	for _, s := range []struct{ b, cin, h, w, cout, procs, group int }{
		{16, 32, 64, 64, 32, 2, 0}, {16, 32, 32, 32, 32, 2, 0}, {16, 64, 16, 16, 64, 2, 0}, {16, 32, 16, 16, 32, 2, 0},
		{3, 32, 16, 16, 64, 2, 0}, {5, 64, 17, 19, 32, 2, 0}, {7, 16, 20, 20, 16, 3, 0}, {2, 128, 16, 16, 128, 2, 0},
		{5, 18, 17, 19, 20, 2, 48}, {7, 20, 20, 20, 36, 3, 48}, {3, 32, 16, 16, 64, 2, 48}, {1, 16, 16, 16, 16, 1, 0},
	} {
		t.Run(fmt.Sprintf("B%d_%dx%dx%d_to%d_P%d_G%d", s.b, s.cin, s.h, s.w, s.cout, s.procs, s.group), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(s.procs))
			if s.group > 0 {
				defer func(old int) { winogradGradTiles = old }(winogradGradTiles)
				winogradGradTiles = s.group
			}
			shapes := [][]int{{s.b, s.cin, s.h, s.w}, {s.b, s.cout, s.h, s.w}}
			in := kerneltest.RandInputs(shapes, 11)
			x32, gy32 := kerneltest.F32(in[0]), kerneltest.F32(in[1])
			x, gy := kerneltest.F64(x32), kerneltest.F64(gy32)
			g := conv2dGeom(s.cin, s.h, s.w, 3, 1)
			want := make([]float64, s.cout*s.cin*9)
			convBackFilter(g, s.cout, s.b, x, gy, want)
			gw := kerneltest.SameTwice(t, len(want), func(out []float32) {
				winogradBackFilterBatch(out, x32, gy32, s.b, s.cin, s.h, s.w, s.cout)
			})
			gw0 := make([]float32, len(want))
			convBackFilter(g, s.cout, s.b, x32, gy32, gw0)
			kerneltest.CheckFastSlow(t, "im2col", gw, gw0, want, 4*0x1p-24*math.Sqrt(float64(s.b*s.h*s.w)))
		})
	}
}

// TestConvTTrain checks convTBatch (ConvTranspose2x on the batch-split Winograd F(2×2,2×2)
// path, which also computes Conv2dDown2x's input gradient) against GEMM + col2im in float32
// and float64 (on the same float32-rounded inputs), at the trainer's shapes (B=16, 64 → 32
// channels from 32², 64 → 64 from 16²) and odd ones (batches 3, 5, 7 split unevenly, Cin ≠
// Cout, 17×19 inputs whose tile count is not a multiple of 16). Through Conv it checks
// Conv2dDown2x's input gradient against the GEMM + col2im path.
//
// Error bound: each output is a sum of K = 4·Cin products (a 2×2 window of each input channel
// per output phase); as in TestWinogradTrain, 4·u·√K for both paths against float64 and twice
// that between them. F(2×2,2×2) only adds and subtracts neighbours in its transforms (no
// halves), so it is at least as accurate as F(2×2,3×3).
func TestConvTTrain(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2/FMA GEMM kernel")
	}
	for _, s := range []struct{ b, cin, h, w, cout, procs int }{
		{16, 64, 32, 32, 32, 2}, {16, 64, 16, 16, 64, 2}, {16, 128, 16, 16, 64, 2},
		{3, 32, 16, 16, 64, 2}, {5, 64, 17, 19, 32, 2}, {7, 16, 20, 20, 16, 3},
	} {
		t.Run(fmt.Sprintf("B%d_%dx%dx%d_to%d_P%d", s.b, s.cin, s.h, s.w, s.cout, s.procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(s.procs))
			if !UseConvTTrain(s.b, s.cin, s.h, s.w, s.cout) {
				t.Fatalf("shape does not take convTBatch")
			}
			shapes := [][]int{{s.b, s.cin, s.h, s.w}, {s.cin, s.cout, 4, 4}}
			in := kerneltest.RandInputs(shapes, 5)
			x32, w32 := kerneltest.F32(in[0]), kerneltest.F32(in[1])
			x, w := kerneltest.F64(x32), kerneltest.F64(w32)
			g := convT2xGeom(s.cout, s.h, s.w)
			n := s.b * s.cout * 4 * s.h * s.w
			want := make([]float64, n)
			convBackData(g, s.cin, s.b, x, w, want)
			y := kerneltest.SameTwice(t, n, func(out []float32) { convTBatch(out, x32, w32, s.b, s.cin, s.h, s.w, s.cout) })
			y0 := make([]float32, n)
			convBackData(g, s.cin, s.b, x32, w32, y0)
			tol := 4 * 0x1p-24 * math.Sqrt(float64(4*s.cin))
			kerneltest.CheckFastSlow(t, "col2im", y, y0, want, tol)
			if s.h%2 != 0 || s.w%2 != 0 {
				return
			}
			// Conv2dDown2x of a [B,Cout,2H,2W] image with Cin outputs: its input gradient
			xs, ws := []int{s.b, s.cout, 2 * s.h, 2 * s.w}, []int{s.cin, s.cout, 3, 3}
			downShapes := [][]int{xs, ws, {s.b, s.cin, s.h, s.w}}
			din := kerneltest.RandInputs(downShapes, 9)
			gx := down2xGradX(t, true, xs, ws, din[0], din[1], din[2])
			gx0 := down2xGradX(t, false, xs, ws, din[0], din[1], din[2])
			if err := kerneltest.MaxRelErr(gx, gx0, 0); err > 2*tol || math.IsNaN(err) {
				t.Errorf("Conv2dDown2x input gradient, Winograd vs col2im: relative error %.3g > %.3g", err, 2*tol)
			}
		})
	}
}

// down2xGradX returns ∂loss/∂x of loss = Σ Conv2dDown2x(x, w) ⊙ r (float32), as the
// Conv2dDown2x op's input-gradient op computes it, with winogradTrainOn on or off.
func down2xGradX(t *testing.T, on bool, xs, ws []int, x, w, r []float64) []float64 {
	t.Helper()
	defer func(old bool) { winogradTrainOn = old }(winogradTrainOn)
	winogradTrainOn = on
	d := ConvDims{B: xs[0], C: xs[1], H: xs[2], W: xs[3], Cout: ws[0], Ho: xs[2] / 2, Wo: xs[3] / 2, K: 3}
	gx := make([]float32, len(x))
	Conv(Down2xBackData, 1, d, kerneltest.F32(r), kerneltest.F32(w), gx, nil, 0)
	return kerneltest.F64(gx)
}
