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

// ---- instance norm ----

// instanceNormOp normalizes (grad=false: x -> y) or back-propagates (grad=true: (x, gy) -> gx).
type instanceNormOp struct {
	base
	gradPair
	eps float64
}

// InstanceNorm normalizes each [H,W] plane of x [B,C,H,W]: (x-mean)/sqrt(biased var + eps).
func InstanceNorm(x *G.Node, eps float64) (*G.Node, error) {
	if eps < 0 {
		return nil, errors.Errorf("ops: InstanceNorm: negative eps %g", eps)
	}
	return apply(&instanceNormOp{eps: eps, gradPair: gradPair{dims: 4}}, "InstanceNorm", x)
}

func (op *instanceNormOp) String() string {
	return fmt.Sprintf("%s{eps=%g}", op.name("InstanceNorm"), op.eps)
}
func (op *instanceNormOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *instanceNormOp) Hashcode() uint32      { return hashOf(op) }
func (op *instanceNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := sameShape4(op, in)
	if err == nil && op.grad {
		if g, ok := in[1].(tensor.Shape); !ok || !g.Eq(s) {
			return nil, errors.Errorf("ops: %v: gradient shape %v, want %v", op, in[1], s)
		}
	}
	return s, err
}
func (op *instanceNormOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *instanceNormOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *instanceNormOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	if op.grad {
		return run(out,
			func() {
				kernels.InstanceNormGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), b*c, h*w, op.eps)
			},
			func() {
				kernels.InstanceNormGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), b*c, h*w, op.eps)
			})
	}
	return run(out,
		func() { kernels.InstanceNorm(data[float32](out), data[float32](in[0]), b*c, h*w, op.eps) },
		func() { kernels.InstanceNorm(data[float64](out), data[float64](in[0]), b*c, h*w, op.eps) })
}
func (op *instanceNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	twin, err := op.twin(op)
	if err != nil {
		return nil, err
	}
	g, err := apply(&instanceNormOp{eps: op.eps, gradPair: twin}, "InstanceNorm grad", inputs[0], grad)
	return G.Nodes{g}, err
}

// ---- per-channel affine ops: Modulate, AddBias, AddNoise and their reductions ----

// modulateOp: (x, scale[, shift]) -> x·scale[b,c] + shift[b,c].
type modulateOp struct {
	base
	shift  bool
	consts constMask
}

// Modulate returns x [B,C,H,W] · scale[B,C] + shift[B,C] (AdaIN's style step). shift may be nil.
func Modulate(x, scale, shift *G.Node) (*G.Node, error) {
	if shift == nil {
		return apply(&modulateOp{consts: constants(x, scale)}, "Modulate", x, scale)
	}
	return apply(&modulateOp{shift: true, consts: constants(x, scale, shift)}, "Modulate", x, scale, shift)
}

func (op *modulateOp) String() string {
	if op.shift {
		return "Modulate"
	}
	return "ModulateScale"
}
func (op *modulateOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *modulateOp) Hashcode() uint32      { return hashOf(op) }
func (op *modulateOp) Arity() int {
	if op.shift {
		return 3
	}
	return 2
}
func (op *modulateOp) Type() hm.Type {
	if op.shift {
		return fnType(4, 2, 2, 4)
	}
	return fnType(4, 2, 4)
}
func (op *modulateOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	want := tensor.Shape{s[0][0], s[0][1]}
	for _, t := range s[1:] {
		if !t.Eq(want) {
			return nil, errors.Errorf("ops: %v: x %v wants scale and shift %v, got %v", op, s[0], want, t)
		}
	}
	return s[0].Clone(), nil
}
func (op *modulateOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *modulateOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *modulateOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	return run(out,
		func() {
			var shift []float32
			if op.shift {
				shift = data[float32](in[2])
			}
			kernels.Modulate(data[float32](out), data[float32](in[0]), data[float32](in[1]), shift, b*c, h*w)
		},
		func() {
			var shift []float64
			if op.shift {
				shift = data[float64](in[2])
			}
			kernels.Modulate(data[float64](out), data[float64](in[0]), data[float64](in[1]), shift, b*c, h*w)
		})
}
func (op *modulateOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }
func (op *modulateOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, scale := inputs[0], inputs[1]
	grads := make(G.Nodes, len(inputs))
	var err error
	if op.consts.wants(0) {
		if grads[0], err = Modulate(grad, scale, nil); err != nil {
			return nil, err
		}
	}
	if op.consts.wants(1) {
		if grads[1], err = apply(&reduceOp{kind: reducePlaneDot}, "Modulate grad scale", grad, x); err != nil {
			return nil, err
		}
	}
	if op.shift && op.consts.wants(2) {
		if grads[2], err = apply(&reduceOp{kind: reducePlaneSum}, "Modulate grad shift", grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
