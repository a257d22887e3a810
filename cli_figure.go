package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render/figures"
)

// maxPixels bounds the pictures a figure or GIF holds in memory (4 bytes
// each): 1 GiB.
const maxPixels = 1 << 28

// bigPNG is the figure size in pixels from which writing it is announced:
// Go's PNG encoder takes about 0.2 s a Mpx on 2 cores (a mixing figure at
// --size 1024 of a 256 px model, 55 Mpx: 1.5 s of rendering, then 10 s of
// encoding with nothing shown).
var bigPNG = 8 << 20

var figureKinds = []string{"uncurated", "mixing", "noise", "noise-layers", "truncation", "interpolation"}

// paperSeeds are the seeds of NVIDIA's generate_figures.py for FFHQ at
// 1024 px, used when the model is an NVlabs 1024 px model.
var paperSeeds = map[string][]int64{
	"noise":        {1157, 1012},
	"noise-layers": {1967, 1555},
	"truncation":   {91, 388},
}

// kindArg takes the KIND argument that comes before the flags.
func kindArg(args []string, kinds []string, cmd string) (string, []string, error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return "", args, nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, usageError{fmt.Sprintf("%s needs a kind first: one of %s (see --help)", cmd, strings.Join(kinds, ", "))}
	}
	for _, k := range kinds {
		if args[0] == k {
			return k, args[1:], nil
		}
	}
	return "", nil, usageError{fmt.Sprintf("unknown %s kind %q: want one of %s", cmd, args[0], strings.Join(kinds, ", "))}
}

// parseSeeds reads flag name's "1,2,3" and inclusive ranges "0-7" (numpy
// seeds: 0..2^32-1).
func parseSeeds(name, s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	bad := func(part string) error {
		return usageError{fmt.Sprintf("--%s %q: %q is not a seed (0..4294967295) or a range like 0-7", name, s, part)}
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
		lo, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			return nil, bad(part)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseUint(b, 10, 32); err != nil || hi < lo {
				return nil, bad(part)
			}
			if hi-lo >= 1024 {
				return nil, usageError{fmt.Sprintf("--%s %q: %q is %d seeds, at most 1024", name, s, part, hi-lo+1)}
			}
		}
		for v := lo; v <= hi; v++ {
			out = append(out, int64(v))
		}
	}
	if len(out) > 1024 {
		return nil, usageError{fmt.Sprintf("--%s %q: at most 1024 seeds", name, s)}
	}
	return out, nil
}

// baseFlags are the flags figure and gif share.
type baseFlags struct {
	ckpt, seeds, state *string
	psi                *optFloat
	cutoff             *optInt
	size               *int
	out                *string
	ext                string // what -o must end in
	verbose            *bool
	maxSeeds           int    // > 0: the seeds the kind shows, more are refused
	seedsWhy           string // what the kind shows, for that refusal
}

func addBaseFlags(fs *flag.FlagSet, outHelp string) baseFlags {
	psi, cutoff := new(optFloat), new(optInt)
	fs.Var(psi, "psi", "truncation psi of the base state (default: the state's or the model's)")
	fs.Var(cutoff, "cutoff", "truncation cutoff of the base state (default: the state's or the model's)")
	return baseFlags{
		psi:     psi,
		cutoff:  cutoff,
		ckpt:    fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\""),
		seeds:   fs.String("seeds", "", "seeds, like 1,5,9 or 0-7 (default: per kind; the paper's for NVlabs 1024 px models)"),
		state:   fs.String("state", "", "base state string from the explorer (noise, psi, sources); --seeds replace its sources"),
		size:    fs.Int("size", 0, "side of each picture in px (default: the model's resolution, within 128..256)"),
		out:     fs.String("o", "", outHelp),
		verbose: fs.Bool("v", false, "print the state string of every cell or frame"),
	}
}

