package train

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model"
	"stylegan-tui/model/ops"
)

// stateFormat marks a resumable training state file.
const stateFormat = "stylegan-tui/train-state/v1"

// State tensor names: "g.raw/NAME", "g.v/NAME" (and "g.m/NAME" when
// beta1 != 0), the same for "d." and the feature D's heads "f.", "ema/NAME"
// (effective weights), "fb/NAME" (the feature D's frozen backbone) and
// "w_avg". Counters, the options and the RNG state are metadata.

// SaveState writes the resumable state atomically.
func (t *Trainer) SaveState(path string, wall time.Duration) error {
	f := &safetensors.File{Tensors: map[string]*safetensors.Tensor{}, Metadata: map[string]string{}}
	put := func(name string, shape []int, data []float32) {
		f.Tensors[name] = &safetensors.Tensor{Shape: shape, Data: data}
	}
	for _, set := range t.trainedSets() {
		for _, p := range set.ps.List {
			put(set.pre+".raw/"+p.Name, p.Shape, p.Raw)
			put(set.pre+".v/"+p.Name, p.Shape, p.V)
			if p.M != nil {
				put(set.pre+".m/"+p.Name, p.Shape, p.M)
			}
		}
	}
	for i, p := range t.GP.List {
		put("ema/"+p.Name, p.Shape, t.EMA[i])
	}
	put("w_avg", []int{len(t.WAvg)}, t.WAvg)
	if t.feat != nil {
		for _, p := range t.feat.FB.List {
			put("fb/"+p.Name, p.Shape, p.Raw)
		}
	}
	opt, err := json.Marshal(t.Opt)
	if err != nil {
		return err
	}
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	md := f.Metadata
	md["format"] = stateFormat
	md["options"] = string(opt)
	if t.Cadence != nil {
		c, err := json.Marshal(t.Cadence)
		if err != nil {
			return err
		}
		md["cadence"] = string(c)
	}
	md["images"] = strconv.FormatInt(t.Images, 10)
	md["data_pos"] = strconv.FormatInt(t.DataPos, 10)
	md["iter"] = strconv.FormatInt(t.Iter, 10)
	md["adam_res"] = strconv.Itoa(t.AdamRes)
	md["g_adam_t"] = strconv.Itoa(t.GAdam.T)
	md["d_adam_t"] = strconv.Itoa(t.DAdam.T)
	if t.feat != nil {
		md["f_adam_t"] = strconv.Itoa(t.FAdam.T)
	}
	md["rng"] = base64.StdEncoding.EncodeToString(rng)
	md["wall_seconds"] = strconv.FormatFloat(wall.Seconds(), 'f', 1, 64)
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("train: saving state: %w", err)
	}
	return nil
}

// namedSet is a trained parameter set with its state-file prefix.
type namedSet struct {
	pre string
	ps  *ParamSet
}

// trainedSets are the parameter sets an optimizer updates: G, D and, when
// on, the feature D's heads ("f").
func (t *Trainer) trainedSets() []namedSet {
	s := []namedSet{{"g", t.GP}, {"d", t.DP}}
	if t.feat != nil {
		s = append(s, namedSet{"f", t.feat.FH})
	}
	return s
}

