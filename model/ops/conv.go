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

// convOp is the family of convolutions and their gradients. pad is used by the Conv2d modes.
type convOp struct {
	base
	mode   kernels.ConvMode
	pad    int
	consts constMask
	// cols, shared by a forward op and its weight-gradient op, passes the forward pass's
	// im2col matrices to the weight gradient, which would otherwise build them again.
	cols *kernels.ColCache
}

// Conv2d returns the cross-correlation of x [B,Cin,H,W] with w [Cout,Cin,k,k] (PyTorch conv2d,
// stride 1, zero padding pad): [B,Cout,H+2pad-k+1,W+2pad-k+1].
func Conv2d(x, w *G.Node, pad int) (*G.Node, error) {
	if pad < 0 {
		return nil, errors.Errorf("ops: Conv2d: negative padding %d", pad)
	}
	return apply(&convOp{mode: kernels.Conv2dForward, pad: pad, consts: constants(x, w)}, "Conv2d", x, w)
}

// ConvTranspose2x returns PyTorch's conv_transpose2d(x, w, stride=2, padding=1) of
// x [B,Cin,H,W] with w [Cin,Cout,4,4]: [B,Cout,2H,2W] (StyleGAN's fused upsample-conv).
func ConvTranspose2x(x, w *G.Node) (*G.Node, error) {
	return apply(&convOp{mode: kernels.ConvT2xForward, pad: 1, consts: constants(x, w)}, "ConvTranspose2x", x, w)
}

// Conv2dDown2x returns Downsample2x(Conv2d(x, w, 1)) for x [B,Cin,H,W] (H and W even) and a
// 3×3 weight w [Cout,Cin,3,3]: [B,Cout,H/2,W/2]. It is computed as one stride-2 convolution
// with the 4×4 kernel w4[u'][v'] = ¼ Σ w[u][v] over u ≤ u' ≤ u+1, v ≤ v' ≤ v+1 (the 3×3 kernel
// convolved with the 2×2 box), pad 1: 4·16 multiplies per output pixel instead of 4·9 at the
// full resolution.
func Conv2dDown2x(x, w *G.Node) (*G.Node, error) {
	return apply(&convOp{mode: kernels.Down2xForward, pad: 1, consts: constants(x, w)}, "Conv2dDown2x", x, w)
}

func (op *convOp) String() string {
	if op.mode <= kernels.Conv2dBackFilter {
		return fmt.Sprintf("%v{pad=%d}", op.mode, op.pad)
	}
	return op.mode.String()
}
func (op *convOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *convOp) Hashcode() uint32      { return hashOf(op) }
func (op *convOp) Arity() int            { return 2 }
func (op *convOp) Type() hm.Type         { return fnType(4, 4, 4) }

// dims works out the convolution sizes from the op's two input shapes and checks them.
func (op *convOp) dims(a, b tensor.Shape) (d kernels.ConvDims, err error) {
	if err = wantDims(op, "input 0", a, 4); err != nil {
		return
	}
	if err = wantDims(op, "input 1", b, 4); err != nil {
		return
	}
	switch op.mode {
	case kernels.Conv2dForward, kernels.Conv2dBackData, kernels.Conv2dBackFilter:
		d, err = op.conv2dDims(a, b)
	case kernels.ConvT2xForward, kernels.ConvT2xBackData, kernels.ConvT2xBackFilter:
		d, err = op.convT2xDims(a, b)
	case kernels.Down2xForward, kernels.Down2xBackData, kernels.Down2xBackFilter:
		d, err = op.down2xDims(a, b)
	}
	if err != nil {
		return d, err
	}
	if d.K < 1 || d.H < 1 || d.W < 1 || d.Ho < 1 || d.Wo < 1 || d.C < 1 || d.Cout < 1 {
		return d, op.badShapes(a, b, "empty or negative size")
	}
	return d, nil
}

// badShapes is the error of shapes a and b that do not fit the op.
func (op *convOp) badShapes(a, b tensor.Shape, format string, args ...any) error {
	return errors.Errorf("ops: %v: shapes %v and %v: %s", op, a, b, fmt.Sprintf(format, args...))
}

