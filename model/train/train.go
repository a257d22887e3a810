// Package train trains a StyleGAN v1 generator (Karras et al. 2019,
// arXiv:1812.04948) with progressive growing (Karras et al. 2018,
// arXiv:1710.10196) on the procedural toyfaces dataset, on the CPU.
//
// The generator graph is built by the model package's builders (one copy of
// the architecture for inference and training); the discriminator is
// NVlabs' D_basic. Losses are the non-saturating logistic loss with a lazy
// R1 penalty computed by finite differences (gorgonia has no double
// backprop), style-mixing regularisation, an EMA copy of G and a tracked
// w_avg. The optimizer is a plain Adam over the parameters, so its state is
// saved and restored exactly: resuming continues bit for bit.
//
// Gorgonia allows one Grad per graph, so every phase has separate graphs
// for the D step, the D step with R1, the G step and a G forward pass, all
// bound to the same parameter tensors.
package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gorgonia.org/tensor"

	"stylegan-tui/model"
	"stylegan-tui/model/ops"
)

// Options configure a training run. They are saved in the state file; a
// resumed run uses the saved ones.
type Options struct {
	Arch     Arch
	Schedule string

	LR           float64 // Adam learning rate (0.002)
	Beta1, Beta2 float64 // (0, 0.99)
	Eps          float64 // 1e-8

	R1Gamma float64 // R1 weight at 64 px; scaled by res/64
	R1Every int     // lazy regularisation interval (4)
	R1Eps   float64 // finite-difference step of the R1 estimate (0.05)

	MixProb float64 // style-mixing probability (0.9)
	// MixCrossovers is how many crossovers a mixed image has: 0 or 1 is
	// the paper's (slots before the crossover from w1, after it from w2);
	// 2 takes an inner run of slots from w2 and both ends from w1 (an
	// experiment: at 16 px it moved the factors from the last slot to the
	// first and the last, the two it never separates; docs/learning-curve.md).
	MixCrossovers int `json:",omitempty"`
	// MixCuts, when set, are the only slots a crossover may fall on, e.g.
	// 4,8 for the paper's groups at 64 px (coarse 0–3, middle 4–7, fine
	// 8+), so that mixing splits between groups and never inside one; a
	// phase with none of them inside its styles does not mix. Empty, the
	// paper's recipe, is any slot. It may change when a run resumes.
	MixCuts     []int   `json:",omitempty"`
	EMAHalfLife float64 // images (10k)
	EMARampup   float64 // half-life <= images·rampup early on (0.05); 0 = off
	WAvgBeta    float64 // 0.995

	Seed     uint64 // parameters, latents, noise
	DataSeed int64  // toyfaces stream seed
	DataPool int    // distinct toyfaces images

	// FeatureD, when set, adds the feature-space discriminator (see
	// FeatureDOptions); nil (omitted from saved options) when off.
	FeatureD *FeatureDOptions `json:",omitempty"`

	// NoiseDecay is a decoupled weight decay on the noise strengths
	// (see decayNoise); 0, the paper's recipe, is off. Unlike the
	// architecture it may change when a run resumes.
	NoiseDecay float64 `json:",omitempty"`

	// LowpassRes, when set, is a curriculum: in the phases of at most
	// this resolution the pixel D sees its inputs (real and fake) 2x2
	// averaged and upsampled back, so a phase cannot learn the details
	// of its own top octave (0, the paper's recipe, is off). It was to
	// make the middle factors land in later style slots; at 8 px it did
	// not (docs/learning-curve.md). Like NoiseDecay it may change when a
	// run resumes.
	LowpassRes int `json:",omitempty"`
}

// validate checks the options the architecture and schedule checks do not
// cover, which the CLI does not see when they come from a saved state or
// the API: a negative R1 weight or EMA half-life would not fail, it would
// silently turn R1 or the EMA off.
func (o *Options) validate() error {
	switch {
	case !(o.MixProb >= 0 && o.MixProb <= 1):
		return fmt.Errorf("mixing probability %v: want 0..1", o.MixProb)
	case o.MixCrossovers < 0 || o.MixCrossovers > 2:
		return fmt.Errorf("%d crossovers per mixed image: want 1 (or 0, the same) or 2", o.MixCrossovers)
	case !(o.R1Gamma >= 0) || math.IsInf(o.R1Gamma, 0):
		return fmt.Errorf("R1 weight %v: want 0 (off) or a positive weight", o.R1Gamma)
	case o.R1Every < 1:
		return fmt.Errorf("R1 every %d iterations: want 1 or more", o.R1Every)
	case !(o.EMAHalfLife >= 0) || math.IsInf(o.EMAHalfLife, 0):
		return fmt.Errorf("EMA half-life %v images: want 0 (no averaging) or more", o.EMAHalfLife)
	}
	return CheckMixCuts(o.MixCuts)
}

