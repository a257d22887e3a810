package metrics

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/model/toyfaces"
)

// Classifier labels toyfaces images and embeds them in a feature space.
type Classifier interface {
	// Classify takes batch images x, NCHW float32 in [-1, 1] at res×res
	// (res 8, 16, 32 or 64), and returns one class per toyfaces factor and
	// one feature vector per image.
	Classify(x []float32, batch, res int) (*Prediction, error)
}

// Prediction is a Classifier's answer for a batch.
type Prediction struct {
	Labels   []toyfaces.Labels
	Features [][]float32
}

// Groups are the paper's style groups, coarse to fine.
var Groups = []string{"coarse", "middle", "fine"}

// Options set the sizes of an evaluation; zero fields take the defaults.
type Options struct {
	N          int   // generated images, and real images per real set (2000)
	Pairs      int   // style-mixing pairs (200)
	NoiseCases int   // latents whose noise is resampled (200)
	StdLatents int   // latents of the per-pixel standard deviation figure (4)
	StdDraws   int   // noise draws per latent for the standard deviation (50)
	Batch      int   // images per generator and classifier call (32)
	Seed       int64 // every latent, noise map and real image derives from it
	// NoiseOff, when set, zeroes the generator's noise inputs j with
	// NoiseOff[j] in every image: the model measured as if those layers'
	// noise strengths were zero (a diagnosis, not the bar's setting).
	NoiseOff []bool
	// PerSlot, when set, also mixes one style slot at a time (a diagnosis:
	// which slot carries which factor; Report.Slots).
	PerSlot bool
	// Real, when set, holds the real sets to compare with (made by NewRealSet
	// for the model's resolution); nil makes them.
	Real *RealSet
	// Progress, when set, is called with the number of images each batch
	// finished (rendered by the generator or by toyfaces); Work gives the
	// total.
	Progress func(images int)
}

// DefaultOptions are the sizes the quality bar is measured at.
var DefaultOptions = Options{N: 2000, Pairs: 200, NoiseCases: 200, StdLatents: 4, StdDraws: 50, Batch: 32}

func (o Options) withDefaults() Options {
	d := DefaultOptions
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.N, d.N)
	set(&o.Pairs, d.Pairs)
	set(&o.NoiseCases, d.NoiseCases)
	set(&o.StdLatents, d.StdLatents)
	set(&o.StdDraws, d.StdDraws)
	set(&o.Batch, d.Batch)
	return o
}

// Work is the number of images an evaluation of a model with cfg renders
// (what Options.Progress counts up to).
func Work(cfg *model.Config, opt Options) int {
	o := opt.withDefaults()
	groups := 0
	for _, g := range Groups {
		if _, _, ok := cfg.GroupSlots(g); ok {
			groups++
		}
	}
	n := o.N + o.Pairs*(2+groups) + 2*o.NoiseCases + o.StdLatents*o.StdDraws
	if o.PerSlot {
		n += o.Pairs * cfg.NumStyles()
	}
	if o.Real == nil {
		n += RealWork(o)
	}
	return n
}

// RealWork is the number of images NewRealSet renders (what its
// Options.Progress counts up to): two sets and the stochastic-detail draws.
func RealWork(opt Options) int {
	o := opt.withDefaults()
	return 2*o.N + o.StdLatents*o.StdDraws
}

// Seed streams: every random choice of an evaluation is derived from
// Options.Seed, a stream and an index.
const (
	streamGenZ = iota + 1
	streamGenNoise
	streamPairA
	streamPairB
	streamPairNoise
	streamNoiseZ
	streamNoise1
	streamNoise2
	streamStdZ
	streamStdNoise
	streamReal
	streamRealStd
	streamRealStdNoise
)

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// derive is the seed of item i of a stream: in 0..2^32−1, the range numpy
// seeds (latent.SeedZ, latent.NoiseMap) take.
func derive(seed int64, stream, i int) int64 {
	return int64(splitmix64(splitmix64(uint64(seed)^uint64(stream)<<56)+uint64(i)) >> 32)
}

// RealSet is two disjoint sets of real toyfaces images at one resolution,
// as the classifier sees them: its labels and features, and the true labels.
type RealSet struct {
	Res, N   int
	Seed     int64
	Labels   [2][]toyfaces.Labels
	Features [2][][]float32
	Truth    [2][]toyfaces.Labels
	// PixVar is the per-pixel variance over set 0 (summed over the colour
	// channels, mean over pixels); NoiseVar the same over redraws of the
	// stochastic details of Options.StdLatents images (StdDraws each, mean
	// over the images): what the generator's noise should account for.
	PixVar, NoiseVar float64
}

