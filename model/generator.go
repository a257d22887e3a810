package model

import (
	"fmt"
	"slices"
	"sync"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops"
)

// Generator runs a StyleGAN v1 generator for inference. It builds small
// gorgonia graphs per layer (once per batch size) and keeps, per layer, the
// last activation it computed and the inputs that produced it, so a change
// to layer k's style or noise recomputes layers k.. only; a style or noise
// change of layer k reuses k's conv output (the pre-epilogue activation).
//
// A Generator is safe for concurrent use; calls are serialised.
type Generator struct {
	Cfg *Config
	W   *Weights

	mu     sync.Mutex
	params *paramTensors
	nets   map[int]*net
	// maps holds mapping-only graphs per batch size: Mapping alone (as
	// EstimateWAvg runs it at batch 256) must not build a synthesis net
	// for that batch, tens of GB at 256-1024 px.
	maps map[int]*stage

	wmu    sync.Mutex
	wcache []wEntry          // recent z -> w mappings, newest first
	noise  map[any][]float32 // recent seeded noise maps (seededNoise)
}

// New checks the weights against the config and returns a generator.
func New(cfg *Config, w *Weights) (*Generator, error) {
	if err := w.Check(cfg); err != nil {
		return nil, err
	}
	return &Generator{Cfg: cfg, W: w, nets: map[int]*net{}, maps: map[int]*stage{}}, nil
}

// paramTensors wrap the weights once; every graph shares their backing.
type paramTensors struct {
	mapping []struct{ w, b *tensor.Dense }
	layers  []struct{ conv, bias, noise, sw, sb *tensor.Dense } // layer 0's conv is the constant
	rgb     []struct{ w, b *tensor.Dense }
}

func wrap(data []float32, shape ...int) *tensor.Dense {
	if data == nil {
		return nil
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func (g *Generator) paramTensors() *paramTensors {
	if g.params != nil {
		return g.params
	}
	c, w := g.Cfg, g.W
	p := &paramTensors{}
	for i, d := range w.Mapping {
		in := c.WDim
		if i == 0 {
			in = c.ZDim
		}
		p.mapping = append(p.mapping, struct{ w, b *tensor.Dense }{wrap(d.W, in, c.WDim), wrap(d.B, 1, c.WDim)})
	}
	for _, sl := range c.Layers() {
		l, ch := w.Layers[sl.Index], sl.Out
		conv := l.Conv
		if sl.Const {
			conv = w.Const
		}
		p.layers = append(p.layers, struct{ conv, bias, noise, sw, sb *tensor.Dense }{
			wrap(conv, sl.ConvShape()...), wrap(l.Bias, ch), wrap(l.Noise, ch), wrap(l.Style.W, c.WDim, 2*ch), wrap(l.Style.B, 1, 2*ch)})
	}
	for b, t := range w.ToRGB {
		p.rgb = append(p.rgb, struct{ w, b *tensor.Dense }{wrap(t.W, 3, c.Channels[b], 1, 1), wrap(t.B, 3)})
	}
	// The weights never change under a Generator: let the convs keep their
	// Winograd transforms (and the up-convs their 4x4 weights; Close
	// releases them).
	for _, sl := range c.Layers() {
		if !sl.Const {
			ops.FreezeWeights(p.layers[sl.Index].conv)
		}
	}
	g.params = p
	return p
}

// Close releases the cached weight transforms; the Generator must not be
// used afterwards.
func (g *Generator) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.params == nil {
		return
	}
	for _, sl := range g.Cfg.Layers() {
		if !sl.Const {
			ops.ThawWeights(g.params.layers[sl.Index].conv)
		}
	}
	g.params, g.nets, g.maps = nil, map[int]*net{}, map[int]*stage{}
}

// stage is one small graph with its machine, input tensors and output.
// inNodes[k] is the node that in[k] is bound to; in[k] is nil for an input
// that each run binds to an activation (a slot).
type stage struct {
	m       G.VM
	in      []*tensor.Dense
	inNodes []*G.Node
	out     *G.Node
}

// run runs the graph and returns its output tensor. The conv and epilogue
// stages reuse their previous output tensor (ops.ReuseOutputs: no 16 MB
// allocation and clearing per 256 px layer): their result is valid until the
// same stage runs again, which is when the activation cache replaces it
// anyway. The other stages allocate a new output, which callers may keep.
func (s *stage) run() (*tensor.Dense, error) {
	defer s.m.Reset()
	if err := s.m.RunAll(); err != nil {
		return nil, err
	}
	t, ok := s.out.Value().(*tensor.Dense)
	if !ok || t.RequiresIterator() {
		return nil, fmt.Errorf("output is a %T, want a contiguous *tensor.Dense", s.out.Value())
	}
	return t, nil
}

// bind makes input k of the stage read t (no copy).
func (s *stage) bind(k int, t *tensor.Dense) error { return G.Let(s.inNodes[k], t) }

// node makes a graph node bound to t (a parameter or an input).
func node(g *G.ExprGraph, t *tensor.Dense, name string) *G.Node {
	if t == nil {
		return nil
	}
	return G.NewTensor(g, tensor.Float32, t.Dims(), G.WithShape(t.Shape()...), G.WithName(name), G.WithValue(t))
}

func input(g *G.ExprGraph, name string, shape ...int) (*G.Node, *tensor.Dense) {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	return node(g, t, name), t
}

// slot is an input that every run binds to an activation held elsewhere
// (stage.bind), so it gets no tensor of its own: one would be a whole
// activation of the batch left unused (0.57 GB of 1.6 at 1024 px, batch 1).
func slot(g *G.ExprGraph, name string, shape ...int) *G.Node {
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name))
}

