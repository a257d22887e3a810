package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/model/classifier"
	"stylegan-tui/model/metrics"
	"stylegan-tui/model/train"
	"stylegan-tui/render"
	"stylegan-tui/render/figures"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	def := metrics.DefaultOptions
	fs := newFlags("eval", "[--checkpoint F|default | --curve DIR [--table FILE]] [--classifier judge|classifier|F] [flags]", stderr)
	ckpt := fs.String("checkpoint", "default", "generator checkpoint to measure: a file, or \"default\" for the embedded model")
	clf := fs.String("classifier", "judge", "toyfaces classifier that measures: "+classifierUsage)
	n := fs.Int("n", def.N, "generated images (psi 1), and real toyfaces per real set, for the label distributions and the Frechet distance")
	pairs := fs.Int("pairs", def.Pairs, "random (A, B) pairs for style-mixing separation")
	noiseCases := fs.Int("noise-cases", def.NoiseCases, "latents whose noise is resampled")
	stdLatents := fs.Int("std-latents", def.StdLatents, "latents of the per-pixel noise std figure")
	stdDraws := fs.Int("std-draws", def.StdDraws, "noise draws per latent for the per-pixel std")
	batch := fs.Int("batch", def.Batch, "images per generator and classifier call")
	seed := fs.Int64("seed", 0, "seed of every latent, noise map and real image")
	stdImage := fs.String("std-image", "", "write the per-pixel noise std figure (noise draws and std map per latent) to this PNG; with --curve one file per snapshot (NAME-000500k.png)")
	jsonOut := fs.String("json", "", "write every number to this JSON file")
	noiseOff := fs.String("noise-off", "", "a diagnosis: zero the noise inputs in this inclusive range (as `info` numbers them, like 8-9 or 0-) in every image; with --curve, inputs a snapshot lacks are skipped")
	perSlot := fs.Bool("per-slot", false, "also mix one style slot at a time and print which factors each slot alone carries (a diagnosis of where the model puts them; --pairs more images per slot)")
	curve := fs.String("curve", "", "learning curve: evaluate every DIR/ema-NNNNNNk.safetensors snapshot and print a markdown table (smaller --n and --pairs keep it short)")
	table := fs.String("table", "", "with --curve: also write the markdown table to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// In flag order, so the error names the first bad count. The maxima
	// keep a mistyped number from exhausting memory: the batch and the
	// std draws are allocated at once, the rest grows with the count.
	for _, c := range []struct {
		name    string
		v, most int
	}{{"n", *n, 1_000_000}, {"pairs", *pairs, 1_000_000}, {"noise-cases", *noiseCases, 1_000_000}, {"std-latents", *stdLatents, 64}, {"std-draws", *stdDraws, 1000}, {"batch", *batch, 1024}} {
		if err := checkCount(c.name, c.v, 1, c.most); err != nil {
			return err
		}
	}
	if *n < 2 {
		return usageError{fmt.Sprintf("--n %d: a Gaussian fit needs at least 2 images", *n)}
	}
	if *curve != "" && set["checkpoint"] {
		return usageError{"--curve and --checkpoint exclude each other"}
	}
	if *table != "" && *curve == "" {
		return usageError{"--table needs --curve"}
	}
	// Checked before the measurement, which a failed write would waste.
	for _, o := range []struct{ flag, path, ext string }{{"--json", *jsonOut, ""}, {"--table", *table, ""}, {"--std-image", *stdImage, ".png"}} {
		if o.path == "" {
			continue
		}
		if o.ext != "" {
			if err := checkExt(o.flag, o.path, o.ext); err != nil {
				return err
			}
		}
		if err := checkOutput(o.flag, o.path); err != nil {
			return err
		}
	}
	opt := metrics.Options{N: *n, Pairs: *pairs, NoiseCases: *noiseCases, StdLatents: *stdLatents,
		StdDraws: *stdDraws, Batch: *batch, Seed: *seed, PerSlot: *perSlot}

	// The work list: one checkpoint, or the snapshots of a run.
	type job struct {
		file   string
		images int64 // from the file name; the provenance wins when it says
	}
	var jobs []job
	if *curve == "" {
		jobs = []job{{file: *ckpt, images: -1}}
	} else {
		snaps, err := train.Snapshots(*curve)
		if err != nil {
			return fmt.Errorf("--curve: %w", err)
		}
		for _, s := range snaps {
			jobs = append(jobs, job{s.Path, s.Images})
		}
	}
	net, err := loadClassifier(*clf)
	if err != nil {
		return err
	}
	c := netClassifier{net}
	measured := classifierName(*clf)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	reals := map[int]*metrics.RealSet{}
	var pts []evalPoint
	for _, j := range jobs {
		m, g, err := loadGenerator(j.file)
		if err != nil {
			return err
		}
		res := g.Cfg.Resolution()
		images := train.ImagesSeen(m.Provenance, j.images)
		name := j.file
		if *curve != "" {
			name = filepath.Base(j.file)
		}
		if res != 8 && res != 16 && res != 32 && res != 64 {
			g.Close()
			return fmt.Errorf("%s: a %d px model; toyfaces and the classifier exist at 8, 16, 32 and 64 px", name, res)
		}
		// Before the real set, which takes a while.
		noiseOffInputs, err := offInputs(*noiseOff, g.Cfg.NumNoise(), *curve != "")
		if err != nil {
			g.Close()
			return err
		}
		if reals[res] == nil {
			o := opt
			p := render.NewProgress(stderr, fmt.Sprintf("eval: real toyfaces %dpx", res), metrics.RealWork(opt))
			o.Progress = p.Add
			if reals[res], err = metrics.NewRealSet(ctx, c, res, o); err != nil {
				g.Close()
				return err
			}
			p.Done()
		}
		o := opt
		o.Real = reals[res]
		o.NoiseOff = noiseOffInputs
		label := "eval: " + name
		if images >= 0 {
			label = fmt.Sprintf("eval: %s images", imagesShort(images))
		}
		p := render.NewProgress(stderr, label, metrics.Work(g.Cfg, o))
		o.Progress = p.Add
		r, err := metrics.Evaluate(ctx, g, c, o)
		g.Close()
		if err != nil {
			return err
		}
		p.Done()
		pts = append(pts, evalPoint{metrics.CurvePoint{Images: images, File: j.file, Report: r}, measured})
		if *stdImage != "" {
			path := *stdImage
			if *curve != "" {
				ext := filepath.Ext(path)
				path = fmt.Sprintf("%s-%s%s", strings.TrimSuffix(path, ext), strings.TrimSuffix(strings.TrimPrefix(filepath.Base(j.file), "ema-"), ".safetensors"), ext)
			}
			if err := render.WritePNG(path, figures.NoiseStdGrid(r.StdCells, r.StdSeeds, r.StdDraws, r.StdScale)); err != nil {
				return err
			}
		}
		if *curve == "" {
			fmt.Fprintf(stdout, "eval: %s: %d px, %s\n", name, res, m.Provenance)
			fmt.Fprintf(stdout, "classifier: %s\n\n", measured)
			r.WriteText(stdout, g.Cfg)
			if *stdImage != "" {
				fmt.Fprintf(stdout, "  std figure: %s\n", *stdImage)
			}
		} else {
			fmt.Fprintf(stderr, "eval: %s: %d px, TV mean %.3f max %.3f, hole %.3f, FD %.2f (real %.2f), noise stay %.2f\n",
				name, res, r.TVMean, r.TVMax, r.Hole, r.FDGen, r.FDReal, r.NoiseStay)
		}
	}
	if *curve != "" {
		// File names order the work; the provenance's image counts, which
		// win in the table, order the rows.
		slices.SortStableFunc(pts, func(a, b evalPoint) int { return cmp.Compare(a.Images, b.Images) })
		curve := make([]metrics.CurvePoint, len(pts))
		for i, p := range pts {
			curve[i] = p.CurvePoint
		}
		fmt.Fprintf(stdout, "classifier: %s\n\n", measured)
		metrics.WriteCurve(stdout, curve)
		if *table != "" {
			var b strings.Builder
			fmt.Fprintf(&b, "classifier: %s\n\n", measured)
			metrics.WriteCurve(&b, curve)
			if err := writeText(*table, b.String()); err != nil {
				return err
			}
		}
	}
	if *jsonOut != "" {
		var v any = pts
		if *curve == "" {
			v = pts[0]
		}
		if err := writeJSON(*jsonOut, v); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "eval: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// writeJSON writes v to path as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeText(path, string(b)+"\n")
}

// writeText writes s to path atomically.
func writeText(path, s string) error {
	return render.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	})
}

