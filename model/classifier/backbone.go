package classifier

import "fmt"

// Slope is the leaky ReLU slope of the net's activations.
const Slope = slope

// Stage is one convolution stage of the net, as a feature backbone for
// other networks (the trainer's feature-space discriminator): a 3×3
// convolution (pad 1) with bias and a leaky ReLU (Slope) at Res px,
// followed by a 2×2 average pool when Pool.
type Stage struct {
	In, Out, Res int
	Pool         bool
	W            []float32 // [Out,In,3,3]; the net's own slice: do not modify
	B            []float32 // [Out]
}

// Stages returns the net's convolution stages from the 64 px input down:
// the activations Predict's convolutions compute, stage by stage.
func (n *Net) Stages() []Stage {
	var st []Stage
	in, r := 3, Size
	for i, c := range n.cfg.Channels {
		s := Stage{In: in, Out: c, Res: r, Pool: n.cfg.pools(i),
			W: n.p(fmt.Sprintf("conv%d.weight", i)), B: n.p(fmt.Sprintf("conv%d.bias", i))}
		st = append(st, s)
		if s.Pool {
			r /= 2
		}
		in = c
	}
	return st
}

// StageActivations runs b images of 64 px through the convolution stages
// and returns each stage's activation before its pool ([b,Out,Res,Res]
// each): the reference the trainer's backbone graph is tested against.
func (n *Net) StageActivations(x []float32, b int) [][]float32 {
	s := n.newScratch(b)
	var acts [][]float32
	n.convs(s, x, b, func(i int, act []float32, c, r int) {
		acts = append(acts, append([]float32(nil), act...))
	})
	return acts
}