// setup loads the model and builds the base state.
func (b baseFlags) setup() (*checkpoints.Checkpoint, *model.Generator, latent.State, []int64, error) {
	var st latent.State
	if *b.out == "" {
		return nil, nil, st, nil, usageError{"-o is required"}
	}
	if err := checkOutput("-o", *b.out, b.ext); err != nil {
		return nil, nil, st, nil, err
	}
	seeds, err := parseSeeds("seeds", *b.seeds)
	if err != nil {
		return nil, nil, st, nil, err
	}
	if b.maxSeeds > 0 {
		if err := seedsAtMost(*b.seeds, seeds, b.maxSeeds, b.seedsWhy); err != nil {
			return nil, nil, st, nil, err
		}
	}
	if *b.size < 0 || *b.size > 4096 {
		return nil, nil, st, nil, usageError{fmt.Sprintf("--size %d: want 1..4096 px (0 for the default)", *b.size)}
	}
	if err := checkPsi(*b.psi); err != nil {
		return nil, nil, st, nil, err
	}
	if *b.state != "" {
		// Decoded before the model loads: a mistyped state fails at once.
		if _, err := latent.Decode(*b.state); err != nil {
			return nil, nil, st, nil, usageError{fmt.Sprintf("--state: %v", err)}
		}
	}
	m, g, err := loadGenerator(*b.ckpt)
	if err != nil {
		return nil, nil, st, nil, err
	}
	// A generator keeps its frozen weights until closed: close it on the
	// errors below, where the caller never gets it.
	ok := false
	defer func() {
		if !ok {
			g.Close()
		}
	}()
	nStyles := g.Cfg.NumStyles()
	st = g.NewState()
	if *b.state != "" {
		st, _ = latent.Decode(*b.state)
		if err := st.Validate(nStyles, g.Cfg.NumNoise()); err != nil {
			return nil, nil, st, nil, fmt.Errorf("--state does not fit this model: %w", err)
		}
	}
	if b.psi.set {
		st.Psi = b.psi.v
	}
	if err := checkCutoff(*b.cutoff, nStyles); err != nil {
		return nil, nil, st, nil, err
	}
	if b.cutoff.set {
		st.Cutoff = int(b.cutoff.v)
	}
	if err := st.Validate(nStyles, g.Cfg.NumNoise()); err != nil {
		return nil, nil, st, nil, fmt.Errorf("state does not fit this model: %w", err)
	}
	if *b.size == 0 {
		*b.size = min(max(g.Cfg.Resolution(), 128), 256)
	}
	ok = true
	return m, g, st, seeds, nil
}

// onlyFor refuses a flag given to a kind that does not use it (kindOf maps
// flag names to the one kind using them): it was silently ignored.
func onlyFor(fs *flag.FlagSet, kind, cmd string, kindOf map[string]string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if k, ok := kindOf[f.Name]; ok && k != kind && err == nil {
			err = usageError{fmt.Sprintf("--%s is for %s %s, not %s", f.Name, cmd, k, kind)}
		}
	})
	return err
}

// unusedBy refuses the named flags for a kind that sets their value itself
// (why says how): they were silently ignored.
func unusedBy(fs *flag.FlagSet, cmd, kind, why string, names ...string) error {
	given := givenFlags(fs)
	for _, n := range names {
		if given[n] {
			return usageError{fmt.Sprintf("--%s is not for %s %s, which %s", n, cmd, kind, why)}
		}
	}
	return nil
}

// seedsAtMost refuses more seeds than a kind shows (the rest were silently
// ignored); why says what the kind shows.
func seedsAtMost(flagVal string, seeds []int64, n int, why string) error {
	if len(seeds) <= n {
		return nil
	}
	what := "one seed (A)"
	if n == 2 {
		what = "two seeds (A and B)"
	}
	return usageError{fmt.Sprintf("--seeds %s: %s: give at most %s", flagVal, why, what)}
}

// withSeeds sets A (and B) of st from the first seeds.
func withSeeds(st latent.State, seeds []int64) latent.State {
	st = st.Clone()
	if len(seeds) > 0 {
		st.A = latent.Source{Seed: seeds[0]}
	}
	if len(seeds) > 1 {
		st.B = latent.Source{Seed: seeds[1]}
	}
	return st
}

