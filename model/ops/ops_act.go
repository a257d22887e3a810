package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

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
			addNoise(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]), b, c, h*w, nb)
		},
		func() {
			addNoise(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]), b, c, h*w, nb)
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
		func() { addBias(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w) },
		func() { addBias(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w) })
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
	slope float64
	dims  int
	grad  bool
}

// LeakyReLU returns x where x > 0 and slope·x elsewhere, for x of any rank. (gorgonia's
// LeakyRelu builds five nodes: compare, cast, two products and a sum.)
func LeakyReLU(x *G.Node, slope float64) (*G.Node, error) {
	if x == nil {
		return nil, errors.New("ops: LeakyReLU: input is nil")
	}
	return apply(&leakyOp{slope: slope, dims: x.Dims()}, "LeakyReLU", x)
}

func (op *leakyOp) String() string {
	if op.grad {
		return fmt.Sprintf("LeakyReLUGrad{slope=%g}", op.slope)
	}
	return fmt.Sprintf("LeakyReLU{slope=%g}", op.slope)
}
func (op *leakyOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *leakyOp) Hashcode() uint32      { return hashOf(op) }
func (op *leakyOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op *leakyOp) Type() hm.Type {
	if op.grad {
		return fnType(op.dims, op.dims, op.dims)
	}
	return fnType(op.dims, op.dims)
}
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
				leakyReLUGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), float32(op.slope))
			},
			func() { leakyReLUGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), op.slope) })
	}
	return run(out,
		func() { leakyReLU(data[float32](out), data[float32](in[0]), float32(op.slope)) },
		func() { leakyReLU(data[float64](out), data[float64](in[0]), op.slope) })
}
func (op *leakyOp) DiffWRT(n int) []bool { return []bool{!op.grad, false}[:n] }
func (op *leakyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, errors.Errorf("ops: %v is not differentiable", op)
	}
	g, err := apply(&leakyOp{slope: op.slope, dims: op.dims, grad: true}, "LeakyReLU grad", inputs[0], grad)
	return G.Nodes{g}, err
}

// ---- MinibatchStddev ----

type mbstdOp struct {
	base
	group int
	grad  bool
}

// MinibatchStddev appends to x [B,C,H,W] one feature map holding, for each group of samples,
// the mean over C,H,W of the stddev over the group (NVlabs minibatch_stddev_layer with
// num_new_features=1, eps 1e-8): [B,C+1,H,W]. As in NVlabs' code the group size is
// min(group, B), B must be a multiple of it, and sample b belongs to group b mod (B/group).
func MinibatchStddev(x *G.Node, group int) (*G.Node, error) {
	if x == nil {
		return nil, errors.New("ops: MinibatchStddev: input is nil")
	}
	return apply(&mbstdOp{group: group}, "MinibatchStddev", x)
}

func (op *mbstdOp) String() string {
	if op.grad {
		return fmt.Sprintf("MinibatchStddevGrad{group=%d}", op.group)
	}
	return fmt.Sprintf("MinibatchStddev{group=%d}", op.group)
}
func (op *mbstdOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *mbstdOp) Hashcode() uint32      { return hashOf(op) }
func (op *mbstdOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op *mbstdOp) Type() hm.Type {
	if op.grad {
		return fnType(4, 4, 4)
	}
	return fnType(4, 4)
}
func (op *mbstdOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	b, c, h, w := nchw(s[0])
	if gs := mbstdGroup(op.group, b); b%gs != 0 {
		return nil, errors.Errorf("ops: %v: batch %d is not a multiple of the group size %d", op, b, gs)
	}
	if op.grad {
		if !s[1].Eq(tensor.Shape{b, c + 1, h, w}) {
			return nil, errors.Errorf("ops: %v: gradient %v, want [%d %d %d %d]", op, s[1], b, c+1, h, w)
		}
		return s[0].Clone(), nil
	}
	return tensor.Shape{b, c + 1, h, w}, nil
}
func (op *mbstdOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *mbstdOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *mbstdOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	if op.grad {
		return run(out,
			func() {
				minibatchStddevGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w, op.group)
			},
			func() {
				minibatchStddevGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w, op.group)
			})
	}
	return run(out,
		func() { minibatchStddev(data[float32](out), data[float32](in[0]), b, c, h*w, op.group) },
		func() { minibatchStddev(data[float64](out), data[float64](in[0]), b, c, h*w, op.group) })
}
func (op *mbstdOp) DiffWRT(n int) []bool { return []bool{!op.grad, false}[:n] }
func (op *mbstdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, errors.Errorf("ops: %v is not differentiable", op)
	}
	g, err := apply(&mbstdOp{group: op.group, grad: true}, "MinibatchStddev grad", inputs[0], grad)
	return G.Nodes{g}, err
}
