package model

// The two published conventions as named presets, after the signature of
// NVlabs' G_synthesis/G_mapping (networks_stylegan.py): one commented
// default each. Importers start from these and take the sizes from the
// weights; `stylegan-tui bench` uses them as they are.

// NVlabs is the configuration of NVlabs' TensorFlow StyleGAN at res px.
func NVlabs(res int) *Config {
	c := &Config{
		Name:          "nvlabs",
		ZDim:          512,                            // latent_size
		WDim:          512,                            // dlatent_size
		MappingLayers: 8,                              // mapping_layers
		Channels:      NVlabsChannels(res, 8192, 512), // fmap_base 8192, fmap_max 512
		NormEps:       1e-8,                           // instance_norm epsilon
		FusedFrom:     128,                            // fused_scale='auto': transposed conv from 128 px
		TruncPsi:      0.7,                            // truncation_psi
		TruncCutoff:   8,                              // truncation_cutoff
	}
	c.TruncCutoff = min(c.TruncCutoff, c.NumStyles())
	return c
}

// rosinalityChannels are the widths of rosinality's StyledGenerator blocks
// from 4 px to 1024 px.
var rosinalityChannels = []int{512, 512, 512, 512, 256, 128, 64, 32, 16}

// Rosinality is the configuration of rosinality's PyTorch port
// (style-based-gan-pytorch, the "-new" 2019 checkpoints) at res px.
func Rosinality(res int) *Config {
	n := 0
	for r := 4; r <= res && n < len(rosinalityChannels); r *= 2 {
		n++
	}
	c := &Config{
		Name:           "rosinality",
		ZDim:           512,                                           // code_dim
		WDim:           512,                                           // style_dim
		MappingLayers:  8,                                             // n_mlp
		Channels:       append([]int(nil), rosinalityChannels[:n]...), // progression widths
		StylePerBlock:  true,                                          // one style per block (both convs)
		NoisePerBlock:  true,                                          // one noise map per block
		BiasBeforeBlur: true,                                          // the up-conv bias before the blur
		NormEps:        1e-5,                                          // nn.InstanceNorm2d's default
		FusedFrom:      128,                                           // FusedUpsample from 128 px
		TruncPsi:       0.7,                                           // style_weight in generate.py
	}
	c.TruncCutoff = c.NumStyles() // truncation on every block
	return c
}
