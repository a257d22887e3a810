// Package checkpoints loads and saves generators: the native format
// (safetensors with the Config, w_avg and provenance in __metadata__), and
// the real-world StyleGAN v1 layouts — rosinality's PyTorch state dicts and
// NVlabs' TensorFlow variables — recognised by their tensor names and mapped
// by one table per convention onto model.Config and model.Weights.
package checkpoints

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model"
)

// Checkpoint is a loaded generator with where it came from.
type Checkpoint struct {
	Cfg        *model.Config
	W          *model.Weights
	Format     string // "native", "rosinality", "nvlabs"
	Container  string // the file: "safetensors", "torch zip (g_running)", "pickle protocol 4" ...
	Provenance string // free text: source file, training run ...
	// Unused names the tensors of an imported file that the convention's
	// table did not read (sorted): buffers such as blur kernels, or parts
	// of a layout this loader does not know. A native file has none (it
	// is refused otherwise).
	Unused []string
}

// Generator builds the inference engine for the model.
func (m *Checkpoint) Generator() (*model.Generator, error) { return model.New(m.Cfg, m.W) }

// Convention describes the detected convention in a sentence.
func (m *Checkpoint) Convention() string {
	c := m.Cfg
	per := "per layer"
	if c.StylePerBlock {
		per = "per block"
	}
	bias := "after blur"
	if c.BiasBeforeBlur {
		bias = "before blur"
	}
	fused := "never"
	if c.FusedFrom > 0 {
		fused = fmt.Sprintf("from %dpx", c.FusedFrom)
	}
	return fmt.Sprintf("styles and noise %s, up-conv bias %s, instance-norm eps %g, fused upsample %s", per, bias, c.NormEps, fused)
}

// FromTensors recognises a set of named tensors (from a safetensors file
// or an importer) by its keys and maps it onto a model. source names the
// file in errors.
func FromTensors(f *safetensors.File, source string) (*Checkpoint, error) {
	t := &table{f: f, src: source, used: map[string]bool{}}
	var m *Checkpoint
	var err error
	switch {
	case f.Metadata["format"] == nativeFormat:
		m, err = fromNative(t)
	case t.has("style.1.linear.weight_orig"):
		m, err = fromRosinality(t)
	case t.has("G_mapping/Dense0/weight"):
		m, err = fromNVlabs(t)
	default:
		return nil, fmt.Errorf("checkpoints: %s: not a StyleGAN v1 generator (found %s; want rosinality keys like \"style.1.linear.weight_orig\", NVlabs keys like \"G_mapping/Dense0/weight\", or a stylegan-tui file)", source, sample(f))
	}
	if err != nil {
		return nil, err
	}
	if err := m.W.Check(m.Cfg); err != nil {
		return nil, fmt.Errorf("checkpoints: %s: %w", source, err)
	}
	if extra := t.unused(); len(extra) > 0 {
		if m.Format == "native" {
			return nil, fmt.Errorf("checkpoints: %s: unexpected tensors %s", source, strings.Join(extra, ", "))
		}
		m.Unused = extra
	}
	return m, nil
}

// sample lists a few key names for an error message.
func sample(f *safetensors.File) string {
	names := f.Names()
	if len(names) == 0 {
		return "no tensors"
	}
	if len(names) > 3 {
		return fmt.Sprintf("%q ... (%d tensors)", names[:3], len(names))
	}
	return fmt.Sprintf("%q", names)
}

// table hands out tensors by name, checking shapes and recording use.
type table struct {
	f    *safetensors.File
	src  string
	used map[string]bool
	err  error
}

func (t *table) has(name string) bool { _, ok := t.f.Tensors[name]; return ok }

// get returns the named tensor's data, which must have the given shape;
// the first failure is kept in t.err and later calls return nil.
func (t *table) get(name string, shape ...int) []float32 {
	if t.err != nil {
		return nil
	}
	x, ok := t.f.Tensors[name]
	if !ok {
		t.err = fmt.Errorf("checkpoints: %s: missing tensor %q (shape %v)", t.src, name, shape)
		return nil
	}
	if !equalShape(x.Shape, shape) {
		t.err = fmt.Errorf("checkpoints: %s: %s: shape %v, want %v", t.src, name, x.Shape, shape)
		return nil
	}
	t.used[name] = true
	return x.Data
}

// shape returns the named tensor's shape (nil when missing).
func (t *table) shape(name string) []int {
	if x, ok := t.f.Tensors[name]; ok {
		return x.Shape
	}
	return nil
}

func (t *table) unused() []string {
	var out []string
	for n := range t.f.Tensors {
		if !t.used[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scaled returns a copy of v times s (rounded once, from float64).
func scaled(v []float32, s float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * s)
	}
	return out
}

// transpose2 turns a [r,c] matrix into [c,r].
func transpose2(v []float32, r, c int) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = v[i*c+j]
		}
	}
	return out
}

// he is the equalized-learning-rate gain sqrt(gain²/fanIn).
func he(gain float64, fanIn int) float64 { return gain / math.Sqrt(float64(fanIn)) }

// fuseKernel turns a 3x3 transposed-conv kernel [Cin,Cout,3,3] into the
// 4x4 kernel of StyleGAN's fused upsample: pad by one, sum the four
// shifted copies (so that it equals nearest-x2 followed by the 3x3 conv),
// divided by div (4 in rosinality, 1 in NVlabs).
func fuseKernel(w []float32, cin, cout int, div float64) []float32 {
	out := make([]float32, cin*cout*16)
	for p := 0; p < cin*cout; p++ {
		k, o := w[p*9:(p+1)*9], out[p*16:(p+1)*16]
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				// padded[y][x] = k[y-1][x-1]; the sum of padded[y+dy][x+dx]
				// over the four shifts, in rosinality's float32 order.
				at := func(dy, dx int) float32 {
					ky, kx := y+dy-1, x+dx-1
					if ky >= 0 && ky < 3 && kx >= 0 && kx < 3 {
						return k[ky*3+kx]
					}
					return 0
				}
				s := at(1, 1) + at(0, 1) + at(1, 0) + at(0, 0)
				o[y*4+x] = s / float32(div)
			}
		}
	}
	return out
}

// AtResolution returns the model cut to its first blocks up to res pixels
// (published rosinality checkpoints hold all nine blocks even when trained
// only to 256 px). A cut below a fading model's resolution has no fade.
func (m *Checkpoint) AtResolution(res int) (*Checkpoint, error) {
	n := 0
	for model.BlockRes(n) < res {
		n++
	}
	if model.BlockRes(n) != res || n >= m.Cfg.NumBlocks() {
		return nil, fmt.Errorf("checkpoints: resolution %d: want a power of two from 4 to %d", res, m.Cfg.Resolution())
	}
	n++
	if m.W.ToRGB[n-1].W == nil {
		return nil, fmt.Errorf("checkpoints: the weights have no ToRGB at %dpx", res)
	}
	cfg := *m.Cfg
	if n < cfg.NumBlocks() {
		cfg.FadeAlpha = 0 // the fade-in is the last block's
	}
	cfg.Channels = cfg.Channels[:n]
	cfg.TruncCutoff = min(cfg.TruncCutoff, cfg.NumStyles())
	w := *m.W
	w.Layers, w.ToRGB = w.Layers[:2*n], w.ToRGB[:n]
	if w.NoiseConst != nil {
		w.NoiseConst = w.NoiseConst[:cfg.NumNoise()]
	}
	out := *m
	out.Cfg, out.W = &cfg, &w
	return &out, nil
}