// conv2dDims is dims for the Conv2d modes.
func (op *convOp) conv2dDims(a, b tensor.Shape) (d kernels.ConvDims, err error) {
	p := op.pad
	switch op.mode {
	case kernels.Conv2dForward, kernels.Conv2dBackData:
		// a is x [B,C,H,W] (fwd) or gy [B,Cout,Ho,Wo] (back data); b is w [Cout,C,k,k].
		d.Cout, d.C, d.K = b[0], b[1], b[2]
		if b[3] != d.K {
			return d, op.badShapes(a, b, "kernel is not square")
		}
		if op.mode == kernels.Conv2dForward {
			d.B, d.H, d.W = a[0], a[2], a[3]
			if a[1] != d.C {
				return d, op.badShapes(a, b, "input has %d channels, weight wants %d", a[1], d.C)
			}
			d.Ho, d.Wo = d.H+2*p-d.K+1, d.W+2*p-d.K+1
		} else {
			d.B, d.Ho, d.Wo = a[0], a[2], a[3]
			if a[1] != d.Cout {
				return d, op.badShapes(a, b, "gradient has %d channels, weight has %d outputs", a[1], d.Cout)
			}
			d.H, d.W = d.Ho-2*p+d.K-1, d.Wo-2*p+d.K-1
		}
	default: // kernels.Conv2dBackFilter
		d.B, d.C, d.H, d.W = nchw(a)
		d.Cout, d.Ho, d.Wo = b[1], b[2], b[3]
		if b[0] != d.B {
			return d, op.badShapes(a, b, "batch sizes differ")
		}
		d.K = d.H + 2*p - d.Ho + 1
		if d.W+2*p-d.Wo+1 != d.K {
			return d, op.badShapes(a, b, "kernel is not square")
		}
	}
	return d, nil
}

// convT2xDims is dims for the ConvTranspose2x modes.
func (op *convOp) convT2xDims(a, b tensor.Shape) (d kernels.ConvDims, err error) {
	if op.mode == kernels.ConvT2xBackFilter {
		d.B, d.C, d.H, d.W = nchw(a)
		d.Cout, d.Ho, d.Wo, d.K = b[1], b[2], b[3], 4
		if b[0] != d.B || d.Ho != 2*d.H || d.Wo != 2*d.W {
			return d, op.badShapes(a, b, "gradient must be [%d,Cout,%d,%d]", d.B, 2*d.H, 2*d.W)
		}
		return d, nil
	}
	// b is w [Cin,Cout,4,4]; c/h/w describe the transposed conv's input x [B,Cin,H,W].
	d.C, d.Cout, d.K = b[0], b[1], 4
	if b[2] != 4 || b[3] != 4 {
		return d, op.badShapes(a, b, "weight must be [Cin,Cout,4,4]")
	}
	if op.mode == kernels.ConvT2xForward {
		d.B, d.H, d.W = a[0], a[2], a[3]
		if a[1] != d.C {
			return d, op.badShapes(a, b, "input has %d channels, weight wants %d", a[1], d.C)
		}
	} else {
		d.B, d.H, d.W = a[0], a[2]/2, a[3]/2
		if a[1] != d.Cout || a[2]%2 != 0 || a[3]%2 != 0 {
			return d, op.badShapes(a, b, "gradient must be [B,%d,even,even]", d.Cout)
		}
	}
	d.Ho, d.Wo = 2*d.H, 2*d.W
	return d, nil
}

