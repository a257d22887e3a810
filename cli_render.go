package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"os"
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
func loadModel(path string) (*checkpoints.Checkpoint, error) {
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
func loadGenerator(path string) (*checkpoints.Checkpoint, *model.Generator, error) {
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

// checkOutput checks, before any work is done, that path (given with flag)
// can be written: it ends in ext (any case; "" takes any name), its
// directory exists and it is not itself a directory. A failure after
// minutes of rendering or measuring would lose them.
func checkOutput(flag, path, ext string) error {
	if ext != "" {
		if err := checkExt(flag, path, ext); err != nil {
			return err
		}
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s %s: no directory %s to write it in", flag, path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s: is a directory, want a file name", flag, path)
	}
	return nil
}

// checkExt requires an output file name to end in ext (any case): PNG bytes
// under another extension mislead viewers and tools.
func checkExt(flag, path, ext string) error {
	if !strings.EqualFold(filepath.Ext(path), ext) {
		return usageError{fmt.Sprintf("%s %s: want a %s file name", flag, path, ext)}
	}
	return nil
}

// checkPsi bounds --psi (given or not): past latent.MaxPsi the image is
// all NaN.
func checkPsi(psi optFloat) error {
	if psi.set && math.Abs(psi.v) > latent.MaxPsi {
		return usageError{fmt.Sprintf("--psi %g: want -%g..%g", psi.v, latent.MaxPsi, latent.MaxPsi)}
	}
	return nil
}

// checkCutoff bounds --cutoff (given or not) by a model's n style slots.
func checkCutoff(cutoff optInt, n int) error {
	if cutoff.set && cutoff.v > int64(n) {
		return usageError{fmt.Sprintf("--cutoff %d: want 0..%d (the model's style slots)", cutoff.v, n)}
	}
	return nil
}

// checkLR refuses a learning rate that would not train (train and
// train-classifier).
func checkLR(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return usageError{fmt.Sprintf("--lr %g: want a positive learning rate", lr)}
	}
	return nil
}

// checkCount is a count flag's range check: lo..hi, hi bounding the memory
// (or time) a mistyped number would take before anything is shown.
func checkCount(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return usageError{fmt.Sprintf("--%s %d: want %d..%d", flag, v, lo, hi)}
	}
	return nil
}

// commandFlags is a command's flags as one value: define adds them to a
// FlagSet; check, once they are parsed, refuses a bad value with an error
// that names its flag and works out what the values imply (fs tells which
// flags were given, and the positional arguments).
type commandFlags interface {
	define(fs *flag.FlagSet)
	check(fs *flag.FlagSet) error
}

// parseFlags starts the commands whose flags are a commandFlags (render,
// eval, ppl, lpips, serve, train, train-classifier): define f's flags on
// fs, parse args and check them.
func parseFlags(f commandFlags, fs *flag.FlagSet, args []string) error {
	f.define(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	return f.check(fs)
}

// givenFlags is the set of flags the command line gave, by name: where a
// flag's default and an explicit value mean different things (a resumed
// run's own options, ppl's --crop).
func givenFlags(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
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

// withNoise sets every noise slot of st to mode; random slot j draws from
// seed+j.
func withNoise(st latent.State, mode latent.NoiseMode, seed int64) latent.State {
	for j := range st.Noise {
		st.Noise[j] = latent.Noise{Mode: mode, Seed: seed + int64(j)}
	}
	return st
}

// optFloat and optInt are flags whose absence means something that is not
// a number (the model's psi, no seed): unset, --help shows no default,
// where a sentinel value would show "(default -99)".
type optFloat struct {
	v   float64
	set bool
}

func (o *optFloat) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("want a number")
	}
	o.v, o.set = v, true
	return nil
}

type optInt struct {
	v   int64
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(o.v, 10)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return errors.New("want a whole number, 0 or more")
	}
	o.v, o.set = v, true
	return nil
}

// imageWriter is the encoder for an -o file's extension: a .jpg holding PNG
// bytes (as every other extension once got) misleads viewers and tools.
func imageWriter(out string) (func(string, image.Image) error, error) {
	switch strings.ToLower(filepath.Ext(out)) {
	case ".png":
		return render.WritePNG, nil
	case ".jpg", ".jpeg":
		return writeJPEG, nil
	}
	return nil, usageError{fmt.Sprintf("-o %s: want a .png, .jpg/.jpeg or .safetensors file name", out)}
}

