package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops/simd"
)

// TestElementKernels checks the AVX2 blur, LeakyReLU (and gradient) and bias loops against the
// float64 references on the shapes that take them (widths a multiple of 8, tails after the
// multiples of 8), in place and not.
func TestElementKernels(t *testing.T) {
	if !simd.Available {
		t.Skip("no AVX2/FMA: the portable loops are what TestPlainKernels checks")
	}
	r := rand.New(rand.NewSource(11))
	rnd := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	check := func(name string, got []float32, want []float64) {
		t.Helper()
		g := make([]float64, len(got))
		for i, v := range got {
			g[i] = float64(v)
		}
		if e := maxRelErr(g, want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", name, e)
		}
	}
	for _, s := range [][]int{{1, 1, 1, 8}, {2, 3, 2, 8}, {1, 2, 5, 16}, {3, 2, 8, 64}, {2, 1, 7, 24}} {
		B, C, H, W := s[0], s[1], s[2], s[3]
		x := rnd(B * C * H * W)
		want, _ := refBlur(x, s)
		got := make([]float32, len(x))
		BlurF32(got, f32s(x), B, C, H, W)
		check(fmt.Sprintf("blur %v", s), got, want)
		got = f32s(x)
		BlurF32(got, got, B, C, H, W)
		check(fmt.Sprintf("blur %v in place", s), got, want)
	}
	for _, n := range []int{8, 13, 64, 203} {
		// lengths with and without a tail after the multiples of 8
		x, g := rnd(n), rnd(n)
		x[0] = 0
		want, _ := refLeaky(x, []int{1, 1, 1, n}, 0.2)
		got := make([]float32, n)
		LeakyReLUF32(got, f32s(x), 0.2)
		check(fmt.Sprintf("leaky n=%d", n), got, want)
		for i := range want {
			want[i] = g[i]
			if x[i] < 0 {
				want[i] *= 0.2
			}
		}
		leakyReLUGrad(got, f32s(x), f32s(g), float32(0.2))
		check(fmt.Sprintf("leaky grad n=%d", n), got, want)
	}
	for _, s := range [][]int{{2, 3, 3, 3}, {2, 3, 5, 13}, {1, 4, 8, 8}} {
		x, bias := rnd(s[0]*s[1]*s[2]*s[3]), rnd(s[1])
		want, _ := refAddBias(x, s, bias)
		got := f32s(x)
		AddBiasF32(got, got, f32s(bias), s[0], s[1], s[2], s[3])
		check(fmt.Sprintf("bias %v", s), got, want)
	}
}

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
			elemKernelOn = on
			got := grads(true)
			elemKernelOn = true
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
