package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model"
	"stylegan-tui/model/ops"
)

// builder adds nodes to one graph: parameter leaves (bound to the shared
// Eff tensors, one node per parameter per graph) and inputs.
type builder struct {
	g      *G.ExprGraph
	dt     tensor.Dtype
	nodes  map[*Param]*G.Node
	params []*Param // in order of first use
	err    error
	// train is the parameter set the graph's gradients are for (nil: no
	// gradients). The other parameters and the inputs are marked with
	// ops.NoGradient until compile, so that the ops build no gradients
	// for them (D's weight gradients in a G step).
	train  *ParamSet
	unmark []func()
	// lowpass: buildD sees x 2x2-averaged and upsampled back
	// (Options.LowpassRes).
	lowpass bool
}

func newBuilder(dt tensor.Dtype, train *ParamSet) *builder {
	return &builder{g: G.NewGraph(), dt: dt, nodes: map[*Param]*G.Node{}, train: train}
}

// noGrad marks a leaf that needs no gradient.
func (b *builder) noGrad(n *G.Node) {
	if b.train != nil {
		b.unmark = append(b.unmark, ops.NoGradient(n))
	}
}

// trains reports whether the graph's gradients are for p.
func (b *builder) trains(p *Param) bool {
	return b.train != nil && b.train.Has(p.Name) && b.train.P(p.Name) == p
}

// release removes the builder's ops.NoGradient marks.
func (b *builder) release() {
	for _, f := range b.unmark {
		f()
	}
	b.unmark = nil
}

// param returns the leaf of p in this graph.
func (b *builder) param(p *Param) *G.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	n := G.NewTensor(b.g, b.dt, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Eff))
	if !b.trains(p) {
		b.noGrad(n)
	}
	b.nodes[p] = n
	b.params = append(b.params, p)
	return n
}

// input makes an input leaf with its own backing tensor.
func (b *builder) input(name string, shape ...int) (*G.Node, *tensor.Dense) {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(b.dt))
	n := G.NewTensor(b.g, b.dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	b.noGrad(n)
	return n, t
}

func (b *builder) constant(v float64) *G.Node {
	if b.dt == tensor.Float64 {
		return G.NewConstant(v)
	}
	return G.NewConstant(float32(v))
}

// do runs f unless an earlier step failed; errors stick.
func (b *builder) do(f func() (*G.Node, error)) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := f()
	if err != nil {
		b.err = err
		return nil
	}
	return n
}

func (b *builder) dense(x *G.Node, w, bias *Param) *G.Node {
	y := b.do(func() (*G.Node, error) { return G.Mul(x, b.param(w)) })
	return b.do(func() (*G.Node, error) { return G.BroadcastAdd(y, b.param(bias), nil, []byte{0}) })
}

func (b *builder) lrelu(x *G.Node) *G.Node {
	return b.do(func() (*G.Node, error) { return ops.LeakyReLU(x, 0.2) })
}

// conv is a 3x3 (pad 1) or 1x1 (pad 0) convolution plus bias.
func (b *builder) conv(x *G.Node, w, bias *Param) *G.Node {
	pad := 0
	if w.Shape[2] == 3 {
		pad = 1
	}
	y := b.do(func() (*G.Node, error) { return ops.Conv2d(x, b.param(w), pad) })
	return b.do(func() (*G.Node, error) { return ops.AddBias(y, b.param(bias)) })
}

// convLrelu is LeakyReLU 0.2 of conv plus bias, the bias and activation in one
// pass (ops.BiasLeakyReLU).
func (b *builder) convLrelu(x *G.Node, w, bias *Param) *G.Node {
	pad := 0
	if w.Shape[2] == 3 {
		pad = 1
	}
	y := b.do(func() (*G.Node, error) { return ops.Conv2d(x, b.param(w), pad) })
	return b.biasLrelu(y, bias)
}

// biasLrelu is LeakyReLU 0.2 of x plus a per-channel bias, in one pass.
func (b *builder) biasLrelu(x *G.Node, bias *Param) *G.Node {
	return b.do(func() (*G.Node, error) { return ops.BiasLeakyReLU(x, b.param(bias), 0.2) })
}

// lerp is lo + t⊙(hi − lo) with t a full-size input (no broadcasting).
func (b *builder) lerp(lo, hi, t *G.Node) *G.Node {
	d := b.do(func() (*G.Node, error) { return G.Sub(hi, lo) })
	d = b.do(func() (*G.Node, error) { return G.HadamardProd(t, d) })
	return b.do(func() (*G.Node, error) { return G.Add(lo, d) })
}