// writeJPEG writes img at quality 95 (the stdlib's default, 75, blurs the
// noise's fine detail), through a temporary file renamed into place.
func writeJPEG(path string, img image.Image) error {
	return render.WriteFileAtomic(path, func(w io.Writer) error {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 95})
	})
}

func runRender(args []string, stdout, stderr io.Writer) error {
	var f renderFlags
	if err := parseFlags(&f, newFlags("render", "--checkpoint F (--seed N | --state S | --latents L) [flags] -o out.png", stderr), args); err != nil {
		return err
	}
	return f.run(stdout)
}

// renderFlags are render's flags; check fills the fields below the blank
// line.
type renderFlags struct {
	checkpoint            string
	seed, mixSeed, cutoff optInt
	psi                   optFloat
	state, latents        string
	mixLayers, noise, out string
	noiseSeed             int64

	tensorOut bool                            // -o is a .safetensors raw tensor
	write     func(string, image.Image) error // -o's image encoder, unless tensorOut
	noiseMode latent.NoiseMode
}

func (f *renderFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.checkpoint, "checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\"")
	fs.Var(&f.seed, "seed", "seed `N` of source A: z = numpy RandomState(N).randn, as NVIDIA's scripts make it")
	fs.StringVar(&f.state, "state", "", "a state string copied from the explorer (overrides the other latent flags)")
	fs.StringVar(&f.latents, "latents", "", "safetensors file of explicit inputs: z or w [B,D], z2/w2, noise0..N, w_avg")
	fs.Var(&f.psi, "psi", "truncation psi `P` (without it: the model's, 0.7 for NVlabs models; 1 with --latents)")
	fs.Var(&f.cutoff, "cutoff", "truncation applies to style slots < `N` (without it: the model's; every slot with --latents)")
	fs.Var(&f.mixSeed, "mix-seed", "seed `M` of source B, for --mix-layers")
	fs.StringVar(&f.mixLayers, "mix-layers", "", "style slots taken from B: inclusive range like 0-3, 4- or 8")
	fs.StringVar(&f.noise, "noise", "random", "noise in every layer (with --latents: every layer whose map the file does not carry): random, const (the model's stored maps; seed 0's if it stores none) or off")
	fs.Int64Var(&f.noiseSeed, "noise-seed", 0, "base seed of random noise (slot i uses seed+i)")
	fs.StringVar(&f.out, "o", "", "output: .png, .jpg/.jpeg, or .safetensors for the raw image tensor [B,3,H,W]")
}

// check refuses what needs no model to refuse; what depends on the model's
// style slots is checked once it is loaded.
func (f *renderFlags) check(*flag.FlagSet) error {
	if f.out == "" {
		return usageError{"-o is required"}
	}
	if err := checkOutput("-o", f.out, ""); err != nil {
		return err
	}
	if f.state != "" && f.latents != "" {
		return usageError{"--state and --latents exclude each other"}
	}
	if err := checkPsi(f.psi); err != nil {
		return err
	}
	if f.mixSeed.set && f.mixLayers == "" {
		return usageError{"--mix-seed needs --mix-layers (the style slots taken from B)"}
	}
	// What needs no model is refused before the checkpoint loads.
	if f.state == "" && f.latents == "" && !f.seed.set {
		return usageError{"one of --seed, --state or --latents is required"}
	}
	if f.mixLayers != "" && !f.mixSeed.set && f.state == "" && f.latents == "" { // --latents mixes with its z2/w2
		return usageError{"--mix-layers needs --mix-seed"}
	}
	if f.state != "" {
		if _, err := latent.Decode(f.state); err != nil {
			return usageError{fmt.Sprintf("--state: %v", err)}
		}
	}
	f.tensorOut = strings.EqualFold(filepath.Ext(f.out), ".safetensors")
	if !f.tensorOut {
		var err error
		if f.write, err = imageWriter(f.out); err != nil {
			return err
		}
	}
	var err error
	f.noiseMode, err = parseNoise(f.noise)
	return err
}

