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

type reduceKind int

const (
	reducePlaneSum   reduceKind = iota // g [B,C,H,W] -> [B,C]: Σ_hw g
	reducePlaneDot                     // (g, x) [B,C,H,W] -> [B,C]: Σ_hw g·x
	reduceChannelSum                   // g [B,C,H,W] -> [C]: Σ_b,hw g
	reduceChannelDot                   // (g [B,C,H,W], noise [B|1,1,H,W]) -> [C]: Σ_b,hw g·noise
	reduceNoise                        // (g [B,C,H,W], strength [C]) -> noise shape: Σ_c g·strength (Σ_b too for batch-1 noise)
)

var reduceNames = [...]string{"PlaneSum", "PlaneDot", "ChannelSum", "ChannelNoiseDot", "NoiseGrad"}

// reduceOp holds the reductions that make up the gradients of Modulate, AddBias and AddNoise.
// noiseBatch is the batch size of the noise for reduceNoise.
type reduceOp struct {
	base
	kind       reduceKind
	noiseBatch int
}

func (op *reduceOp) String() string {
	if op.kind == reduceNoise {
		return fmt.Sprintf("%s{batch=%d}", reduceNames[op.kind], op.noiseBatch)
	}
	return reduceNames[op.kind]
}
func (op *reduceOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *reduceOp) Hashcode() uint32      { return hashOf(op) }
func (op *reduceOp) Arity() int {
	if op.kind == reducePlaneSum || op.kind == reduceChannelSum {
		return 1
	}
	return 2
}
func (op *reduceOp) Type() hm.Type {
	switch op.kind {
	case reducePlaneSum:
		return fnType(4, 2)
	case reducePlaneDot:
		return fnType(4, 4, 2)
	case reduceChannelSum:
		return fnType(4, 1)
	case reduceChannelDot:
		return fnType(4, 4, 1)
	default:
		return fnType(4, 1, 4)
	}
}
func (op *reduceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "input 0", s[0], 4); err != nil {
		return nil, err
	}
	b, c, h, w := nchw(s[0])
	switch op.kind {
	case reducePlaneSum:
		return tensor.Shape{b, c}, nil
	case reducePlaneDot:
		if !s[1].Eq(s[0]) {
			return nil, errors.Errorf("ops: %v: shapes %v and %v differ", op, s[0], s[1])
		}
		return tensor.Shape{b, c}, nil
	case reduceChannelSum:
		return tensor.Shape{c}, nil
	case reduceChannelDot:
		if err := checkNoise(op, s[0], s[1]); err != nil {
			return nil, err
		}
		return tensor.Shape{c}, nil
	default:
		if !s[1].Eq(tensor.Shape{c}) {
			return nil, errors.Errorf("ops: %v: strength %v, want [%d]", op, s[1], c)
		}
		if op.noiseBatch != 1 && op.noiseBatch != b {
			return nil, errors.Errorf("ops: %v: noise batch %d for data batch %d", op, op.noiseBatch, b)
		}
		return tensor.Shape{op.noiseBatch, 1, h, w}, nil
	}
}
func (op *reduceOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *reduceOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *reduceOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	shapes := make([]tensor.Shape, len(in))
	for i, t := range in {
		shapes[i] = t.Shape()
	}
	return run(out,
		func() { reduceExec(op, shapes, data[float32](out), dataAll[float32](in)) },
		func() { reduceExec(op, shapes, data[float64](out), dataAll[float64](in)) })
}

func dataAll[T float](in []*tensor.Dense) [][]T {
	d := make([][]T, len(in))
	for i, t := range in {
		d[i] = data[T](t)
	}
	return d
}

func reduceExec[T float](op *reduceOp, shapes []tensor.Shape, out []T, in [][]T) {
	b, c, h, w := nchw(shapes[0])
	g := in[0]
	switch op.kind {
	case reducePlaneSum:
		kernels.PlaneSum(out, g, nil, b*c, h*w)
	case reducePlaneDot:
		kernels.PlaneSum(out, g, in[1], b*c, h*w)
	case reduceChannelSum:
		kernels.ChannelSum(out, g, nil, b, c, h*w, false)
	case reduceChannelDot:
		kernels.ChannelSum(out, g, in[1], b, c, h*w, shapes[1][0] == b)
	case reduceNoise:
		kernels.NoiseGrad(out, g, in[1], b, c, h*w, op.noiseBatch == b)
	}
}

func (op *reduceOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *reduceOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}