// softplus is log(1+eˣ) = relu(x) + log1p(e^−|x|), stable for any x.
func (b *builder) softplus(x *G.Node) *G.Node {
	r := b.do(func() (*G.Node, error) { return G.Rectify(x) })
	a := b.do(func() (*G.Node, error) { return G.Abs(x) })
	a = b.do(func() (*G.Node, error) { return G.Neg(a) })
	a = b.do(func() (*G.Node, error) { return G.Exp(a) })
	a = b.do(func() (*G.Node, error) { return G.Log1p(a) })
	return b.do(func() (*G.Node, error) { return G.Add(r, a) })
}

// mean averages a [B] or [B,1] vector (one axis: gorgonia's multi-axis
// reductions have wrong gradients).
func (b *builder) mean(x *G.Node) *G.Node {
	if x.Dims() == 2 {
		x = b.do(func() (*G.Node, error) { return G.Reshape(x, tensor.Shape{x.Shape()[0]}) })
	}
	return b.do(func() (*G.Node, error) { return G.Mean(x, 0) })
}

// ---- generator ----

// gInputs are the per-step inputs of a generator graph.
type gInputs struct {
	B     int
	Z     *tensor.Dense   // [2B,Z]: z1 then z2
	Mix   []*tensor.Dense // per active layer [B,W]: 1 takes w1, 0 takes w2
	Noise []*tensor.Dense // per active layer [B,1,r,r]
	Ones  *tensor.Dense   // [B,1] all ones (broadcasts the constant)
	Alpha *tensor.Dense   // [B,3,r,r] fade-in weight, nil when not fading
	W1    *G.Node         // [B,W] mapped z1
	W1Sum *G.Node         // [W] its batch sum (for w_avg; G step graphs only)
	Img   *G.Node         // [B,3,r,r]
}

// buildG adds the synthesis of a batch of B images at block step (output
// 4·2^step px) to b, with style mixing masks and, when fade, the ToRGB
// fade-in from step−1. The architecture is the model package's.
func buildG(b *builder, cfg *model.Config, gp *ParamSet, B, step int, fade bool) *gInputs {
	in := &gInputs{B: B}
	var z *G.Node
	z, in.Z = b.input("z", 2*B, cfg.ZDim)
	var ds []model.DenseNodes
	for i := 0; i < cfg.MappingLayers; i++ {
		ds = append(ds, model.DenseNodes{W: b.param(gp.P(mappingW(i))), B: b.param(gp.P(mappingB(i)))})
	}
	w := b.do(func() (*G.Node, error) { return model.Mapping(z, ds) })
	w1 := b.do(func() (*G.Node, error) { return G.Slice(w, G.S(0, B)) })
	w2 := b.do(func() (*G.Node, error) { return G.Slice(w, G.S(B, 2*B)) })
	in.W1 = w1
	dw := b.do(func() (*G.Node, error) { return G.Sub(w1, w2) })

	// The constant layer's input: a column of ones broadcasts the constant.
	x, onesT := b.input("ones", B, 1)
	in.Ones = onesT
	copyFill(onesT, 1)

	// g, Figure 1(b), blocks 4x4 .. 4·2^step px: two layers each, every
	// layer with its own style (mixed per image) and noise map.
	var out []*G.Node // per block: its output, the ToRGB input
	for _, blk := range cfg.Blocks()[:step+1] {
		for _, l := range blk.Layers {
			m, mt := b.input(fmt.Sprintf("mix%d", l.Index), B, cfg.WDim)
			nz, nt := b.input(fmt.Sprintf("noise%d", l.Index), B, 1, l.Res, l.Res)
			in.Mix = append(in.Mix, mt)
			in.Noise = append(in.Noise, nt)
			md := b.do(func() (*G.Node, error) { return G.HadamardProd(m, dw) })
			wi := b.do(func() (*G.Node, error) { return G.Add(w2, md) })
			p := layerNodes(b, gp, l)
			x = b.do(func() (*G.Node, error) { return l.Forward(x, nz, wi, p) })
		}
		out = append(out, x)
	}
	rgb := func(s int) *G.Node {
		t := model.RGBNodes{W: b.param(gp.P(torgbName(s, "weight"))), B: b.param(gp.P(torgbName(s, "bias")))}
		return b.do(func() (*G.Node, error) { return model.RGB(out[s], t) })
	}
	img := rgb(step)
	if fade && step > 0 {
		lo := rgb(step - 1)
		lo = b.do(func() (*G.Node, error) { return ops.Upsample2x(lo) })
		r := model.BlockRes(step)
		var a *G.Node
		a, in.Alpha = b.input("alpha", B, 3, r, r)
		img = b.lerp(lo, img, a)
	}
	in.Img = img
	return in
}

