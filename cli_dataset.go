package main

import (
	"fmt"
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
	if *n < 1 || *n > 4096 {
		return usageError{fmt.Sprintf("--n %d: want 1..4096", *n)}
	}
	if err := checkExt("-o", *out, ".png"); err != nil {
		return err
	}
	return render.WritePNG(*out, toyfaces.Grid(*n, *seed))
}
