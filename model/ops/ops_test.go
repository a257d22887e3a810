package ops

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kernelknobs"
	"stylegan-tui/model/internal/kerneltest"
)

// opCase is one row of the shared table: an op applied to inputs of the given shapes, a naive
// reference for its output, and which inputs to gradient-check.
type opCase struct {
	name   string
	shapes [][]int
	build  func(in []*G.Node) (*G.Node, error)
	ref    func(in [][]float64) ([]float64, []int)
	diff   []bool
	consts []bool // inputs made with gorgonia.NewConstant (no gradient is built for them)
	// composite: build makes more than one op (TestPrealloc needs the inputs to be the
	// output op's children)
	composite bool
}

func conv2dCase(b, cin, h, w, cout, k, p int) opCase {
	return opCase{
		name:   fmt.Sprintf("Conv2d/B%d_%dx%dx%d_to%d_k%d_p%d", b, cin, h, w, cout, k, p),
		shapes: [][]int{{b, cin, h, w}, {cout, cin, k, k}},
		build:  func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], p) },
		ref: func(in [][]float64) ([]float64, []int) {
			return kerneltest.RefConv2d(in[0], []int{b, cin, h, w}, in[1], []int{cout, cin, k, k}, p)
		},
		diff: []bool{true, true},
	}
}

func convT2xCase(b, cin, h, w, cout int) opCase {
	return opCase{
		name:   fmt.Sprintf("ConvTranspose2x/B%d_%dx%dx%d_to%d", b, cin, h, w, cout),
		shapes: [][]int{{b, cin, h, w}, {cin, cout, 4, 4}},
		build:  func(in []*G.Node) (*G.Node, error) { return ConvTranspose2x(in[0], in[1]) },
		ref: func(in [][]float64) ([]float64, []int) {
			return kerneltest.RefConvT2x(in[0], []int{b, cin, h, w}, in[1], []int{cin, cout, 4, 4})
		},
		diff: []bool{true, true},
	}
}

func unaryCase(name string, s []int, build func(*G.Node) (*G.Node, error), ref func([]float64, []int) ([]float64, []int)) opCase {
	return opCase{
		name:   fmt.Sprintf("%s/%v", name, s),
		shapes: [][]int{s},
		build:  func(in []*G.Node) (*G.Node, error) { return build(in[0]) },
		ref:    func(in [][]float64) ([]float64, []int) { return ref(in[0], s) },
		diff:   []bool{true},
	}
}

