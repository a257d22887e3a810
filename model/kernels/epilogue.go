package kernels

import (
	"math"

	"stylegan-tui/model/kernels/simd"
)

// StyleEpilogue: per plane p = b·C+c, t = leaky(x + noise[b or 0]·strength[c] + bias[c]), then
// dst = (t - mean)/sqrt(var + eps)·scale[p] + shift[p]. bias may be nil. dst may equal x.
func StyleEpilogue[T Float](dst, x, noise, strength, bias, scale, shift []T, batch, c, hw int, noiseBatch bool, slope T, eps float64) {
	k := slope - 1
	parallelFor(batch*c, 4*batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			b, ch := p/c, p%c
			nz := noise[:hw]
			if noiseBatch {
				nz = noise[b*hw : (b+1)*hw]
			}
			s := strength[ch]
			var bb T
			if bias != nil {
				bb = bias[ch]
			}
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			nz = nz[:len(xp)]
			dp = dp[:len(xp)]
			if is32[T]() && simd.Available && epiKernelOn && hw >= 8 {
				epiPlane32(any(dp).([]float32), any(xp).([]float32), any(nz).([]float32),
					float32(s), float32(bb), float32(1+k), float32(scale[p]), float32(shift[p]), eps)
				continue
			}
			var s0, s1, s2, s3 float64
			j := 0
			for ; j+4 <= len(xp); j += 4 {
				t0 := xp[j] + nz[j]*s + bb
				t1 := xp[j+1] + nz[j+1]*s + bb
				t2 := xp[j+2] + nz[j+2]*s + bb
				t3 := xp[j+3] + nz[j+3]*s + bb
				t0, t1, t2, t3 = leaky(t0, k), leaky(t1, k), leaky(t2, k), leaky(t3, k)
				dp[j], dp[j+1], dp[j+2], dp[j+3] = t0, t1, t2, t3
				s0 += float64(t0)
				s1 += float64(t1)
				s2 += float64(t2)
				s3 += float64(t3)
			}
			for ; j < len(xp); j++ {
				t := xp[j] + nz[j]*s + bb
				t = leaky(t, k)
				dp[j] = t
				s0 += float64(t)
			}
			mean, inv := planeStatsMean(dp, (s0+s1+s2+s3)/float64(hw), eps)
			m, a, b0 := T(mean), T(inv*float64(scale[p])), shift[p]
			for j, v := range dp {
				dp[j] = (v-m)*a + b0
			}
		}
	})
}

// epiKernelOn lets tests compare the AVX2 plane loop against the portable one.
var epiKernelOn = true

// epiPlane32 is one plane of StyleEpilogue with the AVX2 loops: a fused noise, bias and
// LeakyReLU pass that also sums t and t² in float64, then one pass for the instance norm
// and the style (variance as E[t²] − mean², which float64 sums keep accurate here).
func epiPlane32(dp, xp, nz []float32, s, b, slope, scale, shift float32, eps float64) {
	n := len(xp)
	n8 := n &^ 7
	mean, inv := epiStats32(dp, xp, nz, s, b, slope, eps)
	m, a := float32(mean), float32(inv*float64(scale))
	simd.NormAffine(&dp[0], n8, m, a, shift)
	for j := n8; j < n; j++ {
		dp[j] = (dp[j]-m)*a + shift
	}
}

// epiStats32 writes t = LeakyReLU(x + nz·s + b) to dp (AVX2, the tail in Go) and returns
// the mean of t and 1/sqrt(its biased variance + eps).
func epiStats32(dp, xp, nz []float32, s, b, slope float32, eps float64) (mean, inv float64) {
	n := len(xp)
	n8 := n &^ 7
	sum, sq := simd.LeakySum(&dp[0], &xp[0], &nz[0], n8, s, b, slope)
	for j := n8; j < n; j++ {
		t := xp[j] + nz[j]*s + b
		if t < 0 {
			t *= slope
		}
		dp[j] = t
		sum += float64(t)
		sq += float64(t) * float64(t)
	}
	mean = sum / float64(n)
	return mean, 1 / math.Sqrt(max(sq/float64(n)-mean*mean, 0)+eps)
}

// planeStatsMean returns mean and 1/sqrt(biased variance + eps) of x given its mean.
func planeStatsMean[T Float](x []T, mean, eps float64) (float64, float64) {
	var q0, q1, q2, q3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		d0, d1, d2, d3 := float64(x[j])-mean, float64(x[j+1])-mean, float64(x[j+2])-mean, float64(x[j+3])-mean
		q0 += d0 * d0
		q1 += d1 * d1
		q2 += d2 * d2
		q3 += d3 * d3
	}
	for ; j < len(x); j++ {
		d := float64(x[j]) - mean
		q0 += d * d
	}
	return mean, 1 / math.Sqrt((q0+q1+q2+q3)/float64(len(x))+eps)
}

// leaky returns t·(1 + k·[t < 0]) (LeakyReLU with slope 1+k), branch-free: the factor comes from
// the sign bit (random signs would defeat the branch predictor).
func leaky[T Float](t, k T) T {
	if is32[T]() {
		v := float32(t)
		return T(v * (1 + float32(k)*float32(math.Float32bits(v)>>31)))
	}
	v := float64(t)
	return T(v * (1 + float64(k)*float64(math.Float64bits(v)>>63)))
}
