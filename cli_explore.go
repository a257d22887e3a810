package main

import (
	"io"
	"os"

	"stylegan-tui/latent"
	"stylegan-tui/tui"
)

func init() {
	commands["explore"] = command{"open the explorer (default command)", runExplore}
}

// runExplore opens the terminal explorer on a checkpoint.
func runExplore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explore", "[--checkpoint F] [--graphics auto|sixel|halfblock] [--tmux-passthrough] [--state S]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint: .safetensors, rosinality .pt/.model, NVlabs .pkl, or \"default\" (embedded)")
	graphics := fs.String("graphics", "auto", "image output: auto (sixel if the terminal answers DA1 with 4, else half-blocks), sixel or halfblock")
	tmux := fs.Bool("tmux-passthrough", false, "inside tmux, wrap sixel in tmux passthrough (needs tmux set -g allow-passthrough on, and a sixel terminal outside); without it tmux gets half-blocks")
	stateStr := fs.String("state", "", "start from a state string (copy one with c in the explorer)")
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
	return tui.Run(tui.Options{
		Model:           m,
		Graphics:        *graphics,
		TmuxPassthrough: *tmux,
		State:           st,
		Env:             os.Getenv,
	}, os.Stdin, stdout)
}
