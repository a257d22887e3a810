package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernelOp is implemented by every op of this package: exec computes the op into out, a tensor
// of the inferred shape and the inputs' dtype, writing every element.
type kernelOp interface {
	G.Op
	exec(out *tensor.Dense, in []*tensor.Dense) error
}

// base holds the methods shared by all ops: pure functions of their inputs, new output values
// (or, after ReuseOutputs, the op's output tensor of the previous run).
type base struct {
	reuse *outCache
}

// outCache is the output tensor an op returns again on the next run of its graph.
type outCache struct{ t *tensor.Dense }

func (b *base) outSlot() **outCache { return &b.reuse }

// ReuseOutputs makes the ops of this package in g write every run's output into the tensor of
// the previous run instead of a new one (gorgonia's tape machine asks for new outputs after each
// Reset): no allocation, no clearing of fresh memory and less garbage collection per run. Only
// for graphs whose caller keeps no output value past the next run (a training step reads its
// losses and gradients before running again); an op whose output shape changes allocates.
func ReuseOutputs(g *G.ExprGraph) {
	for _, n := range g.AllNodes() {
		if op, ok := n.Op().(interface{ outSlot() **outCache }); ok {
			if s := op.outSlot(); *s == nil {
				*s = &outCache{}
			}
		}
	}
}
func (base) ReturnsPtr() bool     { return false }
func (base) CallsExtern() bool    { return false }
func (base) OverwritesInput() int { return -1 }

// gradPair is embedded by the element-wise ops whose gradient is the same op type: grad=false
// maps x -> y, grad=true maps (x, gy) -> gx, all of rank dims; the gradient is not
// differentiable again.
type gradPair struct {
	dims int
	grad bool
}

func (p gradPair) Arity() int {
	if p.grad {
		return 2
	}
	return 1
}
func (p gradPair) Type() hm.Type {
	if p.grad {
		return fnType(p.dims, p.dims, p.dims)
	}
	return fnType(p.dims, p.dims)
}
func (p gradPair) DiffWRT(n int) []bool { return []bool{!p.grad, false}[:n] }

// name is the op's name, with "Grad" appended for the gradient.
func (p gradPair) name(fwd string) string {
	if p.grad {
		return fwd + "Grad"
	}
	return fwd
}

// twin is the gradient's gradPair; an error for the gradient itself.
func (p gradPair) twin(op fmt.Stringer) (gradPair, error) {
	if p.grad {
		return p, errors.Errorf("ops: %v is not differentiable", op)
	}
	return gradPair{dims: p.dims, grad: true}, nil
}

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

func writeHash(h hash.Hash, op fmt.Stringer) { fmt.Fprint(h, op.String()) }

// fnType builds the type a → b → ... → out for tensors of the given ranks over one dtype.
func fnType(dims ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = G.TensorType{Dims: d, Of: a}
	}
	return hm.NewFnType(ts...)
}

func shapesOf(in ...G.DimSizer) ([]tensor.Shape, error) {
	out := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, errors.Errorf("input %d: want a tensor.Shape, got %T", i, d)
		}
		out[i] = s
	}
	return out, nil
}

// denseInputs checks arity and dtypes and returns the inputs as contiguous dense tensors.
func denseInputs(op G.Op, inputs []G.Value) ([]*tensor.Dense, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("ops: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	ts := make([]*tensor.Dense, len(inputs))
	for i, v := range inputs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("ops: %v: input %d is a %T, want *tensor.Dense", op, i, v)
		}
		if d.RequiresIterator() {
			m, ok := d.Materialize().(*tensor.Dense)
			if !ok {
				return nil, errors.Errorf("ops: %v: input %d cannot be materialized", op, i)
			}
			d = m
		}
		if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return nil, errors.Errorf("ops: %v: input %d has dtype %v, want Float32 or Float64", op, i, dt)
		}
		if i > 0 && d.Dtype() != ts[0].Dtype() {
			return nil, errors.Errorf("ops: %v: input %d has dtype %v, input 0 has %v", op, i, d.Dtype(), ts[0].Dtype())
		}
		ts[i] = d
	}
	return ts, nil
}

func inferFrom(op G.Op, in []*tensor.Dense) (tensor.Shape, error) {
	ds := make([]G.DimSizer, len(in))
	for i, t := range in {
		ds[i] = t.Shape()
	}
	return op.InferShape(ds...)
}

// doOp implements Do: a new output tensor.
func doOp(op kernelOp, inputs []G.Value) (G.Value, error) {
	in, err := denseInputs(op, inputs)
	if err != nil {
		return nil, err
	}
	s, err := inferFrom(op, in)
	if err != nil {
		return nil, err
	}
	var out *tensor.Dense
	var slot *outCache
	if o, ok := op.(interface{ outSlot() **outCache }); ok {
		slot = *o.outSlot()
	}
	if slot != nil && slot.t != nil && slot.t.Dtype() == in[0].Dtype() && slot.t.Shape().Eq(s) && !slot.t.RequiresIterator() {
		out = slot.t
		for _, t := range in {
			if t.Uintptr() == out.Uintptr() {
				out = nil
				break
			}
		}
	}
	if out == nil {
		out = tensor.New(tensor.Of(in[0].Dtype()), tensor.WithShape(s...))
		if slot != nil {
			slot.t = out
		}
	}
	if err := op.exec(out, in); err != nil {
		return nil, err
	}
	return out, nil
}