// LoadState restores a trainer from a state file written by SaveState.
func LoadState(path string) (*Trainer, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: loading state: %w", err)
	}
	md := f.Metadata
	if md["format"] != stateFormat {
		return nil, fmt.Errorf("train: %s: not a training state (format %q)", path, md["format"])
	}
	var opt Options
	if err := json.Unmarshal([]byte(md["options"]), &opt); err != nil {
		return nil, fmt.Errorf("train: %s: options: %w", path, err)
	}
	opt.fromOlderBinaries()
	t, err := New(opt)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %s", path, strings.TrimPrefix(err.Error(), "train: "))
	}
	get := func(name string, dst []float32) error {
		x, ok := f.Tensors[name]
		if !ok {
			return fmt.Errorf("train: %s: missing tensor %s", path, name)
		}
		if len(x.Data) != len(dst) {
			return fmt.Errorf("train: %s: %s has %d values, want %d", path, name, len(x.Data), len(dst))
		}
		copy(dst, x.Data)
		return nil
	}
	for _, set := range t.trainedSets() {
		for _, p := range set.ps.List {
			if err := get(set.pre+".raw/"+p.Name, p.Raw); err != nil {
				return nil, err
			}
			if err := get(set.pre+".v/"+p.Name, p.V); err != nil {
				return nil, err
			}
			if p.M != nil {
				if err := get(set.pre+".m/"+p.Name, p.M); err != nil {
					return nil, err
				}
			}
			p.SyncEff()
		}
	}
	for i, p := range t.GP.List {
		if err := get("ema/"+p.Name, t.EMA[i]); err != nil {
			return nil, err
		}
	}
	if err := get("w_avg", t.WAvg); err != nil {
		return nil, err
	}
	if t.feat != nil {
		// The backbone the run was trained with, not today's embedded one.
		for _, p := range t.feat.FB.List {
			if err := get("fb/"+p.Name, p.Raw); err != nil {
				return nil, err
			}
			p.SyncEff()
			if len(p.Shape) == 4 {
				ops.FreezeWeights(p.Eff)
			}
		}
	}
	ints := map[string]*int64{"images": &t.Images, "data_pos": &t.DataPos, "iter": &t.Iter}
	for k, p := range ints {
		if *p, err = strconv.ParseInt(md[k], 10, 64); err != nil {
			return nil, fmt.Errorf("train: %s: %s: %w", path, k, err)
		}
	}
	small := map[string]*int{"adam_res": &t.AdamRes, "g_adam_t": &t.GAdam.T, "d_adam_t": &t.DAdam.T}
	if t.feat != nil {
		small["f_adam_t"] = &t.FAdam.T
	}
	for k, p := range small {
		if *p, err = strconv.Atoi(md[k]); err != nil {
			return nil, fmt.Errorf("train: %s: %s: %w", path, k, err)
		}
	}
	rng, err := base64.StdEncoding.DecodeString(md["rng"])
	if err == nil {
		err = t.pcg.UnmarshalBinary(rng)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %s: rng: %w", path, err)
	}
	t.rng = rand.New(t.pcg)
	if c, ok := md["cadence"]; ok {
		t.Cadence = new(Cadence)
		if err := json.Unmarshal([]byte(c), t.Cadence); err != nil {
			return nil, fmt.Errorf("train: %s: cadence: %w", path, err)
		}
	}
	if s, err := strconv.ParseFloat(md["wall_seconds"], 64); err == nil {
		t.Wall = time.Duration(s * float64(time.Second))
	}
	return t, nil
}

// ExportAt is where the exported generator ends: the current resolution's
// block and, during a fade-in, the current alpha (the model's FadeAlpha),
// so that the export renders what the trainer's generator does. At alpha 0
// (the first image of a fade-in) the output is the previous resolution's,
// upsampled, and that resolution is exported without a fade.
func (t *Trainer) ExportAt() (step int, fade float64) {
	pos := t.Position()
	s := stepOf(pos.Res)
	switch {
	case !pos.Fade || s == 0:
		return s, 0
	case pos.Alpha <= 0:
		return s - 1, 0
	}
	return s, pos.Alpha
}

// Export returns the EMA generator in the native model format: when
// step < 0 the current model (ExportAt: mid fade-in with its fade), else
// cut at block step, without a fade.
func (t *Trainer) Export(step int) *checkpoints.Checkpoint {
	fade := 0.0
	if step < 0 {
		step, fade = t.ExportAt()
	}
	full := t.Cfg
	cfg := *full
	cfg.Channels = append([]int(nil), full.Channels[:step+1]...)
	cfg.TruncCutoff = min(full.TruncCutoff, cfg.NumStyles())
	cfg.FadeAlpha = fade
	ema := map[string][]float32{}
	for i, p := range t.GP.List {
		ema[p.Name] = append([]float32(nil), t.EMA[i]...)
	}
	w := &model.Weights{WAvg: append([]float32(nil), t.WAvg...), Const: ema[constName]}
	for i := 0; i < cfg.MappingLayers; i++ {
		w.Mapping = append(w.Mapping, model.Dense{W: ema[mappingW(i)], B: ema[mappingB(i)]})
	}
	for i := 0; i < cfg.NumLayers(); i++ {
		w.Layers = append(w.Layers, model.Layer{
			Conv: ema[layerName(i, "conv")], Bias: ema[layerName(i, "bias")], Noise: ema[layerName(i, "noise_strength")],
			Style: model.Dense{W: ema[layerName(i, "style.weight")], B: ema[layerName(i, "style.bias")]},
		})
	}
	for b := range cfg.Channels {
		w.ToRGB = append(w.ToRGB, model.ToRGB{W: ema[torgbName(b, "weight")], B: ema[torgbName(b, "bias")]})
	}
	px := fmt.Sprintf("%dpx", cfg.Resolution())
	if cfg.Fading() {
		px += fmt.Sprintf(" fading in at alpha %.4f", fade)
	}
	prov := fmt.Sprintf("stylegan-tui train: EMA generator at %d images (%d iterations), %s of schedule %s",
		t.Images, t.Iter, px, t.Sched)
	return &checkpoints.Checkpoint{Cfg: &cfg, W: w, Format: "native", Provenance: prov}
}
