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
	var f evalFlags
	if err := parseFlags(&f, newFlags("eval", "[--checkpoint F|default | --curve DIR [--table FILE]] [--classifier judge|classifier|F] [flags]", stderr), args); err != nil {
		return err
	}
	return f.run(stdout, stderr)
}

// evalFlags are eval's flags.
type evalFlags struct {
	checkpoint, clf                                   string
	n, pairs, noiseCases, stdLatents, stdDraws, batch int
	seed                                              int64
	stdImage, jsonOut, noiseOff                       string
	perSlot                                           bool
	curve, table                                      string
}

func (f *evalFlags) define(fs *flag.FlagSet) {
	def := metrics.DefaultOptions
	fs.StringVar(&f.checkpoint, "checkpoint", "default", "generator checkpoint to measure: a file, or \"default\" for the embedded model")
	fs.StringVar(&f.clf, "classifier", "judge", "toyfaces classifier that measures: "+classifierUsage)
	fs.IntVar(&f.n, "n", def.N, "generated images (psi 1), and real toyfaces per real set, for the label distributions and the Frechet distance")
	fs.IntVar(&f.pairs, "pairs", def.Pairs, "random (A, B) pairs for style-mixing separation")
	fs.IntVar(&f.noiseCases, "noise-cases", def.NoiseCases, "latents whose noise is resampled")
	fs.IntVar(&f.stdLatents, "std-latents", def.StdLatents, "latents of the per-pixel noise std figure")
	fs.IntVar(&f.stdDraws, "std-draws", def.StdDraws, "noise draws per latent for the per-pixel std")
	fs.IntVar(&f.batch, "batch", def.Batch, "images per generator and classifier call")
	fs.Int64Var(&f.seed, "seed", 0, "seed of every latent, noise map and real image")
	fs.StringVar(&f.stdImage, "std-image", "", "write the per-pixel noise std figure (noise draws and std map per latent) to this PNG; with --curve one file per snapshot (NAME-000500k.png)")
	fs.StringVar(&f.jsonOut, "json", "", "write every number to this JSON file")
	fs.StringVar(&f.noiseOff, "noise-off", "", "a diagnosis: zero the noise inputs in this inclusive range (as `info` numbers them, like 8-9 or 0-) in every image; with --curve, inputs a snapshot lacks are skipped")
	fs.BoolVar(&f.perSlot, "per-slot", false, "also mix one style slot at a time and print which factors each slot alone carries (a diagnosis of where the model puts them; --pairs more images per slot)")
	fs.StringVar(&f.curve, "curve", "", "learning curve: evaluate every DIR/ema-NNNNNNk.safetensors snapshot and print a markdown table (smaller --n and --pairs keep it short)")
	fs.StringVar(&f.table, "table", "", "with --curve: also write the markdown table to this file")
}

func (f *evalFlags) check(fs *flag.FlagSet) error {
	// In flag order, so the error names the first bad count. The maxima
	// keep a mistyped number from exhausting memory: the batch and the
	// std draws are allocated at once, the rest grows with the count.
	for _, c := range []struct {
		name    string
		v, most int
	}{{"n", f.n, 1_000_000}, {"pairs", f.pairs, 1_000_000}, {"noise-cases", f.noiseCases, 1_000_000}, {"std-latents", f.stdLatents, 64}, {"std-draws", f.stdDraws, 1000}, {"batch", f.batch, 1024}} {
		if err := checkCount(c.name, c.v, 1, c.most); err != nil {
			return err
		}
	}
	if f.n < 2 {
		return usageError{fmt.Sprintf("--n %d: a Gaussian fit needs at least 2 images", f.n)}
	}
	if f.curve != "" && givenFlags(fs)["checkpoint"] {
		return usageError{"--curve and --checkpoint exclude each other"}
	}
	if f.table != "" && f.curve == "" {
		return usageError{"--table needs --curve"}
	}
	// Checked before the measurement, which a failed write would waste.
	for _, o := range []struct{ flag, path, ext string }{{"--json", f.jsonOut, ""}, {"--table", f.table, ""}, {"--std-image", f.stdImage, ".png"}} {
		if o.path == "" {
			continue
		}
		if err := checkOutput(o.flag, o.path, o.ext); err != nil {
			return err
		}
	}
	return nil
}

// evalJob is one checkpoint to measure.
type evalJob struct {
	file   string
	images int64 // from the file name; the provenance wins when it says
}

// jobs is the work list: one checkpoint, or the snapshots of a run.
func (f *evalFlags) jobs() ([]evalJob, error) {
	if f.curve == "" {
		return []evalJob{{file: f.checkpoint, images: -1}}, nil
	}
	snaps, err := train.Snapshots(f.curve)
	if err != nil {
		return nil, fmt.Errorf("--curve: %w", err)
	}
	var jobs []evalJob
	for _, s := range snaps {
		jobs = append(jobs, evalJob{s.Path, s.Images})
	}
	return jobs, nil
}

