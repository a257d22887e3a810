package checkpoints

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model"
)

// nativeFormat marks stylegan-tui's own files in __metadata__["format"].
const nativeFormat = "stylegan-tui/v1"

// Native tensor names (effective weights, this engine's layouts):
//
//	mapping.I.weight [in,out]        mapping.I.bias [out]
//	synthesis.const [1,C,4,4]
//	synthesis.layerI.conv [Cout,Cin,3,3] (fused: [Cin,Cout,4,4])
//	synthesis.layerI.bias [C]        synthesis.layerI.noise_strength [C]
//	synthesis.layerI.style.weight [W,2C]  synthesis.layerI.style.bias [2C]
//	synthesis.torgbB.weight [3,C,1,1]     synthesis.torgbB.bias [3]
//	w_avg [W]                        noise_const.J [1,1,R,R]
//
// The metadata's "config" is the model.Config as JSON; a model exported
// mid fade-in carries "fade_alpha" there (absent otherwise).
func toFile(m *Checkpoint) *safetensors.File {
	c, w := m.Cfg, m.W
	f := &safetensors.File{Tensors: map[string]*safetensors.Tensor{}, Metadata: map[string]string{
		"format": nativeFormat, "config": c.JSON(), "source_format": m.Format, "provenance": m.Provenance,
	}}
	put := func(name string, data []float32, shape ...int) {
		if data != nil {
			f.Tensors[name] = &safetensors.Tensor{Shape: shape, Data: data}
		}
	}
	for i, d := range w.Mapping {
		in := c.WDim
		if i == 0 {
			in = c.ZDim
		}
		put(fmt.Sprintf("mapping.%d.weight", i), d.W, in, c.WDim)
		put(fmt.Sprintf("mapping.%d.bias", i), d.B, c.WDim)
	}
	put("synthesis.const", w.Const, 1, c.Channels[0], 4, 4)
	layers := c.Layers()
	for i, l := range w.Layers {
		ch := layers[i].Out
		p := fmt.Sprintf("synthesis.layer%d.", i)
		if l.Conv != nil {
			put(p+"conv", l.Conv, layers[i].ConvShape()...)
		}
		put(p+"bias", l.Bias, ch)
		put(p+"noise_strength", l.Noise, ch)
		put(p+"style.weight", l.Style.W, c.WDim, 2*ch)
		put(p+"style.bias", l.Style.B, 2*ch)
	}
	for b, t := range w.ToRGB {
		put(fmt.Sprintf("synthesis.torgb%d.weight", b), t.W, 3, c.Channels[b], 1, 1)
		put(fmt.Sprintf("synthesis.torgb%d.bias", b), t.B, 3)
	}
	put("w_avg", w.WAvg, c.WDim)
	for j, n := range w.NoiseConst {
		r := c.NoiseRes(j)
		put(fmt.Sprintf("noise_const.%d", j), n, 1, 1, r, r)
	}
	return f
}

