package ops

import (
	"math"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kerneltest"
	"stylegan-tui/model/kernels/simd"
)

// TestUpsampleConvTrainPath checks that a float32 training graph's Upsample2xConv2d of a 16×16
// input takes the transposed convolution (trainUpConv) and that its output and both gradients
// match Upsample2x followed by Conv2d.
func TestUpsampleConvTrainPath(t *testing.T) {
	if !simd.Available {
		t.Skip("no AVX2/FMA GEMM kernel: training convolutions stay on im2col")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const B, cin, cout, hw = 4, 16, 32, 16
	xs, ws, ys := []int{B, cin, hw, hw}, []int{cout, cin, 3, 3}, []int{B, cout, 2 * hw, 2 * hw}
	in := randInputs(opCase{shapes: [][]int{xs, ws, ys}}, 17)
	run := func(fused bool) [][]float64 {
		g := G.NewGraph()
		x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(xs...), G.WithName("x"), G.WithValue(toDense(tensor.Float32, xs, in[0])))
		w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(ws...), G.WithName("w"), G.WithValue(toDense(tensor.Float32, ws, in[1])))
		r := G.NewTensor(g, tensor.Float32, 4, G.WithShape(ys...), G.WithName("r"), G.WithValue(toDense(tensor.Float32, ys, in[2])))
		var y *G.Node
		if fused {
			if !trainUpConv(x, w) {
				t.Fatal("a 16×16 training input does not take the transposed convolution")
			}
			y = G.Must(Upsample2xConv2d(x, w))
		} else {
			y = G.Must(Conv2d(G.Must(Upsample2x(x)), w, 1))
		}
		var yv G.Value
		G.Read(y, &yv)
		loss := G.Must(G.Sum(G.Must(G.Reshape(G.Must(G.HadamardProd(y, r)), tensor.Shape{kerneltest.Size(ys)}))))
		if _, err := G.Grad(loss, x, w); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		gx, _ := x.Grad()
		gw, _ := w.Grad()
		return [][]float64{toF64(yv), toF64(gx), toF64(gw)}
	}
	want, got := run(false), run(true)
	for i, name := range []string{"output", "input gradient", "weight gradient"} {
		if err := kerneltest.MaxRelErr(got[i], want[i], 0); err > 1e-5 || math.IsNaN(err) {
			t.Errorf("%s: relative error %.3g against Upsample2x + Conv2d", name, err)
		}
	}
}
