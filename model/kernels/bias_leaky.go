package kernels

import (
	"math"

	"stylegan-tui/model/kernels/simd"
)

// BiasLeakyReLU: dst[b,c] = LeakyReLU(x[b,c] + bias[c]). dst may equal x.
func BiasLeakyReLU[T Float](dst, x, bias []T, batch, c, hw int, slope T) {
	parallelFor(batch*c, 2*batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			s := bias[p%c]
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			if is32[T]() && simd.Available && elemKernelOn && hw >= 8 {
				n8 := hw &^ 7
				simd.BiasLeaky(&as32(dp)[0], &as32(xp)[0], n8, float32(s), float32(slope))
				xp, dp = xp[n8:], dp[n8:]
			}
			for j, v := range xp {
				u := v + s
				if math.Signbit(float64(u)) {
					u *= slope
				}
				dp[j] = u
			}
		}
	})
}

// BiasLeakyReLUGrad: gx = gy where y ≥ 0 (sign bit clear), slope·gy elsewhere; gb[c] = Σ_{b,h,w} gx,
// the planes' sums added in batch order.
func BiasLeakyReLUGrad[T Float](gx, y, gy, gb []T, batch, c, hw int, slope T) {
	planes := batch * c
	pp := getBuf[float64](planes)
	defer putBuf(pp)
	sums := *pp
	parallelFor(planes, 2*planes*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			yp, gp, dp := y[p*hw:(p+1)*hw], gy[p*hw:(p+1)*hw], gx[p*hw:(p+1)*hw]
			var s float64
			if is32[T]() && simd.Available && elemKernelOn && hw >= 8 {
				n8 := hw &^ 7
				s = simd.LeakyGradSum(&as32(dp)[0], &as32(yp)[0], &as32(gp)[0], n8, float32(slope))
				yp, gp, dp = yp[n8:], gp[n8:], dp[n8:]
			}
			for j, v := range gp {
				if math.Signbit(float64(yp[j])) {
					v *= slope
				}
				dp[j] = v
				s += float64(v)
			}
			sums[p] = s
		}
	})
	for ch := 0; ch < c; ch++ {
		var s float64
		for b := 0; b < batch; b++ {
			s += sums[b*c+ch]
		}
		gb[ch] = T(s)
	}
}

// AddBias: dst[b,c] = x[b,c] + bias[c]. dst may equal x.
func AddBias[T Float](dst, x, bias []T, batch, c, hw int) {
	parallelFor(batch*c, batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			s := bias[p%c]
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			if is32[T]() && simd.Available && elemKernelOn && hw >= 8 {
				n8 := hw &^ 7
				simd.AddConst(&as32(dp)[0], &as32(xp)[0], n8, float32(s))
				xp, dp = xp[n8:], dp[n8:]
			}
			for j, v := range xp {
				dp[j] = v + s
			}
		}
	})
}

// LeakyReLU: dst = x if x ≥ 0 else slope·x. dst may equal x. Branch-free (the factor comes from
// the sign bit): random signs would defeat the branch predictor.
func LeakyReLU[T Float](dst, x []T, slope T) {
	leakyScale(dst, x, nil, slope)
}

// LeakyReLUGrad: dx = g if x ≥ 0 else slope·g.
func LeakyReLUGrad[T Float](dx, x, g []T, slope T) {
	leakyScale(dx, x, g, slope)
}

// leakyScale writes dst = f(x)·g (g nil: f(x)·x) with f = 1 for x ≥ 0, slope for x < 0.
func leakyScale[T Float](dst, x, g []T, slope T) {
	parallelFor(len(x), len(x), func(lo, hi int) {
		if is32[T]() {
			leakyScale32(as32(dst[lo:hi]), as32(x[lo:hi]), as32(g), lo, float32(slope))
		} else {
			leakyScale64(as64(dst[lo:hi]), as64(x[lo:hi]), as64(g), lo, float64(slope))
		}
	})
}

func leakyScale32(dst, x, g []float32, off int, slope float32) {
	if simd.Available && elemKernelOn && len(x) >= 8 {
		n8 := len(x) &^ 7
		gv := x
		if g != nil {
			gv = g[off : off+len(x)]
		}
		simd.LeakyScale(&dst[0], &x[0], &gv[0], n8, slope)
		if n8 == len(x) {
			return
		}
		dst, x = dst[n8:], x[n8:]
		if g != nil {
			off += n8
		}
	}
	k := slope - 1
	if g == nil {
		for j, v := range x {
			dst[j] = v * (1 + k*float32(math.Float32bits(v)>>31))
		}
		return
	}
	g = g[off : off+len(x)]
	for j, v := range x {
		dst[j] = g[j] * (1 + k*float32(math.Float32bits(v)>>31))
	}
}

func leakyScale64(dst, x, g []float64, off int, slope float64) {
	k := slope - 1
	if g == nil {
		for j, v := range x {
			dst[j] = v * (1 + k*float64(math.Float64bits(v)>>63))
		}
		return
	}
	g = g[off : off+len(x)]
	for j, v := range x {
		dst[j] = g[j] * (1 + k*float64(math.Float64bits(v)>>63))
	}
}

// AddBiasF32 computes dst = x + bias[c] for x [B,C,H,W]. dst may equal x.
func AddBiasF32(dst, x, bias []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("bias", len(bias), C)
	AddBias(dst, x, bias, B, C, H*W)
}

// LeakyReLUF32 computes dst = x for x > 0, slope·x otherwise. dst may equal x.
func LeakyReLUF32(dst, x []float32, slope float32) {
	checkLen("dst", len(dst), len(x))
	LeakyReLU(dst[:len(x)], x, slope)
}
