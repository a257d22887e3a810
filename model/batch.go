package model

import "slices"

// Memory of a synthesis batch. A Generator keeps every layer's conv output
// and output for incremental edits, and its ops keep their intermediates,
// so a batch's memory grows with its images: at 1024 px about 0.85 GB an
// image (measured, rosinality and NVlabs), which a default batch of 32
// would have made tens of GB.

// ActivationBytes estimates the memory one image of a batch costs a
// synthesis net: four float32 maps the size of each layer's output (its
// conv output and output, and about two intermediates; measured 3.2 at
// 1024 px and 2.9 at 256 px).
func (c *Config) ActivationBytes() int64 {
	var n int64
	for _, l := range c.Layers() {
		n += int64(l.Out) * int64(l.Res) * int64(l.Res)
	}
	return 4 * 4 * n
}

// BatchWithin is the largest batch, at most most, whose synthesis net stays
// within budget bytes when each batch item is perItem images (a path
// length pair is 2); at least 1, since one image is the least work.
func (c *Config) BatchWithin(most, perItem int, budget int64) int {
	per := c.ActivationBytes() * int64(perItem)
	b := int64(most)
	if per > 0 && budget/per < b {
		b = budget / per
	}
	return int(max(b, 1))
}

// BatchBudget is the memory the commands give a synthesis batch by default.
const BatchBudget int64 = 2 << 30

// Rows is in's batch items lo..hi−1, sharing in's values: a batch too large
// for one synthesis net runs in parts (a noise map shared by the whole
// batch stays shared).
func (in SynthesisInput) Rows(c *Config, lo, hi int) SynthesisInput {
	return in.perItem(c, hi-lo, func(m []float32, per int) []float32 { return m[lo*per : hi*per] })
}

// Padded is in with its last batch item repeated up to n items: the last
// part of a batch run in parts, padded, reuses the net of the parts before
// it instead of building a second one (Generator keeps a net per batch
// size). The caller drops the padding's outputs.
func (in SynthesisInput) Padded(c *Config, n int) SynthesisInput {
	if in.B >= n {
		return in
	}
	return in.perItem(c, n, func(m []float32, per int) []float32 {
		p := slices.Grow(slices.Clone(m), (n-in.B)*per)
		for last := m[len(m)-per:]; len(p) < n*per; {
			p = append(p, last...)
		}
		return p
	})
}

// perItem is in as a batch of B items: each w slot and each noise map of
// one map per item goes through fn (per: the values an item has there); a
// noise map shared by the batch stays as it is.
func (in SynthesisInput) perItem(c *Config, B int, fn func(m []float32, per int) []float32) SynthesisInput {
	out := SynthesisInput{B: B, W: make([][]float32, len(in.W)), Noise: make([][]float32, len(in.Noise))}
	for s, w := range in.W {
		out.W[s] = fn(w, c.WDim)
	}
	for j, m := range in.Noise {
		if r := c.NoiseRes(j); len(m) == in.B*r*r && in.B > 1 {
			m = fn(m, r*r)
		}
		out.Noise[j] = m
	}
	return out
}
