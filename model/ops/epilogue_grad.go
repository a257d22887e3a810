package ops

import (
	"fmt"
	"hash"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

// The gradient of StyleEpilogue, plane by plane like the forward pass: t = LeakyReLU(x +
// noise·strength + bias) is computed again (it is not kept), then, with x̂ = (t − μ)/σ and
// g = ∂L/∂y,
//
//	∂L/∂shift = Σ g,  ∂L/∂scale = Σ g·x̂,
//	∂L/∂t = scale/σ · (g − mean(g) − x̂·mean(g·x̂))   (instance norm),
//	∂L/∂x = ∂L/∂t · LeakyReLU'(t),  ∂L/∂bias = Σ ∂L/∂x,  ∂L/∂strength = Σ ∂L/∂x · noise,
//
// three passes over a plane in cache instead of the unfused chain's dozen passes over the
// whole tensor. One op computes all of it: its output is ∂L/∂x, and it leaves the small
// gradients (strength, bias, scale, shift) in a sideGrads that sideGradOp nodes read.

// sideGrads holds the small gradients that a fused backward op computes next to its output.
type sideGrads struct {
	id   uint64
	vals []*tensor.Dense
}

var sideIDs atomic.Uint64

func newSideGrads(n int) *sideGrads {
	return &sideGrads{id: sideIDs.Add(1), vals: make([]*tensor.Dense, n)}
}

// get returns value k, allocated with the given dtype and shape on first use.
func (s *sideGrads) get(k int, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if t := s.vals[k]; t != nil && t.Dtype() == dt && t.Shape().Eq(tensor.Shape(shape)) {
		return t
	}
	s.vals[k] = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	return s.vals[k]
}

// sideGradOp returns value k of side; its input is the node of the op that writes it, so
// that it runs after that op.
type sideGradOp struct {
	base
	side  *sideGrads
	k     int
	shape tensor.Shape
	what  string
}

// String names the op uniquely (the id), so that gorgonia never merges two of them.
func (op *sideGradOp) String() string        { return fmt.Sprintf("%s#%d", op.what, op.side.id) }
func (op *sideGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *sideGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *sideGradOp) Arity() int            { return 1 }
func (op *sideGradOp) Type() hm.Type         { return fnType(4, op.shape.Dims()) }
func (op *sideGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *sideGradOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *sideGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *sideGradOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	v := op.side.vals[op.k]
	if v == nil || v.Dtype() != out.Dtype() || !v.Shape().Eq(out.Shape()) {
		return errors.Errorf("ops: %v: the gradient was not computed", op)
	}
	return run(out,
		func() { copy(data[float32](out), data[float32](v)) },
		func() { copy(data[float64](out), data[float64](v)) })
}
func (op *sideGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *sideGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}

// Values of an epilogue's sideGrads.
const (
	epiGradStrength = iota
	epiGradBias
	epiGradScale
	epiGradShift
	epiGrads
)

// styleEpilogueGradOp: (x, noise, strength[, bias], scale, shift, gy) -> gx, and the side
// gradients.
type styleEpilogueGradOp struct {
	base
	bias  bool
	slope float64
	eps   float64
	side  *sideGrads
}

func (op *styleEpilogueGradOp) String() string {
	return fmt.Sprintf("StyleEpilogueGrad{bias=%t,slope=%g,eps=%g}#%d", op.bias, op.slope, op.eps, op.side.id)
}
func (op *styleEpilogueGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *styleEpilogueGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *styleEpilogueGradOp) Arity() int {
	if op.bias {
		return 7
	}
	return 6
}
func (op *styleEpilogueGradOp) Type() hm.Type {
	if op.bias {
		return fnType(4, 4, 1, 1, 2, 2, 4, 4)
	}
	return fnType(4, 4, 1, 2, 2, 4, 4)
}
func (op *styleEpilogueGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if gy := s[len(s)-1]; !gy.Eq(s[0]) {
		return nil, errors.Errorf("ops: %v: gradient %v, want %v", op, gy, s[0])
	}
	return s[0].Clone(), nil
}
func (op *styleEpilogueGradOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *styleEpilogueGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *styleEpilogueGradOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	nb := in[1].Shape()[0] == b && b > 1
	k := 3
	if op.bias {
		k = 4
	}
	dt := out.Dtype()
	side := [epiGrads]*tensor.Dense{
		op.side.get(epiGradStrength, dt, c), op.side.get(epiGradBias, dt, c),
		op.side.get(epiGradScale, dt, b, c), op.side.get(epiGradShift, dt, b, c),
	}
	return run(out,
		func() {
			var bias []float32
			if op.bias {
				bias = data[float32](in[3])
			}
			kernels.StyleEpilogueGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), bias,
				data[float32](in[k]), data[float32](in[k+2]), b, c, h*w, nb, float32(op.slope), op.eps,
				data[float32](side[0]), data[float32](side[1]), data[float32](side[2]), data[float32](side[3]))
		},
		func() {
			var bias []float64
			if op.bias {
				bias = data[float64](in[3])
			}
			kernels.StyleEpilogueGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), bias,
				data[float64](in[k]), data[float64](in[k+2]), b, c, h*w, nb, op.slope, op.eps,
				data[float64](side[0]), data[float64](side[1]), data[float64](side[2]), data[float64](side[3]))
		})
}
func (op *styleEpilogueGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *styleEpilogueGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}

func (op *styleEpilogueOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }

// SymDiff builds one styleEpilogueGradOp for all inputs: its output is the gradient of x,
// sideGradOps read those of strength, bias, scale and shift, and the noise's (rarely wanted:
// an input) is Σ_c ∂L/∂x·strength as in AddNoise.
func (op *styleEpilogueOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	side := newSideGrads(epiGrads)
	gop := &styleEpilogueGradOp{bias: op.bias, slope: op.slope, eps: op.eps, side: side}
	gx, err := apply(gop, "StyleEpilogue grad", append(inputs[:len(inputs):len(inputs)], grad)...)
	if err != nil {
		return nil, err
	}
	x, noise, strength := inputs[0], inputs[1], inputs[2]
	b, c := x.Shape()[0], x.Shape()[1]
	grads := make(G.Nodes, len(inputs))
	if op.consts.wants(0) {
		grads[0] = gx
	}
	if op.consts.wants(1) {
		if grads[1], err = apply(&reduceOp{kind: reduceNoise, noiseBatch: noise.Shape()[0]}, "StyleEpilogue grad noise", gx, strength); err != nil {
			return nil, err
		}
	}
	sides := []struct {
		k     int
		shape tensor.Shape
		what  string
	}{{epiGradStrength, tensor.Shape{c}, "StyleEpilogueGradStrength"}, {epiGradBias, tensor.Shape{c}, "StyleEpilogueGradBias"},
		{epiGradScale, tensor.Shape{b, c}, "StyleEpilogueGradScale"}, {epiGradShift, tensor.Shape{b, c}, "StyleEpilogueGradShift"}}
	if !op.bias {
		sides = append(sides[:1], sides[2:]...)
	}
	for i, s := range sides {
		if !op.consts.wants(2 + i) {
			continue
		}
		if grads[2+i], err = apply(&sideGradOp{side: side, k: s.k, shape: s.shape, what: s.what}, s.what, gx); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
