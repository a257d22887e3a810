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
	def := metrics.DefaultPPLOptions
	fs := newFlags("ppl", "[--checkpoint F|default] [--distance lpips|classifier] [--vgg16 F] [--space z|w|both] [--sampling full|end] [--samples N] [flags]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint to measure: a file, or \"default\" for the embedded model")
	distance := fs.String("distance", "auto", "perceptual distance: lpips (the paper's: LPIPS v0.1 on VGG16), classifier (the toyfaces classifier's conv stages, 8-64 px), or auto: lpips if --vgg16 is given or the model is over 64 px, else classifier")
	vgg16 := fs.String("vgg16", "", "with lpips: "+vgg16Usage())
	lin := fs.String("lin", "", "with lpips: LPIPS linear layers (torch.save); empty: the embedded LPIPS v0.1 VGG weights")
	crop := fs.Bool("crop", false, "compare NVlabs' face crop (rows 3/8-7/8, columns 2/8-6/8) instead of the whole image; default on with lpips (NVlabs crops every model), off with classifier (a toyfaces image is all face)")
	bootstrap := fs.Int("bootstrap", def.Bootstrap, "resamples behind the 95% interval of the PPL")
	clf := fs.String("classifier", "judge", "with classifier: the toyfaces classifier whose conv stages give the distance: "+classifierUsage)
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
	// The maxima keep a mistyped number from exhausting memory (the paper
	// uses 100000 samples).
	if err := checkCount("samples", *samples, 1, 10_000_000); err != nil {
		return err
	}
	if err := checkCount("batch", *batch, 1, 1024); err != nil {
		return err
	}
	if err := checkCount("bootstrap", *bootstrap, 1, 1_000_000); err != nil {
		return err
	}
	// The pair's second point is at t+epsilon of a path t in [0, 1]; a step
	// beyond it is no longer a path length (and 1e300 overflows to NaN).
	if !(*eps > 0 && *eps <= 1) {
		return usageError{fmt.Sprintf("--epsilon %g: want a step in (0, 1] (the paper's 1e-4)", *eps)}
	}
	switch *distance {
	case "auto", "lpips", "classifier":
	default:
		return usageError{fmt.Sprintf("--distance %q: want lpips, classifier or auto", *distance)}
	}
	cropSet := false
	fs.Visit(func(f *flag.Flag) { cropSet = cropSet || f.Name == "crop" })
	if *jsonOut != "" {
		// Checked before the measurement, which it would otherwise waste.
		if err := checkOutput("--json", *jsonOut); err != nil {
			return err
		}
	}

	m, g, err := loadGenerator(*ckpt)
	if err != nil {
		return err
	}
	defer g.Close()
	res := g.Cfg.Resolution()
	if *distance == "auto" {
		*distance = "classifier"
		if *vgg16 != "" || res > 64 {
			*distance = "lpips"
		}
	}
	if !cropSet {
		*crop = *distance == "lpips"
	}
	dres := metrics.DistanceRes(res, *crop)
	cropNote := ""
	if *crop {
		cropNote = fmt.Sprintf(" (its face crop is %d px; --crop=false compares the whole image)", 4*(res/8))
	}
	var dist metrics.Distance
	out := pplOutput{Checkpoint: *ckpt, Provenance: m.Provenance, Distance: *distance, Resolution: res}
	if *distance == "classifier" {
		if dres != 8 && dres != 16 && dres != 32 && dres != 64 {
			return fmt.Errorf("%s: a %d px model%s; the toyfaces classifier measures 8, 16, 32 and 64 px images: use --distance lpips", *ckpt, res, cropNote)
		}
		net, err := loadClassifier(*clf)
		if err != nil {
			return err
		}
		dist, out.Classifier = netDistance{net}, *clf
	} else {
		if dres < lpips.MinSize {
			return fmt.Errorf("%s: a %d px model%s; LPIPS on VGG16 needs images of at least %d px", *ckpt, res, cropNote, lpips.MinSize)
		}
		net, err := loadLPIPS(*vgg16, *lin)
		if err != nil {
			return err
		}
		defer net.Close()
		dist, out.VGG16, out.Lin = lpipsDistance{net}, *vgg16, *lin
		if out.VGG16 == "" {
			out.VGG16 = vgg16Default()
		}
		if out.Lin == "" {
			out.Lin = "embedded lpips_v0.1_vgg.pth"
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	for _, s := range spaces {
		o := metrics.PPLOptions{Space: s, Sampling: *sampling, Samples: *samples, Epsilon: *eps, Batch: *batch, Seed: *seed,
			Crop: *crop, Bootstrap: *bootstrap}
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
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, &out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "ppl: done in %s\n", time.Since(start).Round(time.Second))
	return nil
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
