package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"stylegan-tui/model/ops"
)

// The synthesis network g, Figure 1(b) of Karras et al. (2019), is a stack
// of blocks, one per resolution; each block is two layers, and each layer is
// a conv part followed by the same epilogue:
//
//	block 4x4:   Const 4x4      → noise, bias, LReLU, AdaIN(A(w))
//	             Conv 3x3       → noise, bias, LReLU, AdaIN(A(w))   → ToRGB
//	block 2r:    Upsample+Conv  → noise, bias, LReLU, AdaIN(A(w))
//	             Conv 3x3       → noise, bias, LReLU, AdaIN(A(w))   → ToRGB
//
// Config.Blocks describes the stack once; SynthesisLayer.Conv and
// SynthesisLayer.Epilogue add a layer's nodes to a gorgonia graph. The
// Generator (one small graph per conv part and per epilogue, for its
// activation cache) and the trainer (one graph with gradients) both walk
// Config.Blocks and call them, so the architecture is written once.

// SynthesisBlock is one resolution of g: two layers, and the ToRGB that
// reads the second layer's output.
type SynthesisBlock struct {
	Index    int // 0 at 4x4; its ToRGB is Weights.ToRGB[Index]
	Res      int // the side of its feature maps, 4·2^Index
	Channels int // its feature maps
	// Layers[0] is the constant (4x4) or the upsampling layer, Layers[1]
	// a 3x3 conv at Res.
	Layers [2]SynthesisLayer
}

// Out is the block's last layer, whose output feeds its ToRGB and the
// next block.
func (b SynthesisBlock) Out() SynthesisLayer { return b.Layers[1] }

// SynthesisLayer is one layer of g: a conv part (the learned constant, a
// 3x3 conv, or the block's upsampling conv) and the epilogue: noise
// injection, bias, LeakyReLU 0.2, instance norm, and the style from A(w).
type SynthesisLayer struct {
	Index   int // 0 .. NumLayers−1: the order of Weights.Layers and the checkpoints
	Block   int // the block it belongs to
	Res     int // the side of its output
	In, Out int // channels of the conv's input (0 for the constant) and of the output

	Const bool // the first layer of block 4x4: the learned constant, no conv
	Up    bool // the first layer of a later block: doubles the resolution
	// Fused (Up only): the upsampling conv is one stride-2 transposed conv
	// (NVlabs fused_scale), not nearest-x2 then a 3x3 conv.
	Fused bool
	// BiasBeforeBlur (Up only): the bias is added before the blur, inside
	// the conv part (rosinality), not in the epilogue. Blur zero-pads, so
	// the two differ at the borders.
	BiasBeforeBlur bool

	StyleSlot int     // the style (w) slot its AdaIN reads
	NoiseSlot int     // the noise map it reads
	NormEps   float64 // the instance-norm epsilon
}

// Blocks describes g, block by block from 4x4 up.
func (c *Config) Blocks() []SynthesisBlock {
	blocks := make([]SynthesisBlock, len(c.Channels))
	for b, ch := range c.Channels {
		res := BlockRes(b)
		first := SynthesisLayer{Block: b, Res: res, Out: ch}
		if b == 0 {
			first.Const = true
		} else {
			first.Up, first.In = true, c.Channels[b-1]
			first.Fused, first.BiasBeforeBlur = c.Fused(b), c.BiasBeforeBlur
		}
		second := SynthesisLayer{Block: b, Res: res, In: ch, Out: ch}
		blocks[b] = SynthesisBlock{Index: b, Res: res, Channels: ch, Layers: [2]SynthesisLayer{first, second}}
		for k := range blocks[b].Layers {
			l := &blocks[b].Layers[k]
			l.Index = 2*b + k
			l.StyleSlot, l.NoiseSlot = c.StyleSlot(l.Index), c.NoiseSlot(l.Index)
			l.NormEps = c.NormEps
		}
	}
	return blocks
}

// Layers describes g layer by layer, in the order of Weights.Layers.
func (c *Config) Layers() []SynthesisLayer {
	var ls []SynthesisLayer
	for _, b := range c.Blocks() {
		ls = append(ls, b.Layers[:]...)
	}
	return ls
}

// InRes is the side of the conv part's input.
func (l SynthesisLayer) InRes() int {
	if l.Up {
		return l.Res / 2
	}
	return l.Res
}

// ConvShape is the shape of the conv part's weight (LayerNodes.Conv): the
// constant as [1,Out·16], a 3x3 conv [Out,In,3,3], a fused up-conv's
// transposed kernel [In,Out,4,4].
func (l SynthesisLayer) ConvShape() []int {
	switch {
	case l.Const:
		return []int{1, l.Out * 16}
	case l.Fused:
		return []int{l.In, l.Out, 4, 4}
	}
	return []int{l.Out, l.In, 3, 3}
}

func (l SynthesisLayer) errorf(part string, err error) error {
	return fmt.Errorf("layer %d (%dpx) %s: %w", l.Index, l.Res, part, err)
}

// Conv adds the layer's conv part and returns the activation before the
// epilogue, [B,Out,Res,Res]. For the constant, x is a [B,1] column of ones
// and the result is ones·const reshaped, the constant for each image (its
// gradient sums over the batch). An Up layer is nearest-x2 then the 3x3
// conv (computed without the upsampled image), or the fused transposed
// conv, followed by the [1,2,1] blur.
func (l SynthesisLayer) Conv(x *G.Node, p LayerNodes) (*G.Node, error) {
	var err error
	switch {
	case l.Const:
		if x, err = G.Mul(x, p.Conv); err == nil {
			x, err = G.Reshape(x, []int{x.Shape()[0], l.Out, 4, 4})
		}
	case !l.Up:
		x, err = ops.Conv2d(x, p.Conv, 1)
	default:
		if l.Fused {
			x, err = ops.ConvTranspose2x(x, p.Conv)
		} else {
			x, err = ops.Upsample2xConv2d(x, p.Conv)
		}
		if err == nil && l.BiasBeforeBlur {
			x, err = ops.AddBias(x, p.Bias)
		}
		if err == nil {
			x, err = ops.Blur(x)
		}
	}
	if err != nil {
		return nil, l.errorf("conv", err)
	}
	return x, nil
}

// Epilogue adds what every layer does after its conv: noise injection
// (per-channel strength × a one-channel map [B,1,Res,Res]), bias,
// LeakyReLU 0.2, and AdaIN: instance norm, then scale and shift from the
// affine A(w). The five steps are one fused op (ops.StyleEpilogue: one pass
// over memory instead of six) whose gradient is fused too.
func (l SynthesisLayer) Epilogue(x, noise, w *G.Node, p LayerNodes) (*G.Node, error) {
	scale, shift, err := styleAffine(w, p.Style, l.Out)
	if err != nil {
		return nil, l.errorf("epilogue", err)
	}
	bias := p.Bias
	if l.BiasBeforeBlur {
		bias = nil // added by Conv
	}
	if x, err = ops.StyleEpilogue(x, noise, p.Noise, bias, scale, shift, 0.2, l.NormEps); err != nil {
		return nil, l.errorf("epilogue", err)
	}
	return x, nil
}

// Forward adds the whole layer, Conv then Epilogue.
func (l SynthesisLayer) Forward(x, noise, w *G.Node, p LayerNodes) (*G.Node, error) {
	x, err := l.Conv(x, p)
	if err != nil {
		return nil, err
	}
	return l.Epilogue(x, noise, w, p)
}
