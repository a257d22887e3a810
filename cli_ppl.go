package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"stylegan-tui/model"
	"stylegan-tui/model/classifier"
	"stylegan-tui/model/lpips"
	"stylegan-tui/model/metrics"
	"stylegan-tui/render"
)

// pplOutput is what ppl --json writes.
type pplOutput struct {
	Checkpoint string `json:"checkpoint"`
	Provenance string `json:"provenance"`
	// Distance is "lpips" (VGG16 and Lin) or "classifier" (Classifier).
	Distance   string               `json:"distance"`
	Classifier string               `json:"classifier,omitempty"`
	VGG16      string               `json:"vgg16,omitempty"`
	Lin        string               `json:"lin,omitempty"`
	Resolution int                  `json:"resolution"`
	Reports    []*metrics.PPLReport `json:"reports"`
	// ZOverW is PPL z / PPL w when both spaces were measured.
	ZOverW float64 `json:"z_over_w,omitempty"`
}

func runPPL(args []string, stdout, stderr io.Writer) error {
	var f pplFlags
	if err := parseFlags(&f, newFlags("ppl", "[--checkpoint F|default] [--distance lpips|classifier] [--vgg16 F] [--space z|w|both] [--sampling full|end] [--samples N] [flags]", stderr), args); err != nil {
		return err
	}
	return f.run(stdout, stderr)
}

// pplFlags are ppl's flags; check fills the fields below the blank line.
type pplFlags struct {
	checkpoint, distance, vgg16, lin string
	crop                             bool
	bootstrap                        int
	clf, space, sampling             string
	samples, batch                   int
	eps                              float64
	seed                             int64
	jsonOut                          string

	spaces    []string // the spaces --space walks, z first
	cropGiven bool     // else --crop follows the distance
}

func (f *pplFlags) define(fs *flag.FlagSet) {
	def := metrics.DefaultPPLOptions
	fs.StringVar(&f.checkpoint, "checkpoint", "default", "generator checkpoint to measure: a file, or \"default\" for the embedded model")
	fs.StringVar(&f.distance, "distance", "auto", "perceptual distance: lpips (the paper's: LPIPS v0.1 on VGG16), classifier (the toyfaces classifier's conv stages, 8-64 px), or auto: lpips if --vgg16 is given or the model is over 64 px, else classifier")
	fs.StringVar(&f.vgg16, "vgg16", "", "with lpips: "+vgg16Usage())
	fs.StringVar(&f.lin, "lin", "", "with lpips: LPIPS linear layers (torch.save); empty: the embedded LPIPS v0.1 VGG weights")
	fs.BoolVar(&f.crop, "crop", false, "compare NVlabs' face crop (rows 3/8-7/8, columns 2/8-6/8) instead of the whole image; default on with lpips (NVlabs crops every model), off with classifier (a toyfaces image is all face)")
	fs.IntVar(&f.bootstrap, "bootstrap", def.Bootstrap, "resamples behind the 95% interval of the PPL")
	fs.StringVar(&f.clf, "classifier", "judge", "with classifier: the toyfaces classifier whose conv stages give the distance: "+classifierUsage)
	fs.StringVar(&f.space, "space", "both", "latent space walked: z (slerp of z), w (lerp of w = f(z)) or both")
	fs.StringVar(&f.sampling, "sampling", def.Sampling, "path points: full (t uniform in [0, 1]) or end (t = 0, the end points)")
	fs.IntVar(&f.samples, "samples", def.Samples, "path samples (image pairs) per space; the paper uses 100000")
	fs.Float64Var(&f.eps, "epsilon", def.Epsilon, "step between the two images of a pair")
	fs.Int64Var(&f.seed, "seed", 0, "seed of every latent, t and noise map (both spaces walk the same end points)")
	fs.IntVar(&f.batch, "batch", 0, fmt.Sprintf("pairs per generator and classifier call; 0: %d, fewer where a batch's activations would pass %d GB (1 at 1024 px)", def.Batch, model.BatchBudget>>30))
	fs.StringVar(&f.jsonOut, "json", "", "write every number to this JSON file")
}

