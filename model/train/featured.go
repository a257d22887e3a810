package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/checkpoints"
	"stylegan-tui/model/classifier"
	"stylegan-tui/model/ops"
)

// The feature-space discriminator (after Projected GANs, Sauer et al. 2021,
// and Vision-aided GAN, Kumari et al. 2022) sits next to the pixel D: the
// toyfaces classifier's convolution stages, frozen, are a backbone, and small
// trainable heads on some of its stages each give a map of real/fake patch
// logits. The pixel D of a small run learns silhouettes and colours first and
// lets a face-coloured speckle pass; the classifier's features encode exactly
// what the speckle lacks (eyes, mouths, glasses), so a D that reads them
// pushes G towards drawing them. G's gradient flows through the frozen
// backbone into the image (input gradients only); the backbone never changes.

// FeatureDOptions configure the feature-space discriminator. They are saved
// with the run's options (omitted when off, so older states read the same).
type FeatureDOptions struct {
	// Weight scales the heads' non-saturating loss, added to the pixel D's
	// loss in the D step and to G's loss in the G step.
	Weight float64
	// Taps are the backbone stages with a head (0 = the 64 px stage).
	Taps []int
	// HeadChannels is the width of each head's hidden 3×3 convolution.
	HeadChannels int
	// FromRes is the lowest phase resolution it is on; images of a phase
	// below 64 px are nearest-upsampled to 64 px, as the classifier saw
	// them in its training.
	FromRes int
}

// DefaultFeatureD is the feature D of a new `stylegan-tui train` run
// (`--feature-d 0` turns it off; DefaultOptions, the library's, has none):
// heads on the 16, 8 and 4 px stages (parts, their layout, the whole face),
// weight 1, on from 16 px. In an A/B from the default model's state at 64 px
// (docs/learning-curve.md) it halved the noise share and lowered the judge's
// Fréchet distance and label-distribution gaps at equal wall time.
func DefaultFeatureD() FeatureDOptions {
	return FeatureDOptions{Weight: 1, Taps: []int{2, 3, 4}, HeadChannels: 32, FromRes: 16}
}

func (o *FeatureDOptions) String() string {
	taps := make([]string, len(o.Taps))
	for i, t := range o.Taps {
		taps[i] = fmt.Sprint(t)
	}
	return fmt.Sprintf("weight %g, heads on backbone stages %s (%d channels), from %dpx", o.Weight, strings.Join(taps, ","), o.HeadChannels, o.FromRes)
}

// validate checks o against a backbone of stages.
func (o *FeatureDOptions) validate(stages []classifier.Stage) error {
	if !(o.Weight > 0) || math.IsInf(o.Weight, 0) {
		return fmt.Errorf("train: feature D weight %g, want > 0", o.Weight)
	}
	if o.HeadChannels < 1 || o.HeadChannels > maxChannels {
		return fmt.Errorf("train: feature D head channels %d, want 1..%d", o.HeadChannels, maxChannels)
	}
	if len(o.Taps) == 0 {
		return fmt.Errorf("train: feature D needs at least one tap")
	}
	for i, t := range o.Taps {
		if t < 0 || t >= len(stages) {
			return fmt.Errorf("train: feature D tap %d: the backbone has stages 0..%d", t, len(stages)-1)
		}
		if i > 0 && t <= o.Taps[i-1] {
			return fmt.Errorf("train: feature D taps %v: want increasing stages", o.Taps)
		}
	}
	if o.FromRes < 4 || o.FromRes&(o.FromRes-1) != 0 {
		return fmt.Errorf("train: feature D from %dpx, want a power of two >= 4", o.FromRes)
	}
	return nil
}

// Names of the feature D's parameters: the frozen backbone ("f.backbone.")
// and the heads ("f.head").
func backboneName(i int, s string) string { return fmt.Sprintf("f.backbone.conv%d.%s", i, s) }
func headName(t int, s string) string     { return fmt.Sprintf("f.head%d.%s", t, s) }

