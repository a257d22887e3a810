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

// styleEpilogueOp is AddNoise → AddBias → LeakyReLU → InstanceNorm → Modulate in one pass
// over each plane; its gradient is one fused op too (epilogue_grad.go).
type styleEpilogueOp struct {
	base
	bias   bool
	slope  float64
	eps    float64
	consts constMask
}

// StyleEpilogue returns Modulate(InstanceNorm(LeakyReLU(AddBias(AddNoise(x, noise, strength),
// bias), slope), eps), scale, shift) for x [B,C,H,W], noise [B,1,H,W] or [1,1,H,W], strength
// and bias [C] (bias may be nil), scale and shift [B,C]: StyleGAN's per-layer epilogue, computed
// plane by plane while the plane is in cache (one read of x, one write of the output) instead of
// six passes and five intermediate images. Its gradient is fused the same way (one op for
// the gradients of x, strength, bias, scale and shift: a few passes over each plane in cache
// instead of the chain's dozen over the whole tensor), so training graphs use it too. Results
// equal the chain's to float32 rounding.
func StyleEpilogue(x, noise, strength, bias, scale, shift *G.Node, slope, eps float64) (*G.Node, error) {
	op := &styleEpilogueOp{bias: bias != nil, slope: slope, eps: eps}
	if bias == nil {
		op.consts = constants(x, noise, strength, scale, shift)
		return apply(op, "StyleEpilogue", x, noise, strength, scale, shift)
	}
	op.consts = constants(x, noise, strength, bias, scale, shift)
	return apply(op, "StyleEpilogue", x, noise, strength, bias, scale, shift)
}

func (op *styleEpilogueOp) String() string {
	return fmt.Sprintf("StyleEpilogue{bias=%t,slope=%g,eps=%g}", op.bias, op.slope, op.eps)
}
func (op *styleEpilogueOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *styleEpilogueOp) Hashcode() uint32      { return hashOf(op) }
func (op *styleEpilogueOp) Arity() int {
	if op.bias {
		return 6
	}
	return 5
}
func (op *styleEpilogueOp) Type() hm.Type {
	if op.bias {
		return fnType(4, 4, 1, 1, 2, 2, 4)
	}
	return fnType(4, 4, 1, 2, 2, 4)
}
func (op *styleEpilogueOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
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
	c := tensor.Shape{s[0][1]}
	bc := tensor.Shape{s[0][0], s[0][1]}
	want := []tensor.Shape{c, bc, bc}
	if op.bias {
		want = []tensor.Shape{c, c, bc, bc}
	}
	for i, w := range want {
		if !s[2+i].Eq(w) {
			return nil, errors.Errorf("ops: %v: x %v wants input %d of shape %v, got %v", op, s[0], 2+i, w, s[2+i])
		}
	}
	return s[0].Clone(), nil
}
func (op *styleEpilogueOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *styleEpilogueOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *styleEpilogueOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	nb := in[1].Shape()[0] == b && b > 1
	k := 3
	return run(out,
		func() {
			var bias []float32
			if op.bias {
				bias, k = data[float32](in[3]), 4
			}
			kernels.StyleEpilogue(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), bias,
				data[float32](in[k]), data[float32](in[k+1]), b, c, h*w, nb, float32(op.slope), op.eps)
		},
		func() {
			var bias []float64
			if op.bias {
				bias, k = data[float64](in[3]), 4
			}
			kernels.StyleEpilogue(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), bias,
				data[float64](in[k]), data[float64](in[k+1]), b, c, h*w, nb, op.slope, op.eps)
		})
}