func (f *pplFlags) check(fs *flag.FlagSet) error {
	f.cropGiven = givenFlags(fs)["crop"]
	switch f.space {
	case "z", "w":
		f.spaces = []string{f.space}
	case "both":
		f.spaces = []string{"z", "w"}
	default:
		return usageError{fmt.Sprintf("--space %q: want z, w or both", f.space)}
	}
	if f.sampling != "full" && f.sampling != "end" {
		return usageError{fmt.Sprintf("--sampling %q: want full or end", f.sampling)}
	}
	// The maxima keep a mistyped number from exhausting memory (the paper
	// uses 100000 samples).
	if err := checkCount("samples", f.samples, 1, 10_000_000); err != nil {
		return err
	}
	if err := checkCount("batch", f.batch, 0, 1024); err != nil {
		return err
	}
	if err := checkCount("bootstrap", f.bootstrap, 1, 1_000_000); err != nil {
		return err
	}
	// The pair's second point is at t+epsilon of a path t in [0, 1]; a step
	// beyond it is no longer a path length (and 1e300 overflows to NaN).
	if !(f.eps > 0 && f.eps <= 1) {
		return usageError{fmt.Sprintf("--epsilon %g: want a step in (0, 1] (the paper's 1e-4)", f.eps)}
	}
	switch f.distance {
	case "auto", "lpips", "classifier":
	default:
		return usageError{fmt.Sprintf("--distance %q: want lpips, classifier or auto", f.distance)}
	}
	if f.jsonOut != "" {
		// Checked before the measurement, which it would otherwise waste.
		if err := checkOutput("--json", f.jsonOut, ""); err != nil {
			return err
		}
	}
	return nil
}

