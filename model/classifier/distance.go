package classifier

import (
	"fmt"
	"math"

	"stylegan-tui/model/ops"
)

// normEps keeps the unit normalisation of an all-zero channel vector finite
// (LPIPS's normalize_tensor adds the same 1e-10 to the norm).
const normEps = 1e-10

// PerceptualDistance returns, for each i < batch, a perceptual distance
// between image i of a and image i of b: the LPIPS distance (Zhang et al.
// 2018, arXiv:1801.03924) in its "baseline" form, without learned linear
// weights, on this net's convolution stages instead of VGG16's. It is the
// distance of the StyleGAN paper's perceptual path length (section 4.1)
// for toyfaces models. For every stage's activation after its last leaky ReLU
// (before the pool), each spatial position's channel vector is normalised
// to unit length; the squared difference of the two images' normalised
// vectors is summed over channels and averaged over positions; the stages'
// averages are summed.
//
// a and b are taken as Predict takes its input: NCHW float32 in [-1, 1] at
// res 8, 16, 32 or 64, upsampled to 64 px as Predict does. The net runs in
// float32; the normalisation and the sums run in float64, since a path
// length divides distances between images ~1e-4 apart by 1e-8. Image i of a
// and of b take the same place in equal-sized chunks, so d(x, x) is exactly 0.
func (n *Net) PerceptualDistance(a, b []float32, batch, res int) ([]float64, error) {
	switch res {
	case 8, 16, 32, 64:
	default:
		return nil, fmt.Errorf("classifier: PerceptualDistance: resolution %d, want 8, 16, 32 or 64", res)
	}
	want := batch * 3 * res * res
	if batch < 0 || len(a) != want || len(b) != want {
		return nil, fmt.Errorf("classifier: PerceptualDistance: %d and %d values for %d images of 3×%d×%d, want %d each",
			len(a), len(b), batch, res, res, want)
	}
	restore := ops.InferenceBLAS()
	defer restore()
	const pairs = chunk / 2 // the stored activations of a take a second chunk's memory
	d := make([]float64, batch)
	s := n.newScratch(min(batch, pairs))
	stored := make([][]float32, len(n.cfg.Channels))
	in := 3 * res * res
	for i0 := 0; i0 < batch; i0 += pairs {
		nb := min(pairs, batch-i0)
		input := func(x []float32) []float32 {
			img := x[i0*in : (i0+nb)*in]
			if res != Size {
				Upsample(s.up[:nb*3*Size*Size], img, nb, res)
				img = s.up[:nb*3*Size*Size]
			}
			return img
		}
		n.convs(s, input(a), nb, func(i int, act []float32, c, r int) {
			stored[i] = append(stored[i][:0], act...)
		})
		n.convs(s, input(b), nb, func(i int, act []float32, c, r int) {
			for k := range nb {
				m := c * r * r
				d[i0+k] += stageDistance(stored[i][k*m:(k+1)*m], act[k*m:(k+1)*m], c, r*r)
			}
		})
	}
	return d, nil
}

// stageDistance is one stage's term for one image pair: x and y are c×p
// activations (p spatial positions); each position's channel vector is
// normalised to unit length, and the squared differences are summed over
// channels and averaged over positions, in float64.
func stageDistance(x, y []float32, c, p int) float64 {
	nx, ny := make([]float64, p), make([]float64, p)
	for ch := range c {
		for q := range p {
			u, v := float64(x[ch*p+q]), float64(y[ch*p+q])
			nx[q] += u * u
			ny[q] += v * v
		}
	}
	for q := range p {
		nx[q] = 1 / (math.Sqrt(nx[q]) + normEps)
		ny[q] = 1 / (math.Sqrt(ny[q]) + normEps)
	}
	var sum float64
	for ch := range c {
		for q := range p {
			diff := float64(x[ch*p+q])*nx[q] - float64(y[ch*p+q])*ny[q]
			sum += diff * diff
		}
	}
	return sum / float64(p)
}
