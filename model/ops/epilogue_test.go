package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kernelknobs"
)

// TestStyleEpilogue checks the fused op against the chain of single ops it replaces, in a
// graph, with and without bias, with a per-sample and a shared noise map.
func TestStyleEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64()*s + 0.3)
		}
		return v
	}
	for _, tc := range []struct {
		b, c, h, w, nb int
		bias           bool
	}{{1, 3, 5, 7, 1, true}, {2, 4, 8, 8, 2, false}, {2, 16, 32, 32, 1, true}, {3, 2, 1, 1, 3, true}} {
		xs := []int{tc.b, tc.c, tc.h, tc.w}
		xv, nv := rnd(tc.b*tc.c*tc.h*tc.w, 2), rnd(tc.nb*tc.h*tc.w, 1)
		sv, bv, scv, shv := rnd(tc.c, 1), rnd(tc.c, 1), rnd(tc.b*tc.c, 1), rnd(tc.b*tc.c, 1)
		build := func(fused bool) []float32 {
			g := G.NewGraph()
			mk := func(v []float32, name string, s ...int) *G.Node {
				return G.NewTensor(g, tensor.Float32, len(s), G.WithShape(s...), G.WithName(name),
					G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))))
			}
			x, n := mk(xv, "x", xs...), mk(nv, "n", tc.nb, 1, tc.h, tc.w)
			st, sc, sh := mk(sv, "s", tc.c), mk(scv, "sc", tc.b, tc.c), mk(shv, "sh", tc.b, tc.c)
			var bias *G.Node
			if tc.bias {
				bias = mk(bv, "bias", tc.c)
			}
			var y *G.Node
			var err error
			if fused {
				y, err = StyleEpilogue(x, n, st, bias, sc, sh, 0.2, 1e-8)
			} else {
				y, err = AddNoise(x, n, st)
				if err == nil && bias != nil {
					y, err = AddBias(y, bias)
				}
				if err == nil {
					y, err = LeakyReLU(y, 0.2)
				}
				if err == nil {
					y, err = InstanceNorm(y, 1e-8)
				}
				if err == nil {
					y, err = Modulate(y, sc, sh)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), y.Value().Data().([]float32)...)
		}
		want, got := build(false), build(true)
		var worst float64
		for i := range want {
			worst = max(worst, math.Abs(float64(want[i]-got[i])))
		}
		if worst > 2e-5 {
			t.Errorf("%+v: max |fused - chain| = %g", tc, worst)
		}
	}
}

// TestStyleEpilogueGrad32 checks the float32 gradients of the fused op (the AVX2 plane loops
// and the portable ones) against the gradients of the chain of single ops it replaces, on
// planes with and without a tail after the multiples of 8. TestGrad checks the float64 ones
// against central differences.
func TestStyleEpilogueGrad32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rnd := func(n int, s, off float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64()*s + off)
		}
		return v
	}
	for _, tc := range []struct {
		b, c, h, w, nb int
		bias           bool
	}{{2, 3, 8, 8, 1, true}, {2, 2, 5, 13, 2, true}, {3, 4, 16, 16, 3, false}} {
		xs := []int{tc.b, tc.c, tc.h, tc.w}
		xv, nv := rnd(tc.b*tc.c*tc.h*tc.w, 2, 0.3), rnd(tc.nb*tc.h*tc.w, 1, 0)
		sv, bv, scv, shv := rnd(tc.c, 1, 0), rnd(tc.c, 1, 0), rnd(tc.b*tc.c, 1, 1), rnd(tc.b*tc.c, 1, 0)
		rv := rnd(tc.b*tc.c*tc.h*tc.w, 1, 0)
		grads := func(fused bool) [][]float32 {
			g := G.NewGraph()
			mk := func(v []float32, name string, s ...int) *G.Node {
				return G.NewTensor(g, tensor.Float32, len(s), G.WithShape(s...), G.WithName(name),
					G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))))
			}
			x, n := mk(xv, "x", xs...), mk(nv, "n", tc.nb, 1, tc.h, tc.w)
			st, sc, sh := mk(sv, "s", tc.c), mk(scv, "sc", tc.b, tc.c), mk(shv, "sh", tc.b, tc.c)
			wrt := G.Nodes{x, n, st, sc, sh}
			var bias *G.Node
			if tc.bias {
				bias = mk(bv, "bias", tc.c)
				wrt = append(wrt, bias)
			}
			var y *G.Node
			var err error
			if fused {
				y, err = StyleEpilogue(x, n, st, bias, sc, sh, 0.2, 1e-8)
			} else {
				y, err = AddNoise(x, n, st)
				if err == nil && bias != nil {
					y, err = AddBias(y, bias)
				}
				if err == nil {
					y, err = LeakyReLU(y, 0.2)
				}
				if err == nil {
					y, err = InstanceNorm(y, 1e-8)
				}
				if err == nil {
					y, err = Modulate(y, sc, sh)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			rn := G.NewConstant(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(rv)), G.WithName("R"))
			l, err := G.HadamardProd(y, rn)
			if err == nil {
				l, err = G.Reshape(l, tensor.Shape{len(rv)})
			}
			if err == nil {
				l, err = G.Sum(l)
			}
			if err != nil {
				t.Fatal(err)
			}
			gs, err := G.Grad(l, wrt...)
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			var out [][]float32
			for _, gn := range gs {
				out = append(out, append([]float32(nil), gn.Value().Data().([]float32)...))
			}
			return out
		}
		want := grads(false)
		for _, on := range []bool{true, false} {
			*kernelknobs.EpiKernelOn = on
			got := grads(true)
			*kernelknobs.EpiKernelOn = true
			for k := range want {
				var d, m float64
				for i := range want[k] {
					d = max(d, math.Abs(float64(got[k][i]-want[k][i])))
					m = max(m, math.Abs(float64(want[k][i])))
				}
				if d > 1e-4*max(m, 1) {
					t.Errorf("%+v kernel %t: gradient %d: max |fused - chain| = %g (max |chain| %g)", tc, on, k, d, m)
				}
			}
		}
	}
}
