package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type convMode int

const (
	conv2dFwd         convMode = iota // (x, w) -> y: Conv2d
	conv2dBackData                    // (gy, w) -> gx
	conv2dBackFilter                  // (x, gy) -> gw
	convT2xFwd                        // (x, w) -> y: ConvTranspose2x
	convT2xBackData                   // (gy, w) -> gx
	convT2xBackFilter                 // (x, gy) -> gw
)

var convModeNames = [...]string{"Conv2d", "Conv2dBackData", "Conv2dBackFilter", "ConvTranspose2x", "ConvTranspose2xBackData", "ConvTranspose2xBackFilter"}

// convOp is the family of convolutions and their gradients. pad is used by the Conv2d modes.
type convOp struct {
	base
	mode   convMode
	pad    int
	consts constMask
}

// Conv2d returns the cross-correlation of x [B,Cin,H,W] with w [Cout,Cin,k,k] (PyTorch conv2d,
// stride 1, zero padding pad): [B,Cout,H+2pad-k+1,W+2pad-k+1].
func Conv2d(x, w *G.Node, pad int) (*G.Node, error) {
	if pad < 0 {
		return nil, errors.Errorf("ops: Conv2d: negative padding %d", pad)
	}
	return apply(&convOp{mode: conv2dFwd, pad: pad, consts: constants(x, w)}, "Conv2d", x, w)
}

// ConvTranspose2x returns PyTorch's conv_transpose2d(x, w, stride=2, padding=1) of
// x [B,Cin,H,W] with w [Cin,Cout,4,4]: [B,Cout,2H,2W] (StyleGAN's fused upsample-conv).
func ConvTranspose2x(x, w *G.Node) (*G.Node, error) {
	return apply(&convOp{mode: convT2xFwd, pad: 1, consts: constants(x, w)}, "ConvTranspose2x", x, w)
}

func (op *convOp) String() string {
	if op.mode <= conv2dBackFilter {
		return fmt.Sprintf("%s{pad=%d}", convModeNames[op.mode], op.pad)
	}
	return convModeNames[op.mode]
}
func (op *convOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *convOp) Hashcode() uint32      { return hashOf(op) }
func (op *convOp) Arity() int            { return 2 }
func (op *convOp) Type() hm.Type         { return fnType(4, 4, 4) }

// dims holds the sizes of one convolution: in = [B,C,H,W], out = [B,Cout,Ho,Wo], kernel k.
type convDims struct{ b, c, h, w, cout, ho, wo, k int }

// dims works out the convolution sizes from the op's two input shapes and checks them.
func (op *convOp) dims(a, b tensor.Shape) (d convDims, err error) {
	if err = wantDims(op, "input 0", a, 4); err != nil {
		return
	}
	if err = wantDims(op, "input 1", b, 4); err != nil {
		return
	}
	bad := func(format string, args ...any) error {
		return errors.Errorf("ops: %v: shapes %v and %v: %s", op, a, b, fmt.Sprintf(format, args...))
	}
	p := op.pad
	switch op.mode {
	case conv2dFwd, conv2dBackData:
		// a is x [B,C,H,W] (fwd) or gy [B,Cout,Ho,Wo] (back data); b is w [Cout,C,k,k].
		d.cout, d.c, d.k = b[0], b[1], b[2]
		if b[3] != d.k {
			return d, bad("kernel is not square")
		}
		if op.mode == conv2dFwd {
			d.b, d.h, d.w = a[0], a[2], a[3]
			if a[1] != d.c {
				return d, bad("input has %d channels, weight wants %d", a[1], d.c)
			}
			d.ho, d.wo = d.h+2*p-d.k+1, d.w+2*p-d.k+1
		} else {
			d.b, d.ho, d.wo = a[0], a[2], a[3]
			if a[1] != d.cout {
				return d, bad("gradient has %d channels, weight has %d outputs", a[1], d.cout)
			}
			d.h, d.w = d.ho-2*p+d.k-1, d.wo-2*p+d.k-1
		}
	case conv2dBackFilter:
		d.b, d.c, d.h, d.w = nchw(a)
		d.cout, d.ho, d.wo = b[1], b[2], b[3]
		if b[0] != d.b {
			return d, bad("batch sizes differ")
		}
		d.k = d.h + 2*p - d.ho + 1
		if d.w+2*p-d.wo+1 != d.k {
			return d, bad("kernel is not square")
		}
	case convT2xFwd, convT2xBackData:
		// b is w [Cin,Cout,4,4]; c/h/w describe the transposed conv's input x [B,Cin,H,W].
		d.c, d.cout, d.k = b[0], b[1], 4
		if b[2] != 4 || b[3] != 4 {
			return d, bad("weight must be [Cin,Cout,4,4]")
		}
		if op.mode == convT2xFwd {
			d.b, d.h, d.w = a[0], a[2], a[3]
			if a[1] != d.c {
				return d, bad("input has %d channels, weight wants %d", a[1], d.c)
			}
		} else {
			d.b, d.h, d.w = a[0], a[2]/2, a[3]/2
			if a[1] != d.cout || a[2]%2 != 0 || a[3]%2 != 0 {
				return d, bad("gradient must be [B,%d,even,even]", d.cout)
			}
		}
		d.ho, d.wo = 2*d.h, 2*d.w
	case convT2xBackFilter:
		d.b, d.c, d.h, d.w = nchw(a)
		d.cout, d.ho, d.wo, d.k = b[1], b[2], b[3], 4
		if b[0] != d.b || d.ho != 2*d.h || d.wo != 2*d.w {
			return d, bad("gradient must be [%d,Cout,%d,%d]", d.b, 2*d.h, 2*d.w)
		}
	}
	if d.k < 1 || d.h < 1 || d.w < 1 || d.ho < 1 || d.wo < 1 || d.c < 1 || d.cout < 1 {
		return d, bad("empty or negative size")
	}
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
	case conv2dFwd, convT2xFwd:
		return tensor.Shape{d.b, d.cout, d.ho, d.wo}, nil
	case conv2dBackData, convT2xBackData:
		return tensor.Shape{d.b, d.c, d.h, d.w}, nil
	case conv2dBackFilter:
		return tensor.Shape{d.cout, d.c, d.k, d.k}, nil
	default: // convT2xBackFilter
		return tensor.Shape{d.c, d.cout, 4, 4}, nil
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
	return run(out,
		func() { convExec(op.mode, op.pad, d, data[float32](in[0]), data[float32](in[1]), data[float32](out)) },
		func() { convExec(op.mode, op.pad, d, data[float64](in[0]), data[float64](in[1]), data[float64](out)) })
}

