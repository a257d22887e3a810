package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"stylegan-tui/model/classifier"
	"stylegan-tui/model/ops"
	"stylegan-tui/model/toyfaces"
	"stylegan-tui/render"
)

// maxHeldout bounds --heldout (classifier.HeldoutMax is the seed space's).
const maxHeldout = min(100_000, classifier.HeldoutMax)

func runTrainClassifier(args []string, stdout, stderr io.Writer) error {
	var f trainClassifierFlags
	if err := parseFlags(&f, newFlags("train-classifier", "[--seeds classifier|judge] [--images N] [--batch B] [--seed S] [--out FILE] [--heldout 2000]", stderr), args); err != nil {
		return err
	}
	return f.run(args, stdout, stderr)
}

// trainClassifierFlags are train-classifier's flags; check fills the
// fields below the blank line (--init may still replace cfg and seeds).
type trainClassifierFlags struct {
	images               string
	batch, heldout       int
	features, convs      int
	seed                 int64
	seedsName, out       string
	lr                   float64
	channels, resWeights string
	initPath             string

	n       int64 // --images
	seeds   classifier.Seeds
	cfg     classifier.Config
	res     []int // --res-weights
	weights []float64
}

func (f *trainClassifierFlags) define(fs *flag.FlagSet) {
	def := classifier.DefaultConfig()
	fs.StringVar(&f.images, "images", "60k", "training images shown (k, M suffixes), each a fresh toyface")
	fs.IntVar(&f.batch, "batch", 32, "images per Adam step")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the weights, the training images and the resolution augmentation (a judge run: 0..255)")
	fs.StringVar(&f.seedsName, "seeds", "classifier", "image family: classifier (training seeds ≥ 0, held-out −1, −2, …) or judge (its own training and held-out seeds, disjoint from the classifier's and from the GAN trainer's pool); --init keeps the init net's")
	fs.StringVar(&f.out, "out", "classifier.safetensors", "output file (written atomically)")
	fs.IntVar(&f.heldout, "heldout", 2000, "held-out toyfaces of the image family (never trained on) for the final accuracy table")
	fs.Float64Var(&f.lr, "lr", 2e-3, "peak Adam learning rate (warm-up, then cosine decay)")
	fs.StringVar(&f.channels, "channels", joinInts(def.Channels), "conv stage widths from 64 px down")
	fs.IntVar(&f.features, "features", def.Features, "feature vector length (the dense layer before the heads)")
	fs.IntVar(&f.convs, "convs", 1, "3×3 convolutions per stage (VGG-style blocks when more than 1)")
	fs.StringVar(&f.resWeights, "res-weights", "64:0.5,32:0.25,16:0.15,8:0.1", "resolution augmentation RES:WEIGHT,...: the share of training images shown at each resolution")
	fs.StringVar(&f.initPath, "init", "", "continue training this classifier file (fine-tuning; its architecture and image family win over --channels, --convs, --features and --seeds)")
}

func (f *trainClassifierFlags) check(*flag.FlagSet) error {
	var err error
	if f.n, err = parseImages(f.images); err != nil {
		return usageError{fmt.Sprintf("--images %q: %v", f.images, err)}
	}
	if f.n < 1 {
		return usageError{fmt.Sprintf("--images %q: want at least one image", f.images)}
	}
	if err := checkLR(f.lr); err != nil {
		return err
	}
	if err := checkOutput("--out", f.out, ".safetensors"); err != nil {
		return err
	}
	if f.batch < 1 || int64(f.batch) > f.n {
		return usageError{fmt.Sprintf("--batch %d: want 1..--images", f.batch)}
	}
	// The seed space holds 1e9 held-out images, but the table takes about
	// 5 ms an image on 2 cores: 100k is 8 minutes (and 2000 already gives
	// ±1%).
	if err := checkCount("heldout", f.heldout, 0, maxHeldout); err != nil {
		return err
	}
	if f.seeds, err = classifier.ParseSeeds(f.seedsName); err != nil {
		return usageError{fmt.Sprintf("--seeds: %v", err)}
	}
	ch, err := parseInts(f.channels)
	if err != nil {
		return usageError{fmt.Sprintf("--channels %q: %v", f.channels, err)}
	}
	if slices.Max(ch) > classifier.MaxWidth {
		return usageError{fmt.Sprintf("--channels %q: want widths 1..%d", f.channels, classifier.MaxWidth)}
	}
	if err := checkCount("features", f.features, 1, classifier.MaxWidth); err != nil {
		return err
	}
	if err := checkCount("convs", f.convs, 1, 8); err != nil {
		return err
	}
	f.cfg = classifier.Config{Channels: ch, Features: f.features, Convs: f.convs}
	if f.res, f.weights, err = parseResWeights(f.resWeights); err != nil {
		return usageError{fmt.Sprintf("--res-weights %q: %v", f.resWeights, err)}
	}
	return nil
}

