package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestFrozenUpConv checks that Upsample2xConv2d and ConvTranspose2x with frozen weights (cached
// 4×4 weight and Winograd transforms) give the results of the unfrozen ops, also after the
// weight is refrozen with new values, and that thawing drops the derived weight.
func TestFrozenUpConv(t *testing.T) {
	const B, cin, cout, h = 1, 16, 16, 32
	x := randF32(B*cin*h*h, 1)
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
			w := randF32(n, seed)
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
