package ops

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convTrainRun runs a float32 graph loss = Σ Conv2d(x, w, 1) ⊙ r and returns y, ∂loss/∂x (the
// back-data conv of r) and ∂loss/∂w, on winogradBatch (on) or on im2col (the other Winograd
// paths off too).
func convTrainRun(t *testing.T, on bool, xs, ws []int, x, w, r []float64) (y, gx, gw []float64) {
	t.Helper()
	defer func(old bool, minC int) { winogradTrainOn, winogradMinC = old, minC }(winogradTrainOn, winogradMinC)
	winogradTrainOn = on
	if !on {
		winogradMinC = 1 << 30
	}
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(xs...), G.WithName("x"), G.WithValue(toDense(tensor.Float32, xs, x)))
	wn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(ws...), G.WithName("w"), G.WithValue(toDense(tensor.Float32, ws, w)))
	ys := []int{xs[0], ws[0], xs[2], xs[3]}
	rn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(ys...), G.WithName("r"), G.WithValue(toDense(tensor.Float32, ys, r)))
	yn, err := Conv2d(xn, wn, 1)
	if err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	G.Read(yn, &yv)
	p := G.Must(G.HadamardProd(yn, rn))
	loss := G.Must(G.Sum(G.Must(G.Reshape(p, tensor.Shape{size(ys)}))))
	if _, err := G.Grad(loss, xn, wn); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	for i := 0; i < 2; i++ { // the second run reuses pooled scratch and the column cache
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			m.Reset()
		}
	}
	dx, _ := xn.Grad()
	dw, _ := wn.Grad()
	return toF64(yv), toF64(dx), toF64(dw)
}

// TestWinogradTrain checks the training Conv2d op's forward pass and input gradient on
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
	defer SingleThreadedBLAS()()
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
			c := opCase{shapes: [][]int{xs, ws, {s.b, s.cout, s.h, s.w}}}
			in := randInputs(c, 7)
			x, w, r := in[0], in[1], in[2]
			g := conv2dGeom(s.cin, s.h, s.w, 3, 1)
			wantY := make([]float64, size(c.shapes[2]))
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
				err := maxRelErr(e.got, e.ref, 0)
				if err > e.tol || math.IsNaN(err) {
					t.Errorf("%s: relative error %.3g > %.3g", e.name, err, e.tol)
				}
				t.Logf("%s: relative error %.2g (bound %.2g)", e.name, err, e.tol)
			}
			// the weight gradient (im2col either way; after Winograd it builds its own
			// matrices instead of the forward pass's) is unchanged
			if err := maxRelErr(gw, gw0, 0); err > 1e-6 {
				t.Errorf("weight gradient differs by %.3g", err)
			}
		})
	}
}
