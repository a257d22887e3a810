package latent

import (
	"fmt"
	"math"
)

// The vector functions work in float64 and round once to float32, so
// endpoints come out bit-exact and long walks do not drift. They panic when
// the lengths of their arguments differ: that is a programming error, like an
// out-of-range index.

// Lerp returns (1-t)·a + t·b. Lerp(a, b, 0) is a and Lerp(a, b, 1) is b
// exactly. This is how the paper walks in W.
func Lerp(a, b []float32, t float64) []float32 {
	sameLen("Lerp", len(a), len(b))
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32((1-t)*float64(a[i]) + t*float64(b[i]))
	}
	return out
}

// Slerp is the spherical interpolation of the paper's perceptual path length
// code (metrics/perceptual_path_length.py):
//
//	a, b = a/|a|, b/|b|
//	d = a·b;  p = t·acos(d)
//	c = b - d·a;  c = c/|c|
//	result = a·cos(p) + c·sin(p), normalised
//
// The result has unit norm; SlerpZ keeps the scale of z. Degenerate inputs
// give no NaN: when a and b point the same way the result is a/|a|; when they
// point opposite ways (no unique great circle) the walk turns towards the
// coordinate axis least aligned with a; when a or b is zero (no direction) the
// result is all zeros.
func Slerp(a, b []float32, t float64) []float32 {
	sameLen("Slerp", len(a), len(b))
	out := make([]float32, len(a))
	ua, na := unit64(a)
	ub, nb := unit64(b)
	if na == 0 || nb == 0 {
		return out
	}
	d := math.Max(-1, math.Min(1, dot64(ua, ub))) // rounding can push |d| past 1
	p := t * math.Acos(d)
	c := make([]float64, len(a))
	for i := range c {
		c[i] = ub[i] - d*ua[i]
	}
	nc := norm64(c)
	if nc == 0 {
		if d > 0 {
			return to32(ua) // same direction: every point of the walk is a
		}
		nc = perpendicular(ua, c)
		if nc == 0 { // one dimension: the "sphere" is {-1, +1}
			if t < 0.5 {
				return to32(ua)
			}
			return to32(ub)
		}
	}
	cp, sp := math.Cos(p), math.Sin(p)
	res := make([]float64, len(a))
	for i := range res {
		res[i] = ua[i]*cp + c[i]/nc*sp
	}
	n := norm64(res)
	for i := range out {
		out[i] = float32(res[i] / n)
	}
	return out
}

// SlerpZ is Slerp rescaled to the straight-line interpolation of the two
// norms, (1-t)|a| + t|b|, so a walk between two seeds' z stays at z's scale
// (about sqrt(dim)) and its endpoints are a and b. StyleGAN's mapping network
// starts with pixel norm, so the scale does not change the picture; it matters
// to anything else that reads z. If a or b is zero there is no direction to
// follow, and SlerpZ returns Lerp(a, b, t).
func SlerpZ(a, b []float32, t float64) []float32 {
	sameLen("SlerpZ", len(a), len(b))
	na, nb := norm32(a), norm32(b)
	if na == 0 || nb == 0 {
		return Lerp(a, b, t)
	}
	out := Slerp(a, b, t)
	scale := (1-t)*na + t*nb
	for i, v := range out {
		out[i] = float32(float64(v) * scale)
	}
	return out
}

// Truncate applies the truncation trick to one style vector:
//
//	w' = avg + psi·(w - avg)
//
// (NVlabs: dlatents = lerp(dlatent_avg, dlatents, truncation_psi)). psi = 1
// returns w and psi = 0 returns avg, bit for bit.
func Truncate(w, avg []float32, psi float64) []float32 {
	sameLen("Truncate", len(w), len(avg))
	out := make([]float32, len(w))
	for i := range w {
		// The (1-psi)·avg + psi·w form of the same formula keeps both ends exact.
		out[i] = float32((1-psi)*float64(avg[i]) + psi*float64(w[i]))
	}
	return out
}

func sameLen(fn string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("latent: %s of vectors of length %d and %d", fn, a, b))
	}
}

// unit64 returns v/|v| in float64 and |v|; for a zero v it returns zeros and 0.
func unit64(v []float32) ([]float64, float64) {
	u := make([]float64, len(v))
	n := norm32(v)
	if n == 0 {
		return u, 0
	}
	for i, x := range v {
		u[i] = float64(x) / n
	}
	return u, n
}

// norm32 is the L2 norm in float64. Squares of float32 values can neither
// overflow nor underflow a float64, so no scaling is needed.
func norm32(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func norm64(v []float64) float64 { return math.Sqrt(dot64(v, v)) }

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// perpendicular writes into c a vector orthogonal to the unit vector u (the
// axis least aligned with u, made orthogonal by one Gram-Schmidt step) and
// returns its norm; 0 only when len(u) == 1.
func perpendicular(u, c []float64) float64 {
	k := 0
	for i := range u {
		if math.Abs(u[i]) < math.Abs(u[k]) {
			k = i
		}
	}
	for i := range c {
		c[i] = -u[k] * u[i]
	}
	c[k]++
	n := norm64(c)
	if n < 1e-12 { // len(u) == 1 leaves only rounding noise
		return 0
	}
	return n
}