// net holds the graphs and the activation cache for one batch size.
type net struct {
	B       int
	mapping *stage
	// per layer: its conv part (layer 0's broadcasts the constant) and its
	// epilogue, separate graphs so that a style or noise edit reruns the
	// epilogue alone
	conv, epi []*stage
	rgb       []*stage // per block; nil where there is no ToRGB
	blocks    []SynthesisBlock
	layers    []SynthesisLayer
	// pre[i], act[i] are layer i's conv output and output from earlier
	// runs, bound as inputs of later stages.
	pre, act []*tensor.Dense
	// the inputs that produced act[i]: w for its style slot, its noise map
	w, noise [][]float32
	valid    int // layers 0..valid-1 hold cached results
}

func (g *Generator) layerNodes(gr *G.ExprGraph, l SynthesisLayer) LayerNodes {
	i, p := l.Index, g.paramTensors().layers[l.Index]
	return LayerNodes{
		Conv:  node(gr, p.conv, fmt.Sprintf("layer%d.conv", i)),
		Bias:  node(gr, p.bias, fmt.Sprintf("layer%d.bias", i)),
		Noise: node(gr, p.noise, fmt.Sprintf("layer%d.noise_strength", i)),
		Style: DenseNodes{W: node(gr, p.sw, fmt.Sprintf("layer%d.style_w", i)), B: node(gr, p.sb, fmt.Sprintf("layer%d.style_b", i))},
	}
}

func (g *Generator) net(B int) (*net, error) {
	if n := g.nets[B]; n != nil {
		return n, nil
	}
	c := g.Cfg
	n := &net{B: B, blocks: c.Blocks(), layers: c.Layers()}
	var err error
	if n.mapping, err = g.mappingStage(B); err != nil {
		return nil, err
	}
	// g, Figure 1(b): per block, two layers (conv part, then epilogue)
	// and a ToRGB.
	for _, blk := range n.blocks {
		for _, l := range blk.Layers {
			conv, err := g.convStage(B, l)
			if err != nil {
				return nil, err
			}
			epi, err := g.epilogueStage(B, l)
			if err != nil {
				return nil, err
			}
			n.conv, n.epi = append(n.conv, conv), append(n.epi, epi)
		}
		rgb, err := g.rgbStage(B, blk)
		if err != nil {
			return nil, err
		}
		n.rgb = append(n.rgb, rgb)
	}
	L := c.NumLayers()
	n.pre, n.act = make([]*tensor.Dense, L), make([]*tensor.Dense, L)
	n.w, n.noise = make([][]float32, L), make([][]float32, L)
	g.nets[B] = n
	return n, nil
}

