package ops

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
			return refConv2d(in[0], []int{b, cin, h, w}, in[1], []int{cout, cin, k, k}, p)
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
			return refConvT2x(in[0], []int{b, cin, h, w}, in[1], []int{cin, cout, 4, 4})
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
		cs = append(cs, unaryCase("Upsample2x", s, Upsample2x, refUpsample))
	}
	for _, s := range [][5]int{{2, 3, 3, 5, 2}, {1, 1, 1, 1, 1}, {1, 2, 4, 2, 3}} {
		b, cin, h, w, cout := s[0], s[1], s[2], s[3], s[4]
		cs = append(cs, opCase{
			name:   fmt.Sprintf("Upsample2xConv2d/B%d_%dx%dx%d_to%d", b, cin, h, w, cout),
			shapes: [][]int{{b, cin, h, w}, {cout, cin, 3, 3}},
			build:  func(in []*G.Node) (*G.Node, error) { return Upsample2xConv2d(in[0], in[1]) },
			ref: func(in [][]float64) ([]float64, []int) {
				up, us := refUpsample(in[0], []int{b, cin, h, w})
				return refConv2d(up, us, in[1], []int{cout, cin, 3, 3}, 1)
			},
			diff:      []bool{true, true},
			composite: true,
		})
	}
	for _, s := range [][]int{{2, 3, 4, 6}, {1, 1, 2, 2}} {
		cs = append(cs, unaryCase("Downsample2x", s, Downsample2x, refDownsample))
	}
	for _, s := range [][]int{{2, 3, 5, 7}, {1, 1, 1, 1}, {1, 2, 1, 4}, {1, 1, 3, 1}, {1, 1, 2, 2}} {
		cs = append(cs, unaryCase("Blur", s, Blur, refBlur))
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 1, 3, 1}} {
		cs = append(cs, unaryCase("InstanceNorm", s,
			func(x *G.Node) (*G.Node, error) { return InstanceNorm(x, 1e-5) },
			func(x []float64, s []int) ([]float64, []int) { return refInstanceNorm(x, s, 1e-5) }))
	}
	for _, s := range [][]int{{2, 3, 3, 5}, {1, 2}, {3, 4, 5}} {
		cs = append(cs, unaryCase("LeakyReLU", s,
			func(x *G.Node) (*G.Node, error) { return LeakyReLU(x, 0.2) },
			func(x []float64, s []int) ([]float64, []int) { return refLeaky(x, s, 0.2) }))
	}
	for _, c := range []struct {
		s     []int
		group int
	}{
		{[]int{4, 3, 2, 3}, 2}, {[]int{4, 2, 3, 3}, 4}, {[]int{2, 1, 2, 2}, 4}, {[]int{6, 2, 1, 2}, 3}, {[]int{3, 2, 2, 2}, 1},
	} {
		cs = append(cs, unaryCase(fmt.Sprintf("MinibatchStddev/g%d", c.group), c.s,
			func(x *G.Node) (*G.Node, error) { return MinibatchStddev(x, c.group) },
			func(x []float64, s []int) ([]float64, []int) { return refMbstd(x, s, c.group) }))
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 1, 3, 3}} {
		xs := s
		cs = append(cs, opCase{
			name:   fmt.Sprintf("Modulate/%v", s),
			shapes: [][]int{s, {s[0], s[1]}, {s[0], s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return Modulate(in[0], in[1], in[2]) },
			ref:    func(in [][]float64) ([]float64, []int) { return refModulate(in[0], xs, in[1], in[2]) },
			diff:   []bool{true, true, true},
		}, opCase{
			name:   fmt.Sprintf("ModulateNoShift/%v", s),
			shapes: [][]int{s, {s[0], s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return Modulate(in[0], in[1], nil) },
			ref:    func(in [][]float64) ([]float64, []int) { return refModulate(in[0], xs, in[1], nil) },
			diff:   []bool{true, true},
		}, opCase{
			name:   fmt.Sprintf("AddBias/%v", s),
			shapes: [][]int{s, {s[1]}},
			build:  func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) },
			ref:    func(in [][]float64) ([]float64, []int) { return refAddBias(in[0], xs, in[1]) },
			diff:   []bool{true, true},
		})
		for _, nb := range []int{1, s[0]} {
			ns := []int{nb, 1, s[2], s[3]}
			cs = append(cs, opCase{
				name:   fmt.Sprintf("AddNoise/%v_noise%v", s, ns),
				shapes: [][]int{s, ns, {s[1]}},
				build:  func(in []*G.Node) (*G.Node, error) { return AddNoise(in[0], in[1], in[2]) },
				ref:    func(in [][]float64) ([]float64, []int) { return refAddNoise(in[0], xs, in[1], ns, in[2]) },
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
				y, _ := refAddNoise(in[0], xs, in[1], ns, in[2])
				k := 3
				if c.bias {
					y, _ = refAddBias(y, xs, in[3])
					k = 4
				}
				y, _ = refLeaky(y, xs, 0.2)
				y, _ = refInstanceNorm(y, xs, 1e-5)
				return refModulate(y, xs, in[k], in[k+1])
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
				y, _ := refAddBias(in[0], xs, in[1])
				return refLeaky(y, xs, 0.2)
			},
			diff: []bool{true, true},
		})
	}
	cs = append(cs, opCase{
		name:   "AddNoise/[2 3 4 5]_noise[2 1 4 5]_x_only",
		shapes: [][]int{{2, 3, 4, 5}, {2, 1, 4, 5}, {3}},
		build:  func(in []*G.Node) (*G.Node, error) { return AddNoise(in[0], in[1], in[2]) },
		ref: func(in [][]float64) ([]float64, []int) {
			return refAddNoise(in[0], []int{2, 3, 4, 5}, in[1], []int{2, 1, 4, 5}, in[2])
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

func size(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// randInputs returns reproducible inputs in [-1,1] for a case, kept away from 0 so that the
// finite differences of LeakyReLU do not straddle its kink.
func randInputs(c opCase, seed int64) [][]float64 {
	r := rand.New(rand.NewSource(seed))
	in := make([][]float64, len(c.shapes))
	for i, s := range c.shapes {
		in[i] = make([]float64, size(s))
		for j := range in[i] {
			v := r.Float64()*2 - 1
			if math.Abs(v) < 0.01 {
				v = 0.5
			}
			in[i][j] = v
		}
	}
	return in
}

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

// maxRelErr is max|a-b| / max(max|b|, floor).
func maxRelErr(a, b []float64, floor float64) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / math.Max(m, floor)
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
				if e := maxRelErr(got, want, 1); e > tol {
					t.Errorf("max error %.3g (relative to max(1,|ref|)) > %g\ngot  %.5f\nwant %.5f", e, tol, got, want)
				}
				for i, n := range nodes {
					if e := maxRelErr(toF64(n.Value()), toF64(toDense(dt, c.shapes[i], in[i])), 1); e != 0 {
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
				e := maxRelErr(got, fd, 1e-3)
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
		old := [5]int{winogradMinC, winogradMinHW, colBudget, winogradBudget, upConvMinHW}
		winogradMinC, winogradMinHW, colBudget, winogradBudget = minC, minHW, colB, winoB
		if minC <= 1 {
			upConvMinHW = 0
		}
		defer func() {
			winogradMinC, winogradMinHW, colBudget, winogradBudget, upConvMinHW = old[0], old[1], old[2], old[3], old[4]
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
		c := conv2dCase(b, cin, h, w, cout, 3, 1)
		in := randInputs(c, 4)
		want, _ := c.ref(in)
		x32, w32 := toDense(tensor.Float32, c.shapes[0], in[0]).Data().([]float32), toDense(tensor.Float32, c.shapes[1], in[1]).Data().([]float32)
		got := make([]float32, len(want))
		Conv2dWinogradF32(got, x32, PrepareWinogradF32(w32, cout, cin), b, cin, h, w, cout)
		// float32 rounding grows with the number of terms summed (Cin·9)
		tol := 1e-6 + 1e-7*math.Sqrt(float64(cin*9))
		ew := maxRelErr(toF64(tensor.New(tensor.WithBacking(got))), want, 1)
		if ew > tol {
			t.Errorf("%v: Winograd error %.3g > %.3g", s, ew, tol)
		}
		im := make([]float32, len(want))
		convForward(conv2dGeom(cin, h, w, 3, 1), cout, b, x32, w32, im)
		ei := maxRelErr(toF64(tensor.New(tensor.WithBacking(im))), want, 1)
		if ei > tol {
			t.Errorf("%v: im2col error %.3g > %.3g", s, ei, tol)
		}
		t.Logf("%v: float32 error relative to max|y|: Winograd %.2g, im2col %.2g", s, ew, ei)
	}
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
			if e := maxRelErr(toF64(got), toF64(want), 1); e != 0 {
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

// TestFreezeWeights checks that a conv with a frozen weight uses the cached transform, that
// re-freezing after an in-place change updates it, and that thawing drops it.
func TestFreezeWeights(t *testing.T) {
	old := winogradMinC
	winogradMinC, winogradMinHW = 1, 0 // Winograd for any size, any BLAS
	defer func() { winogradMinC, winogradMinHW = old, 144 }()
	c := conv2dCase(1, 3, 6, 5, 4, 3, 1)
	in := randInputs(c, 6)
	wt := toDense(tensor.Float32, c.shapes[1], in[1])
	x := toDense(tensor.Float32, c.shapes[0], in[0]).Data().([]float32)
	w := wt.Data().([]float32)
	check := func(what string) {
		t.Helper()
		want, _ := refConv2d(in[0], c.shapes[0], toF64(wt), c.shapes[1], 1)
		got := make([]float32, len(want))
		Conv2dF32(got, x, w, 1, 3, 6, 5, 4, 3, 1)
		if e := maxRelErr(toF64(tensor.New(tensor.WithBacking(got))), want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", what, e)
		}
	}
	FreezeWeights(wt)
	check("frozen")
	if frozenWinograd(w, 4, 3) == nil {
		t.Fatal("no cached transform for a frozen weight")
	}
	for i := range w {
		w[i] *= 2
	}
	FreezeWeights(wt)
	check("re-frozen after an in-place change")
	ThawWeights(wt)
	if frozenWinograd(w, 4, 3) != nil {
		t.Error("thawed weight still cached")
	}
	check("thawed")
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestPlainKernels checks the exported float32 kernels against the references, in place where
// they allow dst == x.
func TestPlainKernels(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	rnd := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	const B, C, H, W = 2, 3, 4, 6
	xs := []int{B, C, H, W}
	x := rnd(B * C * H * W)
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
	inPlace := func(f func(dst, x []float32)) []float32 {
		d := f32s(x)
		f(d, d)
		return d
	}
	{
		w := rnd(5 * C * 9)
		want, ws := refConv2d(x, xs, w, []int{5, C, 3, 3}, 1)
		got := make([]float32, size(ws))
		Conv2dF32(got, f32s(x), f32s(w), B, C, H, W, 5, 3, 1)
		check("Conv2dF32", got, want)
		got = make([]float32, size(ws))
		Conv2dWinogradF32(got, f32s(x), PrepareWinogradF32(f32s(w), 5, C), B, C, H, W, 5)
		check("Conv2dWinogradF32", got, want)
	}
	{
		w := rnd(5 * C * 9)
		up, us := refUpsample(x, xs)
		want, ws := refConv2d(up, us, w, []int{5, C, 3, 3}, 1)
		got := make([]float32, size(ws))
		Upsample2xConv2dF32(got, f32s(x), f32s(w), B, C, H, W, 5)
		check("Upsample2xConv2dF32", got, want)
	}
	{
		w := rnd(C * 2 * 16)
		want, ws := refConvT2x(x, xs, w, []int{C, 2, 4, 4})
		got := make([]float32, size(ws))
		ConvTranspose2xF32(got, f32s(x), f32s(w), B, C, H, W, 2)
		check("ConvTranspose2xF32", got, want)
	}
	{
		want, ws := refUpsample(x, xs)
		got := make([]float32, size(ws))
		Upsample2xF32(got, f32s(x), B, C, H, W)
		check("Upsample2xF32", got, want)
		want, ws = refDownsample(x, xs)
		got = make([]float32, size(ws))
		Downsample2xF32(got, f32s(x), B, C, H, W)
		check("Downsample2xF32", got, want)
	}
	want, _ := refBlur(x, xs)
	check("BlurF32 in place", inPlace(func(d, s []float32) { BlurF32(d, s, B, C, H, W) }), want)
	want, _ = refInstanceNorm(x, xs, 1e-5)
	check("InstanceNormF32 in place", inPlace(func(d, s []float32) { InstanceNormF32(d, s, B, C, H, W, 1e-5) }), want)
	sc, sh := rnd(B*C), rnd(B*C)
	want, _ = refModulate(x, xs, sc, sh)
	check("ModulateF32 in place", inPlace(func(d, s []float32) { ModulateF32(d, s, f32s(sc), f32s(sh), B, C, H, W) }), want)
	want, _ = refModulate(x, xs, sc, nil)
	check("ModulateF32 no shift", inPlace(func(d, s []float32) { ModulateF32(d, s, f32s(sc), nil, B, C, H, W) }), want)
	for _, nb := range []int{1, B} {
		noise, str := rnd(nb*H*W), rnd(C)
		want, _ = refAddNoise(x, xs, noise, []int{nb, 1, H, W}, str)
		check(fmt.Sprintf("AddNoiseF32 noise batch %d", nb), inPlace(func(d, s []float32) { AddNoiseF32(d, s, f32s(noise), f32s(str), B, C, H, W) }), want)
	}
	bias := rnd(C)
	want, _ = refAddBias(x, xs, bias)
	check("AddBiasF32 in place", inPlace(func(d, s []float32) { AddBiasF32(d, s, f32s(bias), B, C, H, W) }), want)
	want, _ = refLeaky(x, xs, 0.2)
	check("LeakyReLUF32 in place", inPlace(func(d, s []float32) { LeakyReLUF32(d, s, 0.2) }), want)

	defer func() {
		if recover() == nil {
			t.Error("Conv2dF32 with a short dst did not panic")
		}
	}()
	Conv2dF32(make([]float32, 3), f32s(x), f32s(rnd(5*C*9)), B, C, H, W, 5, 3, 1)
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
	up, _ := refUpsample(x, s)
	down, _ := refDownsample(x, s)
	blurred, _ := refBlur(x, s)
	norm, _ := refInstanceNorm(x, s, 1e-5)
	leaky, _ := refLeaky(x, s, 0.2)
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
		{"InstanceNorm", &instanceNormOp{eps: 1e-5}, []G.Value{xd}, norm},
		{"LeakyReLU", &leakyOp{slope: 0.2, dims: 4}, []G.Value{xd}, leaky},
		{"LeakyReLUGrad", &leakyOp{slope: 0.2, dims: 4, grad: true}, []G.Value{xd, gd}, leakyGrad},
	} {
		v, err := c.op.Do(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if e := maxRelErr(toF64(v), c.want, 1); e > 1e-12 {
			t.Errorf("%s: error %.3g", c.name, e)
		}
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
		c := convT2xCase(b, cin, h, w, cout)
		in := randInputs(c, 9)
		want, _ := c.ref(in)
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			x, wt := toDense(dt, c.shapes[0], in[0]), toDense(dt, c.shapes[1], in[1])
			y := tensor.New(tensor.WithShape(b, cout, 2*h, 2*w), tensor.Of(dt))
			if dt == tensor.Float32 {
				convT2xWinograd(y.Data().([]float32), x.Data().([]float32), wt.Data().([]float32), b, cin, h, w, cout)
			} else {
				convT2xWinograd(y.Data().([]float64), x.Data().([]float64), wt.Data().([]float64), b, cin, h, w, cout)
			}
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-6 + 1e-7*math.Sqrt(float64(cin*16))
			}
			if e := maxRelErr(toF64(y), want, 1); e > tol {
				t.Errorf("%v %v: error %.3g > %.3g", s, dt, e, tol)
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
	if e := maxRelErr(a, b, 1); e > 1e-12 {
		t.Errorf("Winograd forward differs from im2col by %.3g", e)
	}
	da, db := make([]float64, C*C*9), make([]float64, C*C*9)
	winogradBackFilter(da, x, gy, B, C, H, H, C)
	convBackFilter(conv2dGeom(C, H, H, 3, 1), C, B, x, gy, db)
	if e := maxRelErr(da, db, 1); e > 1e-12 {
		t.Errorf("Winograd weight gradient differs from im2col by %.3g", e)
	}
	wt := rnd(C * C * 16)
	ya, yb := make([]float64, B*C*4*H*H), make([]float64, B*C*4*H*H)
	convT2xWinograd(ya, x, wt, B, C, H, H, C)
	convBackData(convT2xGeom(C, H, H), C, B, x, wt, yb)
	if e := maxRelErr(ya, yb, 1); e > 1e-12 {
		t.Errorf("Winograd transposed conv differs from col2im by %.3g", e)
	}
}