// offInputs reads --noise-off for a model with n noise inputs. clip skips
// the inputs the model lacks (the snapshots of a curve have different
// counts) instead of refusing them.
func offInputs(rng string, n int, clip bool) ([]bool, error) {
	if rng == "" {
		return nil, nil
	}
	lim := n
	if clip {
		lim = 64 // more than any StyleGAN v1 has
	}
	lo, hi, err := parseRange("noise-off", "noise inputs", rng, lim)
	if err != nil {
		return nil, err
	}
	off := make([]bool, n)
	for j := lo; j <= min(hi, n-1); j++ {
		off[j] = true
	}
	return off, nil
}

// netClassifier adapts classifier.Net to metrics.Classifier.
type netClassifier struct{ n *classifier.Net }

func (c netClassifier) Classify(x []float32, batch, res int) (*metrics.Prediction, error) {
	p, err := c.n.Predict(x, batch, res)
	if err != nil {
		return nil, err
	}
	return &metrics.Prediction{Labels: p.Labels, Features: p.Features}, nil
}

// evalPoint is what eval --json writes per checkpoint: the curve point and
// the instrument that measured it.
type evalPoint struct {
	metrics.CurvePoint
	Classifier string `json:"classifier"`
}

// classifierUsage is the help of eval's and ppl's --classifier.
const classifierUsage = "judge (the embedded judge, never part of a training loss), classifier (the embedded classifier, which the GAN trainer's feature-space discriminator uses: no independent measure of a model trained with it), or a file from train-classifier"

// loadClassifier opens --classifier: "judge" or "classifier" for the
// embedded ones, else a file. "default" is refused: since there are two
// embedded instruments it would not say which.
func loadClassifier(name string) (*classifier.Net, error) {
	switch name {
	case "":
		return nil, usageError{"--classifier is required"}
	case "judge":
		return checkpoints.DefaultJudge()
	case "classifier":
		return checkpoints.DefaultClassifier()
	case "default":
		return nil, usageError{`--classifier default: there are two embedded classifiers; say judge (the measuring one) or classifier (the trainer's), or give a file (./default)`}
	}
	return classifier.Load(name)
}

// classifierName describes --classifier for a report.
func classifierName(name string) string {
	switch name {
	case "judge":
		return "judge (embedded " + checkpoints.DefaultJudgePath + "; never part of a training loss)"
	case "classifier":
		return "classifier (embedded " + checkpoints.DefaultClassifierPath + "; the GAN trainer's feature backbone)"
	}
	return name
}

func imagesShort(n int64) string {
	if n >= 1000 {
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return strconv.FormatInt(n, 10)
}
