package ops

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The benchmarks run their variants interleaved (A B C A B C ...) and report the median time of
// each, in ms, and its speed relative to the first variant ("x_NAME": >1 is faster). The machine
// is shared and noisy: read the ratios, not the absolute times. Run with a small -benchtime,
// e.g. go test -run XXX -bench . -benchtime 5x ./model/ops/

type variant struct {
	name string
	run  func()
}

func interleave(b *testing.B, vs []variant) {
	times := make([][]float64, len(vs))
	for _, v := range vs { // warm up pools and caches
		v.run()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, v := range vs {
			t0 := time.Now()
			v.run()
			times[j] = append(times[j], float64(time.Since(t0))/1e6)
		}
	}
	med := make([]float64, len(vs))
	for j, ts := range times {
		slices.Sort(ts)
		med[j] = ts[len(ts)/2]
		b.ReportMetric(med[j], "ms_"+vs[j].name)
		if j > 0 {
			b.ReportMetric(med[0]/med[j], "x_"+vs[j].name)
		}
	}
}

func randF32(n int, seed int64) []float32 {
	r := rand.New(rand.NewSource(seed))
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// graphVariant builds a one-op float32 graph with f on random inputs of the given shapes and
// returns a variant that runs it (RunAll + Reset).
func graphVariant(b *testing.B, name string, f func(in []*G.Node) (*G.Node, error), shapes ...[]int) variant {
	ts := make([]*tensor.Dense, len(shapes))
	for i, s := range shapes {
		ts[i] = tensor.New(tensor.WithShape(s...), tensor.WithBacking(randF32(size(s), int64(i))))
	}
	return graphVariantOf(b, name, f, ts...)
}

// graphVariantOf is graphVariant on given input values.
func graphVariantOf(b *testing.B, name string, f func(in []*G.Node) (*G.Node, error), ts ...*tensor.Dense) variant {
	g := G.NewGraph()
	in := make([]*G.Node, len(ts))
	for i, t := range ts {
		in[i] = G.NewTensor(g, tensor.Float32, t.Dims(), G.WithShape(t.Shape()...), G.WithValue(t))
	}
	if _, err := f(in); err != nil {
		b.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	b.Cleanup(func() { m.Close() })
	return variant{name, func() {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}}
}

// Production shapes of a 256 px rosinality generator (B=1, 3×3, pad 1).
var convShapes = []struct{ cin, cout, hw int }{
	{512, 512, 32}, {512, 256, 64}, {256, 256, 64}, {128, 64, 256}, {64, 64, 256},
	{512, 512, 8}, {512, 512, 16}, {32, 32, 256},
}

// BenchmarkConv2d compares, per shape: the im2col+GEMM kernel (baseline), Winograd with the
// weight transformed once, Winograd transforming the weight on every call, the Conv2d op in a
// graph (its own choice of algorithm), the same with the weight frozen (FreezeWeights), and
// gorgonia's built-in Conv2d in a graph.
func BenchmarkConv2d(b *testing.B) {
	for _, s := range convShapes {
		b.Run(fmt.Sprintf("%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			x := randF32(s.cin*s.hw*s.hw, 1)
			w := randF32(s.cout*s.cin*9, 2)
			y := make([]float32, s.cout*s.hw*s.hw)
			u := PrepareWinogradF32(w, s.cout, s.cin)
			xs, ws := []int{1, s.cin, s.hw, s.hw}, []int{s.cout, s.cin, 3, 3}
			interleave(b, []variant{
				{"im2col", func() { convForward(conv2dGeom(s.cin, s.hw, s.hw, 3, 1), s.cout, 1, x, w, y) }},
				{"winograd", func() { Conv2dWinogradF32(y, x, u, 1, s.cin, s.hw, s.hw, s.cout) }},
				{"winograd_wt", func() { winogradConv2d(y, x, w, nil, 1, s.cin, s.hw, s.hw, s.cout) }},
				graphVariant(b, "op", func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], 1) }, xs, ws),
				frozenConv(b, xs, ws),
				graphVariant(b, "gorgonia", func(in []*G.Node) (*G.Node, error) {
					return G.Conv2d(in[0], in[1], tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
				}, xs, ws),
			})
		})
	}
}