// NewRealSet renders 2·opt.N toyfaces images at res×res (area averages of
// the 64 px images, as the trainer feeds them) and classifies them.
func NewRealSet(ctx context.Context, c Classifier, res int, opt Options) (*RealSet, error) {
	o := opt.withDefaults()
	switch res {
	case 8, 16, 32, 64:
	default:
		return nil, fmt.Errorf("metrics: no toyfaces at %d px (want 8, 16, 32 or 64)", res)
	}
	rs := &RealSet{Res: res, N: o.N, Seed: o.Seed}
	stream := toyfaces.NewStream(derive(o.Seed, streamReal, 0), 2)
	defer stream.Close()
	n := 3 * res * res
	buf := make([]float32, o.Batch*n)
	var all pixelStats
	for set := range 2 {
		for done := 0; done < o.N; {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b := min(o.Batch, o.N-done)
			x := buf[:b*n]
			truth := stream.Next(x, res)
			p, err := classify(c, x, b, res)
			if err != nil {
				return nil, err
			}
			rs.Labels[set] = append(rs.Labels[set], p.Labels...)
			rs.Features[set] = append(rs.Features[set], p.Features...)
			rs.Truth[set] = append(rs.Truth[set], truth...)
			if set == 0 {
				all.add(x, b)
			}
			done += b
			if o.Progress != nil {
				o.Progress(b)
			}
		}
	}
	rs.PixVar = mean(all.variance(res))
	draws := make([]float32, o.StdDraws*n)
	noise := make([]uint64, o.StdDraws)
	for l := range o.StdLatents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for d := range noise {
			noise[d] = uint64(derive(o.Seed, streamRealStdNoise, l*o.StdDraws+d))
		}
		toyfaces.FillDraws(draws, derive(o.Seed, streamRealStd, l), noise, res)
		var st pixelStats
		st.add(draws, o.StdDraws)
		rs.NoiseVar += mean(st.variance(res)) / float64(o.StdLatents)
		if o.Progress != nil {
			o.Progress(o.StdDraws)
		}
	}
	return rs, nil
}

// pixelStats accumulates per-element sums of NCHW images to give the
// per-pixel variance over them.
type pixelStats struct {
	n       int
	sum, sq []float64
}

// add accumulates the b images of x.
func (s *pixelStats) add(x []float32, b int) {
	m := len(x) / b
	if s.sum == nil {
		s.sum, s.sq = make([]float64, m), make([]float64, m)
	}
	for k := range b {
		for i, v := range x[k*m : (k+1)*m] {
			s.sum[i] += float64(v)
			s.sq[i] += float64(v) * float64(v)
		}
	}
	s.n += b
}

// variance is the per-pixel variance of res×res images, summed over the
// colour channels.
func (s *pixelStats) variance(res int) []float64 {
	plane := res * res
	v := make([]float64, plane)
	n := float64(s.n)
	for c := 0; c < 3; c++ {
		for p := range v {
			m := s.sum[c*plane+p] / n
			v[p] += max(s.sq[c*plane+p]/n-m*m, 0)
		}
	}
	return v
}

