package metrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// Distance is a perceptual distance between images: the d of the perceptual
// path length. The paper's is LPIPS on VGG16 (model/lpips); for toyfaces
// models the classifier's (classifier.Net.PerceptualDistance) also serves.
type Distance interface {
	// Distance returns d(a_i, b_i) for the batch image pairs of a and b,
	// each NCHW float32 in [-1, 1] at res×res.
	Distance(a, b []float32, batch, res int) ([]float64, error)
}

// PPLOptions set a perceptual path length measurement; zero fields take
// the defaults (DefaultPPLOptions).
type PPLOptions struct {
	// Space is the latent space walked: "z" (spherical interpolation of z,
	// latent.Slerp) or "w" (linear interpolation of w = f(z)).
	Space string
	// Sampling is "full" (t ~ U(0, 1)) or "end" (t = 0: the path's end
	// points, as NVlabs' code draws them).
	Sampling string
	// Samples is the number of path samples (image pairs); the paper uses
	// 100,000.
	Samples int
	// Epsilon is the step between the two images of a pair (the paper's 1e-4).
	Epsilon float64
	// Batch is the number of pairs per generator call.
	Batch int
	// Seed derives every latent, t and noise map.
	Seed int64
	// Crop compares NVlabs' face crop of each image, rows [3c, 7c) and
	// columns [2c, 6c) with c = H/8, instead of the whole image
	// (perceptual_path_length.py crops every model so).
	Crop bool
	// Bootstrap is the number of resamples behind the 95% interval of the
	// PPL (0: 1000).
	Bootstrap int
	// Progress, when set, is called with the number of samples (image
	// pairs) each batch measured; PPLWork gives the total.
	Progress func(samples int)
}

// DefaultPPLOptions are the paper's settings but for the sample count.
var DefaultPPLOptions = PPLOptions{Space: "z", Sampling: "full", Samples: 2000, Epsilon: 1e-4, Batch: 32, Bootstrap: 1000}

func (o PPLOptions) withDefaults() (PPLOptions, error) {
	d := DefaultPPLOptions
	if o.Space == "" {
		o.Space = d.Space
	}
	if o.Sampling == "" {
		o.Sampling = d.Sampling
	}
	if o.Samples == 0 {
		o.Samples = d.Samples
	}
	if o.Epsilon == 0 {
		o.Epsilon = d.Epsilon
	}
	if o.Batch == 0 {
		o.Batch = d.Batch
	}
	if o.Bootstrap == 0 {
		o.Bootstrap = d.Bootstrap
	}
	switch {
	case o.Space != "z" && o.Space != "w":
		return o, fmt.Errorf("metrics: PPL: space %q: want \"z\" or \"w\"", o.Space)
	case o.Sampling != "full" && o.Sampling != "end":
		return o, fmt.Errorf("metrics: PPL: sampling %q: want \"full\" or \"end\"", o.Sampling)
	case o.Samples < 1:
		return o, fmt.Errorf("metrics: PPL: samples %d: want at least 1", o.Samples)
	case !(o.Epsilon > 0) || math.IsInf(o.Epsilon, 0):
		return o, fmt.Errorf("metrics: PPL: epsilon %g: want a positive finite step", o.Epsilon)
	case o.Batch < 1:
		return o, fmt.Errorf("metrics: PPL: batch %d: want at least 1", o.Batch)
	case o.Bootstrap < 1:
		return o, fmt.Errorf("metrics: PPL: bootstrap %d: want at least 1 resample", o.Bootstrap)
	}
	return o, nil
}

// PPLWork is the number of samples a PPL measurement takes (what
// PPLOptions.Progress counts up to).
func PPLWork(opt PPLOptions) int {
	o, err := opt.withDefaults()
	if err != nil {
		return 0
	}
	return o.Samples
}

// MaxDistanceRes is the largest image side NVlabs hands its distance: larger
// images are box-averaged down to it ("VGG was built for 224x224 images").
const MaxDistanceRes = 256

