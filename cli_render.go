package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"stylegan-tui/checkpoints"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// loadModel opens --checkpoint (a path, or "default" for the embedded model).
func loadModel(path string) (*checkpoints.Model, error) {
	if path == "" {
		return nil, usageError{"--checkpoint is required"}
	}
	if path == "default" {
		return checkpoints.Default()
	}
	return checkpoints.Load(path)
}

// loadGenerator is loadModel and the model's generator (the caller closes
// it).
func loadGenerator(path string) (*checkpoints.Model, *model.Generator, error) {
	m, err := loadModel(path)
	if err != nil {
		return nil, nil, err
	}
	g, err := m.Generator()
	if err != nil {
		return nil, nil, err
	}
	return m, g, nil
}

// parseRange reads flag's inclusive range "0-3", "4-", "-3" or "8" of
// what (style slots, noise inputs) within n.
func parseRange(flag, what, s string, n int) (lo, hi int, err error) {
	bad := func() (int, int, error) {
		return 0, 0, usageError{fmt.Sprintf("--%s %q: want an inclusive range of %s 0..%d like 0-3, 4- or 8", flag, s, what, n-1)}
	}
	a, b, dash := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); a == "" {
		lo, err = 0, nil
	}
	if err != nil {
		return bad()
	}
	hi = lo
	if dash {
		if hi, err = strconv.Atoi(b); b == "" {
			hi, err = n-1, nil
		}
		if err != nil {
			return bad()
		}
	}
	if lo < 0 || hi >= n || lo > hi {
		return bad()
	}
	return lo, hi, nil
}

func parseNoise(s string) (latent.NoiseMode, error) {
	switch s {
	case "random":
		return latent.NoiseRandom, nil
	case "const":
		return latent.NoiseConst, nil
	case "off":
		return latent.NoiseOff, nil
	}
	return 0, usageError{fmt.Sprintf("--noise %q: want random, const or off", s)}
}

func runRender(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("render", "--checkpoint F (--seed N | --state S | --latents L) [flags] -o out.png", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\"")
	seed := fs.Int64("seed", -1, "seed of source A (numpy RandomState(seed).randn, as NVIDIA's scripts)")
	stateStr := fs.String("state", "", "a state string copied from the explorer (overrides the other latent flags)")
	latents := fs.String("latents", "", "safetensors file of explicit inputs: z or w [B,D], z2/w2, noise0..N, w_avg")
	psi := fs.Float64("psi", -99, "truncation psi (default: the model's, 0.7 for NVlabs models)")
	cutoff := fs.Int("cutoff", -1, "truncation applies to style slots < cutoff (default: the model's)")
	mixSeed := fs.Int64("mix-seed", -1, "seed of source B, for --mix-layers")
	mixLayers := fs.String("mix-layers", "", "style slots taken from B: inclusive range like 0-3, 4- or 8")
	noise := fs.String("noise", "random", "noise in every layer: random, const (the model's stored maps) or off")
	noiseSeed := fs.Int64("noise-seed", 0, "base seed of random noise (slot i uses seed+i)")
	out := fs.String("o", "", "output: .png, or .safetensors for the raw image tensor [B,3,H,W]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-o is required"}
	}
	_, g, err := loadGenerator(*ckpt)
	if err != nil {
		return err
	}
	if *latents != "" {
		return renderLatents(g, *latents, *psi, *cutoff, *mixLayers, *out)
	}
	var st latent.State
	switch {
	case *stateStr != "":
		if st, err = latent.Decode(*stateStr); err != nil {
			return err
		}
	case *seed < 0:
		return usageError{"one of --seed, --state or --latents is required"}
	default:
		st = g.NewState()
		st.A = latent.Source{Seed: *seed}
		if *psi != -99 {
			st.Psi = *psi
		}
		if *cutoff >= 0 {
			st.Cutoff = *cutoff
		}
		mode, err := parseNoise(*noise)
		if err != nil {
			return err
		}
		for j := range st.Noise {
			st.Noise[j] = latent.Noise{Mode: mode, Seed: *noiseSeed + int64(j)}
		}
		if *mixLayers != "" {
			if *mixSeed < 0 {
				return usageError{"--mix-layers needs --mix-seed"}
			}
			lo, hi, err := parseRange("mix-layers", "style slots", *mixLayers, g.Cfg.NumStyles())
			if err != nil {
				return err
			}
			st.B = latent.Source{Seed: *mixSeed}
			st = st.WithStyles(lo, hi, latent.FromB)
		}
	}
	if err := st.Validate(g.Cfg.NumStyles(), g.Cfg.NumNoise()); err != nil {
		return fmt.Errorf("state does not fit this model: %w", err)
	}
	img, _, err := g.Render(st, nil)
	if err != nil {
		return err
	}
	if strings.HasSuffix(*out, ".safetensors") {
		in, err := g.Inputs(st)
		if err != nil {
			return err
		}
		raw, _, err := g.Synthesis(in, model.Options{Step: -1, Alpha: -1})
		if err != nil {
			return err
		}
		return writeImageTensor(*out, raw, 1, g.Cfg.Resolution())
	}
	if err := render.WritePNG(*out, img); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d) state %s\n", *out, img.Bounds().Dx(), img.Bounds().Dy(), st.Encode())
	return nil
}

