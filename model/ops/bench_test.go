package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/internal/kerneltest"
)

// The benchmarks run their variants interleaved (kerneltest.Interleave).

// graphVariant builds a one-op float32 graph with f on random inputs of the given shapes and
// returns a variant that runs it (RunAll + Reset).
func graphVariant(b *testing.B, name string, f func(in []*G.Node) (*G.Node, error), shapes ...[]int) kerneltest.Variant {
	ts := make([]*tensor.Dense, len(shapes))
	for i, s := range shapes {
		ts[i] = tensor.New(tensor.WithShape(s...), tensor.WithBacking(kerneltest.RandF32(kerneltest.Size(s), int64(i))))
	}
	return graphVariantOf(b, name, f, ts...)
}

// graphVariantOf is graphVariant on given input values.
func graphVariantOf(b *testing.B, name string, f func(in []*G.Node) (*G.Node, error), ts ...*tensor.Dense) kerneltest.Variant {
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
	return kerneltest.Variant{Name: name, Run: func() {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}}
}

// BenchmarkConv2d compares, per shape (kerneltest.ConvShapes): the Conv2d op in a graph (its
// own choice of algorithm; model/kernels' BenchmarkConv2d compares the algorithms), the same
// with the weight frozen (FreezeWeights), and gorgonia's built-in Conv2d in a graph.
func BenchmarkConv2d(b *testing.B) {
	for _, s := range kerneltest.ConvShapes {
		b.Run(fmt.Sprintf("%dto%d@%d", s.Cin, s.Cout, s.HW), func(b *testing.B) {
			xs, ws := []int{1, s.Cin, s.HW, s.HW}, []int{s.Cout, s.Cin, 3, 3}
			kerneltest.Interleave(b, []kerneltest.Variant{
				graphVariant(b, "op", func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], 1) }, xs, ws),
				frozenConv(b, xs, ws),
				graphVariant(b, "gorgonia", func(in []*G.Node) (*G.Node, error) {
					return G.Conv2d(in[0], in[1], tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
				}, xs, ws),
			})
		})
	}
}

func frozenConv(b *testing.B, xs, ws []int) kerneltest.Variant {
	x := tensor.New(tensor.WithShape(xs...), tensor.WithBacking(kerneltest.RandF32(kerneltest.Size(xs), 1)))
	w := tensor.New(tensor.WithShape(ws...), tensor.WithBacking(kerneltest.RandF32(kerneltest.Size(ws), 2)))
	FreezeWeights(w)
	b.Cleanup(func() { ThawWeights(w) })
	return graphVariantOf(b, "op_frozen", func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], 1) }, x, w)
}

// BenchmarkConvTranspose2x: StyleGAN's fused upsample-conv 256->128 from 64² to 128²: the op in
// a graph (model/kernels' BenchmarkConvTranspose2x compares its algorithms), and the unfused
// equivalents Upsample + 3×3 Conv2d (gorgonia built-ins, and this package's ops).
func BenchmarkConvTranspose2x(b *testing.B) {
	const cin, cout, hw = 256, 128, 64
	xs := []int{1, cin, hw, hw}
	kerneltest.Interleave(b, []kerneltest.Variant{
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
		op   kerneltest.Variant
		ref  kerneltest.Variant
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
		b.Run(cs.name, func(b *testing.B) { kerneltest.Interleave(b, []kerneltest.Variant{cs.op, cs.ref}) })
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
	train := func(name string, conv func(x, w *G.Node) (*G.Node, error)) kerneltest.Variant {
		g := G.NewGraph()
		x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(B, C, H, H), G.WithValue(tensor.New(tensor.WithShape(B, C, H, H), tensor.WithBacking(kerneltest.RandF32(B*C*H*H, 1)))))
		w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(C, C, 3, 3), G.WithValue(tensor.New(tensor.WithShape(C, C, 3, 3), tensor.WithBacking(kerneltest.RandF32(C*C*9, 2)))))
		r := G.NewConstant(tensor.New(tensor.WithShape(B, C, H, H), tensor.WithBacking(kerneltest.RandF32(B*C*H*H, 3))), G.WithName("r"))
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
		return kerneltest.Variant{Name: name, Run: func() {
			if err := m.RunAll(); err != nil {
				b.Fatal(err)
			}
			m.Reset()
		}}
	}
	kerneltest.Interleave(b, []kerneltest.Variant{
		train("op", func(x, w *G.Node) (*G.Node, error) { return Conv2d(x, w, 1) }),
		train("gorgonia", func(x, w *G.Node) (*G.Node, error) {
			return G.Conv2d(x, w, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		}),
	})
}

// BenchmarkUpsampleConv: the first conv of a StyleGAN block below 128 px, nearest ×2 upsampling
// then a 3×3 conv, as two ops (Upsample2x, Conv2d) and as one (Upsample2xConv2d).
func BenchmarkUpsampleConv(b *testing.B) {
	for _, s := range []struct{ cin, cout, hw int }{{512, 512, 16}, {512, 256, 32}} {
		b.Run(fmt.Sprintf("%dto%d@%dto%d", s.cin, s.cout, s.hw, 2*s.hw), func(b *testing.B) {
			xs, ws := []int{1, s.cin, s.hw, s.hw}, []int{s.cout, s.cin, 3, 3}
			kerneltest.Interleave(b, []kerneltest.Variant{
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
			kerneltest.Interleave(b, []kerneltest.Variant{
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