// featureD is the feature D of a trainer: the backbone's stages (their
// weights in FB, never trained) and the heads (FH, trained by their own Adam).
type featureD struct {
	opt    FeatureDOptions
	stages []classifier.Stage // shapes; the weights live in FB
	FB, FH *ParamSet
}

// newFeatureD makes the feature D of backbone (copied) with heads
// initialised from r.
func newFeatureD(opt FeatureDOptions, backbone []classifier.Stage, r *rand.Rand) (*featureD, error) {
	if err := opt.validate(backbone); err != nil {
		return nil, err
	}
	f := &featureD{opt: opt, FB: newParamSet(), FH: newParamSet()}
	last := opt.Taps[len(opt.Taps)-1]
	sq2 := math.Sqrt2
	for i, s := range backbone[:last+1] {
		w := f.FB.add(r, backboneName(i, "weight"), []int{s.Out, s.In, 3, 3}, 0, 0, 1)
		copy(w.Raw, s.W)
		w.SyncEff()
		b := f.FB.add(r, backboneName(i, "bias"), []int{s.Out}, 0, 0, 1)
		copy(b.Raw, s.B)
		b.SyncEff()
		s.W, s.B = nil, nil
		f.stages = append(f.stages, s)
	}
	h := opt.HeadChannels
	for _, t := range opt.Taps {
		c := backbone[t].Out
		f.FH.add(r, headName(t, "conv.weight"), []int{h, c, 3, 3}, 1, 0, he(sq2, c*9))
		f.FH.add(r, headName(t, "conv.bias"), []int{h}, 0, 0, 1)
		f.FH.add(r, headName(t, "out.weight"), []int{1, h, 1, 1}, 1, 0, he(1, h))
		f.FH.add(r, headName(t, "out.bias"), []int{1}, 0, 0, 1)
	}
	// The backbone's Winograd transforms are computed once (its weights
	// never change).
	for _, p := range f.FB.List {
		if len(p.Shape) == 4 {
			ops.FreezeWeights(p.Eff)
		}
	}
	return f, nil
}

// on reports whether the feature D takes part at a phase resolution.
func (f *featureD) on(res int) bool { return f != nil && res >= f.opt.FromRes }

// EnableFeatureD adds a fresh feature D with backbone (a classifier's
// stages; nil: the embedded toyfaces classifier's) to a trainer that has
// none: a new run, or a resumed one that turns it on. Its heads are
// initialised from the run's seed, apart from the main random stream.
func (t *Trainer) EnableFeatureD(opt FeatureDOptions, backbone []classifier.Stage) error {
	if t.feat != nil {
		return fmt.Errorf("train: the feature D is already on")
	}
	if backbone == nil {
		net, err := checkpoints.DefaultClassifier()
		if err != nil {
			return err
		}
		backbone = net.Stages()
	}
	f, err := newFeatureD(opt, backbone, rand.New(rand.NewPCG(t.Opt.Seed, 0x66656174)))
	if err != nil {
		return err
	}
	t.feat = f
	t.Opt.FeatureD = &f.opt
	t.FAdam = Adam{LR: t.Opt.LR, Beta1: t.Opt.Beta1, Beta2: t.Opt.Beta2, Eps: t.Opt.Eps}
	t.FAdam.Reset(f.FH)
	t.graphs = nil
	return nil
}

// FeatureHeads returns the trainable head parameters (nil when off).
func (t *Trainer) FeatureHeads() *ParamSet {
	if t.feat == nil {
		return nil
	}
	return t.feat.FH
}

// FeatureBackbone returns the frozen backbone parameters (nil when off).
func (t *Trainer) FeatureBackbone() *ParamSet {
	if t.feat == nil {
		return nil
	}
	return t.feat.FB
}