// mappingStage is the mapping network's graph for batch B, shared by
// Mapping and the synthesis net of that batch.
func (g *Generator) mappingStage(B int) (*stage, error) {
	if m := g.maps[B]; m != nil {
		return m, nil
	}
	c, p := g.Cfg, g.paramTensors()
	gr := G.NewGraph()
	z, zt := input(gr, "z", B, c.ZDim)
	var ds []DenseNodes
	for i, d := range p.mapping {
		// gorgonia hash-conses nodes: equal names and shapes would merge.
		ds = append(ds, DenseNodes{W: node(gr, d.w, fmt.Sprintf("mapping%d.w", i)), B: node(gr, d.b, fmt.Sprintf("mapping%d.b", i))})
	}
	out, err := Mapping(z, ds)
	if err != nil {
		return nil, err
	}
	m := &stage{m: G.NewTapeMachine(gr), in: []*tensor.Dense{zt}, inNodes: []*G.Node{z}, out: out}
	g.maps[B] = m
	return m, nil
}

// convStage is the graph of a layer's conv part. Its input is the
// previous layer's output; for the constant, a column of ones.
func (g *Generator) convStage(B int, l SynthesisLayer) (*stage, error) {
	gr := G.NewGraph()
	var x *G.Node
	var xt *tensor.Dense
	if l.Const {
		x, xt = input(gr, "ones", B, 1)
		for k := range B {
			xt.Data().([]float32)[k] = 1
		}
	} else {
		x = slot(gr, "x", B, l.In, l.InRes(), l.InRes())
	}
	out, err := l.Conv(x, g.layerNodes(gr, l))
	if err != nil {
		return nil, err
	}
	ops.ReuseOutputs(gr)
	return &stage{m: G.NewTapeMachine(gr), in: []*tensor.Dense{xt}, inNodes: []*G.Node{x}, out: out}, nil
}

// epilogueStage is the graph of a layer's epilogue; its inputs are the
// conv part's output, the noise map and w.
func (g *Generator) epilogueStage(B int, l SynthesisLayer) (*stage, error) {
	gr := G.NewGraph()
	x := slot(gr, "pre", B, l.Out, l.Res, l.Res)
	nz, nt := input(gr, "noise", B, 1, l.Res, l.Res)
	w, wt := input(gr, "w", B, g.Cfg.WDim)
	out, err := l.Epilogue(x, nz, w, g.layerNodes(gr, l))
	if err != nil {
		return nil, err
	}
	ops.ReuseOutputs(gr)
	return &stage{m: G.NewTapeMachine(gr), in: []*tensor.Dense{nil, nt, wt}, inNodes: []*G.Node{x, nz, w}, out: out}, nil
}

// rgbStage is the graph of a block's ToRGB, or nil when the weights have
// none.
func (g *Generator) rgbStage(B int, blk SynthesisBlock) (*stage, error) {
	pt := g.paramTensors().rgb[blk.Index]
	if pt.w == nil {
		return nil, nil
	}
	gr := G.NewGraph()
	x := slot(gr, "x", B, blk.Channels, blk.Res, blk.Res)
	out, err := RGB(x, RGBNodes{W: node(gr, pt.w, fmt.Sprintf("torgb%d.w", blk.Index)), B: node(gr, pt.b, fmt.Sprintf("torgb%d.b", blk.Index))})
	if err != nil {
		return nil, err
	}
	return &stage{m: G.NewTapeMachine(gr), in: []*tensor.Dense{nil}, inNodes: []*G.Node{x}, out: out}, nil
}

// Mapping runs the mapping network on a batch of z (B·ZDim values) and
// returns the batch of w (B·WDim values).
func (g *Generator) Mapping(z []float32, B int) ([]float32, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(z) != B*g.Cfg.ZDim {
		return nil, fmt.Errorf("model: mapping: got %d values for %d z of size %d", len(z), B, g.Cfg.ZDim)
	}
	m, err := g.mappingStage(B)
	if err != nil {
		return nil, err
	}
	copy(m.in[0].Data().([]float32), z)
	out, err := m.run()
	if err != nil {
		return nil, fmt.Errorf("model: mapping: %w", err)
	}
	return slices.Clone(out.Data().([]float32)), nil
}

