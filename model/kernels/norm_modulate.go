package kernels

import ()

// planeStats returns the mean and 1/sqrt(biased variance + eps) of a plane (two passes, float64
// accumulation).
func planeStats[T Float](x []T, eps float64) (mean, inv float64) {
	return planeStatsMean(x, sum4(x)/float64(len(x)), eps)
}

// sum4 returns Σx in float64 with four independent accumulators (one chain of dependent adds
// would be latency bound).
func sum4[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		s0 += float64(x[j])
		s1 += float64(x[j+1])
		s2 += float64(x[j+2])
		s3 += float64(x[j+3])
	}
	for ; j < len(x); j++ {
		s0 += float64(x[j])
	}
	return s0 + s1 + s2 + s3
}

// dot4 returns Σa·b in float64 with four accumulators.
func dot4[T Float](a, b []T) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(a); j += 4 {
		s0 += float64(a[j]) * float64(b[j])
		s1 += float64(a[j+1]) * float64(b[j+1])
		s2 += float64(a[j+2]) * float64(b[j+2])
		s3 += float64(a[j+3]) * float64(b[j+3])
	}
	for ; j < len(a); j++ {
		s0 += float64(a[j]) * float64(b[j])
	}
	return s0 + s1 + s2 + s3
}

// InstanceNorm: dst[p] = (x[p]-mean)/sqrt(var+eps) per plane. dst may equal x.
func InstanceNorm[T Float](dst, x []T, planes, hw int, eps float64) {
	parallelFor(planes, 3*planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			mean, inv := planeStats(xp, eps)
			m, s := T(mean), T(inv)
			for j, v := range xp {
				dp[j] = (v - m) * s
			}
		}
	})
}

// InstanceNormGrad: dx = inv·(g - mean(g) - y·mean(g·y)) with y the normalized x.
func InstanceNormGrad[T Float](dx, x, g []T, planes, hw int, eps float64) {
	parallelFor(planes, 5*planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xp, gp, dp := x[p*hw:(p+1)*hw], g[p*hw:(p+1)*hw], dx[p*hw:(p+1)*hw]
			mean, inv := planeStats(xp, eps)
			// Σg·y = inv·(Σg·x - mean·Σg)
			sg := sum4(gp)
			sgy := inv * (dot4(gp, xp) - mean*sg)
			n := float64(hw)
			mg, mgy := sg/n, sgy/n
			for j, v := range xp {
				y := (float64(v) - mean) * inv
				dp[j] = T(inv * (float64(gp[j]) - mg - y*mgy))
			}
		}
	})
}

// Modulate: dst[p] = x[p]·scale[p] + shift[p] per plane p = b·C+c; shift may be nil. dst may
// equal x.
func Modulate[T Float](dst, x, scale, shift []T, planes, hw int) {
	parallelFor(planes, planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			s := scale[p]
			var t T
			if shift != nil {
				t = shift[p]
			}
			for j, v := range xp {
				dp[j] = v*s + t
			}
		}
	})
}

// PlaneSum: dst[p] = Σ_j a[p,j]·b[p,j] (b nil: Σ_j a[p,j]).
func PlaneSum[T Float](dst, a, b []T, planes, hw int) {
	parallelFor(planes, planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			ap := a[p*hw : (p+1)*hw]
			if b == nil {
				dst[p] = T(sum4(ap))
			} else {
				dst[p] = T(dot4(ap, b[p*hw:(p+1)*hw]))
			}
		}
	})
}
