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

// biasLeakyOp: (x, b) -> LeakyReLU(x + b[c]).
type biasLeakyOp struct {
	base
	slope  float64
	consts constMask
}

// BiasLeakyReLU returns LeakyReLU(x + b, slope) for x [B,C,H,W] and a per-channel bias b [C]:
// AddBias then LeakyReLU (a discriminator's conv layers) in one pass over memory. Its gradient
// is one pass too: the input gradient from the sign of the output (the same as the sign of
// x + b for slope > 0), with the bias gradient summed alongside.
func BiasLeakyReLU(x, b *G.Node, slope float64) (*G.Node, error) {
	if slope <= 0 {
		return nil, errors.Errorf("ops: BiasLeakyReLU: slope %g, want > 0 (the gradient reads the output's sign)", slope)
	}
	return apply(&biasLeakyOp{slope: slope, consts: constants(x, b)}, "BiasLeakyReLU", x, b)
}

func (op *biasLeakyOp) String() string        { return fmt.Sprintf("BiasLeakyReLU{slope=%g}", op.slope) }
func (op *biasLeakyOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *biasLeakyOp) Hashcode() uint32      { return hashOf(op) }
func (op *biasLeakyOp) Arity() int            { return 2 }
func (op *biasLeakyOp) Type() hm.Type         { return fnType(4, 1, 4) }
func (op *biasLeakyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return biasShape(op, in)
}
func (op *biasLeakyOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *biasLeakyOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *biasLeakyOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	return run(out,
		func() {
			kernels.BiasLeakyReLU(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w, float32(op.slope))
		},
		func() {
			kernels.BiasLeakyReLU(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w, op.slope)
		})
}
func (op *biasLeakyOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }

// SymDiff builds one biasLeakyGradOp from the output and its gradient: its output is the
// gradient of x, and a sideGradOp reads the bias's.
func (op *biasLeakyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	side := newSideGrads(1)
	gx, err := apply(&biasLeakyGradOp{slope: op.slope, side: side}, "BiasLeakyReLU grad", output, grad)
	if err != nil {
		return nil, err
	}
	grads := make(G.Nodes, 2)
	if op.consts.wants(0) {
		grads[0] = gx
	}
	if op.consts.wants(1) {
		what := "BiasLeakyReLUGradBias"
		if grads[1], err = apply(&sideGradOp{side: side, shape: tensor.Shape{inputs[0].Shape()[1]}, what: what}, what, gx); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// biasLeakyGradOp: (y, gy) -> gx = gy·LeakyReLU'(y), and the bias gradient Σ_{b,h,w} gx.
type biasLeakyGradOp struct {
	base
	slope float64
	side  *sideGrads
}

func (op *biasLeakyGradOp) String() string {
	return fmt.Sprintf("BiasLeakyReLUGrad{slope=%g}#%d", op.slope, op.side.id)
}
func (op *biasLeakyGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *biasLeakyGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *biasLeakyGradOp) Arity() int            { return 2 }
func (op *biasLeakyGradOp) Type() hm.Type         { return fnType(4, 4, 4) }
func (op *biasLeakyGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if !s[1].Eq(s[0]) {
		return nil, errors.Errorf("ops: %v: gradient %v, want %v", op, s[1], s[0])
	}
	return s[0].Clone(), nil
}
func (op *biasLeakyGradOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *biasLeakyGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *biasLeakyGradOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	gb := op.side.get(0, out.Dtype(), c)
	return run(out,
		func() {
			kernels.BiasLeakyReLUGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](gb), b, c, h*w, float32(op.slope))
		},
		func() {
			kernels.BiasLeakyReLUGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](gb), b, c, h*w, op.slope)
		})
}
func (op *biasLeakyGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *biasLeakyGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}

// ---- AddBias ----

type addBiasOp struct {
	base
	consts constMask
}

// biasShape is the output shape of an op on x [B,C,H,W] and a bias [C]:
// x's.
func biasShape(op fmt.Stringer, in []G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	if !s[1].Eq(tensor.Shape{s[0][1]}) {
		return nil, errors.Errorf("ops: %v: x %v wants bias [%d], got %v", op, s[0], s[0][1], s[1])
	}
	return s[0].Clone(), nil
}

// AddBias returns x [B,C,H,W] + b[C].
func AddBias(x, b *G.Node) (*G.Node, error) {
	return apply(&addBiasOp{consts: constants(x, b)}, "AddBias", x, b)
}

func (op *addBiasOp) String() string        { return "AddBias" }
func (op *addBiasOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *addBiasOp) Hashcode() uint32      { return hashOf(op) }
func (op *addBiasOp) Arity() int            { return 2 }
func (op *addBiasOp) Type() hm.Type         { return fnType(4, 1, 4) }
func (op *addBiasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return biasShape(op, in)
}
func (op *addBiasOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *addBiasOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *addBiasOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	return run(out,
		func() { kernels.AddBias(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w) },
		func() { kernels.AddBias(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w) })
}
func (op *addBiasOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }
func (op *addBiasOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	grads := make(G.Nodes, 2)
	if op.consts.wants(0) {
		grads[0] = grad
	}
	if op.consts.wants(1) {
		var err error
		if grads[1], err = apply(&reduceOp{kind: reduceChannelSum}, "AddBias grad", grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// ---- LeakyReLU ----

// leakyOp computes leaky ReLU (grad=false: x -> y) or its gradient (grad=true: (x, gy) -> gx)
// on tensors of any rank.
type leakyOp struct {
	base
	gradPair
	slope float64
}

// LeakyReLU returns x where x > 0 and slope·x elsewhere, for x of any rank. (gorgonia's
// LeakyRelu builds five nodes: compare, cast, two products and a sum.)
func LeakyReLU(x *G.Node, slope float64) (*G.Node, error) {
	if x == nil {
		return nil, errors.New("ops: LeakyReLU: input is nil")
	}
	return apply(&leakyOp{slope: slope, gradPair: gradPair{dims: x.Dims()}}, "LeakyReLU", x)
}

func (op *leakyOp) String() string {
	return fmt.Sprintf("%s{slope=%g}", op.name("LeakyReLU"), op.slope)
}
func (op *leakyOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *leakyOp) Hashcode() uint32      { return hashOf(op) }
func (op *leakyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if op.grad && !s[1].Eq(s[0]) {
		return nil, errors.Errorf("ops: %v: gradient shape %v, want %v", op, s[1], s[0])
	}
	return s[0].Clone(), nil
}
func (op *leakyOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *leakyOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *leakyOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	if op.grad {
		return run(out,
			func() {
				kernels.LeakyReLUGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), float32(op.slope))
			},
			func() {
				kernels.LeakyReLUGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), op.slope)
			})
	}
	return run(out,
		func() { kernels.LeakyReLU(data[float32](out), data[float32](in[0]), float32(op.slope)) },
		func() { kernels.LeakyReLU(data[float64](out), data[float64](in[0]), op.slope) })
}
func (op *leakyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	twin, err := op.twin(op)
	if err != nil {
		return nil, err
	}
	g, err := apply(&leakyOp{slope: op.slope, gradPair: twin}, "LeakyReLU grad", inputs[0], grad)
	return G.Nodes{g}, err
}
