package model

import (
	"fmt"
	"image"
	"math"
	"slices"

	"stylegan-tui/latent"
)

// EstimateWAvg averages the mapping of n random z drawn from seed (what
// rosinality's generate.py does for models that keep no w average).
func (g *Generator) EstimateWAvg(n int, seed int64) ([]float32, error) {
	const batch = 256
	c := g.Cfg
	sum := make([]float64, c.WDim)
	rs := latent.NewRandomState(uint32(seed))
	for done := 0; done < n; done += batch {
		b := min(batch, n-done)
		z := make([]float32, 0, b*c.ZDim)
		for _, v := range rs.Randn(b * c.ZDim) {
			z = append(z, float32(v))
		}
		w, err := g.Mapping(z, b)
		if err != nil {
			return nil, err
		}
		for i, v := range w {
			sum[i%c.WDim] += float64(v)
		}
	}
	avg := make([]float32, c.WDim)
	for i := range avg {
		avg[i] = float32(sum[i] / float64(n))
	}
	return avg, nil
}

// zW maps z to w, caching the last few mappings (the explorer asks for
// the same two sources over and over).
func (g *Generator) zW(z []float32) ([]float32, error) {
	if len(z) != g.Cfg.ZDim {
		return nil, fmt.Errorf("model: z has %d values, model's Z has %d", len(z), g.Cfg.ZDim)
	}
	g.wmu.Lock()
	for _, e := range g.wcache {
		if slices.Equal(e.z, z) {
			g.wmu.Unlock()
			return e.w, nil
		}
	}
	g.wmu.Unlock()
	w, err := g.Mapping(z, 1)
	if err != nil {
		return nil, err
	}
	g.wmu.Lock()
	g.wcache = append([]wEntry{{slices.Clone(z), w}}, g.wcache[:min(len(g.wcache), 7)]...)
	g.wmu.Unlock()
	return w, nil
}

type wEntry struct{ z, w []float32 }

// Inputs resolves a latent state into the synthesis inputs (batch 1):
// per style slot the w of the source it takes (or the interpolation
// between A and B), truncated toward w_avg on slots below the cutoff, and
// per noise slot its map (random from its seed, the stored constant, or
// zeros).
func (g *Generator) Inputs(st latent.State) (SynthesisInput, error) {
	c := g.Cfg
	if err := st.Validate(c.NumStyles(), c.NumNoise()); err != nil {
		return SynthesisInput{}, err
	}
	for _, src := range []latent.Source{st.A, st.B} {
		if src.W != nil && len(src.W) != c.WDim {
			return SynthesisInput{}, fmt.Errorf("model: explicit w has %d values, model's W has %d", len(src.W), c.WDim)
		}
	}
	// The one w+ path: latent.State.WPlus, with the cached mapping.
	ws, err := st.WPlus(c.ZDim, g.zW, g.W.WAvg)
	if err != nil {
		return SynthesisInput{}, err
	}
	in := SynthesisInput{B: 1, W: ws}
	for j := 0; j < c.NumNoise(); j++ {
		in.Noise = append(in.Noise, g.noiseMap(st.Noise[j], j))
	}
	return in, nil
}

// noiseMap returns noise slot j's map for a mode: random maps come from
// the seed; const is the model's stored map (NVlabs pickles keep one per
// layer) or, for models without one, the map of seed 0; off is zeros.
func (g *Generator) noiseMap(n latent.Noise, j int) []float32 {
	r := g.Cfg.NoiseRes(j)
	switch n.Mode {
	case latent.NoiseOff:
		return make([]float32, r*r)
	case latent.NoiseConst:
		if g.W.NoiseConst != nil && g.W.NoiseConst[j] != nil {
			return g.W.NoiseConst[j]
		}
		return latent.NoiseMap(0, j, r, r)
	}
	return g.seededNoise(n.Seed, j, r)
}

// seededNoise returns NoiseMap(seed, j, r, r), remembering the maps of
// recent (seed, slot) pairs: drawing a 256² map costs more than the
// epilogue that uses it, and most edits keep every noise seed.
func (g *Generator) seededNoise(seed int64, j, r int) []float32 {
	type key struct {
		seed int64
		j    int
	}
	k := key{seed, j}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if m, ok := g.noise[k]; ok {
		return m
	}
	if len(g.noise) >= 4*g.Cfg.NumNoise() { // a few states' worth
		clear(g.noise)
	}
	if g.noise == nil {
		g.noise = map[any][]float32{}
	}
	m := latent.NoiseMap(seed, j, r, r)
	g.noise[k] = m
	return m
}

// NewState returns the model's default state: A = seed 0, B = seed 1, all
// styles from A, the model's truncation defaults, random noise.
func (g *Generator) NewState() latent.State {
	c := g.Cfg
	return latent.New(c.NumStyles(), c.NumNoise(), c.TruncPsi, c.TruncCutoff)
}

// Render synthesises the image of a state. Unchanged layers come from the
// cache; preview, when set, receives low-resolution ToRGB images first.
func (g *Generator) Render(st latent.State, preview func(*image.RGBA)) (*image.RGBA, Stats, error) {
	in, err := g.Inputs(st)
	if err != nil {
		return nil, Stats{}, err
	}
	opt := Options{Step: -1, Alpha: -1}
	if preview != nil {
		opt.Preview = func(res int, rgb []float32) { preview(ToImage(rgb, res, 0)) }
	}
	out, stats, err := g.Synthesis(in, opt)
	if err != nil {
		return nil, stats, err
	}
	return ToImage(out, g.Cfg.Resolution(), 0), stats, nil
}

// ToImage converts image b of an NCHW batch in [-1,1] to 8-bit RGB, as
// the official scripts do: round((x+1)·127.5) clamped to 0..255.
func ToImage(x []float32, res, b int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, res, res))
	plane := res * res
	base := b * 3 * plane
	for ch := 0; ch < 3; ch++ {
		src := x[base+ch*plane : base+(ch+1)*plane]
		for p, xv := range src {
			// math.Round for v >= 0 is floor(v + 0.5); negative values clamp to 0 anyway
			v := (float64(xv)+1)*127.5 + 0.5
			img.Pix[4*p+ch] = uint8(max(0, min(255, math.Floor(v))))
		}
	}
	for p := 0; p < plane; p++ {
		img.Pix[4*p+3] = 255
	}
	return img
}
