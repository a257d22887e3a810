package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops/simd"
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
			biasLeaky(data[float32](out), data[float32](in[0]), data[float32](in[1]), b, c, h*w, float32(op.slope))
		},
		func() { biasLeaky(data[float64](out), data[float64](in[0]), data[float64](in[1]), b, c, h*w, op.slope) })
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
			biasLeakyGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](gb), b, c, h*w, float32(op.slope))
		},
		func() {
			biasLeakyGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](gb), b, c, h*w, op.slope)
		})
}
func (op *biasLeakyGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *biasLeakyGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}

// biasLeaky: dst[b,c] = LeakyReLU(x[b,c] + bias[c]). dst may equal x.
func biasLeaky[T float](dst, x, bias []T, batch, c, hw int, slope T) {
	parallelFor(batch*c, 2*batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			s := bias[p%c]
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			if is32[T]() && simd.Available && elemKernelOn && hw >= 8 {
				n8 := hw &^ 7
				simd.BiasLeaky(&as32(dp)[0], &as32(xp)[0], n8, float32(s), float32(slope))
				xp, dp = xp[n8:], dp[n8:]
			}
			for j, v := range xp {
				u := v + s
				if math.Signbit(float64(u)) {
					u *= slope
				}
				dp[j] = u
			}
		}
	})
}

// biasLeakyGrad: gx = gy where y ≥ 0 (sign bit clear), slope·gy elsewhere; gb[c] = Σ_{b,h,w} gx,
// the planes' sums added in batch order.
func biasLeakyGrad[T float](gx, y, gy, gb []T, batch, c, hw int, slope T) {
	planes := batch * c
	pp := getBuf[float64](planes)
	defer putBuf(pp)
	sums := *pp
	parallelFor(planes, 2*planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			yp, gp, dp := y[p*hw:(p+1)*hw], gy[p*hw:(p+1)*hw], gx[p*hw:(p+1)*hw]
			var s float64
			if is32[T]() && simd.Available && elemKernelOn && hw >= 8 {
				n8 := hw &^ 7
				s = simd.LeakyGradSum(&as32(dp)[0], &as32(yp)[0], &as32(gp)[0], n8, float32(slope))
				yp, gp, dp = yp[n8:], gp[n8:], dp[n8:]
			}
			for j, v := range gp {
				if math.Signbit(float64(yp[j])) {
					v *= slope
				}
				dp[j] = v
				s += float64(v)
			}
			sums[p] = s
		}
	})
	for ch := 0; ch < c; ch++ {
		var s float64
		for b := 0; b < batch; b++ {
			s += sums[b*c+ch]
		}
		gb[ch] = T(s)
	}
}