func runFigure(args []string, stdout, stderr io.Writer) error {
	kind, args, err := kindArg(args, figureKinds, "figure")
	if err != nil {
		return err
	}
	fs := newFlags("figure", strings.Join(figureKinds, "|")+" --checkpoint F [--seeds ...] [flags] -o out.png", stderr)
	b := addBaseFlags(fs, "output PNG (the cells' state strings go in its text chunks)")
	b.ext = ".png"
	seedsB := fs.String("seeds-b", "", "mixing: seeds of source B, the top row (--seeds are source A, the left column)")
	draws := fs.Int("draws", 100, "noise: noise draws for the standard deviation")
	steps := fs.Int("steps", 8, "interpolation: pictures from A to B")
	if err := parse(fs, args); err != nil {
		return err
	}
	if kind == "" {
		return usageError{"figure needs a kind first: one of " + strings.Join(figureKinds, ", ")}
	}
	if err := onlyFor(fs, kind, "figure", map[string]string{"seeds-b": "mixing", "draws": "noise", "steps": "interpolation"}); err != nil {
		return err
	}
	if kind == "truncation" {
		if err := unusedBy(fs, "figure", kind, "sets psi per column, on every slot", "psi", "cutoff"); err != nil {
			return err
		}
	}
	if *draws < 2 || *draws > 10000 {
		return usageError{fmt.Sprintf("--draws %d: want 2..10000", *draws)}
	}
	if *steps < 2 || *steps > 64 {
		return usageError{fmt.Sprintf("--steps %d: want 2..64", *steps)}
	}
	bSeeds, err := parseSeeds("seeds-b", *seedsB)
	if err != nil {
		return err
	}
	if kind == "interpolation" {
		b.maxSeeds, b.seedsWhy = 2, "figure interpolation goes from A to B"
	}
	m, g, base, seeds, err := b.setup()
	if err != nil {
		return err
	}
	defer g.Close()
	paper := m.Format == "nvlabs" && g.Cfg.Resolution() == 1024
	f := buildFigure(kind, g.Cfg, base, figureArgs{seeds: seeds, seedsB: bSeeds, draws: *draws, steps: *steps,
		paper: paper, stateGiven: *b.state != "", psiGiven: b.psi.set})
	cells := 0
	for _, row := range f.Cells {
		cells += len(row)
	}
	if px := cells * *b.size * *b.size; px > maxPixels {
		return usageError{fmt.Sprintf("%d cells of %d px make %d Mpx, over the %d Mpx limit: use fewer seeds or a smaller --size", cells, *b.size, px>>20, maxPixels>>20)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	img, err := f.Render(ctx, g, *b.size, stderr)
	if err != nil {
		return err
	}
	if px := img.Rect.Dx() * img.Rect.Dy(); px >= bigPNG {
		// The bar above ends with the cells; encoding takes longer than
		// rendering them here, so say what the wait is.
		fmt.Fprintf(stderr, "encoding %s: %dx%d px (%d Mpx)\n", *b.out, img.Rect.Dx(), img.Rect.Dy(), px>>20)
	}
	if err := figures.WritePNG(*b.out, img, f.Text()); err != nil {
		return err
	}
	if *b.verbose {
		for _, s := range f.States() {
			fmt.Fprintln(stdout, "cell", s)
		}
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d, figure %s of %s)\n", *b.out, img.Rect.Dx(), img.Rect.Dy(), kind, modelName(m))
	return nil
}

// figureArgs are the command-line choices a figure depends on.
type figureArgs struct {
	seeds, seedsB        []int64
	draws, steps         int
	paper                bool // an NVlabs 1024 px model
	stateGiven, psiGiven bool // --state, --psi
}

// buildFigure makes figure kind from the base state. An NVlabs 1024 px
// model (FFHQ, say) gets the paper's seeds and, unless --state or --psi say
// otherwise, the settings of NVIDIA's generate_figures.py: Figures 3-5
// untruncated, Figures 3, 5 and 8 with the stored noise maps
// (randomize_noise=False).
func buildFigure(kind string, cfg *model.Config, base latent.State, a figureArgs) *figures.Figure {
	if a.paper && !a.stateGiven {
		if !a.psiGiven && (kind == "mixing" || kind == "noise" || kind == "noise-layers") {
			base.Psi = 1
		}
		if kind == "mixing" || kind == "noise-layers" || kind == "truncation" {
			base = base.WithNoise(0, len(base.Noise)-1, latent.NoiseConst)
		}
	}
	pick := func(def []int64) []int64 {
		if a.seeds != nil {
			return a.seeds
		}
		if p, ok := paperSeeds[kind]; ok && a.paper {
			return p
		}
		return def
	}
	switch kind {
	case "uncurated":
		return figures.Uncurated(cfg, base, pick(figures.DefaultSeeds))
	case "mixing":
		as, bs := figures.DefaultMixingA, figures.DefaultMixingB
		if a.paper {
			as, bs = figures.PaperMixingA, figures.PaperMixingB
		}
		if a.seeds != nil {
			as = a.seeds
		}
		if a.seedsB != nil {
			bs = a.seedsB
		}
		return figures.Mixing(cfg, base, as, bs)
	case "noise":
		return figures.Noise(cfg, base, pick([]int64{0, 1}), a.draws)
	case "noise-layers":
		return figures.NoiseLayers(cfg, base, pick([]int64{0, 1}))
	case "truncation":
		return figures.Truncation(cfg, base, pick([]int64{0, 1}), figures.PaperTruncationPsis)
	}
	return figures.Interpolation(cfg, withSeeds(base, a.seeds), a.steps)
}

func modelName(m *checkpoints.Checkpoint) string {
	if m.Cfg.Name != "" {
		return m.Cfg.Name
	}
	return m.Format + " model"
}
