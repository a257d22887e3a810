package metrics

import (
	"context"
	"fmt"
	"math"
	"slices"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// Distance is a perceptual distance between images: the d of the perceptual
// path length. For toyfaces models it is the classifier's
// (classifier.Net.PerceptualDistance); the paper's is LPIPS on VGG16.
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
	// Progress, when set, is called with the number of images each batch
	// rendered (two per sample; PPLWork gives the total).
	Progress func(images int)
}

// DefaultPPLOptions are the paper's settings but for the sample count.
var DefaultPPLOptions = PPLOptions{Space: "z", Sampling: "full", Samples: 2000, Epsilon: 1e-4, Batch: 32}

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
	}
	return o, nil
}

// PPLWork is the number of images a PPL measurement renders (what
// PPLOptions.Progress counts up to): two per sample.
func PPLWork(opt PPLOptions) int {
	o, err := opt.withDefaults()
	if err != nil {
		return 0
	}
	return 2 * o.Samples
}

// Seed streams of the path length, after Evaluate's. Both spaces walk the
// same end points z0, z1 with the same t and noise for a seed, so their
// numbers compare path by path.
const (
	streamPPLZ0 = iota + 64
	streamPPLZ1
	streamPPLT
	streamPPLNoise
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
	// Distances holds d/ε² per sample, in sample order.
	Distances []float64 `json:"-"`
}

// PPL measures the perceptual path length of g (Karras et al. 2019,
// section 4.1): the mean over samples of d(G(x(t)), G(x(t+ε)))/ε², where
// x walks from z0 to z1 by spherical interpolation (Space "z") or from
// w0 = f(z0) to w1 = f(z1) by linear interpolation (Space "w"), one w
// broadcast to every style slot, with no truncation (psi = 1). Both images
// of a pair share their noise maps, drawn per pair (NVlabs uses the one
// stored map for every sample, randomize_noise=False). As
// NVlabs' metrics/perceptual_path_length.py does, distances outside the
// 1st-99th percentile range are rejected before averaging. The images are
// compared unrounded: 8 bits would erase an ε step. NVlabs' crop of the
// face region and downsampling to 256 px are not done (toyfaces models are
// at most 64 px and the whole image is the face).
func PPL(ctx context.Context, g *model.Generator, d Distance, opt PPLOptions) (*PPLReport, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg := g.Cfg
	res := cfg.Resolution()
	Z := cfg.ZDim
	r := &PPLReport{Space: o.Space, Sampling: o.Sampling, Samples: o.Samples, Epsilon: o.Epsilon,
		Batch: o.Batch, Seed: o.Seed, Resolution: res, Distances: make([]float64, 0, o.Samples)}
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
		if o.Progress != nil {
			o.Progress(2 * n)
		}
		dist, err := d.Distance(ia, ib, n, res)
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
	}
	r.summarise()
	return r, nil
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
	// numpy.percentile(x, 1, interpolation='lower') and (x, 99,
	// interpolation='higher'): indices floor and ceil of q/100·(n−1),
	// in integers so that no rounding moves them.
	r.P1, r.P99 = s[(n-1)/100], s[(99*(n-1)+99)/100]
	if n%2 == 1 {
		r.Median = s[n/2]
	} else {
		r.Median = (s[n/2-1] + s[n/2]) / 2
	}
	var all, kept float64
	r.Kept = 0
	for _, v := range s {
		all += v
		if r.P1 <= v && v <= r.P99 {
			kept += v
			r.Kept++
		}
	}
	r.RawMean = all / float64(n)
	r.PPL = kept / float64(r.Kept)
}