func frozenConv(b *testing.B, xs, ws []int) variant {
	x := tensor.New(tensor.WithShape(xs...), tensor.WithBacking(randF32(size(xs), 1)))
	w := tensor.New(tensor.WithShape(ws...), tensor.WithBacking(randF32(size(ws), 2)))
	FreezeWeights(w)
	b.Cleanup(func() { ThawWeights(w) })
	return graphVariantOf(b, "op_frozen", func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], 1) }, x, w)
}

// BenchmarkConvTranspose2x: StyleGAN's fused upsample-conv 256->128 from 64² to 128²: the GEMM +
// col2im kernel (baseline), the Winograd F(2×2,2×2) kernel, the op in a graph, and the unfused
// equivalents Upsample + 3×3 Conv2d (gorgonia built-ins, and this package's ops).
func BenchmarkConvTranspose2x(b *testing.B) {
	const cin, cout, hw = 256, 128, 64
	xs := []int{1, cin, hw, hw}
	x, w := randF32(cin*hw*hw, 1), randF32(cin*cout*16, 2)
	y := make([]float32, cout*4*hw*hw)
	interleave(b, []variant{
		{"col2im", func() { convBackData(convT2xGeom(cout, hw, hw), cin, 1, x, w, y) }},
		{"winograd", func() { convT2xWinograd(y, x, w, 1, cin, hw, hw, cout) }},
		graphVariant(b, "op", func(in []*G.Node) (*G.Node, error) { return ConvTranspose2x(in[0], in[1]) },
			xs, []int{cin, cout, 4, 4}),
		graphVariant(b, "gorgonia_up+conv", func(in []*G.Node) (*G.Node, error) {
			u, err := G.Upsample2D(in[0], 2)
			if err != nil {
				return nil, err
			}
			return G.Conv2d(u, in[1], tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		}, xs, []int{cout, cin, 3, 3}),
		graphVariant(b, "ops_up+conv", func(in []*G.Node) (*G.Node, error) {
			u, err := Upsample2x(in[0])
			if err != nil {
				return nil, err
			}
			return Conv2d(u, in[1], 1)
		}, xs, []int{cout, cin, 3, 3}),
	})
}

// BenchmarkSmallOps: the other ops on a 64-channel 256² activation (B=1), each against
// gorgonia's built-in or the composition of built-ins a graph would otherwise use.
func BenchmarkSmallOps(b *testing.B) {
	const c, hw = 64, 256
	x, half := []int{1, c, hw, hw}, []int{1, c, hw / 2, hw / 2}
	un := func(f func(*G.Node) (*G.Node, error)) func(in []*G.Node) (*G.Node, error) {
		return func(in []*G.Node) (*G.Node, error) { return f(in[0]) }
	}
	cases := []struct {
		name string
		op   variant
		ref  variant
	}{
		{"Blur", graphVariant(b, "op", un(Blur), x), graphVariant(b, "gorgonia_depthwise_conv", func(in []*G.Node) (*G.Node, error) {
			r, err := G.Reshape(in[0], tensor.Shape{c, 1, hw, hw})
			if err != nil {
				return nil, err
			}
			y, err := G.Conv2d(r, in[1], tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
			if err != nil {
				return nil, err
			}
			return G.Reshape(y, tensor.Shape{1, c, hw, hw})
		}, x, []int{1, 1, 3, 3})},
		{"Upsample2x", graphVariant(b, "op", un(Upsample2x), half),
			graphVariant(b, "gorgonia", un(func(n *G.Node) (*G.Node, error) { return G.Upsample2D(n, 2) }), half)},
		{"Downsample2x", graphVariant(b, "op", un(Downsample2x), x),
			graphVariant(b, "gorgonia_avgpool", un(func(n *G.Node) (*G.Node, error) {
				return G.AveragePool2D(n, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
			}), x)},
		{"InstanceNorm", graphVariant(b, "op", un(func(n *G.Node) (*G.Node, error) { return InstanceNorm(n, 1e-5) }), x),
			graphVariant(b, "gorgonia_composed", un(func(n *G.Node) (*G.Node, error) { return gorgoniaInstanceNorm(n, 1e-5) }), x)},
		{"LeakyReLU", graphVariant(b, "op", un(func(n *G.Node) (*G.Node, error) { return LeakyReLU(n, 0.2) }), x),
			graphVariant(b, "gorgonia", un(func(n *G.Node) (*G.Node, error) { return G.LeakyRelu(n, 0.2) }), x)},
		{"AddBias", graphVariant(b, "op", func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) }, x, []int{c}),
			graphVariant(b, "gorgonia_broadcast", func(in []*G.Node) (*G.Node, error) {
				r, err := G.Reshape(in[1], tensor.Shape{1, c, 1, 1})
				if err != nil {
					return nil, err
				}
				return G.BroadcastAdd(in[0], r, nil, []byte{0, 2, 3})
			}, x, []int{c})},
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) { interleave(b, []variant{cs.op, cs.ref}) })
	}
}

