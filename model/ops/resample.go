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

// ---- resampling: nearest ×2 up and 2×2 pooling, each the other's adjoint ----

// resampleOp multiplies by scale after a nearest ×2 upsampling (up) or a 2×2 sum pool (!up).
type resampleOp struct {
	base
	up    bool
	scale float64
}

// Upsample2x returns the nearest-neighbour ×2 upsampling of x [B,C,H,W]: [B,C,2H,2W].
func Upsample2x(x *G.Node) (*G.Node, error) {
	return apply(&resampleOp{up: true, scale: 1}, "Upsample2x", x)
}

// Downsample2x returns the 2×2 average pool of x [B,C,H,W] with H and W even: [B,C,H/2,W/2].
func Downsample2x(x *G.Node) (*G.Node, error) {
	return apply(&resampleOp{up: false, scale: 0.25}, "Downsample2x", x)
}

func (op *resampleOp) String() string {
	if op.up {
		return fmt.Sprintf("Upsample2x{scale=%g}", op.scale)
	}
	return fmt.Sprintf("SumPool2x{scale=%g}", op.scale)
}
func (op *resampleOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *resampleOp) Hashcode() uint32      { return hashOf(op) }
func (op *resampleOp) Arity() int            { return 1 }
func (op *resampleOp) Type() hm.Type         { return fnType(4, 4) }
func (op *resampleOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "input", s[0], 4); err != nil {
		return nil, err
	}
	b, c, h, w := nchw(s[0])
	if op.up {
		return tensor.Shape{b, c, 2 * h, 2 * w}, nil
	}
	if h%2 != 0 || w%2 != 0 {
		return nil, errors.Errorf("ops: %v: input %v: height and width must be even", op, s[0])
	}
	return tensor.Shape{b, c, h / 2, w / 2}, nil
}
func (op *resampleOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *resampleOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *resampleOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	o32, o64 := func() []float32 { return data[float32](out) }, func() []float64 { return data[float64](out) }
	if op.up {
		return run(out,
			func() { kernels.Upsample2x(o32(), data[float32](in[0]), b*c, h, w, float32(op.scale)) },
			func() { kernels.Upsample2x(o64(), data[float64](in[0]), b*c, h, w, op.scale) })
	}
	return run(out,
		func() { kernels.Downsample2x(o32(), data[float32](in[0]), b*c, h/2, w/2, float32(op.scale)) },
		func() { kernels.Downsample2x(o64(), data[float64](in[0]), b*c, h/2, w/2, op.scale) })
}

func (op *resampleOp) DiffWRT(int) []bool { return []bool{true} }
func (op *resampleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	adj := &resampleOp{up: !op.up, scale: op.scale}
	g, err := apply(adj, op.String()+" grad", grad)
	return G.Nodes{g}, err
}

// ---- blur ----

type blurOp struct{ base }

// Blur returns StyleGAN's blur of x [B,C,H,W]: each channel correlated with
// [1,2,1]ᵀ[1,2,1]/16 with zero padding 1, same size. The op is its own adjoint.
func Blur(x *G.Node) (*G.Node, error) { return apply(&blurOp{}, "Blur", x) }

func (op *blurOp) String() string        { return "Blur121" }
func (op *blurOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *blurOp) Hashcode() uint32      { return hashOf(op) }
func (op *blurOp) Arity() int            { return 1 }
func (op *blurOp) Type() hm.Type         { return fnType(4, 4) }
func (op *blurOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return sameShape4(op, in)
}
func (op *blurOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *blurOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *blurOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	return run(out,
		func() { kernels.Blur(data[float32](out), data[float32](in[0]), b*c, h, w) },
		func() { kernels.Blur(data[float64](out), data[float64](in[0]), b*c, h, w) })
}
func (op *blurOp) DiffWRT(int) []bool { return []bool{true} }
func (op *blurOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := Blur(grad)
	return G.Nodes{g}, err
}

func sameShape4(op fmt.Stringer, in []G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "input", s[0], 4); err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}