// SynthesisInput is everything one synthesis pass reads.
type SynthesisInput struct {
	B int
	// W holds one batch of w (B·WDim values) per style slot: already mixed
	// and truncated.
	W [][]float32
	// Noise holds one map per noise slot: B·H·W values, or H·W to use the
	// same map for the whole batch.
	Noise [][]float32
}

// Options control a synthesis pass.
type Options struct {
	// Step is the last block to run (progressive growing: the output is
	// at 4·2^Step px); -1 means the whole network.
	Step int
	// Alpha in [0,1) blends the output with the nearest-x2 upsampled ToRGB
	// of block Step−1 (the fade-in): (1−α)·up(rgb_{S−1}) + α·rgb_S.
	// Alpha ≥ 1 means no blend (block Step alone). A negative Alpha means
	// the model's own: when the pass runs the whole network (Step −1 or
	// the last block) of a fading model (Config.FadeAlpha), its fade-in;
	// otherwise no blend. Note that 0 is an explicit alpha (the previous
	// block's output alone, upsampled).
	Alpha float64
	// Preview, when set, is called with the ToRGB output of each block that
	// has one, as soon as it is ready (low-resolution previews).
	Preview func(res int, rgb []float32)
	// Full disables the activation cache for this pass.
	Full bool
}

// Stats describe a synthesis pass.
type Stats struct {
	FromLayer int // first recomputed layer; NumLayers when nothing changed
	Duration  time.Duration
}

// Synthesis runs the synthesis network and returns the image batch
// [B,3,H,W] in roughly [-1,1].
func (g *Generator) Synthesis(in SynthesisInput, opt Options) ([]float32, Stats, error) {
	start := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	defer ops.InferenceBLAS()()
	c := g.Cfg
	step := opt.Step
	if step < 0 || step >= c.NumBlocks() {
		step = c.NumBlocks() - 1
	}
	if err := g.checkInput(in); err != nil {
		return nil, Stats{}, err
	}
	n, err := g.net(in.B)
	if err != nil {
		return nil, Stats{}, err
	}
	layers := n.layers[:n.blocks[step].Out().Index+1]
	if opt.Full {
		n.valid = 0
	}
	// The first layer whose inputs differ from the cached ones.
	from := 0
	for from < n.valid && from < len(layers) && slices.Equal(n.w[from], in.W[layers[from].StyleSlot]) &&
		slices.Equal(n.noise[from], in.Noise[layers[from].NoiseSlot]) {
		from++
	}
	st := Stats{FromLayer: from}
	// Layer `from` reuses its conv output when its input activation is the
	// cached one (only its style or noise changed).
	convValid := from < n.valid
	n.valid = min(n.valid, from)
	for _, l := range layers[from:] {
		if err := g.runLayer(n, l, in, convValid && l.Index == from); err != nil {
			return nil, st, err
		}
		n.valid = l.Index + 1
		// the previews: each earlier block's output through its ToRGB
		if blk := n.blocks[l.Block]; opt.Preview != nil && l.Index == blk.Out().Index && blk.Index < step && n.rgb[blk.Index] != nil {
			rgb, err := g.rgb(n, blk.Index)
			if err != nil {
				return nil, st, err
			}
			opt.Preview(blk.Res, rgb)
		}
	}
	out, err := g.rgb(n, step)
	if err != nil {
		return nil, st, err
	}
	// The fade-in blends the two ToRGB outputs, after the cached layers.
	alpha := opt.Alpha
	if alpha < 0 && step == c.NumBlocks()-1 && c.Fading() {
		alpha = c.FadeAlpha
	}
	if alpha >= 0 && alpha < 1 && step > 0 {
		if n.rgb[step-1] == nil {
			return nil, st, fmt.Errorf("model: fade-in needs the ToRGB of %dpx, which the weights lack", BlockRes(step-1))
		}
		skip, err := g.rgb(n, step-1)
		if err != nil {
			return nil, st, err
		}
		blendUp(out, skip, in.B*3, BlockRes(step), float32(alpha))
	}
	st.Duration = time.Since(start)
	return out, st, nil
}

