package checkpoints

import (
	"fmt"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// LatentsOptions say how ReadLatents resolves a latents file's vectors.
type LatentsOptions struct {
	Psi    float64 // truncation psi (1: none)
	Cutoff int     // truncation applies to style slots < Cutoff
	// MixFrom..MixTo (inclusive) are the style slots that take source B
	// (z2 or w2); MixFrom > MixTo: no mixing.
	MixFrom, MixTo int
	// Noise holds, per noise input, the map used where the file has none.
	Noise [][]float32
}

// ReadLatents reads explicit generator inputs from a safetensors file
// (z or w [B, dim]; optionally z2 or w2 for style mixing, w_avg, and
// noiseJ [B or 1, 1, R, R]) and resolves them for g: z through the mapping
// network, then per item a latent state with explicit w sources, turned
// into per-slot w (mixing, truncation) by the one w+ path, latent.State.WPlus.
func ReadLatents(path string, g *model.Generator, o LatentsOptions) (model.SynthesisInput, error) {
	c := g.Cfg
	var in model.SynthesisInput
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return in, err
	}
	// vectors returns the batch of w for source names z/w (or z2/w2).
	vectors := func(zname, wname string) ([]float32, int, error) {
		if t, ok := f.Tensors[wname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.WDim {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d]", path, wname, t.Shape, c.WDim)
			}
			return t.Data, t.Shape[0], nil
		}
		if t, ok := f.Tensors[zname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.ZDim {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d]", path, zname, t.Shape, c.ZDim)
			}
			w, err := g.Mapping(t.Data, t.Shape[0])
			return w, t.Shape[0], err
		}
		return nil, 0, nil
	}
	wa, B, err := vectors("z", "w")
	if err != nil {
		return in, err
	}
	if wa == nil {
		return in, fmt.Errorf("%s: no z or w tensor", path)
	}
	wb, B2, err := vectors("z2", "w2")
	if err != nil {
		return in, err
	}
	avg := g.W.WAvg
	if t, ok := f.Tensors["w_avg"]; ok {
		if t.Len() != c.WDim {
			return in, fmt.Errorf("%s: w_avg has shape %v, want [1 %d]", path, t.Shape, c.WDim)
		}
		avg = t.Data
	}
	mix := o.MixFrom <= o.MixTo
	if mix && (wb == nil || B2 != B) {
		return in, fmt.Errorf("%s: mixing style slots %d-%d needs z2 or w2 with batch %d", path, o.MixFrom, o.MixTo, B)
	}
	D := c.WDim
	in = model.SynthesisInput{B: B, W: make([][]float32, c.NumStyles())}
	for b := 0; b < B; b++ {
		st := latent.State{A: latent.Source{W: wa[b*D : (b+1)*D]}, B: latent.Source{W: wa[b*D : (b+1)*D]},
			Styles: make([]uint8, c.NumStyles()), Psi: o.Psi, Cutoff: o.Cutoff}
		if mix {
			st.B.W = wb[b*D : (b+1)*D]
			for s := o.MixFrom; s <= o.MixTo; s++ {
				st.Styles[s] = latent.FromB
			}
		}
		ws, err := st.WPlus(c.ZDim, nil, avg)
		if err != nil {
			return in, fmt.Errorf("%s: item %d: %w", path, b, err)
		}
		for s, w := range ws {
			in.W[s] = append(in.W[s], w...)
		}
	}
	for j := 0; j < c.NumNoise(); j++ {
		r := c.NoiseRes(j)
		name := fmt.Sprintf("noise%d", j)
		t, ok := f.Tensors[name]
		switch {
		case ok && (t.Len() == r*r || t.Len() == B*r*r):
			in.Noise = append(in.Noise, t.Data)
		case ok:
			return in, fmt.Errorf("%s: %s has shape %v, want [B 1 %d %d]", path, name, t.Shape, r, r)
		case j < len(o.Noise):
			in.Noise = append(in.Noise, o.Noise[j])
		default:
			return in, fmt.Errorf("%s: no %s and no fallback map", path, name)
		}
	}
	return in, nil
}
