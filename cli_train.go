package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"stylegan-tui/model/ops"
	"stylegan-tui/model/train"
)

func runTrain(args []string, stdout, stderr io.Writer) error {
	var f trainFlags
	if err := parseFlags(&f, newFlags("train", "--out DIR [--resume] [flags]", stderr), args); err != nil {
		return err
	}
	return f.run(stderr)
}

// trainFlags are train's flags; check fills the fields below the blank
// line.
type trainFlags struct {
	out                                                      string
	resume                                                   bool
	schedule, channels, dChannels                            string
	zdim, wdim, mapping                                      int
	lr, gamma, mix, ema                                      float64
	r1Every, mixX                                            int
	mixCuts                                                  string
	seed                                                     uint64
	dataSeed                                                 int64
	pool                                                     int
	ckptEvery, sampleEvery, snapEvery, maxImages, noiseEvery string
	logEvery                                                 time.Duration
	featW                                                    float64
	featTaps                                                 string
	featCh, featFrom                                         int
	lowpass                                                  int
	noiseDecay                                               float64

	given   map[string]bool        // the flags the command line gave
	images  map[string]int64       // the image counts, by flag name (checkpoint-every, ...)
	cuts    []int                  // --mix-cuts
	featOpt *train.FeatureDOptions // nil: none, or a resumed run's own
}

func (f *trainFlags) define(fs *flag.FlagSet) {
	def := train.DefaultOptions()
	defFD := train.DefaultFeatureD()
	fs.StringVar(&f.out, "out", "", "run directory: state.safetensors (resumable), ema.safetensors (the EMA generator), sample PNGs")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in --out exactly where its state.safetensors left off (its saved architecture and options: flags that would change them are refused; --schedule may change phases not yet reached, --lr and --noise-decay may change; --checkpoint-every, --sample-every, --snapshot-every and --noise-share-every default to the run's own)")
	fs.StringVar(&f.schedule, "schedule", def.Schedule, "progressive schedule RES:FADE+STABLE@BATCH,... in images (k, M suffixes; inf = until stopped)")
	fs.StringVar(&f.channels, "channels", joinInts(def.Arch.Channels), "feature maps per block from 4 px up (G, and D unless --d-channels); the last block sets the resolution")
	fs.StringVar(&f.dChannels, "d-channels", "", "the discriminator's feature maps per block from 4 px up, one per block of --channels (empty: the same as --channels)")
	fs.IntVar(&f.zdim, "z", def.Arch.ZDim, "latent size (Z)")
	fs.IntVar(&f.wdim, "w", def.Arch.WDim, "dlatent size (W)")
	fs.IntVar(&f.mapping, "mapping-layers", def.Arch.MappingLayers, "mapping network depth")
	fs.Float64Var(&f.lr, "lr", def.LR, "Adam learning rate (mapping ×0.01 through its equalized-lr gain); may change with --resume (NVlabs use 0.001 up to 128 px)")
	fs.Float64Var(&f.gamma, "r1-gamma", def.R1Gamma, "R1 weight at 64 px (scaled by res/64); 0 disables R1")
	fs.IntVar(&f.r1Every, "r1-every", def.R1Every, "lazy R1: every N iterations")
	fs.Float64Var(&f.mix, "mix-prob", def.MixProb, "style-mixing probability")
	fs.IntVar(&f.mixX, "mix-crossovers", 1, "crossovers per mixed image: 1, the paper's (w1 then w2), or 2 (w1, an inner run of w2, w1 again; an experiment)")
	fs.StringVar(&f.mixCuts, "mix-cuts", "", "the only style slots a crossover may fall on, e.g. 4,8 for the paper's coarse/middle/fine groups at 64 px, so that mixing never splits a group (empty: any slot, the paper's recipe; a phase with none inside its styles does not mix; an experiment); may change with --resume")
	fs.Float64Var(&f.ema, "ema-kimg", def.EMAHalfLife/1000, "EMA half-life in thousands of images")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "seed of the initial weights, latents and noise")
	fs.Int64Var(&f.dataSeed, "data-seed", def.DataSeed, "toyfaces stream seed")
	fs.IntVar(&f.pool, "data-pool", def.DataPool, "distinct toyfaces images (rendered once, kept in memory: 12 KB each)")
	fs.StringVar(&f.ckptEvery, "checkpoint-every", "10k", "images between checkpoints")
	fs.StringVar(&f.sampleEvery, "sample-every", "20k", "images between sample and style-mixing grids")
	fs.StringVar(&f.snapEvery, "snapshot-every", "100k", "images between kept EMA snapshots for the learning curve (0 = none)")
	fs.StringVar(&f.maxImages, "max-images", "0", "stop after this many images in total (0 = run the schedule)")
	fs.StringVar(&f.noiseEvery, "noise-share-every", "5k", "images between estimates of the EMA generator's noise share on the progress line (0 = none)")
	fs.DurationVar(&f.logEvery, "log-every", 30*time.Second, "time between progress lines")
	fs.Float64Var(&f.featW, "feature-d", defFD.Weight, "weight of the feature-space discriminator: heads on the frozen toyfaces classifier's stages, next to the pixel D (0 = off; in a 30k-image A/B at 64 px it cut the noise share from 6.4% to 2.9%, see docs/learning-curve.md); with --resume only when given, to turn it on in a run without it")
	fs.StringVar(&f.featTaps, "feature-d-taps", joinInts(defFD.Taps), "classifier stages with a feature D head (0 = 64 px, 1 = 32 px, 2 = 16 px, 3 = 8 px, 4 = 4 px)")
	fs.IntVar(&f.featCh, "feature-d-channels", defFD.HeadChannels, "width of each feature D head's hidden 3x3 convolution")
	fs.IntVar(&f.lowpass, "d-lowpass", 0, "a curriculum: in phases of at most this resolution the pixel D sees its inputs 2x2-averaged, so a phase cannot learn its top octave's details (0 = off, the paper's recipe; a power of two >= 8); may change with --resume")
	fs.Float64Var(&f.noiseDecay, "noise-decay", 0, "decoupled weight decay of the noise strengths per G step, strength *= 1 - lr*decay (0 = off, the paper's recipe); use it when the noise share stays far above the data's; may change with --resume")
	fs.IntVar(&f.featFrom, "feature-d-from", defFD.FromRes, "lowest phase resolution the feature D is on (lower phases are upsampled to the classifier's 64 px)")
}