// layerNodes are the leaves of layer l's parameters; the constant layer's
// conv weight is the constant.
func layerNodes(b *builder, gp *ParamSet, l model.SynthesisLayer) model.LayerNodes {
	conv := constName
	if !l.Const {
		conv = layerName(l.Index, "conv")
	}
	return model.LayerNodes{
		Conv:  b.param(gp.P(conv)),
		Bias:  b.param(gp.P(layerName(l.Index, "bias"))),
		Noise: b.param(gp.P(layerName(l.Index, "noise_strength"))),
		Style: model.DenseNodes{W: b.param(gp.P(layerName(l.Index, "style.weight"))), B: b.param(gp.P(layerName(l.Index, "style.bias")))},
	}
}

// ---- discriminator ----

// dInputs are the extra inputs of a discriminator at a fade-in.
type dInputs struct {
	Alpha *tensor.Dense // [B,C_{step-1},r/2,r/2], nil when not fading
}

// mbstdGroup is the minibatch-stddev group size (NVlabs: 4).
const mbstdGroup = 4

// buildD adds the discriminator's logits [B,1] of x [B,3,r,r], r = 4·2^step;
// ch are D's channels per block (Arch.DiscChannels).
// alpha (full-size, shared by every D call of a graph) blends, after the
// top block, the features of FromRGB(downsampled x) when fading in.
func buildD(b *builder, ch []int, dp *ParamSet, x *G.Node, step int, alpha *G.Node) *G.Node {
	P := dp.P
	if b.lowpass {
		x = b.do(func() (*G.Node, error) { return ops.Downsample2x(x) })
		x = b.do(func() (*G.Node, error) { return ops.Upsample2x(x) })
	}
	h := b.convLrelu(x, P(dName("fromrgb%d.weight", step)), P(dName("fromrgb%d.bias", step)))
	for s := step; s >= 1; s-- {
		// block at 4·2^s px: conv, blur, conv + 2x2 average down
		h = b.convLrelu(h, P(dName("block%d.conv0.weight", s)), P(dName("block%d.conv0.bias", s)))
		h = b.do(func() (*G.Node, error) { return ops.Blur(h) })
		// conv then 2x2 average, as one stride-2 4x4 conv
		h = b.do(func() (*G.Node, error) { return ops.Conv2dDown2x(h, b.param(P(dName("block%d.conv1.weight", s)))) })
		h = b.biasLrelu(h, P(dName("block%d.conv1.bias", s)))
		if s == step && alpha != nil {
			xd := b.do(func() (*G.Node, error) { return ops.Downsample2x(x) })
			lo := b.convLrelu(xd, P(dName("fromrgb%d.weight", s-1)), P(dName("fromrgb%d.bias", s-1)))
			h = b.lerp(lo, h, alpha)
		}
	}
	// 4x4: minibatch stddev, conv, dense, dense to one logit
	h = b.do(func() (*G.Node, error) { return ops.MinibatchStddev(h, mbstdGroup) })
	h = b.convLrelu(h, P(dName("final.conv.weight")), P(dName("final.conv.bias")))
	if b.err != nil {
		return nil
	}
	B := h.Shape()[0]
	h = b.do(func() (*G.Node, error) { return G.Reshape(h, tensor.Shape{B, ch[0] * 16}) })
	h = b.lrelu(b.dense(h, P(dName("final.dense0.weight")), P(dName("final.dense0.bias"))))
	return b.dense(h, P(dName("final.dense1.weight")), P(dName("final.dense1.bias")))
}

// dAlpha makes the D fade-in input of a graph, or nil when not fading.
func dAlpha(b *builder, ch []int, B, step int, fade bool) (*G.Node, *dInputs) {
	if !fade || step == 0 {
		return nil, &dInputs{}
	}
	r := model.BlockRes(step - 1)
	a, t := b.input("d_alpha", B, ch[step-1], r, r)
	return a, &dInputs{Alpha: t}
}

func copyFill(t *tensor.Dense, v float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	case []float64:
		for i := range d {
			d[i] = v
		}
	}
}
