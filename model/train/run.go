package train

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/model"
	"stylegan-tui/model/metrics"
	"stylegan-tui/render"
)

// RunConfig says where a run writes and how often.
type RunConfig struct {
	Out string // directory: state.safetensors, ema.safetensors, samples
	Cadence
	MaxImages int64 // stop after this many images in total (0 = run the schedule)
	LogEvery  time.Duration
	Log       io.Writer // progress lines
}

// Cadence is how often, in images, a run writes and estimates things; 0
// is never. The state keeps it, so that a resumed run can go on as it was
// started.
type Cadence struct {
	CheckpointEvery int64 // images between checkpoints
	SampleEvery     int64 // images between sample grids
	SnapshotEvery   int64 // images between kept EMA snapshots (ema-NNNNNNk.safetensors)
	// NoiseShareEvery is the images between estimates of the EMA
	// generator's noise share (metrics.QuickNoiseShare), shown on the
	// progress line.
	NoiseShareEvery int64
}

// Files of a run directory.
const (
	StateFile = "state.safetensors"
	EMAFile   = "ema.safetensors"
)

// Run trains until the schedule ends, MaxImages is reached, ctx is
// cancelled (SIGINT/SIGTERM: a checkpoint is written first) or the loss
// diverges (training stops without overwriting the last good checkpoint).
func (t *Trainer) Run(ctx context.Context, rc RunConfig) error {
	if err := os.MkdirAll(rc.Out, 0o755); err != nil {
		return err
	}
	cad := rc.Cadence
	t.Cadence = &cad
	start := time.Now()
	wall := func() time.Duration { return t.Wall + time.Since(start) }
	save := func() error {
		if !t.finiteParams() {
			return fmt.Errorf("%w: non-finite weights at %d images; the last checkpoint is kept", ErrDiverged, t.Images)
		}
		if err := t.SaveState(filepath.Join(rc.Out, StateFile), wall()); err != nil {
			return err
		}
		if err := checkpoints.Save(filepath.Join(rc.Out, EMAFile), t.Export(-1)); err != nil {
			return fmt.Errorf("train: saving EMA generator: %w", err)
		}
		return nil
	}
	every := func(n int64, prev int64) bool { return n > 0 && t.Images/n != prev/n }
	lastLog := time.Now()
	logImages, logIter := t.Images, t.Iter
	var phaseStart time.Time
	phaseIdx := -1
	var phaseImg0 int64
	for {
		pos := t.Position()
		if pos.Done || (rc.MaxImages > 0 && t.Images >= rc.MaxImages) {
			fmt.Fprintf(rc.Log, "train: done at %d images\n", t.Images)
			return save()
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(rc.Log, "train: interrupted at %d images; writing a checkpoint\n", t.Images)
			return save()
		default:
		}
		if pos.Phase != phaseIdx {
			phaseIdx, phaseStart, phaseImg0 = pos.Phase, time.Now(), t.Images
			fmt.Fprintf(rc.Log, "train: phase %d/%d: %dpx, batch %d, %s\n", pos.Phase+1, len(t.Sched), pos.Res, pos.Batch, t.Sched[pos.Phase].describe())
		}
		prev := t.Images
		if err := t.Step(); err != nil {
			if errors.Is(err, ErrDiverged) {
				fmt.Fprintf(rc.Log, "train: %v; stopping, the last checkpoint is kept\n", err)
			}
			return err
		}
		if time.Since(lastLog) >= rc.LogEvery {
			el := time.Since(lastLog).Seconds()
			ips := float64(t.Images-logImages) / el
			itps := float64(t.Iter-logIter) / el
			eta := "∞"
			if pos.PhaseLen < math.MaxInt64 {
				rate := float64(t.Images-phaseImg0) / time.Since(phaseStart).Seconds()
				eta = (time.Duration(float64(pos.PhaseLen-pos.InPhase)/rate) * time.Second).Round(time.Second).String()
			}
			p := t.Position()
			feat := ""
			if t.noiseShare >= 0 {
				feat = fmt.Sprintf(" | noise share %.2f%%", 100*t.noiseShare)
			}
			if t.feat.on(p.Res) {
				feat += fmt.Sprintf(" | feature D real %+.2f fake %+.2f", t.Last.FeatReal, t.Last.FeatFake)
			}
			fmt.Fprintf(rc.Log, "phase %d/%d %2dpx α=%.3f %s | %dk img %d it | %.2f it/s %.1f img/s | phase ETA %s | D %.3f G %.3f | logits real %+.2f fake %+.2f%s | R1 %.3g | %s\n",
				p.Phase+1, len(t.Sched), p.Res, p.Alpha, fadeWord(p.Fade), t.Images/1000, t.Iter, itps, ips, eta,
				t.Last.DLoss, t.Last.GLoss, t.Last.RealLogit, t.Last.FakeLogit, feat, t.Last.R1, wall().Round(time.Second))
			lastLog, logImages, logIter = time.Now(), t.Images, t.Iter
		}
		if every(rc.NoiseShareEvery, prev) {
			if err := t.estimateNoiseShare(); err != nil {
				fmt.Fprintf(rc.Log, "train: noise share: %v\n", err)
			}
		}
		if every(rc.CheckpointEvery, prev) {
			if err := save(); err != nil {
				return err
			}
		}
		if every(rc.SnapshotEvery, prev) {
			if err := checkpoints.Save(filepath.Join(rc.Out, SnapshotFile(t.Images)), t.Export(-1)); err != nil {
				return err
			}
		}
		if every(rc.SampleEvery, prev) {
			if err := t.WriteSamples(rc.Out); err != nil {
				fmt.Fprintf(rc.Log, "train: samples: %v\n", err)
			}
		}
	}
}

