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
	def := train.DefaultOptions()
	fs := newFlags("train", "--out DIR [--resume] [flags]", stderr)
	out := fs.String("out", "", "run directory: state.safetensors (resumable), ema.safetensors (the EMA generator), sample PNGs")
	resume := fs.Bool("resume", false, "continue the run in --out exactly where its state.safetensors left off (its saved architecture and options: flags that would change them are refused; --schedule may change phases not yet reached, --lr and --noise-decay may change; --checkpoint-every, --sample-every, --snapshot-every and --noise-share-every default to the run's own)")
	schedule := fs.String("schedule", def.Schedule, "progressive schedule RES:FADE+STABLE@BATCH,... in images (k, M suffixes; inf = until stopped)")
	channels := fs.String("channels", joinInts(def.Arch.Channels), "feature maps per block from 4 px up (G, and D unless --d-channels); the last block sets the resolution")
	dChannels := fs.String("d-channels", "", "the discriminator's feature maps per block from 4 px up, one per block of --channels (empty: the same as --channels)")
	zdim := fs.Int("z", def.Arch.ZDim, "latent size (Z)")
	wdim := fs.Int("w", def.Arch.WDim, "dlatent size (W)")
	mapping := fs.Int("mapping-layers", def.Arch.MappingLayers, "mapping network depth")
	lr := fs.Float64("lr", def.LR, "Adam learning rate (mapping ×0.01 through its equalized-lr gain); may change with --resume (NVlabs use 0.001 up to 128 px)")
	gamma := fs.Float64("r1-gamma", def.R1Gamma, "R1 weight at 64 px (scaled by res/64); 0 disables R1")
	r1Every := fs.Int("r1-every", def.R1Every, "lazy R1: every N iterations")
	mix := fs.Float64("mix-prob", def.MixProb, "style-mixing probability")
	mixX := fs.Int("mix-crossovers", 1, "crossovers per mixed image: 1, the paper's (w1 then w2), or 2 (w1, an inner run of w2, w1 again; an experiment)")
	mixCuts := fs.String("mix-cuts", "", "the only style slots a crossover may fall on, e.g. 4,8 for the paper's coarse/middle/fine groups at 64 px, so that mixing never splits a group (empty: any slot, the paper's recipe; a phase with none inside its styles does not mix; an experiment); may change with --resume")
	ema := fs.Float64("ema-kimg", def.EMAHalfLife/1000, "EMA half-life in thousands of images")
	seed := fs.Uint64("seed", def.Seed, "seed of the initial weights, latents and noise")
	dataSeed := fs.Int64("data-seed", def.DataSeed, "toyfaces stream seed")
	pool := fs.Int("data-pool", def.DataPool, "distinct toyfaces images (rendered once, kept in memory: 12 KB each)")
	ckptEvery := fs.String("checkpoint-every", "10k", "images between checkpoints")
	sampleEvery := fs.String("sample-every", "20k", "images between sample and style-mixing grids")
	snapEvery := fs.String("snapshot-every", "100k", "images between kept EMA snapshots for the learning curve (0 = none)")
	maxImages := fs.String("max-images", "0", "stop after this many images in total (0 = run the schedule)")
	noiseEvery := fs.String("noise-share-every", "5k", "images between estimates of the EMA generator's noise share on the progress line (0 = none)")
	logEvery := fs.Duration("log-every", 30*time.Second, "time between progress lines")
	defFD := train.DefaultFeatureD()
	featW := fs.Float64("feature-d", defFD.Weight, "weight of the feature-space discriminator: heads on the frozen toyfaces classifier's stages, next to the pixel D (0 = off; in a 30k-image A/B at 64 px it cut the noise share from 6.4% to 2.9%, see docs/learning-curve.md); with --resume only when given, to turn it on in a run without it")
	featTaps := fs.String("feature-d-taps", joinInts(defFD.Taps), "classifier stages with a feature D head (0 = 64 px, 1 = 32 px, 2 = 16 px, 3 = 8 px, 4 = 4 px)")
	featCh := fs.Int("feature-d-channels", defFD.HeadChannels, "width of each feature D head's hidden 3x3 convolution")
	lowpass := fs.Int("d-lowpass", 0, "a curriculum: in phases of at most this resolution the pixel D sees its inputs 2x2-averaged, so a phase cannot learn its top octave's details (0 = off, the paper's recipe; a power of two >= 8); may change with --resume")
	noiseDecay := fs.Float64("noise-decay", 0, "decoupled weight decay of the noise strengths per G step, strength *= 1 - lr*decay (0 = off, the paper's recipe); use it when the noise share stays far above the data's; may change with --resume")
	featFrom := fs.Int("feature-d-from", defFD.FromRes, "lowest phase resolution the feature D is on (lower phases are upsampled to the classifier's 64 px)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	n := map[string]int64{}
	for _, c := range []struct {
		name string
		s    *string
	}{{"checkpoint-every", ckptEvery}, {"sample-every", sampleEvery}, {"snapshot-every", snapEvery}, {"max-images", maxImages}, {"noise-share-every", noiseEvery}} {
		v, err := parseImages(*c.s)
		if err != nil {
			return usageError{fmt.Sprintf("--%s %q: %v", c.name, *c.s, err)}
		}
		n[c.name] = v
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !(*lr > 0) || math.IsInf(*lr, 0) {
		return usageError{fmt.Sprintf("--lr %g: want a positive learning rate", *lr)}
	}
	if *noiseDecay < 0 || *noiseDecay**lr >= 1 {
		return usageError{fmt.Sprintf("--noise-decay %g: want 0 (off) or a positive decay with lr*decay < 1", *noiseDecay)}
	}
	if !(*mix >= 0 && *mix <= 1) {
		return usageError{fmt.Sprintf("--mix-prob %g: want a probability 0..1", *mix)}
	}
	if !(*gamma >= 0) || math.IsInf(*gamma, 0) {
		return usageError{fmt.Sprintf("--r1-gamma %g: want 0 (no R1) or a positive weight", *gamma)}
	}
	if *r1Every < 1 {
		return usageError{fmt.Sprintf("--r1-every %d: want 1 or more iterations", *r1Every)}
	}
	if !(*ema >= 0) || math.IsInf(*ema, 0) {
		return usageError{fmt.Sprintf("--ema-kimg %g: want 0 (no averaging) or a positive half-life", *ema)}
	}
	if *pool < 1 || *pool > train.MaxDataPool {
		return usageError{fmt.Sprintf("--data-pool %d: want 1..%d distinct images (12 KB each in memory)", *pool, train.MaxDataPool)}
	}
	if *logEvery <= 0 {
		return usageError{fmt.Sprintf("--log-every %v: want a positive time between progress lines", *logEvery)}
	}
	if *mixX != 1 && *mixX != 2 {
		return usageError{fmt.Sprintf("--mix-crossovers %d: want 1 or 2", *mixX)}
	}
	var cuts []int
	if *mixCuts != "" {
		var err error
		if cuts, err = parseInts(*mixCuts); err == nil {
			err = train.CheckMixCuts(cuts)
		}
		if err != nil {
			return usageError{fmt.Sprintf("--mix-cuts %q: %v", *mixCuts, err)}
		}
	}
	if *lowpass != 0 && (*lowpass < 8 || *lowpass&(*lowpass-1) != 0) {
		return usageError{fmt.Sprintf("--d-lowpass %d: want 0 (off) or a phase resolution, a power of two >= 8", *lowpass)}
	}
	// A resumed run keeps its saved feature D unless --feature-d is given.
	var featOpt *train.FeatureDOptions
	if *featW != 0 && (!*resume || set["feature-d"]) {
		taps, err := parseStages(*featTaps)
		if err != nil {
			return usageError{fmt.Sprintf("--feature-d-taps %q: %v", *featTaps, err)}
		}
		featOpt = &train.FeatureDOptions{Weight: *featW, Taps: taps, HeadChannels: *featCh, FromRes: *featFrom}
	} else if set["feature-d-taps"] || set["feature-d-channels"] || set["feature-d-from"] {
		return usageError{"--feature-d-taps, --feature-d-channels and --feature-d-from need --feature-d WEIGHT (with --resume: given explicitly)"}
	}

	var t *train.Trainer
	var err error
	state := filepath.Join(*out, train.StateFile)
	if *resume {
		if t, err = train.LoadState(state); err != nil {
			return err
		}
		// The saved run fixes its architecture and training options: a flag
		// that would change one is refused, not silently ignored (repeating
		// the saved value is fine).
		o := t.Opt
		saved := []struct {
			name string
			same bool
		}{
			{"channels", *channels == joinInts(o.Arch.Channels)},
			{"d-channels", *dChannels == joinInts(o.Arch.DChannels) || *dChannels == joinInts(o.Arch.DiscChannels())},
			{"z", *zdim == o.Arch.ZDim}, {"w", *wdim == o.Arch.WDim}, {"mapping-layers", *mapping == o.Arch.MappingLayers},
			{"r1-gamma", *gamma == o.R1Gamma}, {"r1-every", *r1Every == o.R1Every},
			{"mix-prob", *mix == o.MixProb}, {"mix-crossovers", *mixX == max(1, o.MixCrossovers)}, {"ema-kimg", *ema*1000 == o.EMAHalfLife},
			{"seed", *seed == o.Seed}, {"data-seed", *dataSeed == o.DataSeed}, {"data-pool", *pool == o.DataPool},
		}
		var changed []string
		for _, f := range saved {
			if set[f.name] && !f.same {
				changed = append(changed, "--"+f.name)
			}
		}
		if featOpt != nil && o.FeatureD != nil && featOpt.String() != o.FeatureD.String() {
			changed = append(changed, "--feature-d")
		}
		if len(changed) > 0 {
			t.Close()
			return usageError{fmt.Sprintf("--resume continues %s with its saved options; %s would change them (start a new --out to train with other options)", state, strings.Join(changed, ", "))}
		}
		if set["schedule"] {
			if err := t.SetSchedule(*schedule); err != nil {
				t.Close()
				return err
			}
		}
		if set["noise-decay"] {
			t.Opt.NoiseDecay = *noiseDecay
		}
		if set["d-lowpass"] {
			t.Opt.LowpassRes = *lowpass
		}
		if set["mix-cuts"] {
			t.Opt.MixCuts = cuts // checked above
		}
		if set["lr"] && *lr != o.LR {
			if err := t.SetLR(*lr); err != nil {
				t.Close()
				return err
			}
			fmt.Fprintf(stderr, "train: learning rate %g (was %g)\n", *lr, o.LR)
		}
		if c := t.Cadence; c != nil {
			// Go on writing as the run was started, unless told otherwise.
			for name, v := range map[string]int64{"checkpoint-every": c.CheckpointEvery, "sample-every": c.SampleEvery,
				"snapshot-every": c.SnapshotEvery, "noise-share-every": c.NoiseShareEvery} {
				if !set[name] {
					n[name] = v
				}
			}
		}
		fmt.Fprintf(stderr, "train: resuming %s at %d images (%d iterations, %s trained)\n", state, t.Images, t.Iter, t.Wall.Round(time.Second))
		if featOpt != nil && o.FeatureD == nil {
			// Turning the feature D on in a running run: fresh heads, the
			// embedded classifier as the backbone; G and D carry on.
			if err := t.EnableFeatureD(*featOpt, nil); err != nil {
				t.Close()
				return err
			}
			fmt.Fprintf(stderr, "train: feature D turned on: %s\n", featOpt)
		} else if o.FeatureD != nil {
			fmt.Fprintf(stderr, "train: feature D: %s\n", o.FeatureD)
		}
	} else {
		if _, err := os.Stat(state); err == nil {
			return fmt.Errorf("%s exists: pass --resume to continue it, or choose another --out", state)
		}
		ch, err := parseInts(*channels)
		if err != nil {
			return usageError{fmt.Sprintf("--channels %q: %v", *channels, err)}
		}
		var dch []int
		if *dChannels != "" {
			if dch, err = parseInts(*dChannels); err != nil {
				return usageError{fmt.Sprintf("--d-channels %q: %v", *dChannels, err)}
			}
		}
		opt := def
		opt.Arch = train.Arch{ZDim: *zdim, WDim: *wdim, MappingLayers: *mapping, LRMul: def.Arch.LRMul, Channels: ch, DChannels: dch}
		opt.Schedule, opt.LR, opt.R1Gamma, opt.R1Every, opt.MixProb = *schedule, *lr, *gamma, *r1Every, *mix
		opt.EMAHalfLife, opt.Seed, opt.DataSeed, opt.DataPool = *ema*1000, *seed, *dataSeed, *pool
		opt.FeatureD = featOpt
		opt.NoiseDecay = *noiseDecay
		opt.LowpassRes = *lowpass
		opt.MixCuts = cuts
		if *mixX == 2 {
			opt.MixCrossovers = 2 // 1 stays unset, as in the states saved before the flag
		}
		if t, err = train.New(opt); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "train: new run in %s: channels %v, D channels %v, z %d, w %d, schedule %s, BLAS %s\n", *out, ch, opt.Arch.DiscChannels(), *zdim, *wdim, t.Sched, ops.BLASName())
		if featOpt != nil {
			fmt.Fprintf(stderr, "train: feature D: %s\n", featOpt)
		}
	}
	defer t.Close()
	if t.Opt.NoiseDecay > 0 {
		fmt.Fprintf(stderr, "train: noise strengths decay by lr*%g per G step\n", t.Opt.NoiseDecay)
	}
	if t.Opt.MixCrossovers == 2 {
		fmt.Fprintf(stderr, "train: style mixing with two crossovers per mixed image\n")
	}
	if len(t.Opt.MixCuts) > 0 {
		fmt.Fprintf(stderr, "train: style-mixing crossovers only at slots %s\n", joinInts(t.Opt.MixCuts))
	}
	if t.Opt.LowpassRes > 0 {
		fmt.Fprintf(stderr, "train: the pixel D sees half resolution in phases up to %d px\n", t.Opt.LowpassRes)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return t.Run(ctx, train.RunConfig{
		Out: *out, Cadence: train.Cadence{CheckpointEvery: n["checkpoint-every"], SampleEvery: n["sample-every"],
			SnapshotEvery: n["snapshot-every"], NoiseShareEvery: n["noise-share-every"]}, MaxImages: n["max-images"],
		LogEvery: *logEvery, Log: stderr,
	})
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
