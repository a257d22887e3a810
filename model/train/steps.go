package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model"
	"stylegan-tui/model/ops"
)

// stepGraph is one compiled graph: a machine, its loss and the gradients
// of the parameters it trains.
type stepGraph struct {
	b     *builder
	m     G.VM
	loss  *G.Node
	wrt   []*Param
	grads []*G.Node
}

// compile differentiates loss w.r.t. the parameters of b that belong to
// set (nil loss: forward only) and makes the machine.
func (s *stepGraph) compile(set *ParamSet) error {
	defer s.b.release()
	if s.b.err != nil {
		return s.b.err
	}
	if s.loss != nil {
		var wrt G.Nodes
		for _, p := range s.b.params {
			if set.Has(p.Name) && set.P(p.Name) == p {
				s.wrt = append(s.wrt, p)
				wrt = append(wrt, s.b.nodes[p])
			}
		}
		grads, err := G.Grad(s.loss, wrt...)
		if err != nil {
			return fmt.Errorf("gradient: %w", err)
		}
		s.grads = grads
	}
	// Outputs are read before the next run (see run), so the ops may
	// write into the same tensors every run.
	ops.ReuseOutputs(s.b.g)
	s.m = G.NewTapeMachine(s.b.g)
	return nil
}

// run executes the graph; the caller reads outputs, then calls done.
func (s *stepGraph) run() error { return s.m.RunAll() }
func (s *stepGraph) done()      { s.m.Reset() }

// gradData returns the float32 gradients after run.
func (s *stepGraph) gradData() [][]float32 {
	out := make([][]float32, len(s.grads))
	for i, g := range s.grads {
		out[i] = g.Value().Data().([]float32)
	}
	return out
}

func scalar(n *G.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case []float32:
		return float64(v[0])
	case []float64:
		return v[0]
	}
	return 0
}

// phaseGraphs are the graphs of one schedule phase (one resolution, fading
// or not, one batch size), all sharing the parameter tensors.
type phaseGraphs struct {
	phase      int
	B, step    int
	fade       bool
	gFwd       *stepGraph // fakes for the D step, no gradients
	gIn        *gInputs
	d, dR1     *dGraph
	gStep      *stepGraph
	gStepIn    *gInputs
	gStepAlpha *dInputs
	gLogits    *G.Node
}

// dGraph is a D step graph: non-saturating logistic loss on a real and a
// fake batch, optionally plus the finite-difference R1 penalty.
type dGraph struct {
	stepGraph
	real, fake, realP *tensor.Dense // inputs; realP = real + ε·u (R1 only)
	alpha             *dInputs
	realLogits        *G.Node
	fakeLogits        *G.Node
	r1                *G.Node
	// realMean and fakeMean are the mean logits, computed in their own
	// nodes: gorgonia's backward pass may overwrite the logits' values
	// in place (read after a run they are the logits / B).
	realMean, fakeMean *G.Node
	// featReal and featFake are the feature D's mean patch logits (nil
	// when it is off).
	featReal, featFake *G.Node
}

