package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"stylegan-tui/latent"
	"stylegan-tui/render/figures"
)

// maxGIFFrames bounds a GIF's frames, given or made by default.
const maxGIFFrames = 10000

func runGIF(args []string, stdout, stderr io.Writer) error {
	kind, args, err := kindArg(args, append(figures.Kinds[:len(figures.Kinds):len(figures.Kinds)], "lesson"), "gif")
	if err != nil {
		return err
	}
	if kind == "lesson" {
		return runGIFLesson(args, stdout, stderr) // cli_lesson.go
	}
	// lesson has flags of its own (cli_lesson.go): named in the synopsis so
	// that --help lists every kind.
	fs := newFlags("gif", strings.Join(figures.Kinds, "|")+" --checkpoint F [--seeds ...] [--frames N --fps F --size px --labels] -o out.gif\n"+
		"       stylegan-tui gif lesson [FILE] --checkpoint F -o out.gif  (a lesson's steps as slides; see gif lesson --help)", stderr)
	b := addBaseFlags(fs, "output GIF")
	b.ext = ".gif"
	frames := fs.Int("frames", 0, "frames (default: walk 30 per seed of --seeds (60 for A -> B -> A), mix-sweep 2 per style slot, truncation-sweep 40, noise 20)")
	fps := fs.Float64("fps", 0, "frames per second, GIF delays being in 1/100 s (default: walk 25, mix-sweep 4, truncation-sweep 12, noise 8)")
	labels := fs.Bool("labels", false, "burn the sources and state string(s) into each frame, under the caption every frame has")
	if err := parse(fs, args); err != nil {
		return err
	}
	if kind == "" {
		return usageError{"gif needs a kind first: one of " + strings.Join(figures.Kinds, ", ") + ", lesson"}
	}
	if *frames < 0 || *frames > maxGIFFrames {
		return usageError{fmt.Sprintf("--frames %d: want 1..%d (0 for the default)", *frames, maxGIFFrames)}
	}
	if *fps == 0 {
		*fps = figures.DefaultFPS(kind)
	}
	if !(*fps >= 0.01 && *fps <= 50) { // GIF delays: 1/100 s, 16 bits
		return usageError{fmt.Sprintf("--fps %v: want 0.01..50", *fps)}
	}
	if kind == "truncation-sweep" {
		if err := unusedBy(fs, "gif", kind, "sweeps psi itself (on the cutoff's slots)", "psi"); err != nil {
			return err
		}
	}
	switch kind {
	case "mix-sweep":
		b.maxSeeds, b.seedsWhy = 2, "gif mix-sweep mixes B into A"
	case "truncation-sweep", "noise":
		b.maxSeeds, b.seedsWhy = 1, "gif "+kind+" shows one face"
	}
	m, g, base, seeds, err := b.setup()
	if err != nil {
		return err
	}
	defer g.Close()
	var a *figures.Animation
	if kind == "walk" && len(seeds) > 1 {
		srcs := make([]latent.Source, len(seeds))
		for i, s := range seeds {
			srcs[i] = latent.Source{Seed: s}
		}
		n := *frames
		if n == 0 {
			n = figures.WalkLegFrames * len(seeds) // one leg per seed: A -> B -> ... -> A
			if n > maxGIFFrames {
				return usageError{fmt.Sprintf("--seeds: %d seeds make %d frames (%d a leg), over %d: give fewer seeds or --frames", len(seeds), n, figures.WalkLegFrames, maxGIFFrames)}
			}
		}
		a = figures.Walk(base, srcs, n)
	} else if a, err = figures.Preset(kind, g.Cfg, withSeeds(base, seeds), *frames); err != nil {
		return err
	}
	panels := 0
	for _, f := range a.Frames {
		panels += len(f.States)
	}
	if px := panels * *b.size * *b.size; px > maxPixels {
		return usageError{fmt.Sprintf("%d pictures of %d px make %d Mpx, over the %d Mpx limit: use fewer --frames or a smaller --size", panels, *b.size, px>>20, maxPixels>>20)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	imgs, _, err := a.Write(ctx, *b.out, g, *b.size, *labels, *fps, stderr)
	if err != nil {
		return err
	}
	if *b.verbose {
		for _, s := range a.States() {
			fmt.Fprintln(stdout, "frame", s)
		}
	}
	sz := imgs[0].Bounds().Size()
	count := fmt.Sprintf("%d frames", len(imgs))
	if len(imgs) == 1 {
		count = "1 frame"
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d, %s at %d/100 s, gif %s of %s)\n",
		*b.out, sz.X, sz.Y, count, figures.Delay(*fps), kind, modelName(m))
	return nil
}
