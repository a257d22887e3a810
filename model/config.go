// Package model implements the StyleGAN v1 generator (Karras et al. 2019,
// "A Style-Based Generator Architecture for Generative Adversarial Networks",
// arXiv:1812.04948) as gorgonia graphs: the mapping network z -> w and the
// synthesis network (learned 4x4 constant, per-layer noise injection, AdaIN
// driven by an affine of w, 3x3 convs, 2x upsampling with blur, ToRGB).
//
// One code path serves both real-world conventions (NVlabs' TensorFlow
// release and rosinality's PyTorch port); the differences are switches in
// Config. It knows nothing of terminals.
package model

import (
	"encoding/json"
	"fmt"
	"math"

	"stylegan-tui/latent"
)

// Config describes a generator: sizes (read from the weights' shapes) and the
// convention switches that tell NVlabs and rosinality checkpoints apart.
type Config struct {
	Name string `json:"name"`

	ZDim          int `json:"latent_size"`    // Z
	WDim          int `json:"dlatent_size"`   // W
	MappingLayers int `json:"mapping_layers"` // 8 in the paper
	// Channels holds the feature maps of each block, from 4x4 upwards; the
	// output resolution is 4·2^(len-1).
	Channels []int `json:"channels"`

	// StylePerBlock: one style vector per block, shared by its two layers
	// (rosinality); false = one per layer (NVlabs, 2·log2(res)−2 slots).
	StylePerBlock bool `json:"style_per_block"`
	// NoisePerBlock: one noise map per block, shared by its two layers.
	NoisePerBlock bool `json:"noise_per_block"`
	// BiasBeforeBlur: the up-conv bias is added before the blur
	// (rosinality); NVlabs adds it after. Blur zero-pads, so the two differ
	// at the borders.
	BiasBeforeBlur bool `json:"bias_before_blur"`
	// NormEps is the instance-norm epsilon: 1e-8 (NVlabs), 1e-5 (PyTorch).
	NormEps float64 `json:"instance_norm_eps"`
	// FusedFrom is the first resolution whose up-conv is a fused transposed
	// conv (NVlabs: 128; rosinality: 128 in the 2019 models); 0 = never.
	FusedFrom int `json:"fused_from"`

	// Truncation defaults for this model (the explorer starts here).
	TruncPsi    float64 `json:"truncation_psi"`
	TruncCutoff int     `json:"truncation_cutoff"`

	// FadeAlpha, in (0,1), marks a model exported in the middle of a
	// progressive-growing fade-in of its last block (Karras et al. 2018):
	// the output is (1−α)·up2(ToRGB of the previous block) + α·ToRGB of the
	// last block, with nearest-neighbour up2. 0 means no fade (every
	// finished or imported model); it is then left out of the JSON.
	FadeAlpha float64 `json:"fade_alpha,omitempty"`
}

// Fading reports whether the model's output is a fade-in blend
// (FadeAlpha in (0,1)).
func (c *Config) Fading() bool { return c.FadeAlpha > 0 && c.FadeAlpha < 1 }

// Resolution is the output size in pixels.
func (c *Config) Resolution() int { return 4 << (len(c.Channels) - 1) }

// NumBlocks is the number of resolutions (4, 8, ... Resolution).
func (c *Config) NumBlocks() int { return len(c.Channels) }

// NumLayers is the number of synthesis layers: two per block.
func (c *Config) NumLayers() int { return 2 * len(c.Channels) }

// BlockRes is the resolution block b works at.
func BlockRes(b int) int { return 4 << b }

// LayerRes is the resolution layer i works at.
func (c *Config) LayerRes(i int) int { return BlockRes(i / 2) }

// NumStyles is the number of style slots a latent.State assigns.
func (c *Config) NumStyles() int {
	if c.StylePerBlock {
		return len(c.Channels)
	}
	return c.NumLayers()
}

// NumNoise is the number of noise maps the synthesis network takes.
func (c *Config) NumNoise() int {
	if c.NoisePerBlock {
		return len(c.Channels)
	}
	return c.NumLayers()
}

// StyleSlot maps a layer to the style slot it reads.
func (c *Config) StyleSlot(layer int) int {
	if c.StylePerBlock {
		return layer / 2
	}
	return layer
}