// down2xDims is dims for the Conv2dDown2x modes.
func (op *convOp) down2xDims(a, b tensor.Shape) (d kernels.ConvDims, err error) {
	if op.mode == kernels.Down2xBackFilter {
		d.B, d.C, d.H, d.W = nchw(a)
		d.Cout, d.Ho, d.Wo, d.K = b[1], b[2], b[3], 3
		if b[0] != d.B || d.H != 2*d.Ho || d.W != 2*d.Wo {
			return d, op.badShapes(a, b, "gradient must be [%d,Cout,%d,%d]", d.B, d.H/2, d.W/2)
		}
		return d, nil
	}
	// a is x [B,C,H,W] (fwd) or gy [B,Cout,H/2,W/2] (back data); b is w [Cout,C,3,3].
	d.Cout, d.C, d.K = b[0], b[1], 3
	if b[2] != 3 || b[3] != 3 {
		return d, op.badShapes(a, b, "weight must be [Cout,Cin,3,3]")
	}
	if op.mode == kernels.Down2xBackData {
		d.B, d.Ho, d.Wo = a[0], a[2], a[3]
		if a[1] != d.Cout {
			return d, op.badShapes(a, b, "gradient has %d channels, weight has %d outputs", a[1], d.Cout)
		}
		d.H, d.W = 2*d.Ho, 2*d.Wo
		return d, nil
	}
	d.B, d.H, d.W = a[0], a[2], a[3]
	if a[1] != d.C {
		return d, op.badShapes(a, b, "input has %d channels, weight wants %d", a[1], d.C)
	}
	if d.H%2 != 0 || d.W%2 != 0 {
		return d, op.badShapes(a, b, "height and width must be even")
	}
	d.Ho, d.Wo = d.H/2, d.W/2
	return d, nil
}

func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("ops: %v: %d inputs, want 2", op, len(s))
	}
	d, err := op.dims(s[0], s[1])
	if err != nil {
		return nil, err
	}
	switch op.mode {
	case kernels.Conv2dForward, kernels.ConvT2xForward, kernels.Down2xForward:
		return tensor.Shape{d.B, d.Cout, d.Ho, d.Wo}, nil
	case kernels.Conv2dBackData, kernels.ConvT2xBackData, kernels.Down2xBackData:
		return tensor.Shape{d.B, d.C, d.H, d.W}, nil
	case kernels.Conv2dBackFilter, kernels.Down2xBackFilter:
		return tensor.Shape{d.Cout, d.C, d.K, d.K}, nil
	default: // kernels.ConvT2xBackFilter
		return tensor.Shape{d.C, d.Cout, 4, 4}, nil
	}
}

func (op *convOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *convOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}

func (op *convOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	d, err := op.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	x := in[0].Uintptr()
	return run(out,
		func() {
			kernels.Conv(op.mode, op.pad, d, data[float32](in[0]), data[float32](in[1]), data[float32](out), op.cols, x)
		},
		func() {
			kernels.Conv(op.mode, op.pad, d, data[float64](in[0]), data[float64](in[1]), data[float64](out), op.cols, x)
		})
}

func (op *convOp) DiffWRT(n int) []bool {
	if op.mode != kernels.Conv2dForward && op.mode != kernels.ConvT2xForward && op.mode != kernels.Down2xForward {
		return make([]bool, n)
	}
	return op.consts.diffWRT(n)
}

func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("ops: %v: %d inputs, want 2", op, len(inputs))
	}
	data, filter := kernels.Conv2dBackData, kernels.Conv2dBackFilter
	switch op.mode {
	case kernels.Conv2dForward:
	case kernels.ConvT2xForward:
		data, filter = kernels.ConvT2xBackData, kernels.ConvT2xBackFilter
	case kernels.Down2xForward:
		data, filter = kernels.Down2xBackData, kernels.Down2xBackFilter
	default:
		return nil, errors.Errorf("ops: %v is not differentiable", op)
	}
	x, w := inputs[0], inputs[1]
	grads := make(G.Nodes, 2)
	var err error
	if op.consts.wants(0) {
		if grads[0], err = apply(&convOp{mode: data, pad: op.pad}, op.String()+" grad x", grad, w); err != nil {
			return nil, err
		}
	}
	if op.consts.wants(1) {
		var cc *kernels.ColCache
		if op.mode != kernels.ConvT2xForward {
			if op.cols == nil {
				op.cols = &kernels.ColCache{}
			}
			cc = op.cols
		}
		if grads[1], err = apply(&convOp{mode: filter, pad: op.pad, cols: cc}, op.String()+" grad w", x, grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