// buildBackbone adds the frozen stages up to the last tap, on images x
// [B,3,res,res], and returns each stage's activation before its pool.
func buildBackbone(b *builder, f *featureD, x *G.Node, res int) []*G.Node {
	h := x
	for r := res; r < classifier.Size; r *= 2 {
		h = b.do(func() (*G.Node, error) { return ops.Upsample2x(h) })
	}
	var acts []*G.Node
	for i, s := range f.stages {
		h = b.conv(h, f.FB.P(backboneName(i, "weight")), f.FB.P(backboneName(i, "bias")))
		h = b.do(func() (*G.Node, error) { return ops.LeakyReLU(h, classifier.Slope) })
		acts = append(acts, h)
		if s.Pool && i < len(f.stages)-1 {
			h = b.do(func() (*G.Node, error) { return ops.Downsample2x(h) })
		}
	}
	return acts
}

// buildFeatureD adds the heads' patch logits ([B,1,r,r] per tap) of images
// x [B,3,res,res] to b.
func buildFeatureD(b *builder, f *featureD, x *G.Node, res int) []*G.Node {
	acts := buildBackbone(b, f, x, res)
	if b.err != nil {
		return nil
	}
	var out []*G.Node
	for _, t := range f.opt.Taps {
		y := b.lrelu(b.conv(acts[t], f.FH.P(headName(t, "conv.weight")), f.FH.P(headName(t, "conv.bias"))))
		out = append(out, b.conv(y, f.FH.P(headName(t, "out.weight")), f.FH.P(headName(t, "out.bias"))))
	}
	return out
}

// patchLoss is Σ over the heads of the mean softplus(sign·logit) over the
// batch and the positions, times the feature D's weight.
func (b *builder) patchLoss(f *featureD, logits []*G.Node, sign float64) *G.Node {
	sum := b.sumMeans(logits, func(x *G.Node) *G.Node {
		if sign < 0 {
			x = b.do(func() (*G.Node, error) { return G.Neg(x) })
		}
		return b.softplus(x)
	})
	return b.do(func() (*G.Node, error) { return G.Mul(sum, b.constant(f.opt.Weight)) })
}

// meanOf averages the logits of every head (a progress number).
func (b *builder) meanOf(logits []*G.Node) *G.Node {
	sum := b.sumMeans(logits, func(x *G.Node) *G.Node { return x })
	return b.do(func() (*G.Node, error) { return G.Mul(sum, b.constant(1/float64(len(logits)))) })
}

// sumMeans is Σ over the heads of the mean of g(logits) over the batch and
// the positions (one axis at a time: gorgonia's multi-axis reductions have
// wrong gradients).
func (b *builder) sumMeans(logits []*G.Node, g func(*G.Node) *G.Node) *G.Node {
	var sum *G.Node
	for _, l := range logits {
		if b.err != nil {
			return nil
		}
		n := l.Shape().TotalSize()
		x := b.do(func() (*G.Node, error) { return G.Reshape(l, tensor.Shape{n}) })
		m := b.do(func() (*G.Node, error) { return G.Mean(g(x), 0) })
		if sum == nil {
			sum = m
		} else {
			sum = b.do(func() (*G.Node, error) { return G.Add(sum, m) })
		}
	}
	return sum
}

// union is a parameter set holding the parameters of both sets (shared
// pointers), for a graph that trains both (the D step: pixel D and heads).
func union(a, b *ParamSet) *ParamSet {
	s := newParamSet()
	s.Dtype = a.Dtype
	for _, set := range []*ParamSet{a, b} {
		for _, p := range set.List {
			s.List = append(s.List, p)
			s.byName[p.Name] = p
		}
	}
	return s
}

// split divides a graph's trained parameters and gradients into those of
// set and the rest.
func split(set *ParamSet, wrt []*Param, grads [][]float32) (in []*Param, inG [][]float32, rest []*Param, restG [][]float32) {
	for i, p := range wrt {
		if set.Has(p.Name) && set.P(p.Name) == p {
			in, inG = append(in, p), append(inG, grads[i])
		} else {
			rest, restG = append(rest, p), append(restG, grads[i])
		}
	}
	return
}
