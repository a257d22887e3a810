package ops

import (
	"fmt"
	"hash"
	"sync"

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
	down2xFwd                         // (x, w) -> y: Conv2dDown2x
	down2xBackData                    // (gy, w) -> gx
	down2xBackFilter                  // (x, gy) -> gw
)

var convModeNames = [...]string{"Conv2d", "Conv2dBackData", "Conv2dBackFilter", "ConvTranspose2x", "ConvTranspose2xBackData", "ConvTranspose2xBackFilter",
	"Conv2dDown2x", "Conv2dDown2xBackData", "Conv2dDown2xBackFilter"}

// convOp is the family of convolutions and their gradients. pad is used by the Conv2d modes.
type convOp struct {
	base
	mode   convMode
	pad    int
	consts constMask
	// cols, shared by a forward op and its weight-gradient op, passes the forward pass's
	// im2col matrices to the weight gradient, which would otherwise build them again.
	cols *colCache
}

// colCache holds the im2col matrices of one forward run of a convolution over x.
type colCache struct {
	mu             sync.Mutex
	buf            any     // *[]float32 or *[]float64 from getBuf
	x              uintptr // the input they were made from
	workers, group int     // the plan of the forward pass
}

// put keeps buf (returning an unused older buffer to the pool).
func colPut[T float](c *colCache, buf *[]T, x uintptr, workers, group int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.buf.(*[]T); ok {
		putBuf(old)
	}
	c.buf, c.x, c.workers, c.group = buf, x, workers, group
}

