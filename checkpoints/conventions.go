package checkpoints

import (
	"fmt"
	"math"
	"strconv"

	"stylegan-tui/model"
)

// fromRosinality maps a rosinality/style-based-gan-pytorch state dict (the
// July-2019 "-new" layout): equalized lr = weight_orig·sqrt(2/fan_in), one
// style and one noise map per block, up-conv bias before the blur,
// instance-norm eps 1e-5, fused transposed conv with its /4, AdaIN as
// γ·x̂+β with γ's bias initialised to 1 (so no +1 here).
func fromRosinality(t *table) (*Checkpoint, error) {
	w1 := t.shape("style.1.linear.weight_orig")
	if len(w1) != 2 {
		return nil, fmt.Errorf("checkpoints: %s: style.1.linear.weight_orig has shape %v, want [dim dim]", t.src, w1)
	}
	dim := w1[1]
	nMLP := 0
	for t.has(fmt.Sprintf("style.%d.linear.weight_orig", 2*nMLP+1)) {
		nMLP++
	}
	// Blocks present: the highest progression block with its second conv.
	// Published checkpoints hold all nine blocks even when trained to a
	// lower step; the metadata's "step" (the fixtures, `import --step`)
	// says where to stop.
	blocks := 0
	for t.has(fmt.Sprintf("generator.progression.%d.conv2.conv.weight_orig", blocks)) {
		blocks++
	}
	if s, ok := t.f.Metadata["step"]; ok {
		step, err := strconv.Atoi(s)
		if err != nil || step < 0 || step >= blocks {
			return nil, fmt.Errorf("checkpoints: %s: metadata step %q, want 0..%d", t.src, s, blocks-1)
		}
		blocks = step + 1
	}
	if blocks == 0 {
		if t.has("generator.progression.0.conv1.conv.weight_orig") || t.has("generator.progression.1.conv1.conv.weight_orig") {
			return nil, fmt.Errorf("checkpoints: %s: this is the pre-July-2019 rosinality layout (progression.N.conv1.conv, no blur), which is not supported; use a '-new' checkpoint", t.src)
		}
		return nil, fmt.Errorf("checkpoints: %s: no generator.progression.0.conv2.conv.weight_orig: not a rosinality generator", t.src)
	}
	// The convention's switches from the preset; sizes and the fused
	// blocks from the weights.
	cfg := model.Rosinality(4)
	cfg.ZDim, cfg.WDim, cfg.MappingLayers = dim, dim, nMLP
	cfg.Channels, cfg.FusedFrom = nil, 0
	if blocks > 9 {
		return nil, fmt.Errorf("checkpoints: %s: %d progression blocks, at most 9 (1024 px)", t.src, blocks)
	}
	for b := 0; b < blocks; b++ {
		s := t.shape(fmt.Sprintf("generator.progression.%d.conv2.conv.weight_orig", b))
		if len(s) != 4 {
			return nil, fmt.Errorf("checkpoints: %s: generator.progression.%d.conv2.conv.weight_orig has shape %v", t.src, b, s)
		}
		cfg.Channels = append(cfg.Channels, s[0])
		if b > 0 && t.has(fmt.Sprintf("generator.progression.%d.conv1.0.weight", b)) && cfg.FusedFrom == 0 {
			cfg.FusedFrom = model.BlockRes(b)
		}
	}
	cfg.TruncCutoff = cfg.NumStyles()
	w := &model.Weights{}
	for i := 0; i < nMLP; i++ {
		p := fmt.Sprintf("style.%d.linear.", 2*i+1)
		w.Mapping = append(w.Mapping, model.Dense{
			W: transpose2(scaled(t.get(p+"weight_orig", dim, dim), he(math.Sqrt2, dim)), dim, dim),
			B: t.get(p+"bias", dim),
		})
	}
	for b := 0; b < blocks; b++ {
		ch := cfg.Channels[b]
		p := fmt.Sprintf("generator.progression.%d.", b)
		for j := 1; j <= 2; j++ {
			var l model.Layer
			switch {
			case j == 2:
				l.Conv = scaled(t.get(p+"conv2.conv.weight_orig", ch, ch, 3, 3), he(math.Sqrt2, ch*9))
				l.Bias = t.get(p+"conv2.conv.bias", ch)
			case b == 0:
				w.Const = t.get(p+"conv1.input", 1, ch, 4, 4)
				l.Bias = make([]float32, ch) // the constant has no bias here
			case cfg.Fused(b):
				in := cfg.Channels[b-1]
				k := scaled(t.get(p+"conv1.0.weight", in, ch, 3, 3), he(math.Sqrt2, in*9))
				if k != nil {
					l.Conv = fuseKernel(k, in, ch, 4)
				}
				l.Bias = t.get(p+"conv1.0.bias", ch)
			default:
				in := cfg.Channels[b-1]
				l.Conv = scaled(t.get(p+"conv1.1.conv.weight_orig", ch, in, 3, 3), he(math.Sqrt2, in*9))
				l.Bias = t.get(p+"conv1.1.conv.bias", ch)
			}
			l.Noise = scaled(t.get(fmt.Sprintf("%snoise%d.weight_orig", p, j), 1, ch, 1, 1), he(math.Sqrt2, ch))
			sw := t.get(fmt.Sprintf("%sadain%d.style.linear.weight_orig", p, j), 2*ch, dim)
			l.Style = model.Dense{
				W: transpose2(scaled(sw, he(math.Sqrt2, dim)), 2*ch, dim),
				B: t.get(fmt.Sprintf("%sadain%d.style.linear.bias", p, j), 2*ch),
			}
			w.Layers = append(w.Layers, l)
		}
		var rgb model.ToRGB
		if q := fmt.Sprintf("generator.to_rgb.%d.conv.", b); t.has(q + "weight_orig") {
			rgb.W = scaled(t.get(q+"weight_orig", 3, ch, 1, 1), he(math.Sqrt2, ch))
			rgb.B = t.get(q+"bias", 3)
		}
		w.ToRGB = append(w.ToRGB, rgb)
	}
	if t.err != nil {
		return nil, t.err
	}
	m := &Checkpoint{Cfg: cfg, W: w, Format: "rosinality", Provenance: "rosinality/style-based-gan-pytorch " + t.src}
	// rosinality keeps no average w; estimate it as its generate.py does,
	// from the mapping of many random z (fixed seed, so loads agree).
	avg, err := estimateWAvg(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %s: %w", t.src, err)
	}
	w.WAvg = avg
	return m, nil
}