// fromOlderBinaries maps saved options that binaries before validate
// accepted to the values that train the same way, so that their states
// still resume: an R1 interval below 1 or a negative weight was R1 off, a
// negative EMA half-life no averaging, a mixing probability outside 0..1
// always or never mixing, and a crossover count other than 2 one crossover.
func (o *Options) fromOlderBinaries() {
	if o.R1Every < 1 || !(o.R1Gamma >= 0) {
		o.R1Gamma, o.R1Every = 0, max(o.R1Every, 1)
	}
	if !(o.EMAHalfLife >= 0) {
		o.EMAHalfLife = 0
	}
	switch {
	case math.IsNaN(o.MixProb) || o.MixProb < 0:
		o.MixProb = 0
	case o.MixProb > 1:
		o.MixProb = 1
	}
	if o.MixCrossovers != 2 {
		o.MixCrossovers = 0
	}
}

// CheckMixCuts checks a list of slots a crossover may fall on (see
// Options.MixCuts).
func CheckMixCuts(cuts []int) error {
	for i, c := range cuts {
		if c < 1 || i > 0 && c <= cuts[i-1] {
			return fmt.Errorf("mixing cuts %v: want increasing style slots >= 1", cuts)
		}
	}
	return nil
}

// MaxDataPool bounds the distinct toyfaces images a run keeps: 12 KB each
// once drawn (64 px RGB), so a million is 12 GB.
const MaxDataPool = 1_000_000

// DefaultOptions are the settings of the default model's run.
func DefaultOptions() Options {
	return Options{
		Arch:     Arch{ZDim: 128, WDim: 128, MappingLayers: 8, LRMul: 0.01, Channels: []int{64, 64, 64, 32, 32}},
		Schedule: DefaultSchedule,
		LR:       0.002, Beta1: 0, Beta2: 0.99, Eps: 1e-8,
		R1Gamma: 5, R1Every: 4, R1Eps: 0.05,
		MixProb: 0.9, EMAHalfLife: 10000, EMARampup: 0.05, WAvgBeta: 0.995,
		Seed: 1, DataSeed: 1, DataPool: 60000,
	}
}

// ModelConfig is the generator config of an architecture (NVlabs
// convention, no fused up-conv).
func (a *Arch) ModelConfig() *model.Config {
	c := &model.Config{
		Name: "stylegan-tui toyfaces", ZDim: a.ZDim, WDim: a.WDim, MappingLayers: a.MappingLayers,
		Channels: append([]int(nil), a.Channels...), NormEps: 1e-8, TruncPsi: 0.7,
	}
	c.TruncCutoff = min(8, c.NumStyles())
	return c
}

// Stats are the numbers of the last iteration.
type Stats struct {
	DLoss, GLoss         float64
	RealLogit, FakeLogit float64 // means
	R1                   float64 // last R1 estimate (E‖∇D‖²)
	// FeatReal and FeatFake are the feature D's mean patch logits (0 when
	// it is off or not yet on at this resolution).
	FeatReal, FeatFake float64
}

// ErrDiverged reports a NaN or exploding loss.
var ErrDiverged = errors.New("train: loss diverged")

// Trainer holds the whole training state.
type Trainer struct {
	Opt   Options
	Cfg   *model.Config // the full-resolution generator
	Sched Schedule

	GP, DP *ParamSet
	EMA    [][]float32 // effective EMA weights, parallel to GP.List
	WAvg   []float32

	GAdam, DAdam Adam
	AdamRes      int // resolution the Adam moments belong to

	feat  *featureD // nil when off
	FAdam Adam      // the feature D's heads

	noiseShare float64 // last estimate (RunConfig.NoiseShareEvery); < 0: none yet

	Images  int64 // images shown to D (the schedule's clock)
	DataPos int64 // real images consumed
	Iter    int64
	Wall    time.Duration // training time before this process
	// Cadence is the last Run's (nil: none yet, or a state saved before
	// states kept it).
	Cadence *Cadence

	pcg *rand.PCG
	rng *rand.Rand

	data   *dataset
	blas   func() // restores the BLAS threads (see prepare)
	graphs *phaseGraphs
	Last   Stats
}