// run renders the image the flags describe to -o.
func (f *renderFlags) run(stdout io.Writer) error {
	_, g, err := loadGenerator(f.checkpoint)
	if err != nil {
		return err
	}
	defer g.Close() // frees its frozen weights (ops.FreezeWeights keeps them alive)
	if f.latents != "" {
		return f.renderLatents(g)
	}
	st, err := f.latentState(g)
	if err != nil {
		return err
	}
	if err := st.Validate(g.Cfg.NumStyles(), g.Cfg.NumNoise()); err != nil {
		name := "state"
		if f.state != "" {
			name = "--state"
		}
		return fmt.Errorf("%s does not fit this model: %w", name, err)
	}
	if f.tensorOut {
		in, err := g.Inputs(st)
		if err != nil {
			return err
		}
		raw, _, err := g.Synthesis(in, model.Options{Step: -1, Alpha: -1})
		if err != nil {
			return err
		}
		return writeImageTensor(f.out, raw, 1, g.Cfg.Resolution())
	}
	img, _, err := g.Render(st, nil)
	if err != nil {
		return err
	}
	if err := f.write(f.out, img); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d) state %s\n", f.out, img.Bounds().Dx(), img.Bounds().Dy(), st.Encode())
	return nil
}

// latentState is the state --state or --seed (with --psi, --cutoff, the
// noise flags and the mix flags) describes for g.
func (f *renderFlags) latentState(g *model.Generator) (latent.State, error) {
	if f.state != "" {
		return latent.Decode(f.state) // check decoded it once already
	}
	st := withNoise(g.NewState(), f.noiseMode, f.noiseSeed)
	st.A = latent.Source{Seed: f.seed.v}
	if f.psi.set {
		st.Psi = f.psi.v
	}
	if err := checkCutoff(f.cutoff, g.Cfg.NumStyles()); err != nil {
		return latent.State{}, err
	}
	if f.cutoff.set {
		st.Cutoff = int(f.cutoff.v)
	}
	if f.mixLayers != "" {
		lo, hi, err := parseRange("mix-layers", "style slots", f.mixLayers, g.Cfg.NumStyles())
		if err != nil {
			return latent.State{}, err
		}
		st.B = latent.Source{Seed: f.mixSeed.v}
		st = st.WithStyles(lo, hi, latent.FromB)
	}
	return st, nil
}

// renderLatents renders the explicit inputs of --latents to -o: a raw
// tensor, or one image per batch item.
func (f *renderFlags) renderLatents(g *model.Generator) error {
	c := g.Cfg
	opts := checkpoints.LatentsOptions{Psi: 1, Cutoff: c.NumStyles(), MixFrom: 1} // explicit inputs: no truncation unless asked
	if f.psi.set {
		opts.Psi = f.psi.v
	}
	if err := checkCutoff(f.cutoff, c.NumStyles()); err != nil {
		return err
	}
	if f.cutoff.set {
		opts.Cutoff = int(f.cutoff.v)
	}
	if f.mixLayers != "" {
		var err error
		if opts.MixFrom, opts.MixTo, err = parseRange("mix-layers", "style slots", f.mixLayers, c.NumStyles()); err != nil {
			return err
		}
	}
	// The maps the file does not carry come from --noise, as with --seed.
	fallback, err := g.Inputs(withNoise(g.NewState(), f.noiseMode, f.noiseSeed))
	if err != nil {
		return err
	}
	opts.Noise = fallback.Noise
	in, err := checkpoints.ReadLatents(f.latents, g, opts)
	if err != nil {
		return fmt.Errorf("--latents: %w", err)
	}
	// In parts that keep a net's activations near model.BatchBudget: the
	// whole file at once was about 0.85 GB a row at 1024 px.
	B, res := in.B, c.Resolution()
	part := c.BatchWithin(B, 1, model.BatchBudget)
	raw := make([]float32, 0, B*3*res*res)
	for lo := 0; lo < B; lo += part {
		hi := min(lo+part, B)
		// A short last part is padded: a net of its own size would come
		// on top of the parts' net.
		out, _, err := g.Synthesis(in.Rows(c, lo, hi).Padded(c, part), model.Options{Step: -1, Alpha: -1})
		if err != nil {
			return err
		}
		raw = append(raw, out[:(hi-lo)*3*res*res]...)
	}
	if f.tensorOut {
		return writeImageTensor(f.out, raw, B, res)
	}
	for b := 0; b < B; b++ {
		name := f.out
		if B > 1 {
			ext := filepath.Ext(f.out)
			name = fmt.Sprintf("%s_%d%s", strings.TrimSuffix(f.out, ext), b, ext)
		}
		if err := f.write(name, model.ToImage(raw, res, b)); err != nil {
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
