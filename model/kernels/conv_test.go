package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"stylegan-tui/model/internal/kerneltest"
)

// TestWinogradLarger compares Winograd and im2col with each other and the reference on sizes
// with several tiles, odd and even, and more channels than the table uses.
// The float32 cases run on the fused path (for every size), on both tile layouts of the
// unfused one (packed panels for the AVX2 kernel, and plain), with the chunk budget cut to one
// tile row so that chunks end mid-panel, and with the portable transform loops.
func TestWinogradLarger(t *testing.T) {
	defer func(f bool, ft int, p, v bool, b int) {
		winogradFusedOn, winogradFusedMinTiles, winogradPackOn, winogradVecOn, winogradBudget = f, ft, p, v, b
	}(winogradFusedOn, winogradFusedMinTiles, winogradPackOn, winogradVecOn, winogradBudget)
	for _, m := range []struct {
		name               string
		fused, packed, vec bool
		budget             int
	}{{"fused", true, true, true, winogradBudget}, {"fused,portable", true, true, false, winogradBudget},
		{"packed", false, true, true, winogradBudget}, {"packed,1row", false, true, true, 1},
		{"plain", false, false, true, winogradBudget}, {"plain,1row", false, false, true, 1},
		{"plain,portable", false, false, false, winogradBudget}} {
		winogradFusedOn, winogradFusedMinTiles, winogradPackOn, winogradVecOn, winogradBudget = m.fused, 1, m.packed, m.vec, m.budget
		t.Run(m.name, testWinogradLarger)
	}
}

func testWinogradLarger(t *testing.T) {
	for _, s := range [][5]int{{1, 16, 9, 11, 20}, {2, 5, 8, 8, 7}, {1, 3, 1, 6, 2}, {1, 17, 16, 3, 16}, {1, 512, 8, 6, 4}, {2, 24, 34, 40, 8}, {1, 300, 20, 64, 12}, {1, 8, 37, 35, 4}, {2, 4, 64, 64, 8}} {
		b, cin, h, w, cout := s[0], s[1], s[2], s[3], s[4]
		shapes := [][]int{{b, cin, h, w}, {cout, cin, 3, 3}}
		in := kerneltest.RandInputs(shapes, 4)
		want, _ := kerneltest.RefConv2d(in[0], shapes[0], in[1], shapes[1], 1)
		x32, w32 := kerneltest.F32(in[0]), kerneltest.F32(in[1])
		got := make([]float32, len(want))
		conv2dWinogradF32(got, x32, prepareWinogradF32(w32, cout, cin), b, cin, h, w, cout)
		// float32 rounding grows with the number of terms summed (Cin·9)
		tol := 1e-6 + 1e-7*math.Sqrt(float64(cin*9))
		ew := kerneltest.MaxRelErr(kerneltest.F64(got), want, 1)
		if ew > tol {
			t.Errorf("%v: Winograd error %.3g > %.3g", s, ew, tol)
		}
		im := make([]float32, len(want))
		convForward(conv2dGeom(cin, h, w, 3, 1), cout, b, x32, w32, im)
		ei := kerneltest.MaxRelErr(kerneltest.F64(im), want, 1)
		if ei > tol {
			t.Errorf("%v: im2col error %.3g > %.3g", s, ei, tol)
		}
		t.Logf("%v: float32 error relative to max|y|: Winograd %.2g, im2col %.2g", s, ew, ei)
	}
}

// TestConvTWinograd compares the Winograd ConvTranspose2x with the reference directly, on odd
// and even sizes, on the fused path (for every float32 size, with the AVX2 and the portable
// transform loops) and on the unfused one.
func TestConvTWinograd(t *testing.T) {
	defer func(f bool, ft int, v bool) {
		winogradFusedOn, winogradFusedMinTiles, winogradVecOn = f, ft, v
	}(winogradFusedOn, winogradFusedMinTiles, winogradVecOn)
	for _, m := range []struct{ fused, vec bool }{{true, true}, {true, false}, {false, true}} {
		winogradFusedOn, winogradFusedMinTiles, winogradVecOn = m.fused, 1, m.vec
		t.Run(fmt.Sprintf("fused=%t,avx2=%t", m.fused, m.vec), testConvTWinograd)
	}
}

