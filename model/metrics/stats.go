package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"stylegan-tui/model/toyfaces"
)

// Histogram returns the distribution of factor f's classes over labels (the
// share of each class; all zeros when labels is empty).
func Histogram(labels []toyfaces.Labels, f int) []float64 {
	h := make([]float64, len(toyfaces.Factors[f].Classes))
	for _, l := range labels {
		if c := l[f]; c >= 0 && c < len(h) {
			h[c]++
		}
	}
	if len(labels) > 0 {
		for i := range h {
			h[i] /= float64(len(labels))
		}
	}
	return h
}

// TotalVariation is the total variation distance ½·Σ|p_i − q_i| between two
// distributions over the same classes: 0 for equal distributions, 1 for
// disjoint ones.
func TotalVariation(p, q []float64) float64 {
	if len(p) != len(q) {
		panic(fmt.Sprintf("metrics: TotalVariation of %d and %d classes", len(p), len(q)))
	}
	s := 0.0
	for i := range p {
		s += math.Abs(p[i] - q[i])
	}
	return s / 2
}

// HoleRate is the share of labels in toyfaces' deliberate hole: long hair
// together with a full beard, a combination the dataset never draws.
func HoleRate(labels []toyfaces.Labels) float64 {
	if len(labels) == 0 {
		return 0
	}
	long := classIndex(toyfaces.FHair, "long")
	full := classIndex(toyfaces.FBeard, "full")
	n := 0
	for _, l := range labels {
		if l[toyfaces.FHair] == long && l[toyfaces.FBeard] == full {
			n++
		}
	}
	return float64(n) / float64(len(labels))
}

func classIndex(f int, name string) int {
	for i, c := range toyfaces.Factors[f].Classes {
		if c == name {
			return i
		}
	}
	panic("metrics: toyfaces factor " + toyfaces.Factors[f].Name + " has no class " + name)
}

// Gaussian is a Gaussian fit of a set of feature vectors: the mean and the
// (unbiased, n−1) covariance.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
}

// FitGaussian fits a Gaussian to at least two feature vectors of equal
// length.
func FitGaussian(x [][]float32) (Gaussian, error) {
	n := len(x)
	if n < 2 {
		return Gaussian{}, fmt.Errorf("metrics: a Gaussian fit needs at least 2 feature vectors, got %d", n)
	}
	d := len(x[0])
	if d == 0 {
		return Gaussian{}, fmt.Errorf("metrics: empty feature vectors")
	}
	mean := make([]float64, d)
	for i, v := range x {
		if len(v) != d {
			return Gaussian{}, fmt.Errorf("metrics: feature vector %d has %d values, the first has %d", i, len(v), d)
		}
		for j, f := range v {
			mean[j] += float64(f)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	// Centre into an n×d matrix and form Xᵀ·X/(n−1) with one BLAS call.
	c := mat.NewDense(n, d, nil)
	for i, v := range x {
		row := c.RawRowView(i)
		for j, f := range v {
			row[j] = float64(f) - mean[j]
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), c.T())
	return Gaussian{Mean: mean, Cov: cov}, nil
}

// FrechetDistance is the squared Fréchet (2-Wasserstein) distance between
// two Gaussians, the quantity FID reports:
//
//	|μ1 − μ2|² + tr(C1 + C2 − 2·(C1·C2)^½)
//
// tr (C1·C2)^½ is computed as tr (S·C2·S)^½ with S = C1^½: S·C2·S is
// symmetric positive semi-definite and similar to C1·C2, so both square
// roots come from symmetric eigendecompositions (no complex arithmetic,
// unlike scipy's sqrtm). Tiny negative eigenvalues from rounding count as 0.
func FrechetDistance(a, b Gaussian) (float64, error) {
	d := len(a.Mean)
	if len(b.Mean) != d || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: Fréchet distance of Gaussians in %d and %d dimensions", d, len(b.Mean))
	}
	dist := 0.0
	for i := range a.Mean {
		dist += (a.Mean[i] - b.Mean[i]) * (a.Mean[i] - b.Mean[i])
	}
	s, err := SqrtSym(a.Cov)
	if err != nil {
		return 0, err
	}
	var t mat.Dense
	t.Mul(s, b.Cov)
	t.Mul(&t, s)
	m := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			m.SetSym(i, j, (t.At(i, j)+t.At(j, i))/2) // symmetric up to rounding
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(m, false) {
		return 0, fmt.Errorf("metrics: eigendecomposition of C1½·C2·C1½ did not converge")
	}
	trSqrt := 0.0
	for _, v := range eig.Values(nil) {
		trSqrt += math.Sqrt(max(v, 0))
	}
	return dist + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*trSqrt, nil
}

// SqrtSym returns the symmetric positive semi-definite square root of a
// symmetric matrix, V·diag(√max(λ, 0))·Vᵀ from its eigendecomposition.
func SqrtSym(a mat.Symmetric) (*mat.SymDense, error) {
	d := a.SymmetricDim()
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return nil, fmt.Errorf("metrics: eigendecomposition of a %d×%d covariance did not converge", d, d)
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	// S = V·diag(√λ)·Vᵀ = U·Uᵀ with U = V·diag(λ^¼).
	for k, l := range vals {
		f := math.Sqrt(math.Sqrt(max(l, 0)))
		for i := 0; i < d; i++ {
			v.Set(i, k, v.At(i, k)*f)
		}
	}
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1, &v)
	return s, nil
}