func (f *trainFlags) check(fs *flag.FlagSet) error {
	f.given = givenFlags(fs)
	if f.out == "" {
		return usageError{"--out is required"}
	}
	f.images = map[string]int64{}
	for _, c := range []struct {
		name string
		s    string
	}{{"checkpoint-every", f.ckptEvery}, {"sample-every", f.sampleEvery}, {"snapshot-every", f.snapEvery}, {"max-images", f.maxImages}, {"noise-share-every", f.noiseEvery}} {
		v, err := parseImages(c.s)
		if err != nil {
			return usageError{fmt.Sprintf("--%s %q: %v", c.name, c.s, err)}
		}
		f.images[c.name] = v
	}
	if err := checkLR(f.lr); err != nil {
		return err
	}
	if f.noiseDecay < 0 || f.noiseDecay*f.lr >= 1 {
		return usageError{fmt.Sprintf("--noise-decay %g: want 0 (off) or a positive decay with lr*decay < 1", f.noiseDecay)}
	}
	if !(f.mix >= 0 && f.mix <= 1) {
		return usageError{fmt.Sprintf("--mix-prob %g: want a probability 0..1", f.mix)}
	}
	if !(f.gamma >= 0) || math.IsInf(f.gamma, 0) {
		return usageError{fmt.Sprintf("--r1-gamma %g: want 0 (no R1) or a positive weight", f.gamma)}
	}
	if f.r1Every < 1 {
		return usageError{fmt.Sprintf("--r1-every %d: want 1 or more iterations", f.r1Every)}
	}
	if !(f.ema >= 0) || math.IsInf(f.ema, 0) {
		return usageError{fmt.Sprintf("--ema-kimg %g: want 0 (no averaging) or a positive half-life", f.ema)}
	}
	if f.pool < 1 || f.pool > train.MaxDataPool {
		return usageError{fmt.Sprintf("--data-pool %d: want 1..%d distinct images (12 KB each in memory)", f.pool, train.MaxDataPool)}
	}
	if f.logEvery <= 0 {
		return usageError{fmt.Sprintf("--log-every %v: want a positive time between progress lines", f.logEvery)}
	}
	if f.mixX != 1 && f.mixX != 2 {
		return usageError{fmt.Sprintf("--mix-crossovers %d: want 1 or 2", f.mixX)}
	}
	if f.mixCuts != "" {
		var err error
		if f.cuts, err = parseInts(f.mixCuts); err == nil {
			err = train.CheckMixCuts(f.cuts)
		}
		if err != nil {
			return usageError{fmt.Sprintf("--mix-cuts %q: %v", f.mixCuts, err)}
		}
	}
	if f.lowpass != 0 && (f.lowpass < 8 || f.lowpass&(f.lowpass-1) != 0) {
		return usageError{fmt.Sprintf("--d-lowpass %d: want 0 (off) or a phase resolution, a power of two >= 8", f.lowpass)}
	}
	var err error
	f.featOpt, err = f.featureD()
	return err
}