func convExec[T float](mode convMode, pad int, d convDims, a, b, out []T) {
	switch mode {
	case conv2dFwd:
		conv2d(out, a, b, d.b, d.c, d.h, d.w, d.cout, d.k, pad)
	case conv2dBackData:
		if useWinograd(d.cout, d.ho, d.wo, d.c, d.k, pad, false) {
			// gx = gy ⋆ flip(wᵀ): again a 3×3 pad-1 convolution.
			wt := getBuf[T](d.c * d.cout * 9)
			defer putBuf(wt)
			flipTranspose(*wt, b, d.cout, d.c)
			winogradConv2d(out, a, *wt, nil, d.b, d.cout, d.ho, d.wo, d.c)
			return
		}
		convBackData(conv2dGeom(d.c, d.h, d.w, d.k, pad), d.cout, d.b, a, b, out)
	case conv2dBackFilter:
		if useWinograd(d.c, d.h, d.w, d.cout, d.k, pad, false) {
			winogradBackFilter(out, a, b, d.b, d.c, d.h, d.w, d.cout)
			return
		}
		convBackFilter(conv2dGeom(d.c, d.h, d.w, d.k, pad), d.cout, d.b, a, b, out)
	case convT2xFwd:
		convT2x(out, a, b, d.b, d.c, d.h, d.w, d.cout)
	case convT2xBackData:
		convForward(convT2xGeom(d.cout, d.h, d.w), d.c, d.b, a, b, out)
	case convT2xBackFilter:
		// The transposed conv is the adjoint of a conv from its output to its input, whose
		// "input" image is gy and whose "output gradient" is x.
		convBackFilter(convT2xGeom(d.cout, d.h, d.w), d.c, d.b, b, a, out)
	}
}

// flipTranspose writes wt[c][o][u][v] = w[o][c][2-u][2-v] for 3×3 kernels.
func flipTranspose[T float](wt, w []T, cout, cin int) {
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			src := w[(o*cin+c)*9 : (o*cin+c)*9+9]
			dst := wt[(c*cout+o)*9 : (c*cout+o)*9+9]
			for i := 0; i < 9; i++ {
				dst[i] = src[8-i]
			}
		}
	}
}

func (op *convOp) DiffWRT(n int) []bool {
	if op.mode != conv2dFwd && op.mode != convT2xFwd {
		return make([]bool, n)
	}
	return op.consts.diffWRT(n)
}

func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("ops: %v: %d inputs, want 2", op, len(inputs))
	}
	data, filter := conv2dBackData, conv2dBackFilter
	switch op.mode {
	case conv2dFwd:
	case convT2xFwd:
		data, filter = convT2xBackData, convT2xBackFilter
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
		if grads[1], err = apply(&convOp{mode: filter, pad: op.pad}, op.String()+" grad w", x, grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