// blendUp sets out = (1−α)·up2(skip) + α·out for n planes of res×res.
func blendUp(out, skip []float32, planes, res int, alpha float32) {
	h := res / 2
	for p := 0; p < planes; p++ {
		o, s := out[p*res*res:(p+1)*res*res], skip[p*h*h:(p+1)*h*h]
		for y := 0; y < res; y++ {
			for x := 0; x < res; x++ {
				o[y*res+x] = (1-alpha)*s[(y/2)*h+x/2] + alpha*o[y*res+x]
			}
		}
	}
}

func (g *Generator) checkInput(in SynthesisInput) error {
	c := g.Cfg
	if in.B < 1 {
		return fmt.Errorf("model: synthesis: batch size %d", in.B)
	}
	if len(in.W) != c.NumStyles() {
		return fmt.Errorf("model: synthesis: %d style vectors, model has %d style slots", len(in.W), c.NumStyles())
	}
	for s, w := range in.W {
		if len(w) != in.B*c.WDim {
			return fmt.Errorf("model: synthesis: style slot %d has %d values, want %d", s, len(w), in.B*c.WDim)
		}
	}
	if len(in.Noise) != c.NumNoise() {
		return fmt.Errorf("model: synthesis: %d noise maps, model has %d noise inputs", len(in.Noise), c.NumNoise())
	}
	for j, m := range in.Noise {
		r := c.NoiseRes(j)
		if len(m) != r*r && len(m) != in.B*r*r {
			return fmt.Errorf("model: synthesis: noise map %d has %d values, want %d or %d (%dx%d)", j, len(m), r*r, in.B*r*r, r, r)
		}
	}
	return nil
}

// runLayer runs layer l's conv part (unless reuseConv: its cached output
// is current) and its epilogue.
func (g *Generator) runLayer(n *net, l SynthesisLayer, in SynthesisInput, reuseConv bool) error {
	i, res := l.Index, l.Res
	fail := func(err error) error { return fmt.Errorf("model: layer %d: %w", i, err) }
	if !reuseConv {
		s := n.conv[i]
		if !l.Const { // the constant's input, a column of ones, is fixed
			if err := s.bind(0, n.act[i-1]); err != nil {
				return fail(err)
			}
		}
		out, err := s.run()
		if err != nil {
			return fail(err)
		}
		n.pre[i] = out
	}
	s := n.epi[i]
	if err := s.bind(0, n.pre[i]); err != nil {
		return fail(err)
	}
	nz := in.Noise[l.NoiseSlot]
	if len(nz) == res*res {
		fill(s.in[1].Data().([]float32)[:0], in.B, nz) // one map for the whole batch
	} else {
		copy(s.in[1].Data().([]float32), nz)
	}
	w := in.W[l.StyleSlot]
	copy(s.in[2].Data().([]float32), w)
	out, err := s.run()
	if err != nil {
		return fail(err)
	}
	if got, want := out.Size(), in.B*l.Out*res*res; got != want {
		return fmt.Errorf("model: layer %d: output has %d values, want %d", i, got, want)
	}
	n.act[i] = out
	n.w[i] = append(n.w[i][:0], w...)
	n.noise[i] = append(n.noise[i][:0], nz...)
	return nil
}

// fill writes B copies of src into dst (reusing its storage).
func fill(dst []float32, B int, src []float32) []float32 {
	dst = dst[:0]
	for b := 0; b < B; b++ {
		dst = append(dst, src...)
	}
	return dst
}

func (g *Generator) rgb(n *net, b int) ([]float32, error) {
	s := n.rgb[b]
	if s == nil {
		return nil, fmt.Errorf("model: the weights have no ToRGB for %dpx", BlockRes(b))
	}
	if err := s.bind(0, n.act[n.blocks[b].Out().Index]); err != nil {
		return nil, fmt.Errorf("model: torgb %dpx: %w", BlockRes(b), err)
	}
	out, err := s.run()
	if err != nil {
		return nil, fmt.Errorf("model: torgb %dpx: %w", BlockRes(b), err)
	}
	// a fresh tensor every run: the caller may keep it
	return out.Data().([]float32), nil
}