// colTake returns and forgets the matrices if they were made from x and have n elements.
func colTake[T float](c *colCache, x uintptr, n int) (buf *[]T, workers, group int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.buf.(*[]T)
	if !ok || c.x != x || len(*b) != n {
		return nil, 0, 0
	}
	c.buf = nil
	return b, c.workers, c.group
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

// Conv2dDown2x returns Downsample2x(Conv2d(x, w, 1)) for x [B,Cin,H,W] (H and W even) and a
// 3×3 weight w [Cout,Cin,3,3]: [B,Cout,H/2,W/2]. It is computed as one stride-2 convolution
// with the 4×4 kernel w4[u'][v'] = ¼ Σ w[u][v] over u ≤ u' ≤ u+1, v ≤ v' ≤ v+1 (the 3×3 kernel
// convolved with the 2×2 box), pad 1: 4·16 multiplies per output pixel instead of 4·9 at the
// full resolution.
func Conv2dDown2x(x, w *G.Node) (*G.Node, error) {
	return apply(&convOp{mode: down2xFwd, pad: 1, consts: constants(x, w)}, "Conv2dDown2x", x, w)
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
	case down2xFwd, down2xBackData:
		// a is x [B,C,H,W] (fwd) or gy [B,Cout,H/2,W/2] (back data); b is w [Cout,C,3,3].
		d.cout, d.c, d.k = b[0], b[1], 3
		if b[2] != 3 || b[3] != 3 {
			return d, bad("weight must be [Cout,Cin,3,3]")
		}
		if op.mode == down2xFwd {
			d.b, d.h, d.w = a[0], a[2], a[3]
			if a[1] != d.c {
				return d, bad("input has %d channels, weight wants %d", a[1], d.c)
			}
			if d.h%2 != 0 || d.w%2 != 0 {
				return d, bad("height and width must be even")
			}
			d.ho, d.wo = d.h/2, d.w/2
		} else {
			d.b, d.ho, d.wo = a[0], a[2], a[3]
			if a[1] != d.cout {
				return d, bad("gradient has %d channels, weight has %d outputs", a[1], d.cout)
			}
			d.h, d.w = 2*d.ho, 2*d.wo
		}
	case down2xBackFilter:
		d.b, d.c, d.h, d.w = nchw(a)
		d.cout, d.ho, d.wo, d.k = b[1], b[2], b[3], 3
		if b[0] != d.b || d.h != 2*d.ho || d.w != 2*d.wo {
			return d, bad("gradient must be [%d,Cout,%d,%d]", d.b, d.h/2, d.w/2)
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
	case conv2dFwd, convT2xFwd, down2xFwd:
		return tensor.Shape{d.b, d.cout, d.ho, d.wo}, nil
	case conv2dBackData, convT2xBackData, down2xBackData:
		return tensor.Shape{d.b, d.c, d.h, d.w}, nil
	case conv2dBackFilter, down2xBackFilter:
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
	x := in[0].Uintptr()
	return run(out,
		func() {
			convExec(op.mode, op.pad, d, data[float32](in[0]), data[float32](in[1]), data[float32](out), op.cols, x)
		},
		func() {
			convExec(op.mode, op.pad, d, data[float64](in[0]), data[float64](in[1]), data[float64](out), op.cols, x)
		})
}

// convCached runs the forward convolution of geometry g keeping its im2col matrices in cc, or
// the weight gradient with the matrices kept there for the same x (made again if they are
// missing).
func convCached[T float](fwd bool, g geom, cout, batch int, a, b, out []T, cc *colCache, x uintptr) {
	n := batch * g.rows() * g.Ho * g.Wo
	if fwd {
		if cc == nil || g.identity() {
			convForward(g, cout, batch, a, b, out)
			return
		}
		buf := getBuf[T](n)
		workers, group := convForwardCols(g, cout, batch, a, b, out, *buf)
		colPut(cc, buf, x, workers, group)
		return
	}
	if cc != nil {
		if buf, workers, group := colTake[T](cc, x, n); buf != nil {
			convBackFilterCols(g, cout, batch, a, b, out, *buf, workers, group)
			putBuf(buf)
			return
		}
	}
	convBackFilter(g, cout, batch, a, b, out)
}

func convExec[T float](mode convMode, pad int, d convDims, a, b, out []T, cc *colCache, x uintptr) {
	switch mode {
	case conv2dFwd:
		if d.k == 3 && pad == 1 && is32[T]() && useWinogradTrain(d.b, d.c, d.h, d.w, d.cout) && frozenWinograd(b, d.cout, d.c) == nil {
			// a weight that changes between runs (training): transformed on every call
			winogradBatch(as32(out), as32(a), as32(b), d.b, d.c, d.h, d.w, d.cout)
			return
		}
		if cc != nil && !(d.k == 3 && pad == 1 && useWinograd(d.c, d.h, d.w, d.cout, d.k, pad, frozenWinograd(b, d.cout, d.c) != nil)) {
			convCached(true, conv2dGeom(d.c, d.h, d.w, d.k, pad), d.cout, d.b, a, b, out, cc, x)
			return
		}
		conv2d(out, a, b, d.b, d.c, d.h, d.w, d.cout, d.k, pad)
	case conv2dBackData:
		if d.k == 3 && pad == 1 && is32[T]() && useWinogradTrain(d.b, d.cout, d.ho, d.wo, d.c) {
			winogradBackDataBatch(as32(out), as32(a), as32(b), d.b, d.c, d.h, d.w, d.cout)
			return
		}
		if useWinograd(d.cout, d.ho, d.wo, d.c, d.k, pad, false) {
			// gx = gy ⋆ flip(wᵀ): again a 3×3 pad-1 convolution.
			wt := getBuf[T](d.c * d.cout * 9)
			defer putBuf(wt)
			flipTranspose(*wt, b, d.cout, d.c)
			winogradConv2d(out, a, *wt, nil, d.b, d.cout, d.ho, d.wo, d.c)
			return
		}
		if d.k > 1 && pad <= d.k-1 {
			// gx = gy ⋆ flip(wᵀ) with padding k-1-pad: im2col of gy and one GEMM with
			// K = Cout·k·k, faster than a GEMM with K = Cout into im2col-sized columns
			// followed by col2im.
			wt := getBuf[T](d.c * d.cout * d.k * d.k)
			defer putBuf(wt)
			flipTransposeK(*wt, b, d.cout, d.c, d.k)
			convForward(conv2dGeom(d.cout, d.ho, d.wo, d.k, d.k-1-pad), d.c, d.b, a, *wt, out)
			return
		}
		convBackData(conv2dGeom(d.c, d.h, d.w, d.k, pad), d.cout, d.b, a, b, out)
	case conv2dBackFilter:
		if d.k == 3 && pad == 1 && is32[T]() && winogradTrainGradOn && useWinogradTrain(d.b, d.c, d.h, d.w, d.cout) {
			// the layers whose forward pass ran on winogradBatch
			winogradBackFilterBatch(as32(out), as32(a), as32(b), d.b, d.c, d.h, d.w, d.cout)
			return
		}
		if useWinograd(d.c, d.h, d.w, d.cout, d.k, pad, false) {
			winogradBackFilter(out, a, b, d.b, d.c, d.h, d.w, d.cout)
			return
		}
		convCached(false, conv2dGeom(d.c, d.h, d.w, d.k, pad), d.cout, d.b, a, b, out, cc, x)
	case convT2xFwd:
		if is32[T]() && useConvTTrain(d.b, d.c, d.h, d.w, d.cout) && frozenConvT(b, d.c, d.cout) == nil {
			convTBatch(as32(out), as32(a), as32(b), d.b, d.c, d.h, d.w, d.cout)
			return
		}
		convT2x(out, a, b, d.b, d.c, d.h, d.w, d.cout)
	case convT2xBackData:
		// the stride-2 4×4 convolution of gy [B,Cout,2H,2W] with w read as [Cin][Cout][4][4]
		if is32[T]() && useDown2xTrain(d.b, d.cout, 2*d.h, 2*d.w, d.c) {
			down2xBatch(as32(out), as32(a), as32(b), d.b, d.cout, 2*d.h, 2*d.w, d.c)
			return
		}
		convForward(convT2xGeom(d.cout, d.h, d.w), d.c, d.b, a, b, out)
	case convT2xBackFilter:
		// The transposed conv is the adjoint of a conv from its output to its input, whose
		// "input" image is gy and whose "output gradient" is x.
		if is32[T]() && useDown2xTrain(d.b, d.cout, 2*d.h, 2*d.w, d.c) {
			down2xBackFilterBatch(as32(out), as32(b), as32(a), d.b, d.cout, 2*d.h, 2*d.w, d.c)
			return
		}
		convBackFilter(convT2xGeom(d.cout, d.h, d.w), d.c, d.b, b, a, out)
	case down2xFwd, down2xBackData:
		w4 := getBuf[T](d.cout * d.c * 16)
		defer putBuf(w4)
		downWeight(*w4, b, d.cout*d.c)
		if mode == down2xFwd && is32[T]() && useDown2xTrain(d.b, d.c, d.h, d.w, d.cout) {
			down2xBatch(as32(out), as32(a), as32(*w4), d.b, d.c, d.h, d.w, d.cout)
		} else if mode == down2xFwd {
			convCached(true, down2xGeom(d.c, d.h, d.w), d.cout, d.b, a, *w4, out, cc, x)
		} else if is32[T]() && useConvTTrain(d.b, d.cout, d.ho, d.wo, d.c) {
			// the adjoint of the stride-2 4×4 conv: ConvTranspose2x of gy with w4 as it is
			convTBatch(as32(out), as32(a), as32(*w4), d.b, d.cout, d.ho, d.wo, d.c)
		} else {
			convBackData(down2xGeom(d.c, d.h, d.w), d.cout, d.b, a, *w4, out)
		}
	case down2xBackFilter:
		dw4 := getBuf[T](d.cout * d.c * 16)
		defer putBuf(dw4)
		if is32[T]() && useDown2xTrain(d.b, d.c, d.h, d.w, d.cout) {
			// the layers whose forward pass ran on down2xBatch
			down2xBackFilterBatch(as32(*dw4), as32(a), as32(b), d.b, d.c, d.h, d.w, d.cout)
		} else {
			convCached(false, down2xGeom(d.c, d.h, d.w), d.cout, d.b, a, b, *dw4, cc, x)
		}
		downWeightAdjoint(out, *dw4, d.cout*d.c)
	}
}

// downWeight writes the 4×4 kernels w4 [n][4][4] of Conv2dDown2x from the 3×3 kernels w [n][3][3]:
// w4[u'][v'] = ¼ Σ w[u][v] over u' - 1 ≤ u ≤ u', v' - 1 ≤ v ≤ v'.
func downWeight[T float](w4, w []T, n int) {
	for k := 0; k < n; k++ {
		g, d := w[k*9:k*9+9], w4[k*16:k*16+16]
		// rows: r[u'][v] = Σ_{u=u'-1..u'} g[u][v]
		var r [4][3]T
		for v := 0; v < 3; v++ {
			r[0][v] = g[v]
			r[1][v] = g[v] + g[3+v]
			r[2][v] = g[3+v] + g[6+v]
			r[3][v] = g[6+v]
		}
		for u := 0; u < 4; u++ {
			d[u*4+0] = r[u][0] / 4
			d[u*4+1] = (r[u][0] + r[u][1]) / 4
			d[u*4+2] = (r[u][1] + r[u][2]) / 4
			d[u*4+3] = r[u][2] / 4
		}
	}
}

// downWeightAdjoint writes dw [n][3][3] from dw4 [n][4][4]: the adjoint of downWeight,
// dw[u][v] = ¼ Σ_{a,b∈{0,1}} dw4[u+a][v+b].
func downWeightAdjoint[T float](dw, dw4 []T, n int) {
	for k := 0; k < n; k++ {
		s, d := dw4[k*16:k*16+16], dw[k*9:k*9+9]
		for u := 0; u < 3; u++ {
			for v := 0; v < 3; v++ {
				d[u*3+v] = (s[u*4+v] + s[u*4+v+1] + s[(u+1)*4+v] + s[(u+1)*4+v+1]) / 4
			}
		}
	}
}

// flipTransposeK writes wt[c][o][u][v] = w[o][c][k-1-u][k-1-v] for k×k kernels.
func flipTransposeK[T float](wt, w []T, cout, cin, k int) {
	kk := k * k
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			src := w[(o*cin+c)*kk : (o*cin+c+1)*kk]
			dst := wt[(c*cout+o)*kk : (c*cout+o+1)*kk]
			for i := 0; i < kk; i++ {
				dst[i] = src[kk-1-i]
			}
		}
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
	if op.mode != conv2dFwd && op.mode != convT2xFwd && op.mode != down2xFwd {
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
	case down2xFwd:
		data, filter = down2xBackData, down2xBackFilter
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
		var cc *colCache
		if op.mode != convT2xFwd {
			if op.cols == nil {
				op.cols = &colCache{}
			}
			cc = op.cols
		}
		if grads[1], err = apply(&convOp{mode: filter, pad: op.pad, cols: cc}, op.String()+" grad w", x, grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}