func opCases() []opCase {
	cs := []opCase{
		conv2dCase(2, 3, 5, 7, 4, 3, 1),
		conv2dCase(1, 1, 4, 4, 2, 3, 0),
		conv2dCase(2, 2, 3, 5, 3, 3, 2),
		conv2dCase(2, 3, 3, 5, 2, 1, 0),
		conv2dCase(1, 2, 3, 4, 1, 1, 1),
		conv2dCase(2, 2, 6, 5, 3, 2, 0),
		conv2dCase(1, 1, 1, 1, 1, 3, 1),
		convT2xCase(2, 3, 3, 5, 2),
		convT2xCase(1, 1, 1, 1, 1),
		convT2xCase(1, 2, 4, 2, 3),
	}
	for _, s := range [][]int{{2, 3, 3, 5}, {1, 1, 1, 1}} {
		cs = append(cs, unaryCase("Upsample2x", s, Upsample2x, kerneltest.RefUpsample))
	}
	for _, s := range [][5]int{{2, 3, 3, 5, 2}, {1, 1, 1, 1, 1}, {1, 2, 4, 2, 3}} {
		b, cin, h, w, cout := s[0], s[1], s[2], s[3], s[4]
		cs = append(cs, opCase{
			name:   fmt.Sprintf("Upsample2xConv2d/B%d_%dx%dx%d_to%d", b, cin, h, w, cout),
			shapes: [][]int{{b, cin, h, w}, {cout, cin, 3, 3}},
			build:  func(in []*G.Node) (*G.Node, error) { return Upsample2xConv2d(in[0], in[1]) },
			ref: func(in [][]float64) ([]float64, []int) {
				up, us := kerneltest.RefUpsample(in[0], []int{b, cin, h, w})
				return kerneltest.RefConv2d(up, us, in[1], []int{cout, cin, 3, 3}, 1)
			},
			diff:      []bool{true, true},
			composite: true,
		})
	}
	for _, s := range [][]int{{2, 3, 4, 6}, {1, 1, 2, 2}} {
		cs = append(cs, unaryCase("Downsample2x", s, Downsample2x, kerneltest.RefDownsample))
	}
	for _, s := range [][]int{{2, 3, 5, 7}, {1, 1, 1, 1}, {1, 2, 1, 4}, {1, 1, 3, 1}, {1, 1, 2, 2}} {
		cs = append(cs, unaryCase("Blur", s, Blur, kerneltest.RefBlur))
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 1, 3, 1}} {
		cs = append(cs, unaryCase("InstanceNorm", s,
			func(x *G.Node) (*G.Node, error) { return InstanceNorm(x, 1e-5) },
			func(x []float64, s []int) ([]float64, []int) { return kerneltest.RefInstanceNorm(x, s, 1e-5) }))
	}
	for _, s := range [][]int{{2, 3, 3, 5}, {1, 2}, {3, 4, 5}} {
		cs = append(cs, unaryCase("LeakyReLU", s,
			func(x *G.Node) (*G.Node, error) { return LeakyReLU(x, 0.2) },
			func(x []float64, s []int) ([]float64, []int) { return kerneltest.RefLeaky(x, s, 0.2) }))
	}
	for _, c := range []struct {
		s     []int
		group int
	}{
		{[]int{4, 3, 2, 3}, 2}, {[]int{4, 2, 3, 3}, 4}, {[]int{2, 1, 2, 2}, 4}, {[]int{6, 2, 1, 2}, 3}, {[]int{3, 2, 2, 2}, 1},
	} {
		cs = append(cs, unaryCase(fmt.Sprintf("MinibatchStddev/g%d", c.group), c.s,
			func(x *G.Node) (*G.Node, error) { return MinibatchStddev(x, c.group) },
			func(x []float64, s []int) ([]float64, []int) { return kerneltest.RefMbstd(x, s, c.group) }))
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 1, 3, 3}} {
		xs := s
		cs = append(cs, opCase{
			name:   fmt.Sprintf("Modulate/%v", s),
			shapes: [][]int{s, {s[0], s[1]}, {s[0], s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return Modulate(in[0], in[1], in[2]) },
			ref:    func(in [][]float64) ([]float64, []int) { return kerneltest.RefModulate(in[0], xs, in[1], in[2]) },
			diff:   []bool{true, true, true},
		}, opCase{
			name:   fmt.Sprintf("ModulateNoShift/%v", s),
			shapes: [][]int{s, {s[0], s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return Modulate(in[0], in[1], nil) },
			ref:    func(in [][]float64) ([]float64, []int) { return kerneltest.RefModulate(in[0], xs, in[1], nil) },
			diff:   []bool{true, true},
		}, opCase{
			name:   fmt.Sprintf("AddBias/%v", s),
			shapes: [][]int{s, {s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) },
			ref:    func(in [][]float64) ([]float64, []int) { return kerneltest.RefAddBias(in[0], xs, in[1]) },
			diff:   []bool{true, true},
		})
		for _, nb := range []int{1, s[0]} {
			ns := []int{nb, 1, s[2], s[3]}
			cs = append(cs, opCase{
				name:   fmt.Sprintf("AddNoise/%v_noise%v", s, ns),
				shapes: [][]int{s, ns, {s[1]}},
				build:  func(in []*G.Node) (*G.Node, error) { return AddNoise(in[0], in[1], in[2]) },
				ref:    func(in [][]float64) ([]float64, []int) { return kerneltest.RefAddNoise(in[0], xs, in[1], ns, in[2]) },
				diff:   []bool{true, true, true},
			})
		}
	}
	for _, c := range []struct {
		s    []int
		nb   int
		bias bool
	}{{[]int{2, 3, 4, 5}, 2, true}, {[]int{2, 2, 3, 3}, 1, false}, {[]int{1, 2, 1, 2}, 1, true}, {[]int{2, 2, 4, 4}, 1, true}} {
		xs, ns := c.s, []int{c.nb, 1, c.s[2], c.s[3]}
		bc := []int{xs[0], xs[1]}
		shapes := [][]int{xs, ns, {xs[1]}, bc, bc}
		if c.bias {
			shapes = [][]int{xs, ns, {xs[1]}, {xs[1]}, bc, bc}
		}
		cs = append(cs, opCase{
			name:   fmt.Sprintf("StyleEpilogue/%v_noise%v_bias%t", xs, ns, c.bias),
			shapes: shapes,
			build: func(in []*G.Node) (*G.Node, error) {
				if c.bias {
					return StyleEpilogue(in[0], in[1], in[2], in[3], in[4], in[5], 0.2, 1e-5)
				}
				return StyleEpilogue(in[0], in[1], in[2], nil, in[3], in[4], 0.2, 1e-5)
			},
			ref: func(in [][]float64) ([]float64, []int) {
				y, _ := kerneltest.RefAddNoise(in[0], xs, in[1], ns, in[2])
				k := 3
				if c.bias {
					y, _ = kerneltest.RefAddBias(y, xs, in[3])
					k = 4
				}
				y, _ = kerneltest.RefLeaky(y, xs, 0.2)
				y, _ = kerneltest.RefInstanceNorm(y, xs, 1e-5)
				return kerneltest.RefModulate(y, xs, in[k], in[k+1])
			},
			diff: slices.Repeat([]bool{true}, len(shapes)),
		})
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 2, 3, 8}, {2, 2, 4, 4}} {
		xs := s
		cs = append(cs, opCase{
			name:   fmt.Sprintf("BiasLeakyReLU/%v", s),
			shapes: [][]int{s, {s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return BiasLeakyReLU(in[0], in[1], 0.2) },
			ref: func(in [][]float64) ([]float64, []int) {
				y, _ := kerneltest.RefAddBias(in[0], xs, in[1])
				return kerneltest.RefLeaky(y, xs, 0.2)
			},
			diff: []bool{true, true},
		})
	}
	cs = append(cs, opCase{
		name:   "AddNoise/[2 3 4 5]_noise[2 1 4 5]_x_only",
		shapes: [][]int{{2, 3, 4, 5}, {2, 1, 4, 5}, {3}},
		build:  func(in []*G.Node) (*G.Node, error) { return AddNoise(in[0], in[1], in[2]) },
		ref: func(in [][]float64) ([]float64, []int) {
			return kerneltest.RefAddNoise(in[0], []int{2, 3, 4, 5}, in[1], []int{2, 1, 4, 5}, in[2])
		},
		diff: []bool{true, false, false},
	})
	// Constant inputs: only the other inputs get gradients.
	withConsts := func(c opCase, consts ...bool) opCase {
		c.name += fmt.Sprintf("/consts%v", consts)
		c.consts = consts
		c.diff = make([]bool, len(consts))
		for i, k := range consts {
			c.diff[i] = !k
		}
		return c
	}
	noise := cs[len(cs)-1]
	cs = append(cs,
		withConsts(conv2dCase(2, 3, 5, 7, 4, 3, 1), true, false),
		withConsts(conv2dCase(2, 3, 5, 7, 4, 3, 1), false, true),
		withConsts(convT2xCase(2, 3, 3, 5, 2), true, false),
		withConsts(noise, false, true, true),
		withConsts(noise, true, true, false),
	)
	for _, c := range cs {
		if strings.HasPrefix(c.name, "Modulate/[2") || strings.HasPrefix(c.name, "AddBias/[2") ||
			strings.HasPrefix(c.name, "BiasLeakyReLU/[2 3") || strings.HasPrefix(c.name, "StyleEpilogue/[2 3") {
			cs = append(cs, withConsts(c, append([]bool{true}, make([]bool, len(c.shapes)-1)...)...))
			k := make([]bool, len(c.shapes))
			k[len(k)-1] = true
			cs = append(cs, withConsts(c, k...))
		}
	}
	return cs
}

// randInputs returns reproducible inputs in [-1,1] for a case, kept away from 0 so that the
// finite differences of LeakyReLU do not straddle its kink.
func randInputs(c opCase, seed int64) [][]float64 { return kerneltest.RandInputs(c.shapes, seed) }

func toDense(dt tensor.Dtype, s []int, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(s...), tensor.WithBacking(slices.Clone(v)))
}

