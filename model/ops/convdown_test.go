package ops

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kernelknobs"
	"stylegan-tui/model/internal/kerneltest"
)

func down2xCase(b, cin, h, w, cout int) opCase {
	return opCase{
		name:   fmt.Sprintf("Conv2dDown2x/B%d_%dx%dx%d_to%d", b, cin, h, w, cout),
		shapes: [][]int{{b, cin, h, w}, {cout, cin, 3, 3}},
		build:  func(in []*G.Node) (*G.Node, error) { return Conv2dDown2x(in[0], in[1]) },
		ref: func(in [][]float64) ([]float64, []int) {
			y, ys := kerneltest.RefConv2d(in[0], []int{b, cin, h, w}, in[1], []int{cout, cin, 3, 3}, 1)
			return kerneltest.RefDownsample(y, ys)
		},
		diff: []bool{true, true},
	}
}

// checkForwardGrad runs c's forward pass in float32 and float64 against its reference and its
// gradients (float64) against central differences of the reference, as TestForward and TestGrad.
func checkForwardGrad(t *testing.T, c opCase) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		in := randInputs(c, 1)
		want, ws := c.ref(in)
		g := G.NewGraph()
		nodes := inputNodes(g, dt, c, in)
		y, err := c.build(nodes)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal([]int(y.Shape()), ws) {
			t.Fatalf("%v: node shape %v, want %v", dt, y.Shape(), ws)
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 2e-6
		}
		if e := kerneltest.MaxRelErr(toF64(y.Value()), want, 1); e > tol {
			t.Errorf("%v: forward error %.3g > %g", dt, e, tol)
		}
		m.Close()
	}

	in := randInputs(c, 2)
	y0, ys := c.ref(in)
	r := rand.New(rand.NewSource(3))
	R := make([]float64, len(y0))
	for i := range R {
		R[i] = r.Float64()*2 - 1
	}
	loss := func(in [][]float64) float64 {
		y, _ := c.ref(in)
		var s float64
		for i := range y {
			s += y[i] * R[i]
		}
		return s
	}
	g := G.NewGraph()
	nodes := inputNodes(g, tensor.Float64, c, in)
	y, err := c.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	rc := G.NewConstant(tensor.New(tensor.WithShape(ys...), tensor.WithBacking(R)))
	prod := G.Must(G.HadamardProd(y, rc))
	cost := G.Must(G.Sum(G.Must(G.Reshape(prod, tensor.Shape{len(y0)}))))
	grads, err := G.Grad(cost, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	const h = 1e-5
	for i := range nodes {
		got := toF64(grads[i].Value())
		fd := make([]float64, len(in[i]))
		for j := range in[i] {
			v := in[i][j]
			in[i][j] = v + h
			lp := loss(in)
			in[i][j] = v - h
			lm := loss(in)
			in[i][j] = v
			fd[j] = (lp - lm) / (2 * h)
		}
		if e := kerneltest.MaxRelErr(got, fd, 1e-3); e > 1e-4 || math.IsNaN(e) {
			t.Errorf("input %d: gradient relative error %.3g > 1e-4", i, e)
		}
	}
}

// TestConv2dDown2x checks Conv2dDown2x (and the batched convolution paths: images split over
// goroutines, grouped side by side, or in row chunks) against Downsample2x of the reference
// Conv2d.
func TestConv2dDown2x(t *testing.T) {
	cases := []opCase{down2xCase(1, 2, 4, 6, 3), down2xCase(5, 3, 8, 8, 2), down2xCase(4, 1, 2, 2, 4), conv2dCase(5, 3, 4, 4, 2, 3, 1), convT2xCase(5, 2, 3, 4, 3)}
	for _, knobs := range []struct{ cols, budget, split int }{{1024, 1 << 20, 1 << 20}, {1024, 1 << 20, 0}, {1, 1 << 20, 0}, {40, 1 << 20, 0}, {1024, 1, 0}} {
		oc, ob, os := *kernelknobs.GroupCols, *kernelknobs.ColBudget, *kernelknobs.ConvSplitWork
		*kernelknobs.GroupCols, *kernelknobs.ColBudget, *kernelknobs.ConvSplitWork = knobs.cols, knobs.budget, knobs.split
		for _, c := range cases {
			t.Run(fmt.Sprintf("cols%d_budget%d_split%d/%s", knobs.cols, knobs.budget, knobs.split, c.name), func(t *testing.T) { checkForwardGrad(t, c) })
		}
		*kernelknobs.GroupCols, *kernelknobs.ColBudget, *kernelknobs.ConvSplitWork = oc, ob, os
	}
}

// TestReuseOutputs runs a graph twice after ReuseOutputs: the second run writes into the first
// run's output tensor and gives the values of a fresh graph.
func TestReuseOutputs(t *testing.T) {
	c := down2xCase(2, 3, 4, 4, 2)
	in := randInputs(c, 1)
	g := G.NewGraph()
	nodes := inputNodes(g, tensor.Float64, c, in)
	y, err := c.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	z := G.Must(LeakyReLU(y, 0.2))
	ReuseOutputs(g)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	first := z.Value().Uintptr()
	m.Reset()
	x := nodes[0].Value().Data().([]float64)
	for i := range x {
		x[i] = -x[i]
	}
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if z.Value().Uintptr() != first {
		t.Errorf("second run allocated a new output")
	}
	for i := range in[0] {
		in[0][i] = -in[0][i]
	}
	want, _ := c.ref(in)
	for i, v := range want {
		if v < 0 {
			want[i] = 0.2 * v
		}
	}
	if e := kerneltest.MaxRelErr(toF64(z.Value()), want, 1); e > 1e-12 {
		t.Errorf("second run: error %.3g", e)
	}
}
