package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops"
)

// The functions in this file, and SynthesisLayer's methods (synthesis.go),
// build the network's pieces into a gorgonia graph. Inference (per-layer graphs, for the incremental cache) and
// training (one graph with gradients) both call them, so there is one copy
// of the architecture. Parameters come in as nodes holding the effective
// weights: inference binds them to Weights directly, the trainer to its
// equalized-lr parameters times their runtime gains.

// DenseNodes are a fully connected layer's parameters: W [in,out], B [1,out].
type DenseNodes struct{ W, B *G.Node }

// LayerNodes are one synthesis layer's parameters.
type LayerNodes struct {
	Conv  *G.Node // SynthesisLayer.ConvShape: [Cout,Cin,3,3], fused [Cin,Cout,4,4], the constant [1,C·16]
	Bias  *G.Node // [C]
	Noise *G.Node // [C]
	Style DenseNodes
}

// RGBNodes are a ToRGB layer's parameters: W [3,C,1,1], B [3].
type RGBNodes struct{ W, B *G.Node }

// dense is x·W + B.
func dense(x *G.Node, d DenseNodes) (*G.Node, error) {
	y, err := G.Mul(x, d.W)
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(y, d.B, nil, []byte{0})
}

// PixelNorm normalises each z to unit average square: z / sqrt(mean(z²)+1e-8).
func PixelNorm(z *G.Node) (*G.Node, error) {
	sq, err := G.Square(z)
	if err != nil {
		return nil, err
	}
	m, err := G.Mean(sq, 1)
	if err != nil {
		return nil, err
	}
	eps := G.NewConstant(castLike(z, 1e-8))
	m, err = G.Add(m, eps)
	if err != nil {
		return nil, err
	}
	r, err := G.Sqrt(m)
	if err != nil {
		return nil, err
	}
	r, err = G.Reshape(r, tensor.Shape{z.Shape()[0], 1})
	if err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(z, r, nil, []byte{1})
}

// Mapping is the mapping network f: Z -> W, PixelNorm then fully connected
// layers with LeakyReLU 0.2.
func Mapping(z *G.Node, layers []DenseNodes) (*G.Node, error) {
	x, err := PixelNorm(z)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	for i, d := range layers {
		if x, err = dense(x, d); err != nil {
			return nil, fmt.Errorf("mapping %d: %w", i, err)
		}
		if x, err = ops.LeakyReLU(x, 0.2); err != nil {
			return nil, fmt.Errorf("mapping %d: %w", i, err)
		}
	}
	return x, nil
}

// styleAffine is AdaIN's affine A: w -> (y_s, y_b), each [B,C].
func styleAffine(w *G.Node, d DenseNodes, ch int) (scale, shift *G.Node, err error) {
	style, err := dense(w, d)
	if err != nil {
		return nil, nil, err
	}
	if scale, err = G.Slice(style, nil, G.S(0, ch)); err != nil {
		return nil, nil, err
	}
	shift, err = G.Slice(style, nil, G.S(ch, 2*ch))
	return scale, shift, err
}

// RGB is a ToRGB layer: 1x1 conv to three channels plus bias.
func RGB(x *G.Node, t RGBNodes) (*G.Node, error) {
	y, err := ops.Conv2d(x, t.W, 0)
	if err != nil {
		return nil, fmt.Errorf("torgb: %w", err)
	}
	return ops.AddBias(y, t.B)
}

// castLike returns v in the dtype of n's graph values.
func castLike(n *G.Node, v float64) interface{} {
	if n.Dtype() == tensor.Float64 {
		return v
	}
	return float32(v)
}