func toF64(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return slices.Clone(d)
	}
	panic(fmt.Sprintf("unexpected data %T", v.Data()))
}

func inputNodes(g *G.ExprGraph, dt tensor.Dtype, c opCase, in [][]float64) []*G.Node {
	nodes := make([]*G.Node, len(in))
	for i, s := range c.shapes {
		if i < len(c.consts) && c.consts[i] {
			nodes[i] = G.NewConstant(toDense(dt, s, in[i]), G.WithName(fmt.Sprintf("in%d", i)))
			continue
		}
		nodes[i] = G.NewTensor(g, dt, len(s), G.WithShape(s...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(toDense(dt, s, in[i])))
	}
	return nodes
}

func TestForward(t *testing.T) {
	for _, c := range opCases() {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				in := randInputs(c, 1)
				want, ws := c.ref(in)
				g := G.NewGraph()
				nodes := inputNodes(g, dt, c, in)
				y, err := c.build(nodes)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal([]int(y.Shape()), ws) {
					t.Fatalf("node shape %v, want %v", y.Shape(), ws)
				}
				m := G.NewTapeMachine(g)
				defer m.Close()
				if err := m.RunAll(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal([]int(y.Value().Shape()), ws) {
					t.Fatalf("value shape %v, want %v", y.Value().Shape(), ws)
				}
				got := toF64(y.Value())
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 2e-6
				}
				if e := kerneltest.MaxRelErr(got, want, 1); e > tol {
					t.Errorf("max error %.3g (relative to max(1,|ref|)) > %g\ngot  %.5f\nwant %.5f", e, tol, got, want)
				}
				for i, n := range nodes {
					if e := kerneltest.MaxRelErr(toF64(n.Value()), toF64(toDense(dt, c.shapes[i], in[i])), 1); e != 0 {
						t.Errorf("input %d was modified", i)
					}
				}
			})
		}
	}
}

