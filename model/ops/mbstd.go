package ops

import (
	"fmt"
	"hash"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

// ---- MinibatchStddev ----

type mbstdOp struct {
	base
	gradPair
	group int
}

// MinibatchStddev appends to x [B,C,H,W] one feature map holding, for each group of samples,
// the mean over C,H,W of the stddev over the group (NVlabs minibatch_stddev_layer with
// num_new_features=1, eps 1e-8): [B,C+1,H,W]. As in NVlabs' code the group size is
// min(group, B), B must be a multiple of it, and sample b belongs to group b mod (B/group).
func MinibatchStddev(x *G.Node, group int) (*G.Node, error) {
	if x == nil {
		return nil, errors.New("ops: MinibatchStddev: input is nil")
	}
	return apply(&mbstdOp{group: group, gradPair: gradPair{dims: 4}}, "MinibatchStddev", x)
}

func (op *mbstdOp) String() string {
	return fmt.Sprintf("%s{group=%d}", op.name("MinibatchStddev"), op.group)
}
func (op *mbstdOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *mbstdOp) Hashcode() uint32      { return hashOf(op) }
func (op *mbstdOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	b, c, h, w := nchw(s[0])
	if gs := kernels.MinibatchStddevGroup(op.group, b); b%gs != 0 {
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
				kernels.MinibatchStddevGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w, op.group)
			},
			func() {
				kernels.MinibatchStddevGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w, op.group)
			})
	}
	return run(out,
		func() { kernels.MinibatchStddev(data[float32](out), data[float32](in[0]), b, c, h*w, op.group) },
		func() { kernels.MinibatchStddev(data[float64](out), data[float64](in[0]), b, c, h*w, op.group) })
}
func (op *mbstdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	twin, err := op.twin(op)
	if err != nil {
		return nil, err
	}
	g, err := apply(&mbstdOp{group: op.group, gradPair: twin}, "MinibatchStddev grad", inputs[0], grad)
	return G.Nodes{g}, err
}
