package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kernelknobs"
	"stylegan-tui/model/internal/kerneltest"
	"stylegan-tui/model/kernels"
)

// TestFrozenUpConv checks that Upsample2xConv2d and ConvTranspose2x with frozen weights (cached
// 4×4 weight and Winograd transforms) give the results of the unfrozen ops, also after the
// weight is refrozen with new values, and that thawing drops the derived weight.
func TestFrozenUpConv(t *testing.T) {
	const B, cin, cout, h = 1, 16, 16, 32
	x := kerneltest.RandF32(B*cin*h*h, 1)
	run := func(w []float32, freeze bool, up bool) []float32 {
		g := G.NewGraph()
		xt := tensor.New(tensor.WithShape(B, cin, h, h), tensor.WithBacking(x))
		shape := []int{cout, cin, 3, 3}
		if !up {
			shape = []int{cin, cout, 4, 4}
		}
		wt := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(w))
		if freeze {
			FreezeWeights(wt)
			defer ThawWeights(wt)
		}
		xn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(B, cin, h, h), G.WithName("x"), G.WithValue(xt))
		wn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("w"), G.WithValue(wt))
		var y *G.Node
		var err error
		if up {
			y, err = Upsample2xConv2d(xn, wn)
		} else {
			y, err = ConvTranspose2x(xn, wn)
		}
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		defer m.Close()
		for i := 0; i < 2; i++ { // the second run uses the cached transforms
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			m.Reset()
		}
		return append([]float32(nil), y.Value().Data().([]float32)...)
	}
	for _, up := range []bool{true, false} {
		n := cout * cin * 9
		if !up {
			n = cout * cin * 16
		}
		for seed := int64(2); seed < 4; seed++ {
			w := kerneltest.RandF32(n, seed)
			want, got := run(append([]float32(nil), w...), false, up), run(w, true, up)
			for i := range want {
				if d := want[i] - got[i]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("up=%v seed %d: element %d: frozen %g, unfrozen %g", up, seed, i, got[i], want[i])
				}
			}
		}
	}
	frozen.Lock()
	n := len(frozen.m)
	frozen.Unlock()
	if n != 0 {
		t.Errorf("%d frozen entries left after thawing", n)
	}
}

// TestFreezeWeights checks that FreezeWeights reaches the kernels: a 3×3 conv on the Winograd
// path with a frozen weight gives the reference result, after an in-place change and
// re-freezing too (a stale cached transform would not), and after thawing.
func TestFreezeWeights(t *testing.T) {
	defer func(c, hw int) { *kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW = c, hw }(*kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW)
	*kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW = 1, 0 // Winograd for any size, any BLAS
	xs, ws := []int{1, 3, 6, 5}, []int{4, 3, 3, 3}
	in := kerneltest.RandInputs([][]int{xs, ws}, 6)
	x, wt := kerneltest.F32(in[0]), toDense(tensor.Float32, ws, in[1])
	w := wt.Data().([]float32)
	check := func(what string) {
		t.Helper()
		want, _ := kerneltest.RefConv2d(in[0], xs, kerneltest.F64(w), ws, 1)
		got := make([]float32, len(want))
		kernels.Conv2dF32(got, x, w, 1, 3, 6, 5, 4, 3, 1)
		if e := kerneltest.MaxRelErr(kerneltest.F64(got), want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", what, e)
		}
	}
	FreezeWeights(wt)
	check("frozen")
	for i := range w {
		w[i] *= 2
	}
	FreezeWeights(wt)
	check("re-frozen after an in-place change")
	ThawWeights(wt)
	check("thawed")
}