// New initialises a run.
func New(opt Options) (*Trainer, error) {
	sc, err := ParseSchedule(opt.Schedule)
	if err != nil {
		return nil, err
	}
	if err := opt.validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	cfg := opt.Arch.ModelConfig()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Arch.validateD(); err != nil {
		return nil, err
	}
	if last := sc[len(sc)-1].Res; last > cfg.Resolution() {
		return nil, fmt.Errorf("train: schedule reaches %dpx, the architecture only %dpx", last, cfg.Resolution())
	}
	if opt.DataPool < 1 || opt.DataPool > MaxDataPool {
		return nil, fmt.Errorf("train: data pool %d, want 1..%d", opt.DataPool, MaxDataPool)
	}
	t := &Trainer{Opt: opt, Cfg: cfg, Sched: sc, noiseShare: -1}
	t.pcg = rand.NewPCG(opt.Seed, 0x7261696e)
	t.rng = rand.New(t.pcg)
	t.GP = newG(&opt.Arch, t.rng)
	t.DP = newD(&opt.Arch, t.rng)
	t.EMA = make([][]float32, len(t.GP.List))
	for i, p := range t.GP.List {
		t.EMA[i] = append([]float32(nil), p.Eff.Data().([]float32)...)
	}
	t.WAvg = make([]float32, cfg.WDim)
	t.GAdam = Adam{LR: opt.LR, Beta1: opt.Beta1, Beta2: opt.Beta2, Eps: opt.Eps}
	t.DAdam = t.GAdam
	t.GAdam.Reset(t.GP)
	t.DAdam.Reset(t.DP)
	if opt.FeatureD != nil {
		// The embedded classifier's backbone (a resumed run then
		// restores the one it was trained with).
		fo := *opt.FeatureD
		t.Opt.FeatureD = nil
		if err := t.EnableFeatureD(fo, nil); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Close stops the data prefetcher.
func (t *Trainer) Close() {
	if t.data != nil {
		t.data.close()
		t.data = nil
	}
	if t.blas != nil {
		t.blas()
		t.blas = nil
	}
}

// Position describes where in the schedule the trainer is.
type Position struct {
	Phase    int
	Res      int
	Fade     bool
	Alpha    float64
	InPhase  int64 // images into the phase
	PhaseLen int64
	Batch    int
	Done     bool // past the last phase
}

// Position returns the current schedule position.
func (t *Trainer) Position() Position {
	i, fade, alpha, in, ok := t.Sched.At(t.Images)
	p := t.Sched[i]
	return Position{Phase: i, Res: p.Res, Fade: fade, Alpha: alpha, InPhase: in, PhaseLen: p.Len(), Batch: p.Batch, Done: !ok}
}

// prepare builds the graphs of the current phase and resets Adam at a new
// resolution.
func (t *Trainer) prepare(pos Position) error {
	if t.data == nil {
		t.data = newDataset(t.Opt.DataSeed, t.Opt.DataPool)
	}
	if t.blas == nil {
		// OpenBLAS's own threads spin between calls and take a core from the
		// element-wise ops; the convolutions split the batch over the cores.
		t.blas = ops.SingleThreadedBLAS()
	}
	if t.AdamRes != pos.Res {
		if t.AdamRes != 0 {
			t.GAdam.Reset(t.GP)
			t.DAdam.Reset(t.DP)
			if t.feat != nil {
				t.FAdam.Reset(t.feat.FH)
			}
		}
		t.AdamRes = pos.Res
	}
	if t.graphs != nil && t.graphs.phase == pos.Phase && t.graphs.fade == pos.Fade {
		return nil
	}
	t.graphs = nil
	step := stepOf(pos.Res)
	B := pos.Batch
	ph := &phaseGraphs{phase: pos.Phase, B: B, step: step, fade: pos.Fade}
	var err error
	dt := tensor.Float32
	if ph.gFwd, ph.gIn, err = buildGFwd(dt, t.Cfg, t.GP, B, step, pos.Fade); err != nil {
		return err
	}
	dch := t.Opt.Arch.DiscChannels()
	var f *featureD
	if t.feat.on(pos.Res) {
		f = t.feat
	}
	lowpass := pos.Res <= t.Opt.LowpassRes
	if ph.d, err = buildDStep(dt, dch, t.DP, f, B, step, pos.Fade, lowpass, 0, 0); err != nil {
		return err
	}
	if t.Opt.R1Gamma > 0 && t.Opt.R1Every > 0 {
		w := t.r1Gamma(pos.Res) / 2 * float64(t.Opt.R1Every)
		if ph.dR1, err = buildDStep(dt, dch, t.DP, f, B, step, pos.Fade, lowpass, w, t.Opt.R1Eps); err != nil {
			return err
		}
	}
	if ph.gStep, ph.gStepIn, ph.gStepAlpha, ph.gLogits, err = buildGStep(dt, t.Cfg, dch, t.GP, t.DP, f, B, step, pos.Fade, lowpass); err != nil {
		return err
	}
	t.graphs = ph
	return nil
}

func (t *Trainer) r1Gamma(res int) float64 { return t.Opt.R1Gamma * float64(res) / 64 }

// fillLatents draws z1, z2, the style-mixing masks and the noise maps of a
// generator graph, and sets its fade-in alpha.
func (t *Trainer) fillLatents(in *gInputs, alpha float64) {
	z := f32(in.Z)
	for i := range z {
		z[i] = float32(t.rng.NormFloat64())
	}
	L := len(in.Mix)
	W := t.Cfg.WDim
	slots := t.crossoverSlots(L)
	for b := 0; b < in.B; b++ {
		cut, back := L, L // slots [cut, back) from w2; no mixing: every slot from w1
		if L > 1 && t.rng.Float64() < t.Opt.MixProb {
			cut, back = t.crossovers(slots, L)
		}
		for i, m := range in.Mix {
			v := float32(0)
			if i < cut || i >= back {
				v = 1
			}
			row := f32(m)[b*W : (b+1)*W]
			for k := range row {
				row[k] = v
			}
		}
	}
	for _, n := range in.Noise {
		d := f32(n)
		for i := range d {
			d[i] = float32(t.rng.NormFloat64())
		}
	}
	if in.Alpha != nil {
		copyFill(in.Alpha, alpha)
	}
}

// crossoverSlots are the slots a crossover of L styles may fall on: those
// of MixCuts inside 1..L-1, or all of them when MixCuts is unset.
func (t *Trainer) crossoverSlots(L int) []int {
	slots := make([]int, 0, L)
	for s := 1; s < L; s++ {
		if len(t.Opt.MixCuts) == 0 || slices.Contains(t.Opt.MixCuts, s) {
			slots = append(slots, s)
		}
	}
	return slots
}

// crossovers draws the slots [cut, back) that a mixed image of L styles
// takes from w2: one crossover (back = L) or, with MixCrossovers 2, two
// distinct ones in order, each from slots (crossoverSlots). With no slot
// to fall on the image does not mix (cut = L).
func (t *Trainer) crossovers(slots []int, L int) (cut, back int) {
	n := len(slots)
	if n == 0 {
		return L, L
	}
	i := t.rng.IntN(n)
	if t.Opt.MixCrossovers != 2 || n < 2 {
		return slots[i], L
	}
	j := t.rng.IntN(n - 1)
	if j >= i {
		j++
	}
	return slots[min(i, j)], slots[max(i, j)]
}

func f32(t *tensor.Dense) []float32 { return t.Data().([]float32) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// maxLoss is the loss above which training is considered to have exploded
// (softplus losses near 0.7 are balanced; 100 means logits of ±100).
const maxLoss = 100

// Step runs one iteration: a D step (with R1 every R1Every iterations) on
// a batch of reals and fresh fakes, then a G step on fresh latents, then
// the w_avg and EMA updates.
func (t *Trainer) Step() error {
	pos := t.Position()
	if pos.Done {
		return errors.New("train: the schedule is finished")
	}
	if err := t.prepare(pos); err != nil {
		return err
	}
	ph := t.graphs
	B, res := ph.B, pos.Res

	// fakes
	t.fillLatents(ph.gIn, pos.Alpha)
	if err := ph.gFwd.run(); err != nil {
		return fmt.Errorf("train: G forward: %w", err)
	}
	dg := ph.d
	r1 := ph.dR1 != nil && t.Iter%int64(t.Opt.R1Every) == 0
	if r1 {
		dg = ph.dR1
	}
	copy(f32(dg.fake), ph.gIn.Img.Value().Data().([]float32))
	ph.gFwd.done()

	// reals
	real := f32(dg.real)
	t.data.fill(real, t.DataPos, B, res)
	t.DataPos += int64(B)
	if pos.Fade && stepOf(res) > 0 {
		fadeReals(real, res, pos.Alpha)
	}
	if r1 {
		rp := f32(dg.realP)
		eps := t.Opt.R1Eps
		for i, x := range real {
			rp[i] = x + float32(eps*t.rng.NormFloat64())
		}
	}
	if dg.alpha.Alpha != nil {
		copyFill(dg.alpha.Alpha, pos.Alpha)
	}
	if err := dg.run(); err != nil {
		return fmt.Errorf("train: D step: %w", err)
	}
	st := Stats{DLoss: scalar(dg.loss), RealLogit: scalar(dg.realMean), FakeLogit: scalar(dg.fakeMean), R1: t.Last.R1}
	if r1 {
		st.R1 = scalar(dg.r1)
	}
	if dg.featReal != nil {
		st.FeatReal, st.FeatFake = scalar(dg.featReal), scalar(dg.featFake)
	}
	if !finite(st.DLoss) || math.Abs(st.DLoss) > maxLoss {
		dg.done()
		return fmt.Errorf("%w: D loss %g at %d images", ErrDiverged, st.DLoss, t.Images)
	}
	if dg.featReal != nil {
		heads, hg, d, dgr := split(t.feat.FH, dg.wrt, dg.gradData())
		t.FAdam.Step(heads, hg)
		t.DAdam.Step(d, dgr)
	} else {
		t.DAdam.Step(dg.wrt, dg.gradData())
	}
	dg.done()

	// G step
	gs := ph.gStep
	t.fillLatents(ph.gStepIn, pos.Alpha)
	if ph.gStepAlpha.Alpha != nil {
		copyFill(ph.gStepAlpha.Alpha, pos.Alpha)
	}
	if err := gs.run(); err != nil {
		return fmt.Errorf("train: G step: %w", err)
	}
	st.GLoss = scalar(gs.loss)
	if !finite(st.GLoss) || math.Abs(st.GLoss) > maxLoss {
		gs.done()
		return fmt.Errorf("%w: G loss %g at %d images", ErrDiverged, st.GLoss, t.Images)
	}
	t.GAdam.Step(gs.wrt, gs.gradData())
	t.decayNoise()
	t.trackWAvg(ph.gStepIn.W1Sum.Value().Data().([]float32), B)
	gs.done()

	t.Images += int64(B)
	t.Iter++
	t.updateEMA(B)
	t.Last = st
	return nil
}

// trackWAvg moves w_avg towards the batch mean of w (sum holds the batch
// sum): w_avg = lerp(mean, w_avg, β).
func (t *Trainer) trackWAvg(sum []float32, B int) {
	beta := t.Opt.WAvgBeta
	for k, s := range sum {
		m := float64(s) / float64(B)
		t.WAvg[k] = float32(m + beta*(float64(t.WAvg[k])-m))
	}
}

// emaBeta is the per-step EMA decay: half-life EMAHalfLife images, shorter
// (images·EMARampup) early in training.
func (t *Trainer) emaBeta(B int) float64 {
	h := t.Opt.EMAHalfLife
	if t.Opt.EMARampup > 0 {
		h = min(h, float64(t.Images)*t.Opt.EMARampup)
	}
	return math.Pow(0.5, float64(B)/max(h, 1e-8))
}

func (t *Trainer) updateEMA(B int) {
	beta := float32(t.emaBeta(B))
	for i, p := range t.GP.List {
		e := t.EMA[i]
		for k, v := range p.Eff.Data().([]float32) {
			e[k] = v + beta*(e[k]-v)
		}
	}
}
