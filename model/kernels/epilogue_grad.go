package kernels

import (
	"math"

	"stylegan-tui/model/kernels/simd"
)

// StyleEpilogueGrad writes gx and the side gradients (strength and bias [C], scale and shift
// [B,C]) of StyleEpilogue for the output gradient gy. Planes are split over the cores; the
// per-channel sums over the batch are added in batch order afterwards, so that a run gives
// the same bits as the last one.
func StyleEpilogueGrad[T Float](gx, x, noise, strength, bias, scale, gy []T, batch, c, hw int, noiseBatch bool, slope T, eps float64,
	gStrength, gBias, gScale, gShift []T) {
	planes := batch * c
	pp := getBuf[float64](2 * planes)
	defer putBuf(pp)
	pBias, pStrength := (*pp)[:planes], (*pp)[planes:]
	parallelFor(planes, 8*planes*hw, func(p0, p1 int) {
		tp := getBuf[T](hw)
		defer putBuf(tp)
		t := *tp
		for p := p0; p < p1; p++ {
			b, ch := p/c, p%c
			nz := noise[:hw]
			if noiseBatch {
				nz = noise[b*hw : (b+1)*hw]
			}
			var bb T
			if bias != nil {
				bb = bias[ch]
			}
			xp, gp, dp := x[p*hw:(p+1)*hw], gy[p*hw:(p+1)*hw], gx[p*hw:(p+1)*hw]
			if is32[T]() && simd.Available && epiKernelOn && hw >= 8 {
				gs, gsx, sb, sn := epiGradPlane32(as32(dp), as32(t), as32(xp), as32(nz), as32(gp),
					float32(strength[ch]), float32(bb), float32(slope), float32(scale[p]), eps)
				gShift[p], gScale[p], pBias[p], pStrength[p] = T(gs), T(gsx), sb, sn
				continue
			}
			k := slope - 1
			var sum float64
			for j, v := range xp {
				u := leaky(v+nz[j]*strength[ch]+bb, k)
				t[j] = u
				sum += float64(u)
			}
			mean, inv := planeStatsMean(t, sum/float64(hw), eps)
			var sg, sgx float64
			for j, v := range gp {
				sg += float64(v)
				sgx += float64(v) * (float64(t[j]) - mean) * inv
			}
			n := float64(hw)
			c1, c2, kk := sg/n, sgx/n, inv*float64(scale[p])
			var sb, sn float64
			for j, v := range gp {
				xn := (float64(t[j]) - mean) * inv
				d := kk * (float64(v) - c1 - xn*c2)
				if math.Signbit(float64(t[j])) {
					d *= float64(slope)
				}
				dp[j] = T(d)
				sb += float64(dp[j])
				sn += float64(dp[j]) * float64(nz[j])
			}
			gShift[p], gScale[p], pBias[p], pStrength[p] = T(sg), T(sgx), sb, sn
		}
	})
	for ch := 0; ch < c; ch++ {
		var sb, sn float64
		for b := 0; b < batch; b++ {
			sb += pBias[b*c+ch]
			sn += pStrength[b*c+ch]
		}
		gBias[ch], gStrength[ch] = T(sb), T(sn)
	}
}

// epiGradPlane32 is one plane of StyleEpilogueGrad with the AVX2 loops: t and its statistics
// as epiPlane32 computes them, then the scale and shift gradients (EpiDots) and the input
// gradient with its bias and strength sums (EpiGrad). It returns Σg, Σg·x̂, Σgx and Σgx·nz.
func epiGradPlane32(gx, t, xp, nz, gy []float32, s, b, slope, scale float32, eps float64) (sg, sgx, sb, sn float64) {
	n := len(xp)
	n8 := n &^ 7
	mean, inv := epiStats32(t, xp, nz, s, b, slope, eps)
	m, a := float32(mean), float32(inv)
	sg, sgx = simd.EpiDots(&t[0], &gy[0], n8, m, a)
	for j := n8; j < n; j++ {
		sg += float64(gy[j])
		sgx += float64(gy[j] * ((t[j] - m) * a))
	}
	c1, c2, k := float32(sg/float64(n)), float32(sgx/float64(n)), float32(inv*float64(scale))
	sb, sn = simd.EpiGrad(&gx[0], &t[0], &gy[0], &nz[0], n8, m, a, k, c1, c2, slope)
	for j := n8; j < n; j++ {
		g := (gy[j] - c1 - (t[j]-m)*a*c2) * k
		if math.Signbit(float64(t[j])) {
			g *= slope
		}
		gx[j] = g
		sb += float64(g)
		sn += float64(g * nz[j])
	}
	return sg, sgx, sb, sn
}
