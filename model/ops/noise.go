package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

func checkNoise(op fmt.Stringer, x, noise tensor.Shape) error {
	if noise.Dims() != 4 || (noise[0] != 1 && noise[0] != x[0]) || noise[1] != 1 || noise[2] != x[2] || noise[3] != x[3] {
		return errors.Errorf("ops: %v: x %v wants noise [%d or 1,1,%d,%d], got %v", op, x, x[0], x[2], x[3], noise)
	}
	return nil
}

// ---- AddNoise ----

type addNoiseOp struct {
	base
	consts constMask
}

// AddNoise returns x [B,C,H,W] + noise · strength[C], with noise [B,1,H,W] or [1,1,H,W]
// (broadcast over the batch): StyleGAN's per-pixel noise input.
func AddNoise(x, noise, strength *G.Node) (*G.Node, error) {
	return apply(&addNoiseOp{consts: constants(x, noise, strength)}, "AddNoise", x, noise, strength)
}

func (op *addNoiseOp) String() string        { return "AddNoise" }
func (op *addNoiseOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *addNoiseOp) Hashcode() uint32      { return hashOf(op) }
func (op *addNoiseOp) Arity() int            { return 3 }
func (op *addNoiseOp) Type() hm.Type         { return fnType(4, 4, 1, 4) }
func (op *addNoiseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	if err := checkNoise(op, s[0], s[1]); err != nil {
		return nil, err
	}
	if !s[2].Eq(tensor.Shape{s[0][1]}) {
		return nil, errors.Errorf("ops: %v: x %v wants strength [%d], got %v", op, s[0], s[0][1], s[2])
	}
	return s[0].Clone(), nil
}
func (op *addNoiseOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *addNoiseOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *addNoiseOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	nb := in[1].Shape()[0] == b
	return run(out,
		func() {
			kernels.AddNoise(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), b, c, h*w, nb)
		},
		func() {
			kernels.AddNoise(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), b, c, h*w, nb)
		})
}
func (op *addNoiseOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }
func (op *addNoiseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	noise, strength := inputs[1], inputs[2]
	grads := make(G.Nodes, 3)
	var err error
	if op.consts.wants(0) {
		grads[0] = grad
	}
	if op.consts.wants(1) {
		if grads[1], err = apply(&reduceOp{kind: reduceNoise, noiseBatch: noise.Shape()[0]}, "AddNoise grad noise", grad, strength); err != nil {
			return nil, err
		}
	}
	if op.consts.wants(2) {
		if grads[2], err = apply(&reduceOp{kind: reduceChannelDot}, "AddNoise grad strength", grad, noise); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