// estimateWAvg averages the mapping of 4096 z drawn from a fixed seed.
func estimateWAvg(cfg *model.Config, w *model.Weights) ([]float32, error) {
	w.WAvg = make([]float32, cfg.WDim) // placeholder so Check passes
	g, err := model.New(cfg, w)
	if err != nil {
		return nil, err
	}
	defer g.Close() // a throwaway generator: its frozen weights stay alive until closed
	return g.EstimateWAvg(4096, 0x5741)
}

// fromNVlabs maps NVlabs/stylegan Gs variables (TF names and layouts):
// dense [in,out], conv [kh,kw,in,out], ToRGB [1,1,in,3]; runtime weight =
// stored·gain/sqrt(fan_in)·lrmul (mapping lrmul 0.01, gain sqrt(2); style
// and ToRGB gain 1); style_mod is x·(s+1)+b, the +1 folded into the bias;
// up-conv bias after the blur; fused transposed conv (no /4) from 128 px.
func fromNVlabs(t *table) (*Checkpoint, error) {
	meta := t.f.Metadata
	num := func(key string, def float64) (float64, error) {
		s, ok := meta[key]
		if !ok || s == "None" || s == "null" {
			return def, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("checkpoints: %s: metadata %s = %q is not a number", t.src, key, s)
		}
		return v, nil
	}
	d0 := t.shape("G_mapping/Dense0/weight")
	if len(d0) != 2 {
		return nil, fmt.Errorf("checkpoints: %s: G_mapping/Dense0/weight has shape %v, want [in out]", t.src, d0)
	}
	zdim, mf := d0[0], d0[1]
	nMap := 0
	for t.has(fmt.Sprintf("G_mapping/Dense%d/weight", nMap)) {
		nMap++
	}
	last := t.shape(fmt.Sprintf("G_mapping/Dense%d/weight", nMap-1))
	if len(last) != 2 {
		return nil, fmt.Errorf("checkpoints: %s: G_mapping/Dense%d/weight has shape %v, want [in out]", t.src, nMap-1, last)
	}
	wdim := last[1]
	if mf != wdim && nMap > 1 {
		return nil, fmt.Errorf("checkpoints: %s: mapping width %d differs from dlatent size %d, which this engine does not support", t.src, mf, wdim)
	}
	lrmul, err := num("mapping_lrmul", 0.01)
	if err != nil {
		return nil, err
	}
	fusedFrom := 128
	if s, ok := meta["fused_scale"]; ok {
		switch s {
		case "True", "true":
			fusedFrom = 8
		case "False", "false":
			fusedFrom = 0
		}
	}
	psi, err := num("truncation_psi", 0.7)
	if err != nil {
		return nil, err
	}
	cutoff, err := num("truncation_cutoff", 8)
	if err != nil {
		return nil, err
	}
	// The convention's switches from the preset; sizes, fusing and
	// truncation from the pickle's variables and kwargs.
	cfg := model.NVlabs(4)
	cfg.ZDim, cfg.WDim, cfg.MappingLayers = zdim, wdim, nMap
	cfg.Channels, cfg.FusedFrom, cfg.TruncPsi = nil, fusedFrom, psi
	for res := 4; ; res *= 2 {
		name := fmt.Sprintf("G_synthesis/%dx%d/Conv1/bias", res, res)
		if res == 4 {
			name = "G_synthesis/4x4/Conv/bias"
		}
		s := t.shape(name)
		if len(s) != 1 || len(cfg.Channels) == 9 {
			break
		}
		cfg.Channels = append(cfg.Channels, s[0])
	}
	if len(cfg.Channels) == 0 {
		return nil, fmt.Errorf("checkpoints: %s: missing G_synthesis/4x4/Conv/bias", t.src)
	}
	if r, ok := meta["resolution"]; ok && r != strconv.Itoa(cfg.Resolution()) {
		return nil, fmt.Errorf("checkpoints: %s: metadata resolution %s but the variables stop at %dpx", t.src, r, cfg.Resolution())
	}
	cfg.TruncCutoff = min(int(cutoff), cfg.NumStyles())
	w := &model.Weights{}
	for i := 0; i < nMap; i++ {
		in := wdim
		if i == 0 {
			in = zdim
		}
		p := fmt.Sprintf("G_mapping/Dense%d/", i)
		w.Mapping = append(w.Mapping, model.Dense{
			W: scaled(t.get(p+"weight", in, wdim), he(math.Sqrt2, in)*lrmul),
			B: scaled(t.get(p+"bias", wdim), lrmul),
		})
	}
	for _, sl := range cfg.Layers() {
		res, ch := sl.Res, sl.Out
		var p string
		var l model.Layer
		switch {
		case sl.Const:
			p = "G_synthesis/4x4/Const/"
			w.Const = t.get(p+"const", 1, ch, 4, 4)
		case sl.Block == 0: // NVlabs names 4x4's second layer Conv, not Conv1
			p = "G_synthesis/4x4/Conv/"
			l.Conv = convTF(t.get(p+"weight", 3, 3, ch, ch), ch, ch)
		case sl.Up:
			in := sl.In
			p = fmt.Sprintf("G_synthesis/%dx%d/Conv0_up/", res, res)
			k := t.get(p+"weight", 3, 3, in, ch)
			if sl.Fused {
				if k != nil {
					l.Conv = fuseKernel(transposeTFUp(scaled(k, he(math.Sqrt2, in*9)), in, ch), in, ch, 1)
				}
			} else {
				l.Conv = convTF(k, in, ch)
			}
		default:
			p = fmt.Sprintf("G_synthesis/%dx%d/Conv1/", res, res)
			l.Conv = convTF(t.get(p+"weight", 3, 3, ch, ch), ch, ch)
		}
		l.Bias = t.get(p+"bias", ch)
		l.Noise = t.get(p+"Noise/weight", ch)
		sb := t.get(p+"StyleMod/bias", 2*ch)
		if sb != nil {
			sb = append([]float32(nil), sb...)
			for c := 0; c < ch; c++ {
				sb[c]++ // x·(s+1)+b
			}
		}
		l.Style = model.Dense{W: scaled(t.get(p+"StyleMod/weight", wdim, 2*ch), he(1, wdim)), B: sb}
		w.Layers = append(w.Layers, l)
	}
	for b := range cfg.Channels {
		lod := len(cfg.Channels) - 1 - b
		p := fmt.Sprintf("G_synthesis/ToRGB_lod%d/", lod)
		var rgb model.ToRGB
		if t.has(p + "weight") {
			ch := cfg.Channels[b]
			rgb.W = transpose2(scaled(t.get(p+"weight", 1, 1, ch, 3), he(1, ch)), ch, 3)
			rgb.B = t.get(p+"bias", 3)
		}
		w.ToRGB = append(w.ToRGB, rgb)
	}
	w.WAvg = t.get("dlatent_avg", wdim)
	if t.has("G_synthesis/noise0") {
		for j := 0; j < cfg.NumNoise(); j++ {
			r := cfg.NoiseRes(j)
			w.NoiseConst = append(w.NoiseConst, t.get(fmt.Sprintf("G_synthesis/noise%d", j), 1, 1, r, r))
		}
	}
	if t.err != nil {
		return nil, t.err
	}
	return &Checkpoint{Cfg: cfg, W: w, Format: "nvlabs", Provenance: "NVlabs/stylegan " + t.src}, nil
}

// convTF turns a TF conv kernel [3,3,in,out] into [out,in,3,3] with the
// equalized-lr gain sqrt(2)/sqrt(9·in).
func convTF(k []float32, in, out int) []float32 {
	if k == nil {
		return nil
	}
	s := he(math.Sqrt2, in*9)
	o := make([]float32, len(k))
	for y := 0; y < 3; y++ {
		for x := 0; x < 3; x++ {
			for i := 0; i < in; i++ {
				for c := 0; c < out; c++ {
					o[((c*in+i)*3+y)*3+x] = float32(float64(k[((y*3+x)*in+i)*out+c]) * s)
				}
			}
		}
	}
	return o
}

// transposeTFUp turns a TF kernel [3,3,in,out] into the transposed-conv
// layout [in,out,3,3] (PyTorch conv_transpose2d weight).
func transposeTFUp(k []float32, in, out int) []float32 {
	o := make([]float32, len(k))
	for y := 0; y < 3; y++ {
		for x := 0; x < 3; x++ {
			for i := 0; i < in; i++ {
				for c := 0; c < out; c++ {
					o[((i*out+c)*3+y)*3+x] = k[((y*3+x)*in+i)*out+c]
				}
			}
		}
	}
	return o
}