// renderLatents renders explicit inputs from a safetensors file.
func renderLatents(g *model.Generator, path string, psi float64, cutoff int, mixLayers, out string) error {
	c := g.Cfg
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	// vectors returns the batch of w for source names z/w (or z2/w2).
	vectors := func(zname, wname string) ([]float32, int, error) {
		if t, ok := f.Tensors[wname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.WDim {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d]", path, wname, t.Shape, c.WDim)
			}
			return t.Data, t.Shape[0], nil
		}
		if t, ok := f.Tensors[zname]; ok {
			if len(t.Shape) != 2 || t.Shape[1] != c.ZDim {
				return nil, 0, fmt.Errorf("%s: %s has shape %v, want [B %d]", path, zname, t.Shape, c.ZDim)
			}
			w, err := g.Mapping(t.Data, t.Shape[0])
			return w, t.Shape[0], err
		}
		return nil, 0, nil
	}
	wa, B, err := vectors("z", "w")
	if err != nil {
		return err
	}
	if wa == nil {
		return fmt.Errorf("%s: no z or w tensor", path)
	}
	wb, B2, err := vectors("z2", "w2")
	if err != nil {
		return err
	}
	avg := g.W.WAvg
	if t, ok := f.Tensors["w_avg"]; ok {
		if t.Len() != c.WDim {
			return fmt.Errorf("%s: w_avg has shape %v, want [1 %d]", path, t.Shape, c.WDim)
		}
		avg = t.Data
	}
	lo, hi := 1, 0
	if mixLayers != "" {
		if wb == nil || B2 != B {
			return fmt.Errorf("%s: --mix-layers needs z2 or w2 with batch %d", path, B)
		}
		if lo, hi, err = parseRange("mix-layers", "style slots", mixLayers, c.NumStyles()); err != nil {
			return err
		}
	}
	if psi == -99 {
		psi = 1 // explicit inputs: no truncation unless asked
	}
	if cutoff < 0 {
		cutoff = c.NumStyles()
	}
	in := model.SynthesisInput{B: B}
	for s := 0; s < c.NumStyles(); s++ {
		w := wa
		if s >= lo && s <= hi {
			w = wb
		}
		if s < cutoff && psi != 1 {
			t := make([]float32, len(w))
			for i, v := range w {
				a := avg[i%c.WDim]
				t[i] = a + float32(psi)*(v-a)
			}
			w = t
		}
		in.W = append(in.W, w)
	}
	for j := 0; j < c.NumNoise(); j++ {
		r := c.NoiseRes(j)
		name := fmt.Sprintf("noise%d", j)
		t, ok := f.Tensors[name]
		switch {
		case ok && (t.Len() == r*r || t.Len() == B*r*r):
			in.Noise = append(in.Noise, t.Data)
		case ok:
			return fmt.Errorf("%s: %s has shape %v, want [B 1 %d %d]", path, name, t.Shape, r, r)
		case g.W.NoiseConst != nil && g.W.NoiseConst[j] != nil:
			in.Noise = append(in.Noise, g.W.NoiseConst[j])
		default:
			return fmt.Errorf("%s: missing %s (the model stores no noise maps)", path, name)
		}
	}
	raw, _, err := g.Synthesis(in, model.Options{Step: -1, Alpha: -1})
	if err != nil {
		return err
	}
	res := c.Resolution()
	if strings.HasSuffix(out, ".safetensors") {
		return writeImageTensor(out, raw, B, res)
	}
	for b := 0; b < B; b++ {
		name := out
		if B > 1 {
			ext := filepath.Ext(out)
			name = fmt.Sprintf("%s_%d%s", strings.TrimSuffix(out, ext), b, ext)
		}
		if err := render.WritePNG(name, model.ToImage(raw, res, b)); err != nil {
			return err
		}
	}
	return nil
}

func writeImageTensor(path string, raw []float32, B, res int) error {
	return safetensors.WriteFile(path, &safetensors.File{Tensors: map[string]*safetensors.Tensor{
		"image": {Shape: []int{B, 3, res, res}, Data: raw},
	}, Metadata: map[string]string{"range": "[-1,1], before clamping"}})
}
