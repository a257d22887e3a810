package metrics

import (
	"math"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// mapZ runs the mapping network on n latents z (n·ZDim values) and returns
// their n·WDim dlatents. The batch is padded to B (when n < B) with copies
// of the last z, so the generator builds its graphs for one batch size only.
func mapZ(g *model.Generator, z []float32, n, B int) ([]float32, error) {
	Z := g.Cfg.ZDim
	B = max(B, n)
	if n < B {
		z = append(z[:n*Z:n*Z], make([]float32, (B-n)*Z)...)
		for k := n; k < B; k++ {
			copy(z[k*Z:(k+1)*Z], z[(n-1)*Z:n*Z])
		}
	}
	w, err := g.Mapping(z, B)
	if err != nil {
		return nil, err
	}
	return w[:n*g.Cfg.WDim], nil
}

// synthesize renders n images, unrounded (NCHW, roughly [-1, 1]): image k
// takes w[s][k·WDim:(k+1)·WDim] in style slot s (no truncation: psi = 1)
// and the noise maps of seed noise[k] (latent.NoiseMap) in every noise
// slot, but for the slots set in off (nil: none), whose maps are zero. The
// batch is padded to B (when n < B) with copies of the last image.
func synthesize(g *model.Generator, w [][]float32, noise []int64, B int, off []bool) ([]float32, error) {
	cfg := g.Cfg
	n := len(noise)
	B = max(B, n)
	D := cfg.WDim
	in := model.SynthesisInput{B: B}
	for _, ws := range w {
		p := make([]float32, B*D)
		copy(p, ws[:n*D])
		for k := n; k < B; k++ {
			copy(p[k*D:(k+1)*D], ws[(n-1)*D:n*D])
		}
		in.W = append(in.W, p)
	}
	for j := 0; j < cfg.NumNoise(); j++ {
		rr := cfg.NoiseRes(j)
		m := make([]float32, 0, B*rr*rr)
		if j < len(off) && off[j] {
			m = m[:B*rr*rr] // zeros: this input's noise is off
		} else {
			for k := range B {
				m = append(m, latent.NoiseMap(noise[min(k, n-1)], j, rr, rr)...)
			}
		}
		in.Noise = append(in.Noise, m)
	}
	out, _, err := g.Synthesis(in, model.Options{Step: -1, Alpha: -1, Full: true})
	if err != nil {
		return nil, err
	}
	res := cfg.Resolution()
	return out[:n*3*res*res], nil
}

// quantize rounds images in [-1, 1] to 8 bits in place, as a PNG of them
// would hold them.
func quantize(x []float32) {
	for i, v := range x {
		q := math.Round((float64(v) + 1) * 127.5)
		x[i] = float32(max(0, min(255, q))/127.5 - 1)
	}
}