// gorgoniaInstanceNorm is instance norm from gorgonia built-ins, reducing one axis at a time
// (multi-axis Sum/Mean have wrong gradients in v0.9.18).
func gorgoniaInstanceNorm(x *G.Node, eps float64) (*G.Node, error) {
	s := x.Shape()
	b, c, hw := s[0], s[1], s[2]*s[3]
	r, err := G.Reshape(x, tensor.Shape{b * c, hw})
	if err != nil {
		return nil, err
	}
	mean, err := G.Mean(r, 1)
	if err != nil {
		return nil, err
	}
	d, err := G.BroadcastSub(r, mean, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	v, err := G.Mean(sq, 1)
	if err != nil {
		return nil, err
	}
	ve, err := G.Add(v, G.NewConstant(float32(eps)))
	if err != nil {
		return nil, err
	}
	sd, err := G.Sqrt(ve)
	if err != nil {
		return nil, err
	}
	y, err := G.BroadcastHadamardDiv(d, sd, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	return G.Reshape(y, s)
}

// BenchmarkConv2dTrain: forward and backward (gradients of x and w) of a 3×3 conv at training
// shapes (B=4, 64→64 at 64², float32), this package's op against gorgonia's Conv2d.
func BenchmarkConv2dTrain(b *testing.B) {
	const B, C, H = 4, 64, 64
	train := func(name string, conv func(x, w *G.Node) (*G.Node, error)) variant {
		g := G.NewGraph()
		x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(B, C, H, H), G.WithValue(tensor.New(tensor.WithShape(B, C, H, H), tensor.WithBacking(randF32(B*C*H*H, 1)))))
		w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(C, C, 3, 3), G.WithValue(tensor.New(tensor.WithShape(C, C, 3, 3), tensor.WithBacking(randF32(C*C*9, 2)))))
		r := G.NewConstant(tensor.New(tensor.WithShape(B, C, H, H), tensor.WithBacking(randF32(B*C*H*H, 3))), G.WithName("r"))
		y, err := conv(x, w)
		if err != nil {
			b.Fatal(err)
		}
		p, err := G.HadamardProd(y, r)
		if err != nil {
			b.Fatal(err)
		}
		flat, err := G.Reshape(p, tensor.Shape{B * C * H * H})
		if err != nil {
			b.Fatal(err)
		}
		loss, err := G.Sum(flat)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := G.Grad(loss, x, w); err != nil {
			b.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		b.Cleanup(func() { m.Close() })
		return variant{name, func() {
			if err := m.RunAll(); err != nil {
				b.Fatal(err)
			}
			m.Reset()
		}}
	}
	interleave(b, []variant{
		train("op", func(x, w *G.Node) (*G.Node, error) { return Conv2d(x, w, 1) }),
		train("gorgonia", func(x, w *G.Node) (*G.Node, error) {
			return G.Conv2d(x, w, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		}),
	})
}

// BenchmarkConv2dBackFilter: the weight gradient of a 3×3 pad-1 conv (B=4), im2col+GEMM against
// Winograd.
func BenchmarkConv2dBackFilter(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{64, 64}, {256, 32}} {
		b.Run(fmt.Sprintf("%dch@%d", s.c, s.hw), func(b *testing.B) {
			const B = 4
			x, gy := randF32(B*s.c*s.hw*s.hw, 1), randF32(B*s.c*s.hw*s.hw, 2)
			dw := make([]float32, s.c*s.c*9)
			interleave(b, []variant{
				{"im2col", func() { convBackFilter(conv2dGeom(s.c, s.hw, s.hw, 3, 1), s.c, B, x, gy, dw) }},
				{"winograd", func() { winogradBackFilter(dw, x, gy, B, s.c, s.hw, s.hw, s.c) }},
			})
		})
	}
}

// BenchmarkUpsampleConv: the first conv of a StyleGAN block below 128 px, nearest ×2 upsampling
// then a 3×3 conv, as two ops (Upsample2x, Conv2d) and as one (Upsample2xConv2d).
func BenchmarkUpsampleConv(b *testing.B) {
	for _, s := range []struct{ cin, cout, hw int }{{512, 512, 16}, {512, 256, 32}} {
		b.Run(fmt.Sprintf("%dto%d@%dto%d", s.cin, s.cout, s.hw, 2*s.hw), func(b *testing.B) {
			xs, ws := []int{1, s.cin, s.hw, s.hw}, []int{s.cout, s.cin, 3, 3}
			interleave(b, []variant{
				graphVariant(b, "up+conv", func(in []*G.Node) (*G.Node, error) {
					u, err := Upsample2x(in[0])
					if err != nil {
						return nil, err
					}
					return Conv2d(u, in[1], 1)
				}, xs, ws),
				graphVariant(b, "upconv", func(in []*G.Node) (*G.Node, error) { return Upsample2xConv2d(in[0], in[1]) }, xs, ws),
			})
		})
	}
}

// BenchmarkConv2dTrainShapes: the 3×3 pad-1 convolutions of the trainer (B=16, float32, BLAS
// single-threaded and the batch split over the cores as in training), im2col + GEMM against
// winogradBatch. "fwd": the forward pass (the input gradient is the same convolution with the
// flipped kernel); "fwd+gw": the forward pass and the weight gradient, which takes the forward
// pass's im2col matrices when there are some and builds them again after winogradBatch
// ("winograd"), or runs in the Winograd domain ("winograd+gw", winogradBackFilterBatch); "gw":
// the weight gradient alone, im2col against winogradBackFilterBatch with groups of 64-256 tiles.
func BenchmarkConv2dTrainShapes(b *testing.B) {
	defer SingleThreadedBLAS()()
	for _, s := range []struct{ c, hw int }{{64, 8}, {64, 16}, {32, 16}, {64, 32}, {32, 32}, {32, 64}, {128, 16}, {128, 32}} {
		const B = 16
		g := conv2dGeom(s.c, s.hw, s.hw, 3, 1)
		x, w, gy := randF32(B*s.c*s.hw*s.hw, 1), randF32(s.c*s.c*9, 2), randF32(B*s.c*s.hw*s.hw, 3)
		y, dw := make([]float32, B*s.c*s.hw*s.hw), make([]float32, s.c*s.c*9)
		cols := make([]float32, B*g.rows()*s.hw*s.hw)
		b.Run(fmt.Sprintf("fwd/%dch@%d", s.c, s.hw), func(b *testing.B) {
			interleave(b, []variant{
				{"im2col", func() { convForward(g, s.c, B, x, w, y) }},
				{"winograd", func() { winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c) }},
				{"winograd_unsplit", func() { winogradConv2d(y, x, w, nil, B, s.c, s.hw, s.hw, s.c) }},
			})
		})
		b.Run(fmt.Sprintf("fwd+gw/%dch@%d", s.c, s.hw), func(b *testing.B) {
			interleave(b, []variant{
				{"im2col", func() {
					wk, gr := convForwardCols(g, s.c, B, x, w, y, cols)
					convBackFilterCols(g, s.c, B, x, gy, dw, cols, wk, gr)
				}},
				{"winograd", func() {
					winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c)
					convBackFilter(g, s.c, B, x, gy, dw)
				}},
				{"winograd+gw", func() {
					winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c)
					winogradBackFilterBatch(dw, x, gy, B, s.c, s.hw, s.hw, s.c)
				}},
			})
		})
		b.Run(fmt.Sprintf("gw/%dch@%d", s.c, s.hw), func(b *testing.B) {
			tiles := func(n int) func() {
				return func() {
					defer func(old int) { winogradGradTiles = old }(winogradGradTiles)
					winogradGradTiles = n
					winogradBackFilterBatch(dw, x, gy, B, s.c, s.hw, s.hw, s.c)
				}
			}
			interleave(b, []variant{
				{"im2col", func() { convBackFilter(g, s.c, B, x, gy, dw) }},
				{"winograd64", tiles(64)}, {"winograd128", tiles(128)}, {"winograd256", tiles(256)},
			})
		})
	}
}