// TestGrad checks the gradient of loss = Σ op(x)⊙R, R fixed and random, with respect to every
// differentiable input against central differences of the naive reference, in float64.
func TestGrad(t *testing.T) {
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
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
			rc := G.NewConstant(tensor.New(tensor.WithShape(ys...), tensor.WithBacking(R)), G.WithName("R"))
			prod, err := G.HadamardProd(y, rc)
			if err != nil {
				t.Fatal(err)
			}
			flat, err := G.Reshape(prod, tensor.Shape{len(y0)})
			if err != nil {
				t.Fatal(err)
			}
			cost, err := G.Sum(flat)
			if err != nil {
				t.Fatal(err)
			}
			var wrt []*G.Node
			var idx []int
			for i, d := range c.diff {
				if d {
					wrt = append(wrt, nodes[i])
					idx = append(idx, i)
				}
			}
			grads, err := G.Grad(cost, wrt...)
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			const h = 1e-5
			for gi, i := range idx {
				got := toF64(grads[gi].Value())
				if len(got) != len(in[i]) {
					t.Fatalf("input %d: gradient has %d elements, want %d", i, len(got), len(in[i]))
				}
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
				e := kerneltest.MaxRelErr(got, fd, 1e-3)
				if e > 1e-4 {
					t.Errorf("input %d: gradient relative error %.3g > 1e-4\ngot %.6f\nfd  %.6f", i, e, got, fd)
				}
				t.Logf("input %d: gradient relative error %.2g", i, e)
			}
		})
	}
}

