package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Weights are a generator's parameters as the forward pass uses them: every
// equalized-learning-rate gain, learning-rate multiplier and convention
// offset is already folded in, so inference never rescales.
type Weights struct {
	Mapping []Dense   // MappingLayers fully connected layers, z -> w
	Const   []float32 // [C0,4,4] the learned constant input
	Layers  []Layer   // 2 per block
	ToRGB   []ToRGB   // one per block; nil Weight where the file has none
	WAvg    []float32 // [WDim] the tracked average of w (dlatent_avg)
	// NoiseConst holds the stored noise maps (NVlabs pickles keep one per
	// layer); nil entries mean none is stored.
	NoiseConst [][]float32
}

// Dense is y = x·W + B with W laid out [in, out].
type Dense struct {
	W []float32
	B []float32
}

// Layer is one synthesis layer: conv (absent for the constant layer),
// noise strength, bias, and the style affine A that maps w to the AdaIN
// scale and shift (y_s, y_b in the paper).
type Layer struct {
	// Conv is [Cout,Cin,3,3]; for a fused up-layer it is the transposed-conv
	// kernel [Cin,Cout,4,4] (padded, summed, scaled at load time).
	Conv  []float32
	Bias  []float32 // [C]
	Noise []float32 // [C] per-channel noise strength (B in the paper)
	// Style maps w to 2C values: the first C scale (1 already added where
	// the convention is x·(s+1)), the next C shift.
	Style Dense
}

// ToRGB is a 1x1 conv [3,C] plus bias [3].
type ToRGB struct {
	W []float32
	B []float32
}

// size is the number of elements of a shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Check verifies every slice length against the config.
func (w *Weights) Check(c *Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	bad := func(name string, got, want int) error {
		return fmt.Errorf("model: %s has %d values, want %d", name, got, want)
	}
	if len(w.Mapping) != c.MappingLayers {
		return fmt.Errorf("model: %d mapping layers, config says %d", len(w.Mapping), c.MappingLayers)
	}
	for i, d := range w.Mapping {
		in := c.WDim
		if i == 0 {
			in = c.ZDim
		}
		if len(d.W) != in*c.WDim {
			return bad(fmt.Sprintf("mapping %d weight", i), len(d.W), in*c.WDim)
		}
		if len(d.B) != c.WDim {
			return bad(fmt.Sprintf("mapping %d bias", i), len(d.B), c.WDim)
		}
	}
	if len(w.Const) != c.Channels[0]*16 {
		return bad("const", len(w.Const), c.Channels[0]*16)
	}
	if len(w.Layers) != c.NumLayers() {
		return fmt.Errorf("model: %d synthesis layers, config says %d", len(w.Layers), c.NumLayers())
	}
	for _, sl := range c.Layers() {
		l, ch := w.Layers[sl.Index], sl.Out
		name := func(s string) string { return fmt.Sprintf("layer %d (%dpx) %s", sl.Index, sl.Res, s) }
		want := size(sl.ConvShape())
		if sl.Const {
			want = 0 // the constant is Weights.Const, checked above
		}
		if len(l.Conv) != want {
			return bad(name("conv"), len(l.Conv), want)
		}
		if len(l.Bias) != ch {
			return bad(name("bias"), len(l.Bias), ch)
		}
		if len(l.Noise) != ch {
			return bad(name("noise strength"), len(l.Noise), ch)
		}
		if len(l.Style.W) != c.WDim*2*ch || len(l.Style.B) != 2*ch {
			return bad(name("style"), len(l.Style.W)+len(l.Style.B), c.WDim*2*ch+2*ch)
		}
	}
	if len(w.ToRGB) != c.NumBlocks() {
		return fmt.Errorf("model: %d ToRGB entries, want %d", len(w.ToRGB), c.NumBlocks())
	}
	for b, t := range w.ToRGB {
		if t.W == nil && b < c.NumBlocks()-1 {
			continue
		}
		if len(t.W) != 3*c.Channels[b] || len(t.B) != 3 {
			return bad(fmt.Sprintf("ToRGB %dpx", BlockRes(b)), len(t.W)+len(t.B), 3*c.Channels[b]+3)
		}
	}
	if prev := c.NumBlocks() - 2; c.Fading() && w.ToRGB[prev].W == nil {
		return fmt.Errorf("model: the fade-in (fade_alpha %g) needs the ToRGB of %dpx, which the weights lack", c.FadeAlpha, BlockRes(prev))
	}
	if len(w.WAvg) != c.WDim {
		return bad("w_avg", len(w.WAvg), c.WDim)
	}
	if w.NoiseConst != nil {
		if len(w.NoiseConst) != c.NumNoise() {
			return fmt.Errorf("model: %d stored noise maps, want %d", len(w.NoiseConst), c.NumNoise())
		}
		for j, m := range w.NoiseConst {
			if r := c.NoiseRes(j); m != nil && len(m) != r*r {
				return bad(fmt.Sprintf("stored noise %d", j), len(m), r*r)
			}
		}
	}
	return nil
}

// NumParams counts the generator's parameters (stored noise excluded).
func (w *Weights) NumParams() int {
	n := len(w.Const) + len(w.WAvg)
	for _, d := range w.Mapping {
		n += len(d.W) + len(d.B)
	}
	for _, l := range w.Layers {
		n += len(l.Conv) + len(l.Bias) + len(l.Noise) + len(l.Style.W) + len(l.Style.B)
	}
	for _, t := range w.ToRGB {
		n += len(t.W) + len(t.B)
	}
	return n
}

// RandomWeights makes a generator of the config's real sizes with weights
// drawn as at initialisation (He-scaled), for benchmarks and tests.
func RandomWeights(c *Config, seed uint64) *Weights {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	normal := func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * std)
		}
		return v
	}
	fill := func(n int, x float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = x
		}
		return v
	}
	w := &Weights{WAvg: normal(c.WDim, 0.1)}
	for i := 0; i < c.MappingLayers; i++ {
		in := c.WDim
		if i == 0 {
			in = c.ZDim
		}
		w.Mapping = append(w.Mapping, Dense{W: normal(in*c.WDim, math.Sqrt(2/float64(in))), B: normal(c.WDim, 0.01)})
	}
	w.Const = normal(c.Channels[0]*16, 1)
	for _, sl := range c.Layers() {
		ch, in := sl.Out, sl.In
		var l Layer
		switch {
		case sl.Const:
		case sl.Fused:
			l.Conv = normal(in*ch*16, math.Sqrt(2/float64(in*9))/2)
		default:
			l.Conv = normal(in*ch*9, math.Sqrt(2/float64(in*9)))
		}
		l.Bias = normal(ch, 0.05)
		l.Noise = normal(ch, 0.1)
		l.Style.W = normal(c.WDim*2*ch, 1/math.Sqrt(float64(c.WDim)))
		l.Style.B = append(fill(ch, 1), make([]float32, ch)...)
		w.Layers = append(w.Layers, l)
	}
	for b := range c.Channels {
		w.ToRGB = append(w.ToRGB, ToRGB{W: normal(3*c.Channels[b], 1/math.Sqrt(float64(c.Channels[b]))), B: make([]float32, 3)})
	}
	return w
}