// BenchmarkConvTTrainShapes: ConvTranspose2x at the trainer's shapes (B=16, float32, BLAS
// single-threaded, batch split over the cores), GEMM + col2im against convTBatch. The input
// gradient of Conv2dDown2x is the same computation.
func BenchmarkConvTTrainShapes(b *testing.B) {
	defer SingleThreadedBLAS()()
	for _, s := range []struct{ cin, cout, hw int }{{64, 32, 32}, {64, 64, 16}, {128, 64, 16}, {64, 64, 8}} {
		const B = 16
		x, w := randF32(B*s.cin*s.hw*s.hw, 1), randF32(s.cin*s.cout*16, 2)
		y := make([]float32, B*s.cout*4*s.hw*s.hw)
		b.Run(fmt.Sprintf("%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			interleave(b, []variant{
				{"col2im", func() { convBackData(convT2xGeom(s.cout, s.hw, s.hw), s.cin, B, x, w, y) }},
				{"winograd", func() { convTBatch(y, x, w, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
	}
}

// BenchmarkDown2xTrainShapes compares the stride-2 4×4 convolution (Conv2dDown2x's forward
// pass, ConvTranspose2x's input gradient) and its weight gradient on im2col + GEMM and on the
// Winograd path (down2xBatch, down2xBackFilterBatch) at the trainer's shapes (B=16, input
// side hw), interleaved.
func BenchmarkDown2xTrainShapes(b *testing.B) {
	defer SingleThreadedBLAS()()
	for _, s := range []struct{ cin, cout, hw int }{{32, 32, 64}, {32, 64, 32}, {64, 64, 16}, {32, 32, 32}} {
		const B = 16
		g := down2xGeom(s.cin, s.hw, s.hw)
		x, w := randF32(B*s.cin*s.hw*s.hw, 1), randF32(s.cin*s.cout*16, 2)
		gy := randF32(B*s.cout*s.hw*s.hw/4, 3)
		y, dw := make([]float32, len(gy)), make([]float32, len(w))
		b.Run(fmt.Sprintf("fwd/%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			interleave(b, []variant{
				{"im2col", func() { convForward(g, s.cout, B, x, w, y) }},
				{"winograd", func() { down2xBatch(y, x, w, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
		b.Run(fmt.Sprintf("filter/%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			interleave(b, []variant{
				{"im2col", func() { convBackFilter(g, s.cout, B, x, gy, dw) }},
				{"winograd", func() { down2xBackFilterBatch(dw, x, gy, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
	}
}

// BenchmarkUpsampleConvTrain: the up-conv of the trainer's 32 px block (B=16, 64 → 32
// channels, 16² → 32²), forward pass and both gradients, as Upsample2x + Conv2d (Winograd
// F(2×2,3×3) on the upsampled image) and as the transposed convolution of Upsample2xConv2d
// (F(2×2,2×2) on the input, its gradients on down2xBatch), interleaved.
func BenchmarkUpsampleConvTrain(b *testing.B) {
	defer SingleThreadedBLAS()()
	for _, s := range []struct{ cin, cout, hw int }{{64, 32, 16}, {32, 32, 32}} {
		const B = 16
		xs, ws := []int{B, s.cin, s.hw, s.hw}, []int{s.cout, s.cin, 3, 3}
		loss := func(build func(x, w *G.Node) (*G.Node, error)) func(in []*G.Node) (*G.Node, error) {
			return func(in []*G.Node) (*G.Node, error) {
				y, err := build(in[0], in[1])
				if err != nil {
					return nil, err
				}
				y, err = G.HadamardProd(y, in[2])
				if err == nil {
					y, err = G.Reshape(y, tensor.Shape{B * s.cout * 4 * s.hw * s.hw})
				}
				if err == nil {
					y, err = G.Sum(y)
				}
				if err == nil {
					_, err = G.Grad(y, in[0], in[1])
				}
				return y, err
			}
		}
		rs := []int{B, s.cout, 2 * s.hw, 2 * s.hw}
		b.Run(fmt.Sprintf("%dto%d@%dto%d", s.cin, s.cout, s.hw, 2*s.hw), func(b *testing.B) {
			interleave(b, []variant{
				graphVariant(b, "up+conv", loss(func(x, w *G.Node) (*G.Node, error) {
					u, err := Upsample2x(x)
					if err != nil {
						return nil, err
					}
					return Conv2d(u, w, 1)
				}), xs, ws, rs),
				graphVariant(b, "convT", loss(func(x, w *G.Node) (*G.Node, error) {
					w4, err := apply(&upWeightOp{}, "up weight", w)
					if err != nil {
						return nil, err
					}
					return ConvTranspose2x(x, w4)
				}), xs, ws, rs),
			})
		})
	}
}
