package ops

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kernelknobs"
)

// TestBiasLeakyReLUGrad32 checks the float32 gradients of BiasLeakyReLU (the AVX2 loops and
// the portable ones) against those of AddBias followed by LeakyReLU, with and without a tail
// after the multiples of 8. TestGrad checks the float64 ones against central differences.
func TestBiasLeakyReLUGrad32(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, s := range [][]int{{2, 3, 8, 8}, {3, 2, 5, 13}} {
		n := s[0] * s[1] * s[2] * s[3]
		xv, bv, rv := make([]float32, n), make([]float32, s[1]), make([]float32, n)
		for i := range xv {
			xv[i], rv[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		for i := range bv {
			bv[i] = float32(r.NormFloat64())
		}
		grads := func(fused bool) [][]float32 {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(s...), G.WithName("x"),
				G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), xv...)))))
			b := G.NewTensor(g, tensor.Float32, 1, G.WithShape(s[1]), G.WithName("b"),
				G.WithValue(tensor.New(tensor.WithShape(s[1]), tensor.WithBacking(append([]float32(nil), bv...)))))
			var y *G.Node
			var err error
			if fused {
				y, err = BiasLeakyReLU(x, b, 0.2)
			} else if y, err = AddBias(x, b); err == nil {
				y, err = LeakyReLU(y, 0.2)
			}
			rn := G.NewConstant(tensor.New(tensor.WithShape(s...), tensor.WithBacking(rv)), G.WithName("R"))
			if err == nil {
				y, err = G.HadamardProd(y, rn)
			}
			if err == nil {
				y, err = G.Reshape(y, tensor.Shape{n})
			}
			if err == nil {
				y, err = G.Sum(y)
			}
			if err != nil {
				t.Fatal(err)
			}
			gs, err := G.Grad(y, x, b)
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			return [][]float32{append([]float32(nil), gs[0].Value().Data().([]float32)...), append([]float32(nil), gs[1].Value().Data().([]float32)...)}
		}
		want := grads(false)
		for _, on := range []bool{true, false} {
			*kernelknobs.ElemKernelOn = on
			got := grads(true)
			*kernelknobs.ElemKernelOn = true
			for k := range want {
				for i := range want[k] {
					if d := math.Abs(float64(got[k][i] - want[k][i])); d > 1e-5*max(1, math.Abs(float64(want[k][i]))) {
						t.Fatalf("%v kernel %t: gradient %d [%d]: fused %g, chain %g", s, on, k, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}
