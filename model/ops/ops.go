package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
			func() { upsample2x(o32(), data[float32](in[0]), b*c, h, w, float32(op.scale)) },
			func() { upsample2x(o64(), data[float64](in[0]), b*c, h, w, op.scale) })
	}
	return run(out,
		func() { downsample2x(o32(), data[float32](in[0]), b*c, h/2, w/2, float32(op.scale)) },
		func() { downsample2x(o64(), data[float64](in[0]), b*c, h/2, w/2, op.scale) })
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
		func() { blur(data[float32](out), data[float32](in[0]), b*c, h, w) },
		func() { blur(data[float64](out), data[float64](in[0]), b*c, h, w) })
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

// ---- instance norm ----

// instanceNormOp normalizes (grad=false: x -> y) or back-propagates (grad=true: (x, gy) -> gx).
type instanceNormOp struct {
	base
	eps  float64
	grad bool
}

// InstanceNorm normalizes each [H,W] plane of x [B,C,H,W]: (x-mean)/sqrt(biased var + eps).
func InstanceNorm(x *G.Node, eps float64) (*G.Node, error) {
	if eps < 0 {
		return nil, errors.Errorf("ops: InstanceNorm: negative eps %g", eps)
	}
	return apply(&instanceNormOp{eps: eps}, "InstanceNorm", x)
}

func (op *instanceNormOp) String() string {
	if op.grad {
		return fmt.Sprintf("InstanceNormGrad{eps=%g}", op.eps)
	}
	return fmt.Sprintf("InstanceNorm{eps=%g}", op.eps)
}
func (op *instanceNormOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *instanceNormOp) Hashcode() uint32      { return hashOf(op) }
func (op *instanceNormOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op *instanceNormOp) Type() hm.Type {
	if op.grad {
		return fnType(4, 4, 4)
	}
	return fnType(4, 4)
}
func (op *instanceNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := sameShape4(op, in)
	if err == nil && op.grad {
		if g, ok := in[1].(tensor.Shape); !ok || !g.Eq(s) {
			return nil, errors.Errorf("ops: %v: gradient shape %v, want %v", op, in[1], s)
		}
	}
	return s, err
}
func (op *instanceNormOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *instanceNormOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *instanceNormOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	if op.grad {
		return run(out,
			func() {
				instanceNormGrad(data[float32](out), data[float32](in[0]), data[float32](in[1]), b*c, h*w, op.eps)
			},
			func() {
				instanceNormGrad(data[float64](out), data[float64](in[0]), data[float64](in[1]), b*c, h*w, op.eps)
			})
	}
	return run(out,
		func() { instanceNorm(data[float32](out), data[float32](in[0]), b*c, h*w, op.eps) },
		func() { instanceNorm(data[float64](out), data[float64](in[0]), b*c, h*w, op.eps) })
}
func (op *instanceNormOp) DiffWRT(n int) []bool { return []bool{!op.grad, false}[:n] }
func (op *instanceNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, errors.Errorf("ops: %v is not differentiable", op)
	}
	g, err := apply(&instanceNormOp{eps: op.eps, grad: true}, "InstanceNorm grad", inputs[0], grad)
	return G.Nodes{g}, err
}

// ---- per-channel affine ops: Modulate, AddBias, AddNoise and their reductions ----

// modulateOp: (x, scale[, shift]) -> x·scale[b,c] + shift[b,c].
type modulateOp struct {
	base
	shift  bool
	consts constMask
}

// Modulate returns x [B,C,H,W] · scale[B,C] + shift[B,C] (AdaIN's style step). shift may be nil.
func Modulate(x, scale, shift *G.Node) (*G.Node, error) {
	if shift == nil {
		return apply(&modulateOp{consts: constants(x, scale)}, "Modulate", x, scale)
	}
	return apply(&modulateOp{shift: true, consts: constants(x, scale, shift)}, "Modulate", x, scale, shift)
}

func (op *modulateOp) String() string {
	if op.shift {
		return "Modulate"
	}
	return "ModulateScale"
}
func (op *modulateOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *modulateOp) Hashcode() uint32      { return hashOf(op) }
func (op *modulateOp) Arity() int {
	if op.shift {
		return 3
	}
	return 2
}
func (op *modulateOp) Type() hm.Type {
	if op.shift {
		return fnType(4, 2, 2, 4)
	}
	return fnType(4, 2, 4)
}
func (op *modulateOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in...)
	if err != nil {
		return nil, err
	}
	if err := wantDims(op, "x", s[0], 4); err != nil {
		return nil, err
	}
	want := tensor.Shape{s[0][0], s[0][1]}
	for _, t := range s[1:] {
		if !t.Eq(want) {
			return nil, errors.Errorf("ops: %v: x %v wants scale and shift %v, got %v", op, s[0], want, t)
		}
	}
	return s[0].Clone(), nil
}
func (op *modulateOp) Do(in ...G.Value) (G.Value, error) { return doOp(op, in) }
func (op *modulateOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return preallocOp(op, p, in)
}
func (op *modulateOp) exec(out *tensor.Dense, in []*tensor.Dense) error {
	b, c, h, w := nchw(in[0].Shape())
	return run(out,
		func() {
			var shift []float32
			if op.shift {
				shift = data[float32](in[2])
			}
			modulate(data[float32](out), data[float32](in[0]), data[float32](in[1]), shift, b*c, h*w)
		},
		func() {
			var shift []float64
			if op.shift {
				shift = data[float64](in[2])
			}
			modulate(data[float64](out), data[float64](in[0]), data[float64](in[1]), shift, b*c, h*w)
		})
}
func (op *modulateOp) DiffWRT(n int) []bool { return op.consts.diffWRT(n) }
func (op *modulateOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, scale := inputs[0], inputs[1]
	grads := make(G.Nodes, len(inputs))
	var err error
	if op.consts.wants(0) {
		if grads[0], err = Modulate(grad, scale, nil); err != nil {
			return nil, err
		}
	}
	if op.consts.wants(1) {
		if grads[1], err = apply(&reduceOp{kind: reducePlaneDot}, "Modulate grad scale", grad, x); err != nil {
			return nil, err
		}
	}
	if op.shift && op.consts.wants(2) {
		if grads[2], err = apply(&reduceOp{kind: reducePlaneSum}, "Modulate grad shift", grad); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

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
		planeSum(out, g, nil, b*c, h*w)
	case reducePlaneDot:
		planeSum(out, g, in[1], b*c, h*w)
	case reduceChannelSum:
		channelSum(out, g, nil, b, c, h*w, false)
	case reduceChannelDot:
		channelSum(out, g, in[1], b, c, h*w, shapes[1][0] == b)
	case reduceNoise:
		noiseGrad(out, g, in[1], b, c, h*w, op.noiseBatch == b)
	}
}

func (op *reduceOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op *reduceOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("ops: %v is not differentiable", op)
}

func checkNoise(op fmt.Stringer, x, noise tensor.Shape) error {
	if noise.Dims() != 4 || (noise[0] != 1 && noise[0] != x[0]) || noise[1] != 1 || noise[2] != x[2] || noise[3] != x[3] {
		return errors.Errorf("ops: %v: x %v wants noise [%d or 1,1,%d,%d], got %v", op, x, x[0], x[2], x[3], noise)
	}
	return nil
}
