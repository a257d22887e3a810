package metrics

import (
	"fmt"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// QuickNoiseShare is a cheap estimate of Report.NoiseShare for watching a
// training run: the mean per-pixel variance over draws noise draws of each
// of latents fixed latents, divided by the per-pixel variance over all
// latents·draws images (each latent, each draw). It renders latents·draws
// images at psi 1 in batches of draws; the latents and noise follow seed.
// A generator that draws its faces with the noise shows a share far above
// the data's (toyfaces: under 0.1%).
func QuickNoiseShare(g *model.Generator, latents, draws int, seed int64) (float64, error) {
	if latents < 2 || draws < 2 {
		return 0, fmt.Errorf("metrics: noise share of %d latents x %d draws, want at least 2 x 2", latents, draws)
	}
	cfg := g.Cfg
	res := cfg.Resolution()
	var all pixelStats
	var noiseVar float64
	for l := range latents {
		z := make([]float32, 0, draws*cfg.ZDim)
		noise := make([]int64, draws)
		for d := range draws {
			z = append(z, latent.SeedZ(derive(seed, streamGenZ, l), cfg.ZDim)...)
			noise[d] = derive(seed, streamGenNoise, l*draws+d)
		}
		w, err := mapZ(g, z, draws, draws)
		if err != nil {
			return 0, err
		}
		ws := make([][]float32, cfg.NumStyles())
		for s := range ws {
			ws[s] = w
		}
		x, err := synthesize(g, ws, noise, draws, nil)
		if err != nil {
			return 0, err
		}
		var one pixelStats
		one.add(x, draws)
		all.add(x, draws)
		noiseVar += mean(one.variance(res)) / float64(latents)
	}
	v := mean(all.variance(res))
	if v == 0 {
		return 0, nil
	}
	return noiseVar / v, nil
}