func mean(v []float64) float64 {
	var t float64
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

// classify calls c and checks the shape of its answer.
func classify(c Classifier, x []float32, b, res int) (*Prediction, error) {
	p, err := c.Classify(x, b, res)
	if err != nil {
		return nil, err
	}
	if len(p.Labels) != b || len(p.Features) != b {
		return nil, fmt.Errorf("metrics: classifier returned %d labels and %d feature vectors for %d images", len(p.Labels), len(p.Features), b)
	}
	for i, l := range p.Labels {
		if len(l) != len(toyfaces.Factors) {
			return nil, fmt.Errorf("metrics: classifier returned %d labels for image %d, want one per toyfaces factor (%d)", len(l), i, len(toyfaces.Factors))
		}
	}
	return p, nil
}

// Report holds the numbers of one evaluation.
type Report struct {
	Resolution int `json:"resolution"`
	// NoiseOff lists the noise inputs that were off (Options.NoiseOff).
	NoiseOff   []int `json:"noise_off,omitempty"`
	N          int   `json:"n"`
	Pairs      int   `json:"pairs"`
	NoiseCases int   `json:"noise_cases"`

	// Label distributions, generated vs real set 0.
	Factors []FactorStat `json:"factors"`
	TVMean  float64      `json:"tv_mean"`
	TVMax   float64      `json:"tv_max"`
	// Hole is the share of generated images the classifier labels long hair
	// with a full beard; HoleReal the same for real set 0 (the classifier's
	// own error rate there, since real images never have it).
	Hole     float64 `json:"hole"`
	HoleReal float64 `json:"hole_real"`
	// FDGen is the Fréchet distance generated vs real set 0, FDReal real
	// set 0 vs real set 1 (the floor N samples allow).
	FDGen  float64 `json:"fd_gen"`
	FDReal float64 `json:"fd_real"`

	Mixing []GroupMix `json:"mixing"`
	// Slots, with Options.PerSlot, is A with one style slot from B, per
	// slot: which factors that slot alone carries.
	Slots []SlotMix `json:"slots,omitempty"`

	// NoiseStay is the share of latents whose labels all stay when every
	// noise map is resampled; NoiseFactorStay the same per factor.
	NoiseStay       float64   `json:"noise_stay"`
	NoiseFactorStay []float64 `json:"noise_factor_stay"`
	// StdTop20 is the share of the per-pixel variance over noise draws held
	// by the 20% most variable pixels (mean over the latents); StdMean the
	// mean per-pixel standard deviation in [-1, 1] units. Both are 0 when
	// noise changes nothing.
	StdTop20 float64 `json:"std_top20"`
	StdMean  float64 `json:"std_mean"`
	StdDraws int     `json:"std_draws"`
	// NoiseShare is the part of the generated images' per-pixel variance
	// that noise alone makes: the mean variance over noise draws of one
	// latent (the standard deviation figure's) over the variance across the
	// N generated images. NoiseShareReal is the same for toyfaces, whose
	// stochastic details are subtle by design; a much larger NoiseShare
	// means the generator draws with its noise what the data draws with
	// labelled factors.
	NoiseShare     float64 `json:"noise_share"`
	NoiseShareReal float64 `json:"noise_share_real"`
	// StdSeeds are the z seeds of the figure's rows; StdCells holds per row
	// three noise draws and the standard deviation map (grey, white at
	// StdScale), at the model's resolution.
	StdSeeds []int64         `json:"std_seeds"`
	StdScale float64         `json:"std_scale"`
	StdCells [][]image.Image `json:"-"`
}

// FactorStat compares one factor's label distributions.
type FactorStat struct {
	Name      string    `json:"name"`
	Group     string    `json:"group"`
	TV        float64   `json:"tv"`
	Generated []float64 `json:"generated"`
	Real      []float64 `json:"real"`
	// Accuracy is the classifier's accuracy on real set 0 (its true labels).
	Accuracy float64 `json:"classifier_accuracy"`
}

// GroupMix is the style-mixing separation of one style group.
type GroupMix struct {
	Group string `json:"group"`
	// Present is false when the model has no style slot in the group (a
	// 16 px model has no fine layers); the other fields are then zero.
	Present bool `json:"present"`
	Lo      int  `json:"slot_lo"`
	Hi      int  `json:"slot_hi"`
	MixTally
	// OwnShare and KeepShare repeat Own() and Keep() for JSON readers.
	OwnShare  float64 `json:"own"`
	KeepShare float64 `json:"keep"`
}

// SlotMix is A with B's style in one slot only: per toyfaces factor, of the
// pairs whose A and B differ in it (Cases), how many show B's label (Hits).
type SlotMix struct {
	Slot  int   `json:"slot"`
	Res   int   `json:"res"`
	Hits  []int `json:"hits"`
	Cases []int `json:"cases"`
}

// Own is the share of factor f's cases that show B's label (0 without cases).
func (s SlotMix) Own(f int) float64 { return ratio(s.Hits[f], s.Cases[f]) }

// MixTally counts style-mixing outcomes for one group: over the factors on
// which A and B have different labels, OwnCases are the group's own factors
// and OwnHits those showing B's label in the mix; KeepCases are the other
// groups' factors and KeepHits those keeping A's label.
type MixTally struct {
	OwnHits   int `json:"own_hits"`
	OwnCases  int `json:"own_cases"`
	KeepHits  int `json:"keep_hits"`
	KeepCases int `json:"keep_cases"`
}

// Add counts one pair: the labels of A, of B, and of A with group's styles
// from B.
func (t *MixTally) Add(group string, a, b, mix toyfaces.Labels) {
	for f, fac := range toyfaces.Factors {
		if a[f] == b[f] {
			continue
		}
		if fac.Group == group {
			t.OwnCases++
			if mix[f] == b[f] {
				t.OwnHits++
			}
		} else {
			t.KeepCases++
			if mix[f] == a[f] {
				t.KeepHits++
			}
		}
	}
}

// Own is OwnHits/OwnCases (0 without cases).
func (t MixTally) Own() float64 { return ratio(t.OwnHits, t.OwnCases) }

// Keep is KeepHits/KeepCases (0 without cases).
func (t MixTally) Keep() float64 { return ratio(t.KeepHits, t.KeepCases) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// NoiseTally counts how labels survive resampling the noise.
type NoiseTally struct {
	Cases   int
	AllStay int
	Stay    []int // per factor
}

// Add counts one latent: its labels under two noise draws.
func (t *NoiseTally) Add(a, b toyfaces.Labels) {
	if t.Stay == nil {
		t.Stay = make([]int, len(toyfaces.Factors))
	}
	t.Cases++
	all := true
	for f := range t.Stay {
		if a[f] == b[f] {
			t.Stay[f]++
		} else {
			all = false
		}
	}
	if all {
		t.AllStay++
	}
}

// item is one image to render: z seeds of sources A and B, the style slots
// lo..hi that take B (none when lo > hi), and the seed of every noise map.
type item struct {
	a, b   int64
	lo, hi int
	noise  int64
}

type evaluator struct {
	ctx context.Context
	g   *model.Generator
	c   Classifier
	o   Options
	res int
}

// Evaluate measures the generator g with the classifier c.
func Evaluate(ctx context.Context, g *model.Generator, c Classifier, opt Options) (*Report, error) {
	o := opt.withDefaults()
	cfg := g.Cfg
	res := cfg.Resolution()
	e := &evaluator{ctx: ctx, g: g, c: c, o: o, res: res}
	real := o.Real
	if real == nil {
		var err error
		if real, err = NewRealSet(ctx, c, res, o); err != nil {
			return nil, err
		}
	} else if real.Res != res || real.N != o.N {
		return nil, fmt.Errorf("metrics: real set of %d images at %d px, want %d at %d px", real.N, real.Res, o.N, res)
	}
	r := &Report{Resolution: res, N: o.N, Pairs: o.Pairs, NoiseCases: o.NoiseCases}
	if len(o.NoiseOff) > cfg.NumNoise() {
		return nil, fmt.Errorf("metrics: %d noise inputs to switch off, the model has %d", len(o.NoiseOff), cfg.NumNoise())
	}
	for j, off := range o.NoiseOff {
		if off {
			r.NoiseOff = append(r.NoiseOff, j)
		}
	}

	// Label distributions and features, generated (psi 1) vs real.
	gen := make([]item, o.N)
	for i := range gen {
		gen[i] = item{a: derive(o.Seed, streamGenZ, i), lo: 1, noise: derive(o.Seed, streamGenNoise, i)}
	}
	var genPix pixelStats
	labels, feats, err := e.predictStats(gen, &genPix)
	if err != nil {
		return nil, err
	}
	for f, fac := range toyfaces.Factors {
		st := FactorStat{Name: fac.Name, Group: fac.Group, Generated: Histogram(labels, f), Real: Histogram(real.Labels[0], f)}
		st.TV = TotalVariation(st.Generated, st.Real)
		hit := 0
		for i, l := range real.Labels[0] {
			if l[f] == real.Truth[0][i][f] {
				hit++
			}
		}
		st.Accuracy = ratio(hit, len(real.Labels[0]))
		r.Factors = append(r.Factors, st)
		r.TVMean += st.TV / float64(len(toyfaces.Factors))
		r.TVMax = max(r.TVMax, st.TV)
	}
	r.Hole, r.HoleReal = HoleRate(labels), HoleRate(real.Labels[0])
	fits := make([]Gaussian, 3)
	for i, x := range [][][]float32{feats, real.Features[0], real.Features[1]} {
		if fits[i], err = FitGaussian(x); err != nil {
			return nil, err
		}
	}
	if r.FDGen, err = FrechetDistance(fits[0], fits[1]); err != nil {
		return nil, err
	}
	if r.FDReal, err = FrechetDistance(fits[1], fits[2]); err != nil {
		return nil, err
	}

	if err := e.mixing(r); err != nil {
		return nil, err
	}
	if err := e.noiseStay(r); err != nil {
		return nil, err
	}
	noiseVar, err := e.noiseStd(r)
	if err != nil {
		return nil, err
	}
	if v := mean(genPix.variance(res)); v > 0 {
		r.NoiseShare = noiseVar / v
	}
	if real.PixVar > 0 {
		r.NoiseShareReal = real.NoiseVar / real.PixVar
	}
	return r, nil
}

// mixing measures the style-mixing separation of each group.
func (e *evaluator) mixing(r *Report) error {
	o, cfg := e.o, e.g.Cfg
	a, b := make([]item, o.Pairs), make([]item, o.Pairs)
	for i := range a {
		n := derive(o.Seed, streamPairNoise, i)
		a[i] = item{a: derive(o.Seed, streamPairA, i), lo: 1, noise: n}
		b[i] = item{a: derive(o.Seed, streamPairB, i), lo: 1, noise: n}
	}
	la, _, err := e.predict(a)
	if err != nil {
		return err
	}
	lb, _, err := e.predict(b)
	if err != nil {
		return err
	}
	for _, group := range Groups {
		gm := GroupMix{Group: group}
		lo, hi, ok := cfg.GroupSlots(group)
		if ok {
			gm.Present, gm.Lo, gm.Hi = true, lo, hi
			mix := mixItems(a, b, lo, hi)
			lm, _, err := e.predict(mix)
			if err != nil {
				return err
			}
			for i := range mix {
				gm.Add(group, la[i], lb[i], lm[i])
			}
			gm.OwnShare, gm.KeepShare = gm.Own(), gm.Keep()
		}
		r.Mixing = append(r.Mixing, gm)
	}
	if !o.PerSlot {
		return nil
	}
	for slot := range cfg.NumStyles() {
		mix := mixItems(a, b, slot, slot)
		lm, _, err := e.predict(mix)
		if err != nil {
			return err
		}
		sm := SlotMix{Slot: slot, Res: cfg.SlotRes(slot), Hits: make([]int, len(toyfaces.Factors)), Cases: make([]int, len(toyfaces.Factors))}
		for i := range mix {
			for f := range toyfaces.Factors {
				if la[i][f] != lb[i][f] {
					sm.Cases[f]++
					if lm[i][f] == lb[i][f] {
						sm.Hits[f]++
					}
				}
			}
		}
		r.Slots = append(r.Slots, sm)
	}
	return nil
}

// mixItems is each pair's A with style slots lo..hi from B, under A's noise.
func mixItems(a, b []item, lo, hi int) []item {
	mix := make([]item, len(a))
	for i := range mix {
		mix[i] = item{a: a[i].a, b: b[i].a, lo: lo, hi: hi, noise: a[i].noise}
	}
	return mix
}

// noiseStay renders latents under two noise draws and compares labels.
func (e *evaluator) noiseStay(r *Report) error {
	o := e.o
	n1, n2 := make([]item, o.NoiseCases), make([]item, o.NoiseCases)
	for i := range n1 {
		z := derive(o.Seed, streamNoiseZ, i)
		n1[i] = item{a: z, lo: 1, noise: derive(o.Seed, streamNoise1, i)}
		n2[i] = item{a: z, lo: 1, noise: derive(o.Seed, streamNoise2, i)}
	}
	l1, _, err := e.predict(n1)
	if err != nil {
		return err
	}
	l2, _, err := e.predict(n2)
	if err != nil {
		return err
	}
	var t NoiseTally
	for i := range l1 {
		t.Add(l1[i], l2[i])
	}
	r.NoiseStay = ratio(t.AllStay, t.Cases)
	for _, s := range t.Stay {
		r.NoiseFactorStay = append(r.NoiseFactorStay, ratio(s, t.Cases))
	}
	return nil
}

// noiseStd renders StdDraws noise draws of StdLatents latents and measures
// the per-pixel standard deviation. It returns the per-pixel variance over
// the draws, summed over the channels, mean over pixels and latents.
func (e *evaluator) noiseStd(r *Report) (float64, error) {
	o, res := e.o, e.res
	plane := res * res
	r.StdDraws = o.StdDraws
	var stds [][]float64
	var noiseVar float64
	for l := 0; l < o.StdLatents; l++ {
		z := derive(o.Seed, streamStdZ, l)
		r.StdSeeds = append(r.StdSeeds, z)
		items := make([]item, o.StdDraws)
		for d := range items {
			items[d] = item{a: z, lo: 1, noise: derive(o.Seed, streamStdNoise, l*o.StdDraws+d)}
		}
		var st pixelStats
		var row []image.Image
		for start := 0; start < len(items); start += o.Batch {
			chunk := items[start:min(start+o.Batch, len(items))]
			x, err := e.render(chunk)
			if err != nil {
				return 0, err
			}
			st.add(x[:len(chunk)*3*plane], len(chunk))
			for k := range chunk {
				if len(row) < 3 {
					row = append(row, model.ToImage(x, res, k))
				}
			}
			e.progress(len(chunk))
		}
		v := st.variance(res)
		noiseVar += mean(v) / float64(o.StdLatents)
		r.StdTop20 += TopShare(v, 0.2) / float64(o.StdLatents)
		std := make([]float64, plane)
		for p := range v {
			std[p] = math.Sqrt(v[p] / 3)
			r.StdMean += std[p] / float64(plane*o.StdLatents)
			r.StdScale = max(r.StdScale, std[p])
		}
		stds = append(stds, std)
		r.StdCells = append(r.StdCells, row)
	}
	for l, std := range stds {
		img := image.NewGray(image.Rect(0, 0, res, res))
		for p, s := range std {
			if r.StdScale > 0 {
				img.Pix[p] = uint8(math.Round(255 * s / r.StdScale))
			}
		}
		r.StdCells[l] = append(r.StdCells[l], img)
	}
	return noiseVar, nil
}

// TopShare is the share of sum(v) held by the largest frac of its values
// (0 when the sum is 0).
func TopShare(v []float64, frac float64) float64 {
	s := slices.Clone(v)
	slices.SortFunc(s, func(a, b float64) int { return -cmpFloat(a, b) })
	k := int(math.Ceil(frac * float64(len(s))))
	top, total := 0.0, 0.0
	for i, x := range s {
		if i < k {
			top += x
		}
		total += x
	}
	if total == 0 {
		return 0
	}
	return top / total
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (e *evaluator) progress(n int) {
	if e.o.Progress != nil {
		e.o.Progress(n)
	}
}

// predict renders items in batches and classifies them.
func (e *evaluator) predict(items []item) ([]toyfaces.Labels, [][]float32, error) {
	return e.predictStats(items, nil)
}

// predictStats is predict that also accumulates the images in pix (when
// not nil).
func (e *evaluator) predictStats(items []item, pix *pixelStats) ([]toyfaces.Labels, [][]float32, error) {
	var labels []toyfaces.Labels
	var feats [][]float32
	for start := 0; start < len(items); start += e.o.Batch {
		chunk := items[start:min(start+e.o.Batch, len(items))]
		x, err := e.render(chunk)
		if err != nil {
			return nil, nil, err
		}
		p, err := classify(e.c, x, len(chunk), e.res)
		if err != nil {
			return nil, nil, err
		}
		if pix != nil {
			pix.add(x[:len(chunk)*3*e.res*e.res], len(chunk))
		}
		labels = append(labels, p.Labels...)
		feats = append(feats, p.Features...)
		e.progress(len(chunk))
	}
	return labels, feats, nil
}

// render synthesises a batch of items at psi = 1 and returns the images,
// NCHW in [-1, 1], rounded to 8 bits as a PNG of them would be. Short
// batches are padded to the batch size, so the generator builds its graphs
// for one batch size only.
func (e *evaluator) render(items []item) ([]float32, error) {
	if err := e.ctx.Err(); err != nil {
		return nil, err
	}
	g, cfg := e.g, e.g.Cfg
	n := len(items)
	za, zb := make([]float32, 0, n*cfg.ZDim), make([]float32, 0, n*cfg.ZDim)
	noise := make([]int64, n)
	mixed := false
	for k, it := range items {
		za = append(za, latent.SeedZ(it.a, cfg.ZDim)...)
		zb = append(zb, latent.SeedZ(it.b, cfg.ZDim)...)
		noise[k] = it.noise
		mixed = mixed || it.lo <= it.hi
	}
	wa, err := mapZ(g, za, n, e.o.Batch)
	if err != nil {
		return nil, err
	}
	wb := wa
	if mixed {
		if wb, err = mapZ(g, zb, n, e.o.Batch); err != nil {
			return nil, err
		}
	}
	D := cfg.WDim
	w := make([][]float32, cfg.NumStyles())
	for s := range w {
		w[s] = make([]float32, n*D)
		for k, it := range items {
			src := wa
			if s >= it.lo && s <= it.hi {
				src = wb
			}
			copy(w[s][k*D:(k+1)*D], src[k*D:(k+1)*D])
		}
	}
	out, err := synthesize(g, w, noise, e.o.Batch, e.o.NoiseOff)
	if err != nil {
		return nil, err
	}
	quantize(out)
	return out, nil
}
