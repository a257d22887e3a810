package model

import (
	"slices"
	"testing"
)

// TestPresets: the presets carry the published architectures
// (networks_stylegan.py's nf(stage) = min(8192 / 2^stage, 512) with
// stage = log2(res) - 1; rosinality's
// StyledGenerator progression) and validate.
func TestPresets(t *testing.T) {
	for _, c := range []struct {
		cfg      *Config
		channels []int
		styles   int
		cutoff   int
	}{
		{NVlabs(1024), []int{512, 512, 512, 512, 256, 128, 64, 32, 16}, 18, 8},
		{NVlabs(256), []int{512, 512, 512, 512, 256, 128, 64}, 14, 8},
		{NVlabs(8), []int{512, 512}, 4, 4},
		{Rosinality(1024), []int{512, 512, 512, 512, 256, 128, 64, 32, 16}, 9, 9},
		{Rosinality(256), []int{512, 512, 512, 512, 256, 128, 64}, 7, 7},
	} {
		if err := c.cfg.Validate(); err != nil {
			t.Errorf("%s %dpx: %v", c.cfg.Name, c.cfg.Resolution(), err)
		}
		if !slices.Equal(c.cfg.Channels, c.channels) || c.cfg.NumStyles() != c.styles || c.cfg.TruncCutoff != c.cutoff {
			t.Errorf("%s: channels %v, %d styles, cutoff %d; want %v, %d, %d",
				c.cfg.Name, c.cfg.Channels, c.cfg.NumStyles(), c.cfg.TruncCutoff, c.channels, c.styles, c.cutoff)
		}
	}
	if n, r := NVlabs(64), Rosinality(64); n.StylePerBlock || !r.StylePerBlock || n.NormEps != 1e-8 || r.NormEps != 1e-5 || n.BiasBeforeBlur || !r.BiasBeforeBlur {
		t.Errorf("convention switches: nvlabs %+v, rosinality %+v", n, r)
	}
}