// run measures the checkpoint, or every snapshot of the curve, and writes
// the reports.
func (f *evalFlags) run(stdout, stderr io.Writer) error {
	jobs, err := f.jobs()
	if err != nil {
		return err
	}
	net, err := loadClassifier(f.clf)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &evalRun{evalFlags: f, ctx: ctx, c: netClassifier{net}, measured: classifierName(f.clf),
		opt: metrics.Options{N: f.n, Pairs: f.pairs, NoiseCases: f.noiseCases, StdLatents: f.stdLatents,
			StdDraws: f.stdDraws, Batch: f.batch, Seed: f.seed, PerSlot: f.perSlot},
		reals: map[int]*metrics.RealSet{}, stdout: stdout, stderr: stderr}
	start := time.Now()
	var pts []evalPoint
	for _, j := range jobs {
		pt, err := e.measure(j)
		if err != nil {
			return err
		}
		pts = append(pts, pt)
	}
	if f.curve != "" {
		if err := e.writeCurve(pts); err != nil {
			return err
		}
	}
	if f.jsonOut != "" {
		var v any = pts
		if f.curve == "" {
			v = pts[0]
		}
		if err := writeJSON(f.jsonOut, v); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "eval: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// evalRun is what the checkpoints of one eval share: the instrument, and
// the real sets, made once per resolution.
type evalRun struct {
	*evalFlags
	ctx            context.Context
	c              netClassifier
	measured       string // the instrument, as the report names it
	opt            metrics.Options
	reals          map[int]*metrics.RealSet
	stdout, stderr io.Writer
}

// measure evaluates one checkpoint and reports it: in full for one
// checkpoint, one line on stderr for a snapshot of a curve.
func (e *evalRun) measure(j evalJob) (evalPoint, error) {
	m, g, err := loadGenerator(j.file)
	if err != nil {
		return evalPoint{}, err
	}
	defer g.Close()
	res := g.Cfg.Resolution()
	images := train.ImagesSeen(m.Provenance, j.images)
	name := j.file
	if e.curve != "" {
		name = filepath.Base(j.file)
	}
	if res != 8 && res != 16 && res != 32 && res != 64 {
		return evalPoint{}, fmt.Errorf("%s: a %d px model; toyfaces and the classifier exist at 8, 16, 32 and 64 px", name, res)
	}
	// Before the real set, which takes a while.
	off, err := offInputs(e.noiseOff, g.Cfg.NumNoise(), e.curve != "")
	if err != nil {
		return evalPoint{}, err
	}
	o := e.opt
	if o.Real, err = e.realSet(res); err != nil {
		return evalPoint{}, err
	}
	o.NoiseOff = off
	label := "eval: " + name
	if images >= 0 {
		label = fmt.Sprintf("eval: %s images", imagesShort(images))
	}
	p := render.NewProgress(e.stderr, label, metrics.Work(g.Cfg, o))
	o.Progress = p.Add
	r, err := metrics.Evaluate(e.ctx, g, e.c, o)
	if err != nil {
		return evalPoint{}, err
	}
	p.Done()
	if err := e.writeStdImage(j.file, r); err != nil {
		return evalPoint{}, err
	}
	if e.curve == "" {
		fmt.Fprintf(e.stdout, "eval: %s: %d px, %s\n", name, res, m.Provenance)
		fmt.Fprintf(e.stdout, "classifier: %s\n\n", e.measured)
		r.WriteText(e.stdout, g.Cfg)
		if e.stdImage != "" {
			fmt.Fprintf(e.stdout, "  std figure: %s\n", e.stdImage)
		}
	} else {
		fmt.Fprintf(e.stderr, "eval: %s: %d px, TV mean %.3f max %.3f, hole %.3f, FD %.2f (real %.2f), noise stay %.2f\n",
			name, res, r.TVMean, r.TVMax, r.Hole, r.FDGen, r.FDReal, r.NoiseStay)
	}
	return evalPoint{metrics.CurvePoint{Images: images, File: j.file, Report: r}, e.measured}, nil
}

// realSet is the real toyfaces set at res, made on first use.
func (e *evalRun) realSet(res int) (*metrics.RealSet, error) {
	if e.reals[res] == nil {
		o := e.opt
		p := render.NewProgress(e.stderr, fmt.Sprintf("eval: real toyfaces %dpx", res), metrics.RealWork(e.opt))
		o.Progress = p.Add
		rs, err := metrics.NewRealSet(e.ctx, e.c, res, o)
		if err != nil {
			return nil, err
		}
		p.Done()
		e.reals[res] = rs
	}
	return e.reals[res], nil
}

// writeStdImage writes --std-image for the checkpoint file; a curve's
// snapshots each get their own, named after the snapshot.
func (e *evalRun) writeStdImage(file string, r *metrics.Report) error {
	if e.stdImage == "" {
		return nil
	}
	path := e.stdImage
	if e.curve != "" {
		ext := filepath.Ext(path)
		path = fmt.Sprintf("%s-%s%s", strings.TrimSuffix(path, ext), strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "ema-"), ".safetensors"), ext)
	}
	return render.WritePNG(path, figures.NoiseStdGrid(r.StdCells, r.StdSeeds, r.StdDraws, r.StdScale))
}

// writeCurve prints a curve's table, and writes it to --table.
func (e *evalRun) writeCurve(pts []evalPoint) error {
	// File names order the work; the provenance's image counts, which
	// win in the table, order the rows.
	slices.SortStableFunc(pts, func(a, b evalPoint) int { return cmp.Compare(a.Images, b.Images) })
	curve := make([]metrics.CurvePoint, len(pts))
	for i, p := range pts {
		curve[i] = p.CurvePoint
	}
	fmt.Fprintf(e.stdout, "classifier: %s\n\n", e.measured)
	metrics.WriteCurve(e.stdout, curve)
	if e.table == "" {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "classifier: %s\n\n", e.measured)
	metrics.WriteCurve(&b, curve)
	return writeText(e.table, b.String())
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