// DistanceRes returns the side of the images the distance compares for a
// res px generator: the crop's 4·(res/8) px with crop, else res, then
// divided by the integer factor that brings it to MaxDistanceRes if larger.
func DistanceRes(res int, crop bool) int {
	if crop {
		res = 4 * (res / 8)
	}
	if res > MaxDistanceRes {
		res /= res / MaxDistanceRes
	}
	return res
}

// Prepare turns n generated images [n,3,res,res] into what the distance
// compares: the face crop (if crop), then the box average by the integer
// factor that brings the side to MaxDistanceRes, as
// perceptual_path_length.py does before its VGG16.
func Prepare(x []float32, n, res int, crop bool) []float32 {
	if crop {
		c := res / 8
		s := 4 * c
		out := make([]float32, n*3*s*s)
		for p := range n * 3 {
			src, dst := x[p*res*res:], out[p*s*s:]
			for i := range s {
				copy(dst[i*s:(i+1)*s], src[(3*c+i)*res+2*c:])
			}
		}
		x, res = out, s
	}
	if res <= MaxDistanceRes {
		return x
	}
	f := res / MaxDistanceRes
	s := res / f
	out := make([]float32, n*3*s*s)
	inv := 1 / float64(f*f)
	for p := range n * 3 {
		src, dst := x[p*res*res:], out[p*s*s:]
		for i := range s {
			for j := range s {
				var sum float64
				for u := range f {
					row := src[(i*f+u)*res+j*f:][:f]
					for _, v := range row {
						sum += float64(v)
					}
				}
				dst[i*s+j] = float32(sum * inv)
			}
		}
	}
	return out
}

// Seed streams of the path length, after Evaluate's. Both spaces walk the
// same end points z0, z1 with the same t and noise for a seed, so their
// numbers compare path by path.
const (
	streamPPLZ0 = iota + 64
	streamPPLZ1
	streamPPLT
	streamPPLNoise
	streamPPLBootstrap
)

// PPLReport is the result of one perceptual path length measurement.
type PPLReport struct {
	Space      string  `json:"space"`
	Sampling   string  `json:"sampling"`
	Samples    int     `json:"samples"`
	Epsilon    float64 `json:"epsilon"`
	Batch      int     `json:"batch"`
	Seed       int64   `json:"seed"`
	Resolution int     `json:"resolution"`
	// Crop says whether NVlabs' face crop was compared; DistanceRes is the
	// side of the images the distance saw (after crop and downsampling).
	Crop        bool `json:"crop"`
	DistanceRes int  `json:"distance_res"`
	// PPL is the mean of the distances d/ε² that lie between P1 and P99,
	// as NVlabs' code reports it.
	PPL float64 `json:"ppl"`
	// Kept is the number of distances PPL averages.
	Kept int `json:"kept"`
	// P1 and P99 are the 1st percentile (numpy's "lower") and the 99th
	// ("higher") of the distances.
	P1  float64 `json:"p1"`
	P99 float64 `json:"p99"`
	// RawMean is the mean of all distances, Median their median.
	RawMean float64 `json:"raw_mean"`
	Median  float64 `json:"median"`
	// CILow and CIHigh bound the 95% bootstrap interval of PPL: the 2.5th
	// and 97.5th percentiles of PPL recomputed (percentiles, filter and
	// mean) on Bootstrap resamples of the distances drawn with replacement.
	CILow     float64 `json:"ci95_low"`
	CIHigh    float64 `json:"ci95_high"`
	Bootstrap int     `json:"bootstrap"`
	// Seconds is the measurement's wall time, SamplesPerSec its rate.
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_sec"`
	// Distances holds d/ε² per sample, in sample order.
	Distances []float64 `json:"-"`
}

