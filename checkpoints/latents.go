package checkpoints

import (
	"fmt"
	"math"
	"strconv"
	"strings"

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
	if err := checkLatentNames(f, c.NumNoise()); err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	// A NaN or infinity would only show up as a blank image.
	for _, name := range f.Names() {
		for i, v := range f.Tensors[name].Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return in, fmt.Errorf("%s: %s[%d] is %v, want a finite number", path, name, i, v)
			}
		}
	}
	// vectors returns the batch of w for source names z/w (or z2/w2).
	vectors := func(zname, wname string) ([]float32, int, error) {
		if t, ok := f.Tensors[wname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.WDim || t.Shape[0] < 1 {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d] with B >= 1", path, wname, t.Shape, c.WDim)
			}
			return t.Data, t.Shape[0], nil
		}
		if t, ok := f.Tensors[zname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.ZDim || t.Shape[0] < 1 {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d] with B >= 1", path, zname, t.Shape, c.ZDim)
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

// checkLatentNames refuses tensors ReadLatents would not read (a misspelt
// noise map would silently be replaced by the fallback) and a file with
// both a source's z and its w (which one is meant?).
func checkLatentNames(f *safetensors.File, numNoise int) error {
	for _, pair := range [][2]string{{"z", "w"}, {"z2", "w2"}} {
		if f.Tensors[pair[0]] != nil && f.Tensors[pair[1]] != nil {
			return fmt.Errorf("both %s and %s: give one of them", pair[0], pair[1])
		}
	}
	for _, name := range f.Names() {
		switch name {
		case "z", "w", "z2", "w2", "w_avg":
			continue
		}
		if j, ok := strings.CutPrefix(name, "noise"); ok {
			if n, err := strconv.Atoi(j); err == nil && n >= 0 && n < numNoise && strconv.Itoa(n) == j {
				continue
			}
		}
		return fmt.Errorf("unexpected tensor %q: want z or w [B D], optionally z2 or w2, w_avg and noise0..noise%d", name, numNoise-1)
	}
	return nil
}