// preallocOp implements UsePreallocDo: writes into prealloc when it has the right shape and
// dtype and is not one of the inputs.
func preallocOp(op kernelOp, prealloc G.Value, inputs []G.Value) (G.Value, error) {
	in, err := denseInputs(op, inputs)
	if err != nil {
		return nil, err
	}
	s, err := inferFrom(op, in)
	if err != nil {
		return nil, err
	}
	out, ok := prealloc.(*tensor.Dense)
	if !ok || out.Dtype() != in[0].Dtype() || !out.Shape().Eq(s) || out.RequiresIterator() {
		return nil, errors.Errorf("ops: %v: cannot use preallocated %v, want %v %v", op, prealloc.Shape(), in[0].Dtype(), s)
	}
	for _, t := range in {
		if t.Uintptr() == out.Uintptr() {
			return nil, errors.Errorf("ops: %v: preallocated output aliases an input", op)
		}
	}
	if err := op.exec(out, in); err != nil {
		return nil, err
	}
	return out, nil
}

// data returns the elements of a contiguous dense tensor.
func data[T float](t *tensor.Dense) []T {
	return t.Data().([]T)[:t.Shape().TotalSize()]
}

// run dispatches a kernel on the dtype of out.
func run(out *tensor.Dense, f32 func(), f64 func()) error {
	switch out.Dtype() {
	case tensor.Float32:
		f32()
	case tensor.Float64:
		f64()
	default:
		return errors.Errorf("ops: unsupported dtype %v", out.Dtype())
	}
	return nil
}

// nchw reads the four dimensions of a rank-4 shape.
func nchw(s tensor.Shape) (b, c, h, w int) { return s[0], s[1], s[2], s[3] }

func wantDims(op fmt.Stringer, what string, s tensor.Shape, dims int) error {
	if s.Dims() != dims {
		return errors.Errorf("ops: %v: %s has shape %v, want %d dimensions", op, what, s, dims)
	}
	return nil
}

// constMask records which inputs are constants (nodes made by gorgonia.NewConstant): ops build
// no gradient for them, so a graph does not compute, for example, the gradient of a conv with
// respect to a constant image.
type constMask uint8

func constants(children ...*G.Node) constMask {
	var m constMask
	for i, c := range children {
		if c != nil && isConstant(c) {
			m |= 1 << i
		}
	}
	return m
}

// isConstant reports whether n was made by gorgonia.NewConstant (its op is one of gorgonia's
// unexported constant ops, which are the ops with a Value method) or is marked by NoGradient.
func isConstant(n *G.Node) bool {
	if _, ok := n.Op().(interface{ Value() G.Value }); ok {
		return true
	}
	noGrad.Lock()
	defer noGrad.Unlock()
	return noGrad.m[n]
}

// noGrad holds the nodes marked by NoGradient.
var noGrad = struct {
	sync.Mutex
	m map[*G.Node]bool
}{m: map[*G.Node]bool{}}

// NoGradient marks nodes whose gradient no graph will ask for (the discriminator's weights in
// a generator step, input images): ops of this package built while they are marked treat them
// as constants and build no gradient for them, so that gorgonia.Grad does not add, for
// example, the weight gradients of the discriminator's convolutions to a generator step. The
// returned function removes the marks; call it once the graph's gradients are built.
func NoGradient(nodes ...*G.Node) (unmark func()) {
	noGrad.Lock()
	defer noGrad.Unlock()
	for _, n := range nodes {
		noGrad.m[n] = true
	}
	return func() {
		noGrad.Lock()
		defer noGrad.Unlock()
		for _, n := range nodes {
			delete(noGrad.m, n)
		}
	}
}

// wants reports whether input i needs a gradient.
func (m constMask) wants(i int) bool { return m&(1<<i) == 0 }

// diffWRT returns which of n inputs are differentiable.
func (m constMask) diffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = m.wants(i)
	}
	return d
}

func apply(op G.Op, name string, children ...*G.Node) (*G.Node, error) {
	for i, c := range children {
		if c == nil {
			return nil, errors.Errorf("ops: %s: input %d is nil", name, i)
		}
	}
	n, err := G.ApplyOp(op, children...)
	if err != nil {
		if c := errors.Cause(err); strings.HasPrefix(c.Error(), "ops: ") {
			return nil, c // our own shape error, without gorgonia's wrapping
		}
		return nil, errors.Wrapf(err, "ops: %s", name)
	}
	return n, nil
}