// run measures the path length in each space and writes the report.
func (f *pplFlags) run(stdout, stderr io.Writer) error {
	m, g, err := loadGenerator(f.checkpoint)
	if err != nil {
		return err
	}
	defer g.Close()
	res := g.Cfg.Resolution()
	f.settle(res)
	f.settleBatch(g.Cfg, stderr)
	out := pplOutput{Checkpoint: f.checkpoint, Provenance: m.Provenance, Distance: f.distance, Resolution: res}
	dist, closeDist, err := f.openDistance(res, &out)
	if err != nil {
		return err
	}
	defer closeDist()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	for _, s := range f.spaces {
		o := metrics.PPLOptions{Space: s, Sampling: f.sampling, Samples: f.samples, Epsilon: f.eps, Batch: f.batch, Seed: f.seed,
			Crop: f.crop, Bootstrap: f.bootstrap}
		p := render.NewProgress(stderr, "ppl: "+s+" (samples)", metrics.PPLWork(o))
		o.Progress = p.Add
		r, err := metrics.PPL(ctx, g, dist, o)
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
	if f.jsonOut != "" {
		if err := writeJSON(f.jsonOut, &out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "ppl: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// settle resolves --distance auto and an unset --crop for a res px model:
// LPIPS where the classifier cannot see (over 64 px) or VGG16 is given, and
// NVlabs' face crop with LPIPS only (a toyfaces image is all face).
func (f *pplFlags) settle(res int) {
	if f.distance == "auto" {
		f.distance = "classifier"
		if f.vgg16 != "" || res > 64 {
			f.distance = "lpips"
		}
	}
	if !f.cropGiven {
		f.crop = f.distance == "lpips"
	}
}

// settleBatch picks --batch 0's batch for cfg: the default, or fewer
// pairs where their activations would pass model.BatchBudget (a 1024 px
// pair holds about 2 GB). A larger batch asked for is kept, with a note.
func (f *pplFlags) settleBatch(cfg *model.Config, stderr io.Writer) {
	if f.batch == 0 {
		f.batch = cfg.BatchWithin(metrics.DefaultPPLOptions.Batch, 2, model.BatchBudget)
		return
	}
	if fits := cfg.BatchWithin(f.batch, 2, model.BatchBudget); f.batch > fits {
		fmt.Fprintf(stderr, "ppl: --batch %d holds about %.1f GB of activations at %d px (--batch %d stays within %d GB)\n",
			f.batch, float64(2*int64(f.batch)*cfg.ActivationBytes())/(1<<30), cfg.Resolution(), fits, model.BatchBudget>>30)
	}
}

// openDistance loads the settled distance's network for a res px model
// and names it in out; the caller calls closeDist when done.
func (f *pplFlags) openDistance(res int, out *pplOutput) (dist metrics.Distance, closeDist func(), err error) {
	dres := metrics.DistanceRes(res, f.crop)
	cropNote := ""
	if f.crop {
		cropNote = fmt.Sprintf(" (its face crop is %d px; --crop=false compares the whole image)", 4*(res/8))
	}
	if f.distance == "classifier" {
		if dres != 8 && dres != 16 && dres != 32 && dres != 64 {
			return nil, nil, fmt.Errorf("%s: a %d px model%s; the toyfaces classifier measures 8, 16, 32 and 64 px images: use --distance lpips", f.checkpoint, res, cropNote)
		}
		net, err := loadClassifier(f.clf)
		if err != nil {
			return nil, nil, err
		}
		out.Classifier = f.clf
		return netDistance{net}, func() {}, nil
	}
	if dres < lpips.MinSize {
		return nil, nil, fmt.Errorf("%s: a %d px model%s; LPIPS on VGG16 needs images of at least %d px", f.checkpoint, res, cropNote, lpips.MinSize)
	}
	net, err := loadLPIPS(f.vgg16, f.lin)
	if err != nil {
		return nil, nil, err
	}
	out.VGG16, out.Lin = f.vgg16, f.lin
	if out.VGG16 == "" {
		out.VGG16 = vgg16Default()
	}
	if out.Lin == "" {
		out.Lin = "embedded lpips_v0.1_vgg.pth"
	}
	return lpipsDistance{net}, net.Close, nil
}

// paperSamples is the sample count of the paper's and NVlabs' PPL.
const paperSamples = 100000

// writePPL prints the report: one row per space, then the z/w ratio.
func writePPL(w io.Writer, out *pplOutput) {
	r0 := out.Reports[0]
	fmt.Fprintf(w, "ppl: %s: %d px, %s\n", out.Checkpoint, out.Resolution, out.Provenance)
	if out.Distance == "lpips" {
		fmt.Fprintf(w, "distance: LPIPS v0.1 on VGG16 (%s; linear layers %s)\n", out.VGG16, out.Lin)
	} else {
		fmt.Fprintf(w, "distance: classifier %s, LPIPS baseline form on its conv stages\n", out.Classifier)
	}
	view := "whole image"
	if r0.Crop {
		view = "face crop"
	}
	fmt.Fprintf(w, "sampling %s, %d samples, epsilon %g, seed %d, psi 1, same noise within a pair, %s at %d px\n\n",
		r0.Sampling, r0.Samples, r0.Epsilon, r0.Seed, view, r0.DistanceRes)
	fmt.Fprintf(w, "%-6s %10s %10s %10s %10s %10s %10s %10s %6s %10s\n", "space", "PPL", "95% low", "95% high", "raw mean", "median", "p1", "p99", "kept", "samples/s")
	for _, r := range out.Reports {
		fmt.Fprintf(w, "%-6s %10.5g %10.5g %10.5g %10.5g %10.5g %10.5g %10.5g %6d %10.3g\n",
			r.Space, r.PPL, r.CILow, r.CIHigh, r.RawMean, r.Median, r.P1, r.P99, r.Kept, r.SamplesPerSec)
	}
	fmt.Fprintln(w, "\nPPL is the mean of d/epsilon^2 between the 1st and 99th percentiles (NVlabs' outlier rejection);")
	fmt.Fprintf(w, "the 95%% interval is a bootstrap over %d resamples of the distances.\n", r0.Bootstrap)
	if r0.Samples < paperSamples && r0.SamplesPerSec > 0 {
		eta := time.Duration(float64(paperSamples) / r0.SamplesPerSec * float64(time.Second))
		fmt.Fprintf(w, "The paper's %d samples per space would take %s at this rate.\n", paperSamples, eta.Round(time.Second))
	}
	if out.ZOverW != 0 {
		fmt.Fprintf(w, "z/w ratio: %.3f (the paper's Tables 3 and 4: a style-based generator's w paths are the shorter)\n", out.ZOverW)
	}
}

// lpipsDistance adapts lpips.Net to metrics.Distance.
type lpipsDistance struct{ n *lpips.Net }

func (d lpipsDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	v, _, err := d.n.Distance(a, b, batch, res, res)
	return v, err
}

// netDistance adapts classifier.Net to metrics.Distance.
type netDistance struct{ n *classifier.Net }

func (d netDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	return d.n.PerceptualDistance(a, b, batch, res)
}