// buildDStep builds D's loss: mean softplus(D(fake)) + mean softplus(−D(real))
// [+ r1Weight·mean(((D(real+εu) − D(real))/ε)²) when r1Weight > 0]; ch are
// D's channels per block; lowpass: the pixel D sees its inputs at half
// resolution (Options.LowpassRes). With a feature D (f not nil) the loss adds its
// heads' loss on the same images and the graph trains the heads too.
func buildDStep(dt tensor.Dtype, ch []int, dp *ParamSet, f *featureD, B, step int, fade, lowpass bool, r1Weight, r1Eps float64) (*dGraph, error) {
	trained := dp
	if f != nil {
		trained = union(dp, f.FH)
	}
	b := newBuilder(dt, trained)
	b.lowpass = lowpass
	r := model.BlockRes(step)
	g := &dGraph{stepGraph: stepGraph{b: b}}
	real, rt := b.input("real", B, 3, r, r)
	fake, ft := b.input("fake", B, 3, r, r)
	g.real, g.fake = rt, ft
	alpha, ai := dAlpha(b, ch, B, step, fade)
	g.alpha = ai
	g.realLogits = buildD(b, ch, dp, real, step, alpha)
	g.fakeLogits = buildD(b, ch, dp, fake, step, alpha)
	lf := b.mean(b.softplus(g.fakeLogits))
	nr := b.do(func() (*G.Node, error) { return G.Neg(g.realLogits) })
	lr := b.mean(b.softplus(nr))
	loss := b.do(func() (*G.Node, error) { return G.Add(lf, lr) })
	if f != nil {
		fr, ff := buildFeatureD(b, f, real, r), buildFeatureD(b, f, fake, r)
		lf := b.patchLoss(f, ff, 1)
		lr := b.patchLoss(f, fr, -1)
		loss = b.do(func() (*G.Node, error) { return G.Add(loss, lf) })
		loss = b.do(func() (*G.Node, error) { return G.Add(loss, lr) })
		g.featReal, g.featFake = b.meanOf(fr), b.meanOf(ff)
	}
	if r1Weight > 0 {
		realP, rpt := b.input("real_perturbed", B, 3, r, r)
		g.realP = rpt
		lp := buildD(b, ch, dp, realP, step, alpha)
		d := b.do(func() (*G.Node, error) { return G.Sub(lp, g.realLogits) })
		d = b.do(func() (*G.Node, error) { return G.Mul(d, b.constant(1/r1Eps)) })
		d = b.do(func() (*G.Node, error) { return G.Square(d) })
		g.r1 = b.mean(d)
		w := b.do(func() (*G.Node, error) { return G.Mul(g.r1, b.constant(r1Weight)) })
		loss = b.do(func() (*G.Node, error) { return G.Add(loss, w) })
	}
	g.loss = loss
	g.realMean, g.fakeMean = b.mean(g.realLogits), b.mean(g.fakeLogits)
	if err := g.compile(trained); err != nil {
		return nil, fmt.Errorf("train: D graph %dpx: %w", r, err)
	}
	return g, nil
}

// buildGStep builds G's loss mean softplus(−D(G(z))) [+ the feature D's
// heads' loss on G(z), through the frozen backbone, when f is not nil];
// cfg is G's architecture, dch D's channels per block.
func buildGStep(dt tensor.Dtype, cfg *model.Config, dch []int, gp, dp *ParamSet, f *featureD, B, step int, fade, lowpass bool) (*stepGraph, *gInputs, *dInputs, *G.Node, error) {
	b := newBuilder(dt, gp)
	b.lowpass = lowpass
	in := buildG(b, cfg, gp, B, step, fade)
	alpha, ai := dAlpha(b, dch, B, step, fade)
	logits := buildD(b, dch, dp, in.Img, step, alpha)
	nl := b.do(func() (*G.Node, error) { return G.Neg(logits) })
	s := &stepGraph{b: b, loss: b.mean(b.softplus(nl))}
	if f != nil {
		fl := b.patchLoss(f, buildFeatureD(b, f, in.Img, model.BlockRes(step)), -1)
		s.loss = b.do(func() (*G.Node, error) { return G.Add(s.loss, fl) })
	}
	// w_avg reads the batch sum of w1 from its own node (see dGraph.realMean).
	in.W1Sum = b.do(func() (*G.Node, error) { return G.Sum(in.W1, 0) })
	if err := s.compile(gp); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("train: G graph %dpx: %w", model.BlockRes(step), err)
	}
	return s, in, ai, logits, nil
}

// buildGFwd builds the generator alone (no gradients).
func buildGFwd(dt tensor.Dtype, cfg *model.Config, gp *ParamSet, B, step int, fade bool) (*stepGraph, *gInputs, error) {
	b := newBuilder(dt, nil)
	in := buildG(b, cfg, gp, B, step, fade)
	s := &stepGraph{b: b}
	if err := s.compile(gp); err != nil {
		return nil, nil, fmt.Errorf("train: G forward %dpx: %w", model.BlockRes(step), err)
	}
	return s, in, nil
}
