package main

import (
	"io"

	"stylegan-tui/model/toyfaces"
	"stylegan-tui/render"
)

func runDataset(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset", "[--n 64] [--seed S] -o grid.png", stderr)
	n := fs.Int("n", 64, "number of images")
	seed := fs.Int64("seed", 0, "seed of the first image (the others follow)")
	out := fs.String("o", "", "output PNG")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-o is required"}
	}
	if err := checkCount("n", *n, 1, 4096); err != nil {
		return err
	}
	if err := checkExt("-o", *out, ".png"); err != nil {
		return err
	}
	return render.WritePNG(*out, toyfaces.Grid(*n, *seed))
}
