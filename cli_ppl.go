package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"stylegan-tui/model/classifier"
	"stylegan-tui/model/metrics"
	"stylegan-tui/render"
)

// pplOutput is what ppl --json writes.
type pplOutput struct {
	Checkpoint string               `json:"checkpoint"`
	Provenance string               `json:"provenance"`
	Classifier string               `json:"classifier"`
	Resolution int                  `json:"resolution"`
	Reports    []*metrics.PPLReport `json:"reports"`
	// ZOverW is PPL z / PPL w when both spaces were measured.
	ZOverW float64 `json:"z_over_w,omitempty"`
}

func runPPL(args []string, stdout, stderr io.Writer) error {
	def := metrics.DefaultPPLOptions
	fs := newFlags("ppl", "[--checkpoint F|default] [--space z|w|both] [--sampling full|end] [--samples N] [flags]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint to measure (8, 16, 32 or 64 px): a file, or \"default\" for the embedded model")
	clf := fs.String("classifier", "default", "toyfaces classifier whose conv stages give the perceptual distance: a file from train-classifier, or \"default\" for the embedded one")
	space := fs.String("space", "both", "latent space walked: z (slerp of z), w (lerp of w = f(z)) or both")
	sampling := fs.String("sampling", def.Sampling, "path points: full (t uniform in [0, 1]) or end (t = 0, the end points)")
	samples := fs.Int("samples", def.Samples, "path samples (image pairs) per space; the paper uses 100000")
	eps := fs.Float64("epsilon", def.Epsilon, "step between the two images of a pair")
	seed := fs.Int64("seed", 0, "seed of every latent, t and noise map (both spaces walk the same end points)")
	batch := fs.Int("batch", def.Batch, "pairs per generator and classifier call")
	jsonOut := fs.String("json", "", "write every number to this JSON file")
	if err := parse(fs, args); err != nil {
		return err
	}
	var spaces []string
	switch *space {
	case "z", "w":
		spaces = []string{*space}
	case "both":
		spaces = []string{"z", "w"}
	default:
		return usageError{fmt.Sprintf("--space %q: want z, w or both", *space)}
	}
	if *sampling != "full" && *sampling != "end" {
		return usageError{fmt.Sprintf("--sampling %q: want full or end", *sampling)}
	}
	if *samples < 1 {
		return usageError{fmt.Sprintf("--samples %d: want a positive count", *samples)}
	}
	if !(*eps > 0) || math.IsInf(*eps, 0) {
		return usageError{fmt.Sprintf("--epsilon %g: want a positive step", *eps)}
	}
	if *batch < 1 {
		return usageError{fmt.Sprintf("--batch %d: want a positive count", *batch)}
	}
	if *jsonOut != "" {
		// Checked before the measurement, which it would otherwise waste.
		if st, err := os.Stat(filepath.Dir(*jsonOut)); err != nil || !st.IsDir() {
			return fmt.Errorf("--json %s: no directory %s to write it in", *jsonOut, filepath.Dir(*jsonOut))
		}
	}

	m, g, err := loadGenerator(*ckpt)
	if err != nil {
		return err
	}
	defer g.Close()
	res := g.Cfg.Resolution()
	if res != 8 && res != 16 && res != 32 && res != 64 {
		return fmt.Errorf("%s: a %d px model; the only perceptual distance here is the toyfaces classifier's, at 8, 16, 32 and 64 px (the paper's LPIPS/VGG16 weights are not available)", *ckpt, res)
	}
	net, err := loadClassifier(*clf)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	out := pplOutput{Checkpoint: *ckpt, Provenance: m.Provenance, Classifier: *clf, Resolution: res}
	for _, s := range spaces {
		o := metrics.PPLOptions{Space: s, Sampling: *sampling, Samples: *samples, Epsilon: *eps, Batch: *batch, Seed: *seed}
		p := render.NewProgress(stderr, "ppl: "+s, metrics.PPLWork(o))
		o.Progress = p.Add
		r, err := metrics.PPL(ctx, g, netDistance{net}, o)
		if err != nil {
			return err
		}
		p.Done()
		out.Reports = append(out.Reports, r)
	}
	if len(out.Reports) == 2 && out.Reports[1].PPL > 0 {
		out.ZOverW = out.Reports[0].PPL / out.Reports[1].PPL
	}
	writePPL(stdout, &out)
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, &out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "ppl: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// writePPL prints the report: one row per space, then the z/w ratio.
func writePPL(w io.Writer, out *pplOutput) {
	r0 := out.Reports[0]
	fmt.Fprintf(w, "ppl: %s: %d px, %s\n", out.Checkpoint, out.Resolution, out.Provenance)
	fmt.Fprintf(w, "distance: classifier %s, LPIPS baseline form on its conv stages (no VGG16/LPIPS weights here)\n", out.Classifier)
	fmt.Fprintf(w, "sampling %s, %d samples, epsilon %g, seed %d, psi 1, same noise within a pair\n\n",
		r0.Sampling, r0.Samples, r0.Epsilon, r0.Seed)
	fmt.Fprintf(w, "%-6s %10s %10s %10s %10s %10s %6s\n", "space", "PPL", "raw mean", "median", "p1", "p99", "kept")
	for _, r := range out.Reports {
		fmt.Fprintf(w, "%-6s %10.5g %10.5g %10.5g %10.5g %10.5g %6d\n", r.Space, r.PPL, r.RawMean, r.Median, r.P1, r.P99, r.Kept)
	}
	fmt.Fprintln(w, "\nPPL is the mean of d/epsilon^2 between the 1st and 99th percentiles (NVlabs' outlier rejection).")
	if out.ZOverW != 0 {
		fmt.Fprintf(w, "z/w ratio: %.3f (the paper's Tables 3 and 4: a style-based generator's w paths are the shorter)\n", out.ZOverW)
	}
}

// netDistance adapts classifier.Net to metrics.Distance.
type netDistance struct{ n *classifier.Net }

func (d netDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	return d.n.PerceptualDistance(a, b, batch, res)
}