// estimateNoiseShare measures the EMA generator's noise share on 8 latents
// x 8 noise draws (a few hundred milliseconds at 64 px): how much of the
// pixel variance the noise alone makes. A share far above the data's
// (toyfaces: under 0.1%) means the generator draws with its noise.
func (t *Trainer) estimateNoiseShare() error {
	g, err := t.Export(-1).Generator()
	if err != nil {
		return err
	}
	defer g.Close()
	v, err := metrics.QuickNoiseShare(g, 8, 8, 1)
	if err != nil {
		return err
	}
	t.noiseShare = v
	return nil
}

func fadeWord(f bool) string {
	if f {
		return "fade  "
	}
	return "stable"
}

func (p Phase) describe() string {
	st := "until stopped"
	if p.Stable >= 0 {
		st = fmt.Sprintf("%d images", p.Stable)
	}
	return fmt.Sprintf("fade-in %d images, stabilise %s", p.Fade, st)
}

// WriteSamples writes samples-NNNNNNk.png (a fixed-seed grid from the EMA
// generator, psi 1) and mixing-NNNNNNk.png (rows A take their coarse
// styles, 4–8 px, from the column sources B) into dir.
func (t *Trainer) WriteSamples(dir string) error {
	m := t.Export(-1)
	g, err := m.Generator()
	if err != nil {
		return err
	}
	defer g.Close() // frees its frozen weight transforms
	c := g.Cfg
	const n, nA, nB = 32, 5, 6
	r := rand.New(rand.NewPCG(2026, 11))
	z := make([]float32, (n+nA+nB)*c.ZDim)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	noise := make([][]float32, c.NumNoise())
	for j := range noise {
		res := c.NoiseRes(j)
		noise[j] = make([]float32, res*res)
		for i := range noise[j] {
			noise[j][i] = float32(r.NormFloat64())
		}
	}
	w, err := g.Mapping(z, n+nA+nB)
	if err != nil {
		return err
	}
	W := c.WDim
	synth := func(ws [][]float32, B int) ([]image.Image, error) {
		out, _, err := g.Synthesis(model.SynthesisInput{B: B, W: ws, Noise: noise}, model.Options{Step: -1, Alpha: -1, Full: true})
		if err != nil {
			return nil, err
		}
		return toImages(out, B, c.Resolution()), nil
	}
	slots := func(wb []float32) [][]float32 {
		ws := make([][]float32, c.NumStyles())
		for s := range ws {
			ws[s] = wb
		}
		return ws
	}
	imgs, err := synth(slots(w[:n*W]), n)
	if err != nil {
		return err
	}
	var cells [][]image.Image
	for row := 0; row < n/8; row++ {
		cells = append(cells, imgs[row*8:(row+1)*8])
	}
	opts := &render.GridOptions{CellW: 64, CellH: 64, Gap: 2}
	tag := fmt.Sprintf("%06dk", t.Images/1000)
	if err := render.WritePNG(filepath.Join(dir, "samples-"+tag+".png"), render.Grid(cells, nil, nil, opts)); err != nil {
		return err
	}
	// style mixing: coarse styles (slots at 4–8 px) from B
	wa, wb := w[n*W:(n+nA)*W], w[(n+nA)*W:]
	src, err := synth(slots(append(append([]float32(nil), wa...), wb...)), nA+nB)
	if err != nil {
		return err
	}
	_, hi, _ := c.GroupSlots("coarse")
	mix := make([][]float32, c.NumStyles())
	for s := range mix {
		for a := 0; a < nA; a++ {
			for b := 0; b < nB; b++ {
				v := wa[a*W : (a+1)*W]
				if s <= hi {
					v = wb[b*W : (b+1)*W]
				}
				mix[s] = append(mix[s], v...)
			}
		}
	}
	mixed, err := synth(mix, nA*nB)
	if err != nil {
		return err
	}
	cells = [][]image.Image{append([]image.Image{nil}, src[nA:]...)}
	for a := 0; a < nA; a++ {
		cells = append(cells, append([]image.Image{src[a]}, mixed[a*nB:(a+1)*nB]...))
	}
	return render.WritePNG(filepath.Join(dir, "mixing-"+tag+".png"), render.Grid(cells, nil, nil, opts))
}

// toImages converts [B,3,r,r] in [−1,1] to images upscaled to 64 px.
func toImages(x []float32, B, r int) []image.Image {
	f := max(1, 64/r)
	var out []image.Image
	for b := 0; b < B; b++ {
		img := image.NewRGBA(image.Rect(0, 0, r*f, r*f))
		for y := 0; y < r*f; y++ {
			for xx := 0; xx < r*f; xx++ {
				var c [3]uint8
				for ch := 0; ch < 3; ch++ {
					v := x[((b*3+ch)*r+y/f)*r+xx/f]
					c[ch] = uint8(math.Round(float64(min(max((v+1)*127.5, 0), 255))))
				}
				img.SetRGBA(xx, y, color.RGBA{c[0], c[1], c[2], 255})
			}
		}
		out = append(out, img)
	}
	return out
}

// finiteParams reports whether every weight, EMA weight and w_avg is finite.
func (t *Trainer) finiteParams() bool {
	var s float64
	for _, set := range []*ParamSet{t.GP, t.DP} {
		for _, p := range set.List {
			for _, v := range p.Raw {
				s += float64(v) * 0
			}
		}
	}
	for _, e := range t.EMA {
		for _, v := range e {
			s += float64(v) * 0
		}
	}
	for _, v := range t.WAvg {
		s += float64(v) * 0
	}
	return s == 0 // NaN·0 and ±Inf·0 are NaN
}
