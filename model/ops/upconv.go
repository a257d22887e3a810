package ops

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

// Upsample2xConv2d returns Conv2d(Upsample2x(x), w, 1) for x [B,Cin,H,W] and a 3×3 weight
// w [Cout,Cin,3,3]: [B,Cout,2H,2W]. From 32×32 inputs up (from 16×16 in training graphs, see
// trainUpConv) it is computed as one transposed convolution of x, without the upsampled image. (This is exactly the unfused Upsample +
// Conv2d, not rosinality's "fused" kernel, which differs by a flip and a factor 1/4.)
func Upsample2xConv2d(x, w *G.Node) (*G.Node, error) {
	if w == nil {
		return nil, errors.New("ops: Upsample2xConv2d: input 1 is nil")
	}
	if x != nil && x.Dims() == 4 && x.Shape()[2]*x.Shape()[3] < upConvMinHW && !trainUpConv(x, w) {
		// Small inputs: the transposed conv's weight transforms (36·Cin·Cout per run) and its
		// small GEMMs cost more than they save (BenchmarkUpsampleConv: 0.7x at 16×16 input).
		u, err := Upsample2x(x)
		if err != nil {
			return nil, err
		}
		return Conv2d(u, w, 1)
	}
	if t := frozenTensor(w); t != nil && w.Dims() == 4 {
		// Inference: a frozen weight never changes, so its 4×4 weight (and, in ConvTranspose2x,
		// that weight's transforms) is computed once, not on every run.
		if up := frozenUpWeight(t); up != nil {
			w4 := G.NewTensor(w.Graph(), up.Dtype(), 4, G.WithShape(up.Shape()...), G.WithName(w.Name()+"/up4x4"), G.WithValue(up))
			return ConvTranspose2x(x, w4)
		}
	}
	w4, err := apply(&upWeightOp{consts: constants(w)}, "Upsample2xConv2d", w)
	if err != nil {
		return nil, err
	}
	return ConvTranspose2x(x, w4)
}

// trainUpConv reports whether a training graph's Upsample2xConv2d below upConvMinHW still
// takes the transposed conv: float32, a weight that is not frozen, and a shape that the
// batch-split training paths take (convTBatch forward, down2xBatch gradients). The forward
// pass and both gradients are then 1.45x Upsample2x + Conv2d's at the trainer's 16² → 32²
// (64 → 32 channels, B=16; 1.6x at 32² → 64², BenchmarkUpsampleConvTrain).
func trainUpConv(x, w *G.Node) bool {
	if x.Dtype() != tensor.Float32 || w.Dims() != 4 || frozenTensor(w) != nil {
		return false
	}
	s := x.Shape()
	return kernels.UseConvTTrain(s[0], s[1], s[2], s[3], w.Shape()[0])
}

// upConvMinHW is the input size (H·W) from which Upsample2xConv2d builds one transposed conv
// rather than Upsample2x + Conv2d: 1.3-1.5x faster at 32×32 input, 0.7x at 16×16 (512
// channels, gonum and OpenBLAS).
var upConvMinHW = 1024

// upWeightOp maps a 3×3 weight to the ConvTranspose2x weight of Upsample2xConv2d (or back,
// adjoint=true, for its gradient).
type upWeightOp struct {
	base
	adjoint bool
	consts  constMask
}

func (op *upWeightOp) String() string {
	if op.adjoint {
		return "UpConvWeightGrad"
	}
	return "UpConvWeight"
}
func (op *upWeightOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *upWeightOp) Hashcode() uint32      { return hashOf(op) }
func (op *upWeightOp) Arity() int            { return 1 }
func (op *upWeightOp) Type() hm.Type         { return fnType(4, 4) }
func (op *upWeightOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "weight", s[0], 4); err != nil {
		return nil, err
	}
	if op.adjoint {
		if s[0][2] != 4 || s[0][3] != 4 {
			return nil, errors.Errorf("ops: %v: weight %v, want [Cin,Cout,4,4]", op, s[0])
		}
		return tensor.Shape{s[0][1], s[0][0], 3, 3}, nil
	}
	if s[0][2] != 3 || s[0][3] != 3 {
		return nil, errors.Errorf("ops: %v: weight %v, want [Cout,Cin,3,3]", op, s[0])
	}
	return tensor.Shape{s[0][1], s[0][0], 4, 4}, nil
}
func (op *upWeightOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *upWeightOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *upWeightOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	cout, cin := s[0], s[1] // forward: [Cout,Cin,3,3]
	if op.adjoint {
		cin, cout = s[0], s[1] // adjoint: [Cin,Cout,4,4]
	}
	return run(out,
		func() { kernels.UpWeight(data[float32](out), data[float32](in[0]), cout, cin, op.adjoint) },
		func() { kernels.UpWeight(data[float64](out), data[float64](in[0]), cout, cin, op.adjoint) })
}
func (op *upWeightOp) DiffWRT(n int) []bool {
	return []bool{!op.adjoint && op.consts.wants(0)}[:n]
}
func (op *upWeightOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.adjoint {
		return nil, errors.Errorf("ops: %v is not differentiable", op)
	}
	g, err := apply(&upWeightOp{adjoint: true}, "Upsample2xConv2d grad w", grad)
	return G.Nodes{g}, err
}
