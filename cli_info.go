package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"stylegan-tui/latent"
)

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", "FILE", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"info takes one checkpoint file (or \"default\")"}
	}
	m, err := loadModel(fs.Arg(0))
	if err != nil {
		return err
	}
	c := m.Cfg
	fmt.Fprintf(stdout, "file:        %s\n", fs.Arg(0))
	fmt.Fprintf(stdout, "format:      %s (%s)\n", m.Format, m.Container)
	fmt.Fprintf(stdout, "provenance:  %s\n", m.Provenance)
	fmt.Fprintf(stdout, "convention:  %s\n", m.Convention())
	fmt.Fprintf(stdout, "resolution:  %dx%d\n", c.Resolution(), c.Resolution())
	if c.Fading() {
		prev := c.Resolution() / 2
		fmt.Fprintf(stdout, "fade-in:     α %.4g (output blends the upsampled %d px ToRGB, weight 1−α)\n", c.FadeAlpha, prev)
	}
	fmt.Fprintf(stdout, "Z, W:        %d, %d (mapping: %d fully connected layers)\n", c.ZDim, c.WDim, c.MappingLayers)
	fmt.Fprintf(stdout, "parameters:  %d\n", m.W.NumParams())
	if n := len(m.Unused); n > 0 {
		shown := m.Unused[:min(n, 8)]
		more := ""
		if n > len(shown) {
			more = fmt.Sprintf(" and %d more", n-len(shown))
		}
		fmt.Fprintf(stdout, "unused:      %d tensors the importer did not read: %s%s\n", n, strings.Join(shown, ", "), more)
	}
	fmt.Fprintf(stdout, "truncation:  psi %g on style slots < %d\n", c.TruncPsi, c.TruncCutoff)
	noise := "none stored (const noise = the map of seed 0)"
	if m.W.NoiseConst != nil {
		noise = fmt.Sprintf("%d stored maps", len(m.W.NoiseConst))
	}
	fmt.Fprintf(stdout, "noise:       %d inputs, %s\n", c.NumNoise(), noise)
	fmt.Fprintf(stdout, "style slots: %d\n", c.NumStyles())
	for s := 0; s < c.NumStyles(); s++ {
		res := c.SlotRes(s)
		fmt.Fprintf(stdout, "  slot %2d  %4dx%-4d  %-6s  %d channels\n", s, res, res, latent.GroupOf(res), c.Channels[log2(res)-2])
	}
	// How much each layer listens to its noise input: a trained model keeps
	// the strengths small where structure is decided (coarse layers).
	fmt.Fprintf(stdout, "noise strength per layer (mean |B|, max |B| over channels):\n")
	for i, l := range m.W.Layers {
		mean, peak := absStats(l.Noise)
		res := c.LayerRes(i)
		fmt.Fprintf(stdout, "  layer %2d  %4dx%-4d  %.3f  %.3f\n", i, res, res, mean, peak)
	}
	return nil
}

// absStats returns the mean and the largest absolute value of x.
func absStats(x []float32) (mean, peak float64) {
	for _, v := range x {
		a := math.Abs(float64(v))
		mean += a
		peak = max(peak, a)
	}
	if len(x) > 0 {
		mean /= float64(len(x))
	}
	return mean, peak
}

func log2(n int) int { return int(math.Round(math.Log2(float64(n)))) }