// PPL measures the perceptual path length of g (Karras et al. 2019,
// section 4.1): the mean over samples of d(G(x(t)), G(x(t+ε)))/ε², where
// x walks from z0 to z1 by spherical interpolation (Space "z") or from
// w0 = f(z0) to w1 = f(z1) by linear interpolation (Space "w"), one w
// broadcast to every style slot, with no truncation (psi = 1), as NVlabs'
// metrics/perceptual_path_length.py (StyleGAN v1) measures it: z0, z1
// ~ N(0, I), t ~ U(0, 1) ("full") or t = 0 ("end"), slerp of the normalised
// z; both images of a pair share their noise maps; with Crop, the face
// region; images larger than 256 px box-averaged down to 256; distances
// outside the 1st-99th percentile range rejected before averaging. The one
// difference: NVlabs redraws the noise maps once per minibatch of 16 pairs
// and shares them between the pairs, here every pair draws its own (each
// pair sees the same distribution of noise, so the expected value is the
// same, and the samples are independent). The images are compared
// unrounded: 8 bits would erase an ε step.
func PPL(ctx context.Context, g *model.Generator, d Distance, opt PPLOptions) (*PPLReport, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	cfg := g.Cfg
	res := cfg.Resolution()
	if o.Crop && res < 8 {
		return nil, fmt.Errorf("metrics: PPL: a %d px model has no face crop (it takes 4/8 of the side)", res)
	}
	dres := DistanceRes(res, o.Crop)
	Z := cfg.ZDim
	r := &PPLReport{Space: o.Space, Sampling: o.Sampling, Samples: o.Samples, Epsilon: o.Epsilon,
		Batch: o.Batch, Seed: o.Seed, Resolution: res, Crop: o.Crop, DistanceRes: dres,
		Bootstrap: o.Bootstrap, Distances: make([]float64, 0, o.Samples)}
	for start := 0; start < o.Samples; start += o.Batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(o.Batch, o.Samples-start)
		z0, z1 := make([][]float32, n), make([][]float32, n)
		t := make([]float64, n)
		noise := make([]int64, n)
		for k := range n {
			i := start + k
			z0[k] = latent.SeedZ(derive(o.Seed, streamPPLZ0, i), Z)
			z1[k] = latent.SeedZ(derive(o.Seed, streamPPLZ1, i), Z)
			if o.Sampling == "full" {
				t[k] = float64(derive(o.Seed, streamPPLT, i)) / (1 << 32)
			}
			noise[k] = derive(o.Seed, streamPPLNoise, i)
		}
		var wa, wb []float32
		if o.Space == "z" {
			za, zb := make([]float32, 0, n*Z), make([]float32, 0, n*Z)
			for k := range n {
				za = append(za, latent.Slerp(z0[k], z1[k], t[k])...)
				zb = append(zb, latent.Slerp(z0[k], z1[k], t[k]+o.Epsilon)...)
			}
			if wa, err = mapZ(g, za, n, o.Batch); err != nil {
				return nil, err
			}
			if wb, err = mapZ(g, zb, n, o.Batch); err != nil {
				return nil, err
			}
		} else {
			w0, err := mapZ(g, slices.Concat(z0...), n, o.Batch)
			if err != nil {
				return nil, err
			}
			w1, err := mapZ(g, slices.Concat(z1...), n, o.Batch)
			if err != nil {
				return nil, err
			}
			D := cfg.WDim
			for k := range n {
				a, b := w0[k*D:(k+1)*D], w1[k*D:(k+1)*D]
				wa = append(wa, latent.Lerp(a, b, t[k])...)
				wb = append(wb, latent.Lerp(a, b, t[k]+o.Epsilon)...)
			}
		}
		// Two calls of the same batch size: image k of both takes the same
		// place in the same graph, so equal inputs give equal pixels.
		ia, err := synthesize(g, broadcast(wa, cfg.NumStyles()), noise, o.Batch, nil)
		if err != nil {
			return nil, err
		}
		ib, err := synthesize(g, broadcast(wb, cfg.NumStyles()), noise, o.Batch, nil)
		if err != nil {
			return nil, err
		}
		ia, ib = Prepare(ia, n, res, o.Crop), Prepare(ib, n, res, o.Crop)
		dist, err := d.Distance(ia, ib, n, dres)
		if err != nil {
			return nil, fmt.Errorf("metrics: PPL: distance: %w", err)
		}
		if len(dist) != n {
			return nil, fmt.Errorf("metrics: PPL: the distance returned %d values for %d pairs", len(dist), n)
		}
		for k, v := range dist {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metrics: PPL: the distance of sample %d is %g", start+k, v)
			}
			r.Distances = append(r.Distances, v/(o.Epsilon*o.Epsilon))
		}
		if o.Progress != nil {
			o.Progress(n)
		}
	}
	r.summarise()
	r.CILow, r.CIHigh = bootstrapCI(r.Distances, o.Bootstrap, derive(o.Seed, streamPPLBootstrap, 0))
	r.Seconds = time.Since(start).Seconds()
	r.SamplesPerSec = float64(o.Samples) / r.Seconds
	return r, nil
}