func fromNative(t *table) (*Checkpoint, error) {
	if _, ok := t.f.Metadata["config"]; !ok {
		return nil, fmt.Errorf("checkpoints: %s: no \"config\" in __metadata__ (a %s file carries its model config there)", t.src, nativeFormat)
	}
	cfg, err := model.ParseConfig(t.f.Metadata["config"])
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %s: metadata config: %w", t.src, err)
	}
	c := cfg
	w := &model.Weights{}
	for i := 0; i < c.MappingLayers; i++ {
		in := c.WDim
		if i == 0 {
			in = c.ZDim
		}
		w.Mapping = append(w.Mapping, model.Dense{
			W: t.get(fmt.Sprintf("mapping.%d.weight", i), in, c.WDim),
			B: t.get(fmt.Sprintf("mapping.%d.bias", i), c.WDim),
		})
	}
	w.Const = t.get("synthesis.const", 1, c.Channels[0], 4, 4)
	for i, sl := range c.Layers() {
		ch := sl.Out
		p := fmt.Sprintf("synthesis.layer%d.", i)
		var l model.Layer
		if !sl.Const {
			l.Conv = t.get(p+"conv", sl.ConvShape()...)
		}
		l.Bias = t.get(p+"bias", ch)
		l.Noise = t.get(p+"noise_strength", ch)
		l.Style = model.Dense{W: t.get(p+"style.weight", c.WDim, 2*ch), B: t.get(p+"style.bias", 2*ch)}
		w.Layers = append(w.Layers, l)
	}
	for b, ch := range c.Channels {
		var rgb model.ToRGB
		if p := fmt.Sprintf("synthesis.torgb%d.", b); t.has(p + "weight") {
			rgb = model.ToRGB{W: t.get(p+"weight", 3, ch, 1, 1), B: t.get(p+"bias", 3)}
		}
		w.ToRGB = append(w.ToRGB, rgb)
	}
	w.WAvg = t.get("w_avg", c.WDim)
	if t.has("noise_const.0") {
		for j := 0; j < c.NumNoise(); j++ {
			r := c.NoiseRes(j)
			w.NoiseConst = append(w.NoiseConst, t.get(fmt.Sprintf("noise_const.%d", j), 1, 1, r, r))
		}
	}
	if t.err != nil {
		return nil, t.err
	}
	return &Checkpoint{Cfg: cfg, W: w, Format: "native", Provenance: strings.TrimSpace(t.f.Metadata["provenance"])}, nil
}

// Save writes the model in the native format (atomically: temp file, then
// rename).
func Save(path string, m *Checkpoint) error {
	if err := m.W.Check(m.Cfg); err != nil {
		return fmt.Errorf("checkpoints: saving %s: %w", path, err)
	}
	return safetensors.WriteFile(path, toFile(m))
}

// Marshal encodes the model in the native format.
func Marshal(m *Checkpoint) ([]byte, error) { return toFile(m).Marshal() }

// Parse decodes a native or convention-named safetensors image.
func Parse(b []byte, source string) (*Checkpoint, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %s: %w", source, err)
	}
	m, err := FromTensors(f, source)
	if err == nil {
		m.Container = "safetensors"
	}
	return m, err
}

// Load opens a generator checkpoint of any supported format: safetensors
// (native or with rosinality/NVlabs names), rosinality .pt/.model (torch
// legacy or zip serialization) or an NVlabs .pkl.
func Load(path string) (*Checkpoint, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	head := make([]byte, 8)
	n, rerr := fh.Read(head)
	fh.Close()
	head = head[:n]
	if n == 0 {
		if rerr != nil && rerr != io.EOF {
			// A directory (or a device that cannot be read) is not empty.
			return nil, fmt.Errorf("checkpoints: %s: not a checkpoint file: %w", path, rerr)
		}
		return nil, fmt.Errorf("checkpoints: %s: empty file", path)
	}
	if imp := importerFor(path, head); imp != nil {
		tensors, meta, err := imp(path)
		if err != nil {
			return nil, err
		}
		m, err := FromTensors(&safetensors.File{Tensors: tensors, Metadata: meta}, path)
		if err != nil {
			return nil, err
		}
		m.Container = "NVlabs pickle"
		if s := meta["serialization"]; s != "" {
			m.Container = fmt.Sprintf("torch %s serialization, entry %s", s, meta["entry"])
		} else if len(head) > 1 {
			m.Container += fmt.Sprintf(" (protocol %d)", head[1])
		}
		return m, nil
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		if !strings.EqualFold(filepath.Ext(path), ".safetensors") {
			// Neither a pickle nor a zip: say what is read before the detail.
			return nil, fmt.Errorf("checkpoints: %s is not a checkpoint this program reads (a .safetensors file, a rosinality .pt/.model or an NVlabs .pkl): %w", path, err)
		}
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	m, err := FromTensors(f, path)
	if err == nil {
		m.Container = "safetensors"
	}
	return m, err
}
