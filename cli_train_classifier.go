package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"stylegan-tui/model/classifier"
	"stylegan-tui/model/ops"
	"stylegan-tui/model/toyfaces"
	"stylegan-tui/render"
)

func runTrainClassifier(args []string, stdout, stderr io.Writer) error {
	def := classifier.DefaultConfig()
	fs := newFlags("train-classifier", "[--seeds classifier|judge] [--images N] [--batch B] [--seed S] [--out FILE] [--heldout 2000]", stderr)
	images := fs.String("images", "60k", "training images shown (k, M suffixes), each a fresh toyface")
	batch := fs.Int("batch", 32, "images per Adam step")
	seed := fs.Int64("seed", 1, "seed of the weights, the training images and the resolution augmentation (a judge run: 0..255)")
	seedsName := fs.String("seeds", "classifier", "image family: classifier (training seeds ≥ 0, held-out −1, −2, …) or judge (its own training and held-out seeds, disjoint from the classifier's and from the GAN trainer's pool); --init keeps the init net's")
	out := fs.String("out", "classifier.safetensors", "output file (written atomically)")
	heldout := fs.Int("heldout", 2000, "held-out toyfaces of the image family (never trained on) for the final accuracy table")
	lr := fs.Float64("lr", 2e-3, "peak Adam learning rate (warm-up, then cosine decay)")
	channels := fs.String("channels", joinInts(def.Channels), "conv stage widths from 64 px down")
	features := fs.Int("features", def.Features, "feature vector length (the dense layer before the heads)")
	convs := fs.Int("convs", 1, "3×3 convolutions per stage (VGG-style blocks when more than 1)")
	resWeights := fs.String("res-weights", "64:0.5,32:0.25,16:0.15,8:0.1", "resolution augmentation RES:WEIGHT,...: the share of training images shown at each resolution")
	initPath := fs.String("init", "", "continue training this classifier file (fine-tuning; its architecture and image family win over --channels, --convs, --features and --seeds)")
	if err := parse(fs, args); err != nil {
		return err
	}
	n, err := parseImages(*images)
	if err != nil {
		return usageError{fmt.Sprintf("--images %q: %v", *images, err)}
	}
	if n < 1 {
		return usageError{fmt.Sprintf("--images %q: want at least one image", *images)}
	}
	if !(*lr > 0) || math.IsInf(*lr, 0) {
		return usageError{fmt.Sprintf("--lr %g: want a positive learning rate", *lr)}
	}
	if err := checkExt("--out", *out, ".safetensors"); err != nil {
		return err
	}
	if err := checkOutput("--out", *out); err != nil {
		return err
	}
	if *batch < 1 || int64(*batch) > n {
		return usageError{fmt.Sprintf("--batch %d: want 1..--images", *batch)}
	}
	if *heldout < 0 || *heldout > classifier.HeldoutMax {
		return usageError{fmt.Sprintf("--heldout %d: want 0..%d", *heldout, classifier.HeldoutMax)}
	}
	seeds, err := classifier.ParseSeeds(*seedsName)
	if err != nil {
		return usageError{fmt.Sprintf("--seeds: %v", err)}
	}
	ch, err := parseInts(*channels)
	if err != nil {
		return usageError{fmt.Sprintf("--channels %q: %v", *channels, err)}
	}
	if slices.Max(ch) > classifier.MaxWidth {
		return usageError{fmt.Sprintf("--channels %q: want widths 1..%d", *channels, classifier.MaxWidth)}
	}
	if err := checkCount("features", *features, 1, classifier.MaxWidth); err != nil {
		return err
	}
	if err := checkCount("convs", *convs, 1, 8); err != nil {
		return err
	}
	cfg := classifier.Config{Channels: ch, Features: *features, Convs: *convs}
	res, weights, err := parseResWeights(*resWeights)
	if err != nil {
		return usageError{fmt.Sprintf("--res-weights %q: %v", *resWeights, err)}
	}
	var initNet *classifier.Net
	if *initPath != "" {
		if initNet, err = classifier.Load(*initPath); err != nil {
			return err
		}
		cfg = initNet.Config()
		seeds = initNet.Seeds()
	}
	if seeds == classifier.JudgeSeeds && (*seed < 0 || *seed >= classifier.JudgeRunSeeds) {
		return usageError{fmt.Sprintf("--seed %d: a judge run takes 0..%d", *seed, classifier.JudgeRunSeeds-1)}
	}
	steps := int(n) / *batch
	fmt.Fprintf(stderr, "train-classifier: %s images, channels %v × %d convs, %d features, %d images in %d steps of %d, BLAS %s\n",
		seeds, cfg.Channels, max(cfg.Convs, 1), cfg.Features, steps**batch, steps, *batch, ops.BLASName())

	prog := render.NewProgress(stderr, "train-classifier", steps**batch)
	var lossSum float64
	var lossN, tenth int
	start := time.Now()
	net, err := classifier.Train(classifier.TrainOptions{
		Config: cfg, Images: int(n), Batch: *batch, Seed: *seed, Seeds: seeds, LR: *lr, Init: initNet,
		Res: res, ResWeight: weights,
		Progress: func(done int, loss float64) {
			prog.Set(done)
			lossSum += loss
			lossN++
			if t := 10 * done / (steps * *batch); t > tenth {
				tenth = t
				fmt.Fprintf(stderr, "\r\x1b[Ktrain-classifier: %d images, mean loss %.4f over the last %d steps\n", done, lossSum/float64(lossN), lossN)
				lossSum, lossN = 0, 0
			}
		},
	})
	if err != nil {
		return err
	}
	prog.Done()
	wall := time.Since(start)
	md := net.Metadata()
	md["command"] = "stylegan-tui train-classifier " + strings.Join(args, " ")
	md["wall"] = wall.Round(time.Second).String()
	fmt.Fprintf(stderr, "train-classifier: %d parameters, %s, %.1f images/s\n",
		net.NumParams(), wall.Round(time.Second), float64(steps**batch)/wall.Seconds())

	if *heldout > 0 {
		resList := []int{64, 32, 16, 8}
		acc, err := classifier.Evaluate(net, seeds.HeldoutSeeds(0, *heldout), resList)
		if err != nil {
			return err
		}
		table := accuracyTable(acc, resList, *heldout)
		fmt.Fprint(stdout, table)
		md["heldout_accuracy"] = table
	}
	if err := net.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "train-classifier: wrote %s\n", *out)
	return nil
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