// withSettings runs f with the algorithm knobs changed, restoring them afterwards.
// The Winograd settings also make Upsample2xConv2d use its transposed conv at any size.
func withSettings(t *testing.T, name string, minC, minHW, colB, winoB int, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		old := [5]int{*kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW, *kernelknobs.ColBudget, *kernelknobs.WinogradBudget, upConvMinHW}
		*kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW, *kernelknobs.ColBudget, *kernelknobs.WinogradBudget = minC, minHW, colB, winoB
		if minC <= 1 {
			upConvMinHW = 0
		}
		defer func() {
			*kernelknobs.WinogradMinC, *kernelknobs.WinogradMinHW, *kernelknobs.ColBudget, *kernelknobs.WinogradBudget = old[0], old[1], old[2], old[3]
			upConvMinHW = old[4]
		}()
		f(t)
	})
}

// TestConvAlgorithms re-runs the forward and gradient checks of the convolutions with Winograd
// forced on (forward and back-data of 3×3 pad-1) and off, and with the smallest chunks (one
// output row per im2col chunk, one tile row per Winograd chunk).
func TestConvAlgorithms(t *testing.T) {
	withSettings(t, "im2col_row_chunks", 1<<30, 1<<30, 1, 1, func(t *testing.T) {
		TestForward(t)
		TestGrad(t)
	})
	withSettings(t, "winograd_row_chunks", 1, 0, 1, 1, func(t *testing.T) {
		TestForward(t)
		TestGrad(t)
	})
	withSettings(t, "winograd", 1, 0, 1<<20, 1<<21, func(t *testing.T) {
		TestForward(t)
		TestGrad(t)
	})
}

// TestPrealloc checks that UsePreallocDo overwrites a dirty output completely and gives the
// same values as Do, and that it refuses an output of the wrong shape.
func TestPrealloc(t *testing.T) {
	for _, c := range opCases() {
		if c.composite {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			in := randInputs(c, 5)
			g := G.NewGraph()
			nodes := inputNodes(g, tensor.Float32, c, in)
			y, err := c.build(nodes)
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]G.Value, len(nodes))
			for i, n := range nodes {
				vals[i] = n.Value()
			}
			op := y.Op()
			want, err := op.Do(vals...)
			if err != nil {
				t.Fatal(err)
			}
			dirty := tensor.New(tensor.WithShape(y.Shape()...), tensor.Of(tensor.Float32))
			for i := range dirty.Data().([]float32) {
				dirty.Data().([]float32)[i] = float32(i%7) - 1e6
			}
			pd := op.(G.UsePreallocDoer)
			got, err := pd.UsePreallocDo(dirty, vals...)
			if err != nil {
				t.Fatal(err)
			}
			if e := kerneltest.MaxRelErr(toF64(got), toF64(want), 1); e != 0 {
				t.Errorf("UsePreallocDo differs from Do by %g", e)
			}
			wrong := tensor.New(tensor.WithShape(y.Shape().TotalSize()+1), tensor.Of(tensor.Float32))
			if _, err := pd.UsePreallocDo(wrong, vals...); err == nil {
				t.Errorf("UsePreallocDo accepted a %v output", wrong.Shape())
			}
		})
	}
}