// NoiseSlot maps a layer to the noise map it reads.
func (c *Config) NoiseSlot(layer int) int {
	if c.NoisePerBlock {
		return layer / 2
	}
	return layer
}

// SlotRes is the resolution a style slot works at.
func (c *Config) SlotRes(slot int) int {
	if c.StylePerBlock {
		return BlockRes(slot)
	}
	return c.LayerRes(slot)
}

// NoiseRes is the side of noise map j.
func (c *Config) NoiseRes(j int) int {
	if c.NoisePerBlock {
		return BlockRes(j)
	}
	return c.LayerRes(j)
}

// Fused reports whether block b's up-conv is a fused transposed conv.
func (c *Config) Fused(b int) bool {
	return b > 0 && c.FusedFrom > 0 && BlockRes(b) >= c.FusedFrom
}

// GroupSlots returns the inclusive slot range [lo, hi] of a group, or
// ok=false when the model has no slot in it (e.g. "fine" at 32 px).
func (c *Config) GroupSlots(group string) (lo, hi int, ok bool) {
	lo, hi = -1, -1
	for s := 0; s < c.NumStyles(); s++ {
		if latent.GroupOf(c.SlotRes(s)) == group {
			if lo < 0 {
				lo = s
			}
			hi = s
		}
	}
	return lo, hi, lo >= 0
}

// Validate checks that the config describes a buildable network.
func (c *Config) Validate() error {
	switch {
	case c.ZDim <= 0 || c.ZDim > 4096:
		return fmt.Errorf("model: config latent_size %d out of range 1..4096", c.ZDim)
	case c.WDim <= 0 || c.WDim > 4096:
		return fmt.Errorf("model: config dlatent_size %d out of range 1..4096", c.WDim)
	case c.MappingLayers < 1 || c.MappingLayers > 64:
		return fmt.Errorf("model: config mapping_layers %d out of range 1..64", c.MappingLayers)
	case len(c.Channels) < 1 || len(c.Channels) > 9:
		return fmt.Errorf("model: config has %d blocks, want 1..9 (4 to 1024 px)", len(c.Channels))
	case !(c.NormEps > 0) || c.NormEps > 1:
		return fmt.Errorf("model: config instance_norm_eps %g out of range (0, 1]", c.NormEps)
	case !(math.Abs(c.TruncPsi) <= latent.MaxPsi):
		return fmt.Errorf("model: config truncation_psi %g out of range -%g..%g", c.TruncPsi, latent.MaxPsi, latent.MaxPsi)
	case c.FusedFrom != 0 && (c.FusedFrom < 4 || c.FusedFrom > 1024 || c.FusedFrom&(c.FusedFrom-1) != 0):
		return fmt.Errorf("model: config fused_from %d: want 0 (never) or a resolution, a power of two 4..1024", c.FusedFrom)
	case c.TruncCutoff < 0 || c.TruncCutoff > c.NumStyles():
		return fmt.Errorf("model: config truncation_cutoff %d out of range 0..%d", c.TruncCutoff, c.NumStyles())
	case c.FadeAlpha != 0 && !c.Fading():
		return fmt.Errorf("model: config fade_alpha %g out of range: want a value in (0, 1), or none (no fade-in)", c.FadeAlpha)
	case c.Fading() && len(c.Channels) < 2:
		return fmt.Errorf("model: config fade_alpha %g: a one-block (4 px) model has no previous block to fade from", c.FadeAlpha)
	}
	for b, ch := range c.Channels {
		if ch <= 0 || ch > 8192 {
			return fmt.Errorf("model: config block %d (%dpx) has %d channels, want 1..8192", b, BlockRes(b), ch)
		}
	}
	return nil
}

// JSON encodes the config for checkpoint metadata.
func (c *Config) JSON() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ParseConfig decodes and validates a config from checkpoint metadata.
func ParseConfig(s string) (*Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("model: config: %v", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// NVlabsChannels gives the official feature-map widths,
// min(fmap_base / 2^(stage·fmap_decay), fmap_max) with stage = log2(res)−1.
func NVlabsChannels(resolution, fmapBase, fmapMax int) []int {
	var ch []int
	for res, stage := 4, 1; res <= resolution; res, stage = res*2, stage+1 {
		ch = append(ch, min(fmapBase>>stage, fmapMax))
	}
	return ch
}