// run trains the classifier, measures it on held-out images and saves it;
// args go into its metadata.
func (f *trainClassifierFlags) run(args []string, stdout, stderr io.Writer) error {
	initNet, err := f.loadInit()
	if err != nil {
		return err
	}
	steps := int(f.n) / f.batch
	fmt.Fprintf(stderr, "train-classifier: %s images, channels %v × %d convs, %d features, %d images in %d steps of %d, BLAS %s\n",
		f.seeds, f.cfg.Channels, max(f.cfg.Convs, 1), f.cfg.Features, steps*f.batch, steps, f.batch, ops.BLASName())

	// Ctrl-C or SIGTERM stops training after the step under way; the net
	// so far is saved beside --out (savePartial), not lost.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	net, err := f.train(ctx, initNet, steps, stderr)
	if net != nil {
		net.Metadata()["command"] = "stylegan-tui train-classifier " + strings.Join(args, " ")
	}
	if errors.Is(err, context.Canceled) && net != nil {
		return f.savePartial(net, err, stderr)
	}
	if err != nil {
		return err
	}
	wall := time.Since(start)
	md := net.Metadata()
	md["wall"] = wall.Round(time.Second).String()
	fmt.Fprintf(stderr, "train-classifier: %d parameters, %s, %.1f images/s\n",
		net.NumParams(), wall.Round(time.Second), float64(steps*f.batch)/wall.Seconds())

	if f.heldout > 0 {
		resList := []int{64, 32, 16, 8}
		prog := render.NewProgress(stderr, "held-out accuracy", f.heldout)
		acc, err := classifier.Evaluate(ctx, net, f.seeds.HeldoutSeeds(0, f.heldout), resList, prog.Set)
		prog.Done()
		switch {
		case errors.Is(err, context.Canceled):
			// The net is trained: keep it, without the table.
			if serr := net.Save(f.out); serr != nil {
				return fmt.Errorf("%w (and saving the net: %v)", err, serr)
			}
			fmt.Fprintf(stderr, "train-classifier: held-out accuracy stopped: wrote %s without the table\n", f.out)
			return err
		case err != nil:
			return err
		}
		table := accuracyTable(acc, resList, f.heldout)
		fmt.Fprint(stdout, table)
		md["heldout_accuracy"] = table
	}
	if err := net.Save(f.out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "train-classifier: wrote %s\n", f.out)
	return nil
}

// savePartial keeps the net a stopped run trained so far (err is the stop)
// in a side file, never over --out, which may hold a finished net; nothing
// is written if no step finished.
func (f *trainClassifierFlags) savePartial(net *classifier.Net, stop error, stderr io.Writer) error {
	md := net.Metadata()
	if md["images"] == "0" {
		fmt.Fprintf(stderr, "train-classifier: stopped before the first step: nothing written\n")
		return stop
	}
	md["stopped"] = fmt.Sprintf("after %s of %d images", md["images"], f.n)
	path := partialPath(f.out)
	if err := net.Save(path); err != nil {
		return fmt.Errorf("%w (and saving the net so far: %v)", stop, err)
	}
	fmt.Fprintf(stderr, "train-classifier: stopped after %s images: wrote %s (fine-tune from it with --init, with another --seed for images it has not seen)\n", md["images"], path)
	return stop
}

// partialPath is where a stopped run keeps its net: out.partial.safetensors.
func partialPath(out string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + ".partial" + ext
}

// loadInit opens --init, whose architecture and image family win over the
// flags, then checks --seed against the image family that holds.
func (f *trainClassifierFlags) loadInit() (*classifier.Net, error) {
	var initNet *classifier.Net
	if f.initPath != "" {
		var err error
		if initNet, err = classifier.Load(f.initPath); err != nil {
			return nil, err
		}
		f.cfg = initNet.Config()
		f.seeds = initNet.Seeds()
	}
	if f.seeds == classifier.JudgeSeeds && (f.seed < 0 || f.seed >= classifier.JudgeRunSeeds) {
		return nil, usageError{fmt.Sprintf("--seed %d: a judge run takes 0..%d", f.seed, classifier.JudgeRunSeeds-1)}
	}
	return initNet, nil
}

// train trains the net for steps steps of --batch, with a progress bar and,
// every tenth of the images, the mean loss since the last.
func (f *trainClassifierFlags) train(ctx context.Context, initNet *classifier.Net, steps int, stderr io.Writer) (*classifier.Net, error) {
	prog := render.NewProgress(stderr, "train-classifier", steps*f.batch)
	var lossSum float64
	var lossN, tenth int
	net, err := classifier.Train(classifier.TrainOptions{
		Config: f.cfg, Images: int(f.n), Batch: f.batch, Seed: f.seed, Seeds: f.seeds, LR: f.lr, Init: initNet,
		Res: f.res, ResWeight: f.weights, Context: ctx,
		Progress: func(done int, loss float64) {
			prog.Set(done)
			lossSum += loss
			lossN++
			if t := 10 * done / (steps * f.batch); t > tenth {
				tenth = t
				fmt.Fprintf(stderr, "\r\x1b[Ktrain-classifier: %d images, mean loss %.4f over the last %d steps\n", done, lossSum/float64(lossN), lossN)
				lossSum, lossN = 0, 0
			}
		},
	})
	prog.Done()
	return net, err // on a stop, the net so far with the context's error
}

// accuracyTable formats per-factor accuracies (rows) per resolution
// (columns) as a Markdown table.
func accuracyTable(acc [][]float64, resList []int, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| factor (%d held-out) |", n)
	for _, r := range resList {
		fmt.Fprintf(&b, " %d px |", r)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(resList)) + "\n")
	for f, fac := range toyfaces.Factors {
		fmt.Fprintf(&b, "| %s |", fac.Name)
		for k := range resList {
			fmt.Fprintf(&b, " %.2f%% |", 100*acc[k][f])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseResWeights parses RES:WEIGHT,... (RES one of 8, 16, 32, 64).
func parseResWeights(s string) ([]int, []float64, error) {
	var res []int
	var w []float64
	for _, f := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(f), ":")
		r, err1 := strconv.Atoi(a)
		v, err2 := strconv.ParseFloat(b, 64)
		if !ok || err1 != nil || err2 != nil || v < 0 || (r != 8 && r != 16 && r != 32 && r != 64) {
			return nil, nil, fmt.Errorf("want RES:WEIGHT,... with RES 8, 16, 32 or 64 and WEIGHT ≥ 0")
		}
		res, w = append(res, r), append(w, v)
	}
	return res, w, nil
}