// TestShapeErrors checks that bad shapes are reported when the graph is built.
func TestShapeErrors(t *testing.T) {
	g := G.NewGraph()
	n := func(s ...int) *G.Node { return G.NewTensor(g, tensor.Float32, len(s), G.WithShape(s...)) }
	x := n(2, 3, 5, 5)
	for name, f := range map[string]func() (*G.Node, error){
		"Conv2d channels":      func() (*G.Node, error) { return Conv2d(x, n(4, 2, 3, 3), 1) },
		"Conv2d too big":       func() (*G.Node, error) { return Conv2d(x, n(4, 3, 7, 7), 0) },
		"Conv2d negative pad":  func() (*G.Node, error) { return Conv2d(x, n(4, 3, 3, 3), -1) },
		"ConvTranspose2x k":    func() (*G.Node, error) { return ConvTranspose2x(x, n(3, 2, 3, 3)) },
		"Downsample2x odd":     func() (*G.Node, error) { return Downsample2x(x) },
		"Modulate scale shape": func() (*G.Node, error) { return Modulate(x, n(2, 4), n(2, 3)) },
		"AddNoise noise":       func() (*G.Node, error) { return AddNoise(x, n(2, 3, 5, 5), n(3)) },
		"AddNoise strength":    func() (*G.Node, error) { return AddNoise(x, n(1, 1, 5, 5), n(2)) },
		"AddBias":              func() (*G.Node, error) { return AddBias(x, n(2)) },
		"MinibatchStddev":      func() (*G.Node, error) { return MinibatchStddev(n(3, 2, 2, 2), 2) },
		"nil input":            func() (*G.Node, error) { return Blur(nil) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestNoGradForConstants checks that no gradient op is built for a constant input.
func TestNoGradForConstants(t *testing.T) {
	g := G.NewGraph()
	x := G.NewConstant(tensor.New(tensor.WithShape(1, 2, 4, 4), tensor.Of(tensor.Float64)))
	w := G.NewTensor(g, tensor.Float64, 4, G.WithShape(3, 2, 3, 3), G.WithInit(G.GlorotN(1)))
	y, err := Conv2d(x, w, 1)
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := G.Reshape(y, tensor.Shape{48})
	cost, _ := G.Sum(flat)
	if _, err := G.Grad(cost, w); err != nil {
		t.Fatal(err)
	}
	for _, n := range g.AllNodes() {
		if n.Op() != nil && strings.HasPrefix(n.Op().String(), "Conv2dBackData") {
			t.Errorf("graph computes %v for a constant input", n.Op())
		}
	}
}

// TestLarge runs the element-wise ops and their gradient ops on tensors big enough to be split
// over goroutines, against the references.
func TestLarge(t *testing.T) {
	s := []int{2, 8, 64, 66}
	c := opCase{shapes: [][]int{s, s}}
	in := randInputs(c, 8)
	x, g := in[0], in[1]
	xd, gd := toDense(tensor.Float64, s, x), toDense(tensor.Float64, s, g)
	type tc struct {
		name string
		op   G.Op
		in   []G.Value
		want []float64
	}
	up, _ := kerneltest.RefUpsample(x, s)
	down, _ := kerneltest.RefDownsample(x, s)
	blurred, _ := kerneltest.RefBlur(x, s)
	norm, _ := kerneltest.RefInstanceNorm(x, s, 1e-5)
	leaky, _ := kerneltest.RefLeaky(x, s, 0.2)
	leakyGrad := make([]float64, len(x))
	for i := range x {
		leakyGrad[i] = g[i]
		if x[i] < 0 {
			leakyGrad[i] *= 0.2
		}
	}
	for _, c := range []tc{
		{"Upsample2x", &resampleOp{up: true, scale: 1}, []G.Value{xd}, up},
		{"Downsample2x", &resampleOp{scale: 0.25}, []G.Value{xd}, down},
		{"Blur", &blurOp{}, []G.Value{xd}, blurred},
		{"InstanceNorm", &instanceNormOp{eps: 1e-5, gradPair: gradPair{dims: 4}}, []G.Value{xd}, norm},
		{"LeakyReLU", &leakyOp{slope: 0.2, gradPair: gradPair{dims: 4}}, []G.Value{xd}, leaky},
		{"LeakyReLUGrad", &leakyOp{slope: 0.2, gradPair: gradPair{dims: 4, grad: true}}, []G.Value{xd, gd}, leakyGrad},
	} {
		v, err := c.op.Do(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if e := kerneltest.MaxRelErr(toF64(v), c.want, 1); e > 1e-12 {
			t.Errorf("%s: error %.3g", c.name, e)
		}
	}
}