func testConvTWinograd(t *testing.T) {
	for _, s := range [][5]int{{1, 16, 9, 11, 20}, {2, 5, 8, 8, 7}, {1, 3, 1, 6, 2}, {1, 2, 1, 1, 3}, {1, 64, 5, 4, 8},
		{2, 24, 34, 40, 8}, {1, 8, 37, 35, 4}, {1, 300, 20, 64, 12}} {
		b, cin, h, w, cout := s[0], s[1], s[2], s[3], s[4]
		shapes := [][]int{{b, cin, h, w}, {cin, cout, 4, 4}}
		in := kerneltest.RandInputs(shapes, 9)
		want, _ := kerneltest.RefConvT2x(in[0], shapes[0], in[1], shapes[1])
		n := b * cout * 4 * h * w
		y32 := make([]float32, n)
		convT2xWinograd(y32, kerneltest.F32(in[0]), kerneltest.F32(in[1]), b, cin, h, w, cout)
		y64 := make([]float64, n)
		convT2xWinograd(y64, in[0], in[1], b, cin, h, w, cout)
		for _, r := range []struct {
			dt  string
			y   []float64
			tol float64
		}{{"float32", kerneltest.F64(y32), 1e-6 + 1e-7*math.Sqrt(float64(cin*16))}, {"float64", y64, 1e-12}} {
			if e := kerneltest.MaxRelErr(r.y, want, 1); e > r.tol {
				t.Errorf("%v %v: error %.3g > %.3g", s, r.dt, e, r.tol)
			}
		}
	}
}

// TestParallelConsistency runs the Winograd kernels on sizes that split over goroutines and
// compares them with the im2col kernels (run it with -race).
func TestParallelConsistency(t *testing.T) {
	const B, C, H = 2, 64, 32
	r := rand.New(rand.NewSource(10))
	rnd := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	x, w, gy := rnd(B*C*H*H), rnd(C*C*9), rnd(B*C*H*H)
	a, b := make([]float64, B*C*H*H), make([]float64, B*C*H*H)
	winogradConv2d(a, x, w, nil, B, C, H, H, C)
	convForward(conv2dGeom(C, H, H, 3, 1), C, B, x, w, b)
	if e := kerneltest.MaxRelErr(a, b, 1); e > 1e-12 {
		t.Errorf("Winograd forward differs from im2col by %.3g", e)
	}
	da, db := make([]float64, C*C*9), make([]float64, C*C*9)
	winogradBackFilter(da, x, gy, B, C, H, H, C)
	convBackFilter(conv2dGeom(C, H, H, 3, 1), C, B, x, gy, db)
	if e := kerneltest.MaxRelErr(da, db, 1); e > 1e-12 {
		t.Errorf("Winograd weight gradient differs from im2col by %.3g", e)
	}
	wt := rnd(C * C * 16)
	ya, yb := make([]float64, B*C*4*H*H), make([]float64, B*C*4*H*H)
	convT2xWinograd(ya, x, wt, B, C, H, H, C)
	convBackData(convT2xGeom(C, H, H), C, B, x, wt, yb)
	if e := kerneltest.MaxRelErr(ya, yb, 1); e > 1e-12 {
		t.Errorf("Winograd transposed conv differs from col2im by %.3g", e)
	}
}

// TestFreeze checks that a conv with a frozen weight uses the cached transform, that
// re-freezing after an in-place change updates it, and that thawing drops it.
func TestFreeze(t *testing.T) {
	old := winogradMinC
	winogradMinC, winogradMinHW = 1, 0 // Winograd for any size, any BLAS
	defer func() { winogradMinC, winogradMinHW = old, 144 }()
	shapes := [][]int{{1, 3, 6, 5}, {4, 3, 3, 3}}
	in := kerneltest.RandInputs(shapes, 6)
	x, w := kerneltest.F32(in[0]), kerneltest.F32(in[1])
	check := func(what string) {
		t.Helper()
		want, _ := kerneltest.RefConv2d(in[0], shapes[0], kerneltest.F64(w), shapes[1], 1)
		got := make([]float32, len(want))
		Conv2dF32(got, x, w, 1, 3, 6, 5, 4, 3, 1)
		if e := kerneltest.MaxRelErr(kerneltest.F64(got), want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", what, e)
		}
	}
	Freeze(w)
	check("frozen")
	if frozenWinograd(w, 4, 3) == nil {
		t.Fatal("no cached transform for a frozen weight")
	}
	for i := range w {
		w[i] *= 2
	}
	Freeze(w)
	check("re-frozen after an in-place change")
	Thaw(w)
	if frozenWinograd(w, 4, 3) != nil {
		t.Error("thawed weight still cached")
	}
	check("thawed")
}
