package main

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"os/signal"
	"strings"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
	"stylegan-tui/render/figures"
	"stylegan-tui/tui"
	"stylegan-tui/tui/lesson"
)

// fileArg takes an optional FILE before the flags.
func fileArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// readLesson reads FILE, or makes the built-in lesson for cfg when it is "".
func readLesson(file string, cfg *model.Config) (*lesson.Lesson, error) {
	if file == "" {
		return lesson.BuiltIn(cfg), nil
	}
	return lesson.ReadFile(file)
}

// runLesson opens the explorer on a lesson. Broken steps are listed (file
// and line) and the lesson opens anyway: they show their error and n and p
// go past them. --check only lists what would not run on the model.
func runLesson(args []string, stdout, stderr io.Writer) error {
	file, args := fileArg(args)
	fs := newFlags("lesson", "[FILE] [--checkpoint F] [--graphics auto|sixel|halfblock] [--tmux-passthrough] [--check]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\" (embedded)")
	graphics := fs.String("graphics", "auto", "image output: auto (sixel if the terminal answers DA1 with 4 and its cell size can be learned, else half-blocks), sixel or halfblock")
	tmux := fs.Bool("tmux-passthrough", false, "inside tmux, wrap sixel in tmux passthrough (needs allow-passthrough on)")
	check := fs.Bool("check", false, "only check the lesson against the model: list every problem with its file and line, exit 2 if any")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 1 {
		if file != "" {
			return usageError{fmt.Sprintf("two lesson files, %q and %q: want one", file, fs.Arg(0))}
		}
		file = fs.Arg(0) // FILE after the flags
	}
	switch *graphics {
	case "auto", "sixel", "halfblock":
	default:
		return usageError{"--graphics " + *graphics + ": want auto, sixel or halfblock"}
	}
	m, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	l, err := readLesson(file, m.Cfg)
	if err != nil {
		return err
	}
	problems := l.Check(m.Cfg)
	for _, p := range problems {
		fmt.Fprintf(stderr, "stylegan-tui lesson: %s\n", p)
	}
	if *check {
		skipped := 0
		for _, s := range l.Steps {
			if s.Toyfaces && !lesson.Toyfaces(m.Cfg) {
				skipped++
			}
		}
		why := "" // "0 skipped on toyfaces (they need a toyfaces model)" read as a contradiction
		if skipped > 0 {
			why = " (they need a toyfaces model)"
		}
		fmt.Fprintf(stdout, "%s: %d steps, %d with problems, %d skipped on %s%s\n",
			l.File, len(l.Steps), len(problems), skipped, modelName(m), why)
		if len(problems) > 0 {
			if len(problems) == 1 {
				return fmt.Errorf("%s: 1 step would show its error instead of its picture", l.File)
			}
			return fmt.Errorf("%s: %d steps would show their error instead of their picture", l.File, len(problems))
		}
		return nil
	}
	return tui.Run(tui.Options{
		Model:           m,
		Graphics:        *graphics,
		TmuxPassthrough: *tmux,
		Lesson:          l,
		Env:             os.Getenv,
	}, os.Stdin, stdout)
}

// runGIFLesson is gif lesson [FILE]: the lesson's steps as slides (see
// lesson.Slides), captions burnt in.
func runGIFLesson(args []string, stdout, stderr io.Writer) error {
	file, args := fileArg(args)
	fs := newFlags("gif lesson", "[FILE] --checkpoint F [--size px] [-v] -o out.gif", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\"")
	size := fs.Int("size", 0, "side of each picture in px (default: the model's resolution, within 128..256)")
	out := fs.String("o", "", "output GIF")
	verbose := fs.Bool("v", false, "print the state string of every frame")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-o is required"}
	}
	if err := checkOutput("-o", *out, ".gif"); err != nil {
		return err
	}
	if *size < 0 || *size > 4096 {
		return usageError{fmt.Sprintf("--size %d: want 1..4096 px (0 for the default)", *size)}
	}
	m, g, err := loadGenerator(*ckpt)
	if err != nil {
		return err
	}
	defer g.Close()
	l, err := readLesson(file, m.Cfg)
	if err != nil {
		return err
	}
	frames, delays, err := lesson.Slides(l, m.Cfg)
	if err != nil {
		return err
	}
	if *size == 0 {
		*size = min(max(m.Cfg.Resolution(), 128), 256)
	}
	if px := 3 * len(frames) * *size * *size; px > maxPixels {
		return usageError{fmt.Sprintf("%d frames of 3 pictures of %d px make %d Mpx, over the %d Mpx limit: use a smaller --size", len(frames), *size, px>>20, maxPixels>>20)}
	}
	a := &figures.Animation{Kind: "lesson", Frames: frames}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// A lesson shows the same pictures again and again (A and B beside
	// every frame of a walk): each state is rendered once.
	p := render.NewProgress(stderr, "gif lesson", 3*len(frames)+len(frames))
	defer p.Done()
	seen := map[string]image.Image{}
	imgs, err := a.RenderVia(ctx, *size, false, func(ctx context.Context, st latent.State) (image.Image, error) {
		defer p.Add(1)
		k := st.Encode()
		if img, ok := seen[k]; ok {
			return img, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, _, err := g.Render(st, nil)
		if err != nil {
			return nil, err
		}
		seen[k] = img
		return img, nil
	})
	if err != nil {
		return err
	}
	if _, err := figures.WriteGIF(*out, imgs, delays, p); err != nil {
		return err
	}
	if *verbose {
		for _, s := range a.States() {
			fmt.Fprintln(stdout, "frame", s)
		}
	}
	sz := imgs[0].Bounds().Size()
	total := 0
	for _, d := range delays {
		total += d
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d, %d frames, %d s, %d pictures rendered, lesson %s on %s)\n",
		*out, sz.X, sz.Y, len(imgs), (total+50)/100, len(seen), l.File, modelName(m))
	return nil
}