// filteredMean is the PPL statistic of a sample given as the sorted values
// s with multiplicities count (nil: one each): the mean of the values between
// numpy's lower 1st and higher 99th percentiles.
func filteredMean(s []float64, count []int32) (p1, p99, mean float64, kept int) {
	n := len(s)
	if count != nil {
		n = 0
		for _, c := range count {
			n += int(c)
		}
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	// numpy.percentile(x, 1, interpolation='lower') and (x, 99,
	// interpolation='higher'): indices floor and ceil of q/100·(n−1),
	// in integers so that no rounding moves them.
	k1, k99 := (n-1)/100, (99*(n-1)+99)/100
	at := func(k int) float64 {
		if count == nil {
			return s[k]
		}
		for i, c := range count {
			if k < int(c) {
				return s[i]
			}
			k -= int(c)
		}
		return s[len(s)-1]
	}
	p1, p99 = at(k1), at(k99)
	var sum float64
	for i, v := range s {
		if p1 <= v && v <= p99 {
			c := 1
			if count != nil {
				c = int(count[i])
			}
			sum += float64(c) * v
			kept += c
		}
	}
	return p1, p99, sum / float64(kept), kept
}

// bootstrapCI returns the 2.5th and 97.5th percentiles of the PPL statistic
// over resamples of d (drawn with replacement, as many as d holds). A
// resample is counted as multiplicities of the sorted values, so each costs
// O(len(d)) without a sort.
func bootstrapCI(d []float64, resamples int, seed int64) (lo, hi float64) {
	n := len(d)
	if n == 0 {
		return 0, 0
	}
	s := slices.Sorted(slices.Values(d))
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	count := make([]int32, n)
	stats := make([]float64, resamples)
	for b := range stats {
		clear(count)
		for range n {
			count[rng.IntN(n)]++
		}
		_, _, stats[b], _ = filteredMean(s, count)
	}
	slices.Sort(stats)
	return stats[int(0.025*float64(resamples-1))], stats[int(math.Ceil(0.975*float64(resamples-1)))]
}

// broadcast gives every one of slots style slots the same batch of w.
func broadcast(w []float32, slots int) [][]float32 {
	out := make([][]float32, slots)
	for s := range out {
		out[s] = w
	}
	return out
}

// summarise fills the statistics from r.Distances.
func (r *PPLReport) summarise() {
	s := slices.Clone(r.Distances)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return
	}
	r.P1, r.P99, r.PPL, r.Kept = filteredMean(s, nil)
	if n%2 == 1 {
		r.Median = s[n/2]
	} else {
		r.Median = (s[n/2-1] + s[n/2]) / 2
	}
	var all float64
	for _, v := range s {
		all += v
	}
	r.RawMean = all / float64(n)
}
