package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/model/ops"
)

// benchConfigs are random-weight generators of the published sizes: the
// presets as they are, named for the command line.
var benchConfigs = map[string]func() *model.Config{
	"rosinality-256":  func() *model.Config { return named(model.Rosinality(256), "rosinality-256") },
	"rosinality-1024": func() *model.Config { return named(model.Rosinality(1024), "rosinality-1024") },
	"nvlabs-256":      func() *model.Config { return named(model.NVlabs(256), "nvlabs-256") },
	"nvlabs-1024":     func() *model.Config { return named(model.NVlabs(1024), "nvlabs-1024") },
}

func named(c *model.Config, name string) *model.Config {
	c.Name = name
	return c
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "--config rosinality-256|rosinality-1024|nvlabs-256|nvlabs-1024 [--runs N]", stderr)
	name := fs.String("config", "rosinality-256", "generator size: rosinality-256, rosinality-1024, nvlabs-256 (per-layer styles) or nvlabs-1024")
	runs := fs.Int("runs", 5, "timed runs of each measurement (after one warm-up)")
	if err := parse(fs, args); err != nil {
		return err
	}
	preset, ok := benchConfigs[*name]
	if !ok {
		return usageError{fmt.Sprintf("--config %q: want rosinality-256, rosinality-1024, nvlabs-256 or nvlabs-1024", *name)}
	}
	// A 1024 px forward pass takes seconds; nothing shows until the end.
	if err := checkCount("runs", *runs, 1, 1000); err != nil {
		return err
	}
	cfg := preset()
	g, err := model.New(cfg, model.RandomWeights(cfg, 1))
	if err != nil {
		return err
	}
	defer g.Close()
	res := cfg.Resolution()
	fmt.Fprintf(stdout, "%s: %d parameters, BLAS %s\n", cfg.Name, g.W.NumParams(), ops.BLASName())
	st := g.NewState()
	fine, _, _ := cfg.GroupSlots("fine")
	last := cfg.NumStyles() - 1
	// fineEdit takes the fine styles from B (layers 8+ change); styleEdit takes only the last
	// slot's style from B; noiseEdit draws a new map for the last noise slot.
	fineEdit := st.WithStyles(fine, last, latent.FromB)
	styleEdit := st.WithStyles(last, last, latent.FromB)
	noiseEdit := func(i int) latent.State {
		s := st.Clone()
		s.Noise[len(s.Noise)-1].Seed = int64(i + 100)
		return s
	}
	timed := func(f func() error) (time.Duration, error) {
		t0 := time.Now()
		err := f()
		return time.Since(t0), err
	}
	fullRender := func() error {
		in, err := g.Inputs(st)
		if err == nil {
			_, _, err = g.Synthesis(in, model.Options{Step: -1, Alpha: -1, Full: true})
		}
		return err
	}
	render := func(s latent.State) func() error {
		return func() error { _, _, err := g.Render(s, nil); return err }
	}
	// The three measurements are interleaved run by run, and the ratios are taken within a
	// run, so that load from other processes (these machines are shared) cancels out.
	var fulls, fines, styles, noises []time.Duration
	var fineR, styleR, noiseR []float64
	for i := -1; i < *runs; i++ { // run -1 warms up
		tf, err := timed(fullRender)
		if err != nil {
			return err
		}
		ti, err := timed(render(fineEdit))
		if err != nil {
			return err
		}
		// each last-slot edit starts from st, so that only the last slot differs
		var tl [2]time.Duration
		for k, s := range []latent.State{styleEdit, noiseEdit(i)} {
			if err := render(st)(); err != nil {
				return err
			}
			if tl[k], err = timed(render(s)); err != nil {
				return err
			}
		}
		if i >= 0 {
			fulls, fines, styles, noises = append(fulls, tf), append(fines, ti), append(styles, tl[0]), append(noises, tl[1])
			fineR = append(fineR, float64(ti)/float64(tf))
			styleR, noiseR = append(styleR, float64(tl[0])/float64(tf)), append(noiseR, float64(tl[1])/float64(tf))
		}
	}
	fmt.Fprintf(stdout, "forward %dpx: median %.1f ms\n", res, ms(median(fulls)))
	fmt.Fprintf(stdout, "incremental fine-layer edit (slots %d-%d): median %.1f ms (%.3fx of full, median of per-run ratios)\n",
		fine, last, ms(median(fines)), median(fineR))
	fmt.Fprintf(stdout, "incremental last-slot style edit: median %.1f ms (%.3fx of full, median of per-run ratios)\n",
		ms(median(styles)), median(styleR))
	fmt.Fprintf(stdout, "incremental last-slot noise edit (new map): median %.1f ms (%.3fx of full, median of per-run ratios)\n",
		ms(median(noises)), median(noiseR))
	return nil
}

// median returns the middle element of a copy of v sorted (the upper one for even lengths).
func median[T time.Duration | float64](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