// featureD is the feature D the flags ask for. A resumed run keeps its
// saved feature D unless --feature-d is given.
func (f *trainFlags) featureD() (*train.FeatureDOptions, error) {
	if f.featW != 0 && (!f.resume || f.given["feature-d"]) {
		taps, err := parseStages(f.featTaps)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--feature-d-taps %q: %v", f.featTaps, err)}
		}
		return &train.FeatureDOptions{Weight: f.featW, Taps: taps, HeadChannels: f.featCh, FromRes: f.featFrom}, nil
	}
	if f.given["feature-d-taps"] || f.given["feature-d-channels"] || f.given["feature-d-from"] {
		return nil, usageError{"--feature-d-taps, --feature-d-channels and --feature-d-from need --feature-d WEIGHT (with --resume: given explicitly)"}
	}
	return nil, nil
}

// run starts or resumes the run and trains until the schedule, --max-images
// or a signal ends it.
func (f *trainFlags) run(stderr io.Writer) error {
	var t *train.Trainer
	var err error
	if f.resume {
		t, err = f.resumeRun(stderr)
	} else {
		t, err = f.newRun(stderr)
	}
	if err != nil {
		return err
	}
	defer t.Close()
	logDepartures(stderr, t.Opt)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n := f.images
	return t.Run(ctx, train.RunConfig{
		Out: f.out, Cadence: train.Cadence{CheckpointEvery: n["checkpoint-every"], SampleEvery: n["sample-every"],
			SnapshotEvery: n["snapshot-every"], NoiseShareEvery: n["noise-share-every"]}, MaxImages: n["max-images"],
		LogEvery: f.logEvery, Log: stderr,
	})
}

// newRun starts a run in --out, which must not hold one already.
func (f *trainFlags) newRun(stderr io.Writer) (*train.Trainer, error) {
	state := filepath.Join(f.out, train.StateFile)
	if _, err := os.Stat(state); err == nil {
		return nil, fmt.Errorf("%s exists: pass --resume to continue it, or choose another --out", state)
	}
	ch, err := parseInts(f.channels)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--channels %q: %v", f.channels, err)}
	}
	var dch []int
	if f.dChannels != "" {
		if dch, err = parseInts(f.dChannels); err != nil {
			return nil, usageError{fmt.Sprintf("--d-channels %q: %v", f.dChannels, err)}
		}
	}
	opt := train.DefaultOptions()
	opt.Arch = train.Arch{ZDim: f.zdim, WDim: f.wdim, MappingLayers: f.mapping, LRMul: opt.Arch.LRMul, Channels: ch, DChannels: dch}
	opt.Schedule, opt.LR, opt.R1Gamma, opt.R1Every, opt.MixProb = f.schedule, f.lr, f.gamma, f.r1Every, f.mix
	opt.EMAHalfLife, opt.Seed, opt.DataSeed, opt.DataPool = f.ema*1000, f.seed, f.dataSeed, f.pool
	opt.FeatureD = f.featOpt
	opt.NoiseDecay = f.noiseDecay
	opt.LowpassRes = f.lowpass
	opt.MixCuts = f.cuts
	if f.mixX == 2 {
		opt.MixCrossovers = 2 // 1 stays unset, as in the states saved before the flag
	}
	t, err := train.New(opt)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "train: new run in %s: channels %v, D channels %v, z %d, w %d, schedule %s, BLAS %s\n", f.out, ch, opt.Arch.DiscChannels(), f.zdim, f.wdim, t.Sched, ops.BLASName())
	if f.featOpt != nil {
		fmt.Fprintf(stderr, "train: feature D: %s\n", f.featOpt)
	}
	return t, nil
}

