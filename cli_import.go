package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"stylegan-tui/checkpoints"
)

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", "IN OUT.safetensors [--resolution R]", stderr)
	res := fs.Int("resolution", 0, "keep the blocks up to R px (rosinality checkpoints hold all 9 blocks whatever they were trained to)")
	// Flags may come after the two paths.
	var paths []string
	for len(args) > 0 {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(paths) != 2 {
		return usageError{"import takes an input checkpoint and an output .safetensors path"}
	}
	if !strings.EqualFold(filepath.Ext(paths[1]), ".safetensors") {
		return usageError{fmt.Sprintf("output %q: want a .safetensors path", paths[1])}
	}
	if *res < 0 {
		return usageError{fmt.Sprintf("--resolution %d: want a power of two from 4 (0: every block)", *res)}
	}
	// Converting a file over itself would replace the user's original.
	if a, err := os.Stat(paths[0]); err == nil {
		if b, err := os.Stat(paths[1]); err == nil && os.SameFile(a, b) {
			return usageError{fmt.Sprintf("output %s is the input file: give another name", paths[1])}
		}
	}
	if err := checkOutput("output", paths[1], ""); err != nil {
		return err
	}
	m, err := loadModel(paths[0])
	if err != nil {
		return err
	}
	if *res > 0 {
		if m, err = m.AtResolution(*res); err != nil {
			return fmt.Errorf("--resolution: %s: %w", paths[0], err)
		}
	}
	if err := checkpoints.Save(paths[1], m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s model, %dx%d, %d parameters (%s)\n", paths[1], m.Format, m.Cfg.Resolution(), m.Cfg.Resolution(), m.W.NumParams(), m.Convention())
	return nil
}
