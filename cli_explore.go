package main

import (
	"fmt"
	"io"
	"os"

	"stylegan-tui/latent"
	"stylegan-tui/model/lpips"
	"stylegan-tui/model/metrics"
	"stylegan-tui/tui"
	"stylegan-tui/tui/pathlen"
)

// runExplore opens the terminal explorer on a checkpoint.
func runExplore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explore", "[--checkpoint F] [--graphics auto|sixel|halfblock] [--tmux-passthrough] [--state S]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\" (embedded)")
	graphics := fs.String("graphics", "auto", "image output: auto (sixel if the terminal answers DA1 with 4 and its cell size can be learned, else half-blocks; see the README's Terminals section), sixel or halfblock")
	tmux := fs.Bool("tmux-passthrough", false, "inside tmux, wrap sixel in tmux passthrough (needs tmux set -g allow-passthrough on, and a sixel terminal outside); without it tmux gets half-blocks")
	stateStr := fs.String("state", "", "start from a state string (copy one with c in the explorer)")
	vgg16 := fs.String("vgg16", "", "measure the walk's path length with LPIPS on torchvision's VGG16 weights ("+vgg16File+"), each frame as ppl compares it; without it a toyfaces model uses its classifier, others pixels")
	lin := fs.String("lin", "", "with --vgg16: LPIPS linear layers (torch.save); empty: the embedded LPIPS v0.1 VGG weights")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *graphics {
	case "auto", "sixel", "halfblock":
	default:
		return usageError{"--graphics " + *graphics + ": want auto, sixel or halfblock"}
	}
	var st *latent.State
	if *stateStr != "" {
		s, err := latent.Decode(*stateStr)
		if err != nil {
			return usageError{"--state: " + err.Error()}
		}
		st = &s
	}
	m, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	var pd pathlen.Distance
	if *vgg16 != "" {
		if s := metrics.DistanceRes(m.Cfg.Resolution(), true); s < lpips.MinSize {
			return fmt.Errorf("--vgg16: a %d px model's face crop is %d px; LPIPS on VGG16 needs at least %d", m.Cfg.Resolution(), s, lpips.MinSize)
		}
		net, err := loadLPIPS(*vgg16, *lin)
		if err != nil {
			return err
		}
		defer net.Close()
		pd = lpipsPath{net}
	}
	return tui.Run(tui.Options{
		Model:           m,
		Graphics:        *graphics,
		TmuxPassthrough: *tmux,
		State:           st,
		Env:             os.Getenv,
		PathDistance:    pd,
	}, os.Stdin, stdout)
}