// resumeRun continues the run in --out where its state left off.
func (f *trainFlags) resumeRun(stderr io.Writer) (*train.Trainer, error) {
	state := filepath.Join(f.out, train.StateFile)
	t, err := train.LoadState(state)
	if err != nil {
		return nil, err
	}
	if err := f.resumeWith(t, state, stderr); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// resumeWith applies the flags that may change to the loaded run t: the
// schedule's phases not yet reached, --lr, --noise-decay, --d-lowpass,
// --mix-cuts, a feature D turned on, and the cadence (the run's own unless
// given). The rest of the saved options stay.
func (f *trainFlags) resumeWith(t *train.Trainer, state string, stderr io.Writer) error {
	o := t.Opt
	if changed := f.changedOnResume(o); len(changed) > 0 {
		return usageError{fmt.Sprintf("--resume continues %s with its saved options; %s would change them (start a new --out to train with other options)", state, strings.Join(changed, ", "))}
	}
	if f.given["schedule"] {
		if err := t.SetSchedule(f.schedule); err != nil {
			return err
		}
	}
	if f.given["noise-decay"] {
		t.Opt.NoiseDecay = f.noiseDecay
	}
	if f.given["d-lowpass"] {
		t.Opt.LowpassRes = f.lowpass
	}
	if f.given["mix-cuts"] {
		t.Opt.MixCuts = f.cuts // checked by check
	}
	if f.given["lr"] && f.lr != o.LR {
		if err := t.SetLR(f.lr); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "train: learning rate %g (was %g)\n", f.lr, o.LR)
	}
	if c := t.Cadence; c != nil {
		// Go on writing as the run was started, unless told otherwise.
		for name, v := range map[string]int64{"checkpoint-every": c.CheckpointEvery, "sample-every": c.SampleEvery,
			"snapshot-every": c.SnapshotEvery, "noise-share-every": c.NoiseShareEvery} {
			if !f.given[name] {
				f.images[name] = v
			}
		}
	}
	fmt.Fprintf(stderr, "train: resuming %s at %d images (%d iterations, %s trained)\n", state, t.Images, t.Iter, t.Wall.Round(time.Second))
	if f.featOpt != nil && o.FeatureD == nil {
		// Turning the feature D on in a running run: fresh heads, the
		// embedded classifier as the backbone; G and D carry on.
		if err := t.EnableFeatureD(*f.featOpt, nil); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "train: feature D turned on: %s\n", f.featOpt)
	} else if o.FeatureD != nil {
		fmt.Fprintf(stderr, "train: feature D: %s\n", o.FeatureD)
	}
	return nil
}

// changedOnResume names the given flags that would change the saved run's
// architecture or training options o: they are refused, not silently
// ignored (repeating the saved value is fine).
func (f *trainFlags) changedOnResume(o train.Options) []string {
	saved := []struct {
		name string
		same bool
	}{
		{"channels", f.channels == joinInts(o.Arch.Channels)},
		{"d-channels", f.dChannels == joinInts(o.Arch.DChannels) || f.dChannels == joinInts(o.Arch.DiscChannels())},
		{"z", f.zdim == o.Arch.ZDim}, {"w", f.wdim == o.Arch.WDim}, {"mapping-layers", f.mapping == o.Arch.MappingLayers},
		{"r1-gamma", f.gamma == o.R1Gamma}, {"r1-every", f.r1Every == o.R1Every},
		{"mix-prob", f.mix == o.MixProb}, {"mix-crossovers", f.mixX == max(1, o.MixCrossovers)}, {"ema-kimg", f.ema*1000 == o.EMAHalfLife},
		{"seed", f.seed == o.Seed}, {"data-seed", f.dataSeed == o.DataSeed}, {"data-pool", f.pool == o.DataPool},
	}
	var changed []string
	for _, s := range saved {
		if f.given[s.name] && !s.same {
			changed = append(changed, "--"+s.name)
		}
	}
	if f.featOpt != nil && o.FeatureD != nil && f.featOpt.String() != o.FeatureD.String() {
		changed = append(changed, "--feature-d")
	}
	return changed
}

// logDepartures says which of the options that depart from the paper's
// recipe (all off by default) the run trains with.
func logDepartures(stderr io.Writer, o train.Options) {
	if o.NoiseDecay > 0 {
		fmt.Fprintf(stderr, "train: noise strengths decay by lr*%g per G step\n", o.NoiseDecay)
	}
	if o.MixCrossovers == 2 {
		fmt.Fprintf(stderr, "train: style mixing with two crossovers per mixed image\n")
	}
	if len(o.MixCuts) > 0 {
		fmt.Fprintf(stderr, "train: style-mixing crossovers only at slots %s\n", joinInts(o.MixCuts))
	}
	if o.LowpassRes > 0 {
		fmt.Fprintf(stderr, "train: the pixel D sees half resolution in phases up to %d px\n", o.LowpassRes)
	}
}

func parseImages(s string) (int64, error) {
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mul, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1000000, s[:len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a count of images like 20000, 20k or 1M")
	}
	return v * mul, nil
}

// parseStages parses comma-separated stage indices (0 allowed).
func parseStages(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("want comma-separated stage numbers like 2,3,4")
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("want comma-separated positive integers")
		}
		out = append(out, v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
