package ops

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A 3×3 pad-1 convolution of a nearest-upsampled image only mixes, for output row 2i+a, the
// input rows i+a-1 and i+a, with the kernel rows summed as {w0 | w1+w2} (a=0) or {w0+w1 | w2}
// (a=1), and the same along columns. That is a ConvTranspose2x whose 4×4 kernel has, along each
// axis, the taps (w2, w1+w2, w0+w1, w0): upWeight builds it, and Upsample2xConv2d runs it with
// the Winograd F(2×2,2×2) transposed convolution, 9 multiplies per input pixel where the
// Winograd 3×3 conv of the upsampled image needs 16.

// upTaps[u'] lists the 3×3 kernel rows summed into row u' of the 4×4 transposed kernel.
var upTaps = [4][]int{{2}, {1, 2}, {0, 1}, {0}}

// upWeight writes w4 [Cin,Cout,4,4] from w [Cout,Cin,3,3] (adjoint=false), or the adjoint:
// dw [Cout,Cin,3,3] from dw4 [Cin,Cout,4,4] (adjoint=true).
func upWeight[T float](dst, src []T, cout, cin int, adjoint bool) {
	if adjoint {
		clear(dst[:cout*cin*9])
	}
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			k3 := (o*cin + c) * 9
			k4 := (c*cout + o) * 16
			for u4, us := range upTaps {
				for v4, vs := range upTaps {
					if !adjoint {
						var s T
						for _, u := range us {
							for _, v := range vs {
								s += src[k3+u*3+v]
							}
						}
						dst[k4+u4*4+v4] = s
						continue
					}
					g := src[k4+u4*4+v4]
					for _, u := range us {
						for _, v := range vs {
							dst[k3+u*3+v] += g
						}
					}
				}
			}
		}
	}
}

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
	return useConvTTrain(s[0], s[1], s[2], s[3], w.Shape()[0])
}

// upConvMinHW is the input size (H·W) from which Upsample2xConv2d builds one transposed conv
// rather than Upsample2x + Conv2d: 1.3-1.5x faster at 32×32 input, 0.7x at 16×16 (512
// channels, gonum and OpenBLAS).
var upConvMinHW = 1024

// Upsample2xConv2dF32 computes Conv2dF32 of the nearest-upsampled x [B,Cin,H,W] with a 3×3,
// pad-1 weight w [Cout,Cin,3,3] into dst [B,Cout,2H,2W], without materializing the upsampled
// image.
func Upsample2xConv2dF32(dst, x, w []float32, B, Cin, H, W, Cout int) {
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("w", len(w), Cout*Cin*9)
	checkLen("dst", len(dst), B*Cout*4*H*W)
	w4p := getBuf[float32](Cin * Cout * 16)
	defer putBuf(w4p)
	upWeight(*w4p, w, Cout, Cin, false)
	convT2x(dst, x, *w4p, B, Cin, H, W, Cout)
}

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
		func() { upWeight(data[float32](out), data[float32](in[0]), cout, cin, op.adjoint) },
		func() { upWeight(data[float64](out), data[float64](in[0]), cout, cin, op.adjoint) })
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
