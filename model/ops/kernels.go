package ops

import (
	"math"

	"stylegan-tui/model/ops/simd"
)

// Plain kernels on NCHW slices. "planes" is B·C, each plane h×w. Kernels whose output element
// depends only on the same input element (or the same plane) accept dst == x.

// upsample2x: nearest-neighbour ×2, dst[p, 2i+a, 2j+b] = s·x[p,i,j].
func upsample2x[T float](dst, x []T, planes, h, w int, s T) {
	parallelFor(planes, 4*planes*h*w, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xp := x[p*h*w : (p+1)*h*w]
			dp := dst[p*4*h*w : (p+1)*4*h*w]
			for i := 0; i < h; i++ {
				src := xp[i*w : (i+1)*w]
				d0 := dp[2*i*2*w : (2*i+1)*2*w]
				for j, v := range src {
					v *= s
					d0[2*j], d0[2*j+1] = v, v
				}
				copy(dp[(2*i+1)*2*w:(2*i+2)*2*w], d0)
			}
		}
	})
}

// downsample2x: 2×2 sum pool times s, dst[p,i,j] = s·Σ_{a,b} x[p,2i+a,2j+b]; x is 2h×2w.
func downsample2x[T float](dst, x []T, planes, h, w int, s T) {
	parallelFor(planes, 4*planes*h*w, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xp := x[p*4*h*w : (p+1)*4*h*w]
			dp := dst[p*h*w : (p+1)*h*w]
			for i := 0; i < h; i++ {
				a := xp[2*i*2*w : (2*i+1)*2*w]
				b := xp[(2*i+1)*2*w : (2*i+2)*2*w]
				d := dp[i*w : (i+1)*w]
				for j := range d {
					d[j] = s * (a[2*j] + a[2*j+1] + b[2*j] + b[2*j+1])
				}
			}
		}
	})
}

// blur: depthwise [1,2,1]ᵀ[1,2,1]/16 with zero padding 1, as a horizontal then a vertical pass
// over a rolling window of three filtered rows. dst may equal x.
func blur[T float](dst, x []T, planes, h, w int) {
	if is32[T]() && simd.Available && elemKernelOn && w%8 == 0 {
		blur32(as32(dst), as32(x), planes, h, w)
		return
	}
	parallelFor(planes, 9*planes*h*w, func(p0, p1 int) {
		buf := make([]T, 3*w)
		hrow := func(dst, src []T) {
			if w == 1 {
				dst[0] = src[0] / 2
				return
			}
			dst[0] = (2*src[0] + src[1]) / 4
			for j := 1; j < w-1; j++ {
				dst[j] = (src[j-1] + 2*src[j] + src[j+1]) / 4
			}
			dst[w-1] = (src[w-2] + 2*src[w-1]) / 4
		}
		for p := p0; p < p1; p++ {
			xp := x[p*h*w : (p+1)*h*w]
			dp := dst[p*h*w : (p+1)*h*w]
			// rows i-1, i, i+1 of the horizontally filtered plane live in buf[(r%3)·w:].
			row := func(r int) []T { return buf[(r%3)*w : (r%3+1)*w] }
			hrow(row(0), xp[0:w])
			if h > 1 {
				hrow(row(1), xp[w:2*w])
			}
			for i := 0; i < h; i++ {
				// row i+1 must be filtered before row i of dst is written (dst may be x), and
				// row i-1's slot is the one row i+2 will reuse.
				cur := row(i)
				d := dp[i*w : (i+1)*w]
				switch {
				case h == 1:
					for j := range d {
						d[j] = cur[j] / 2
					}
				case i == 0:
					nx := row(1)
					for j := range d {
						d[j] = (2*cur[j] + nx[j]) / 4
					}
				case i == h-1:
					pv := row(i + 2) // == row(i-1)
					for j := range d {
						d[j] = (pv[j] + 2*cur[j]) / 4
					}
				default:
					pv, nx := row(i+2), row(i+1)
					for j := range d {
						d[j] = (pv[j] + 2*cur[j] + nx[j]) / 4
					}
				}
				if i+2 < h {
					hrow(row(i+2), xp[(i+2)*w:(i+3)*w])
				}
			}
		}
	})
}

// elemKernelOn lets tests compare the AVX2 element-wise loops (blur, LeakyReLU, bias) with the
// portable ones.
var elemKernelOn = true

// blur32 is blur with the AVX2 row passes (w a multiple of 8): per output row, the vertical
// [1,2,1] sum of three input rows into a row padded with a zero at each end, then the
// horizontal [1,2,1] and the 1/16.
func blur32(dst, x []float32, planes, h, w int) {
	parallelFor(planes, 9*planes*h*w, func(p0, p1 int) {
		buf := make([]float32, 3*w+2)
		t, prev, zero := buf[:w+2], buf[w+2:2*w+2], buf[2*w+2:] // t[0], t[w+1] and zero stay 0
		for p := p0; p < p1; p++ {
			xp, dp := x[p*h*w:(p+1)*h*w], dst[p*h*w:(p+1)*h*w]
			inPlace := &xp[0] == &dp[0]
			for i := 0; i < h; i++ {
				a, c := zero, zero
				if i > 0 {
					a = xp[(i-1)*w:]
					if inPlace {
						a = prev // row i-1 as it was before dst's row i-1 replaced it
					}
				}
				if i+1 < h {
					c = xp[(i+1)*w:]
				}
				simd.Sum121(&t[1], &a[0], &xp[i*w], &c[0], w)
				if inPlace {
					copy(prev, xp[i*w:(i+1)*w])
				}
				simd.HBlur121(&dp[i*w], &t[0], w, 1.0/16)
			}
		}
	})
}

// planeStats returns the mean and 1/sqrt(biased variance + eps) of a plane (two passes, float64
// accumulation).
func planeStats[T float](x []T, eps float64) (mean, inv float64) {
	return planeStatsMean(x, sum4(x)/float64(len(x)), eps)
}

// sum4 returns Σx in float64 with four independent accumulators (one chain of dependent adds
// would be latency bound).
func sum4[T float](x []T) float64 {
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
func dot4[T float](a, b []T) float64 {
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

// instanceNorm: dst[p] = (x[p]-mean)/sqrt(var+eps) per plane. dst may equal x.
func instanceNorm[T float](dst, x []T, planes, hw int, eps float64) {
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

// instanceNormGrad: dx = inv·(g - mean(g) - y·mean(g·y)) with y the normalized x.
func instanceNormGrad[T float](dx, x, g []T, planes, hw int, eps float64) {
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

// modulate: dst[p] = x[p]·scale[p] + shift[p] per plane p = b·C+c; shift may be nil. dst may
// equal x.
func modulate[T float](dst, x, scale, shift []T, planes, hw int) {
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

// planeSum: dst[p] = Σ_j a[p,j]·b[p,j] (b nil: Σ_j a[p,j]).
func planeSum[T float](dst, a, b []T, planes, hw int) {
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

// addNoise: dst[b,c] = x[b,c] + noise[b or 0]·strength[c]. dst may equal x.
func addNoise[T float](dst, x, noise, strength []T, batch, c, hw int, noiseBatch bool) {
	parallelFor(batch*c, batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			b, ch := p/c, p%c
			nb := noise[:hw]
			if noiseBatch {
				nb = noise[b*hw : (b+1)*hw]
			}
			s := strength[ch]
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			for j, v := range xp {
				dp[j] = v + nb[j]*s
			}
		}
	})
}

// noiseGrad: dn[b' ,j] = Σ_c g[b,c,j]·strength[c], summed over the batch when the noise has
// batch 1.
func noiseGrad[T float](dn, g, strength []T, batch, c, hw int, noiseBatch bool) {
	nb := 1
	if noiseBatch {
		nb = batch
	}
	clear(dn[:nb*hw])
	for b := 0; b < batch; b++ {
		d := dn[:hw]
		if noiseBatch {
			d = dn[b*hw : (b+1)*hw]
		}
		for ch := 0; ch < c; ch++ {
			s := strength[ch]
			gp := g[(b*c+ch)*hw : (b*c+ch+1)*hw]
			for j, v := range gp {
				d[j] += v * s
			}
		}
	}
}

// channelSum: dst[c] = Σ_{b,j} a[b,c,j]·n[b or 0,j] (n nil: Σ_{b,j} a[b,c,j]).
func channelSum[T float](dst, a, n []T, batch, c, hw int, noiseBatch bool) {
	parallelFor(c, batch*c*hw, func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			var s float64
			for b := 0; b < batch; b++ {
				ap := a[(b*c+ch)*hw : (b*c+ch+1)*hw]
				if n == nil {
					s += sum4(ap)
					continue
				}
				np := n[:hw]
				if noiseBatch {
					np = n[b*hw : (b+1)*hw]
				}
				s += dot4(ap, np)
			}
			dst[ch] = T(s)
		}
	})
}

// addBias: dst[b,c] = x[b,c] + bias[c]. dst may equal x.
func addBias[T float](dst, x, bias []T, batch, c, hw int) {
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

// leakyReLU: dst = x if x ≥ 0 else slope·x. dst may equal x. Branch-free (the factor comes from
// the sign bit): random signs would defeat the branch predictor.
func leakyReLU[T float](dst, x []T, slope T) {
	leakyScale(dst, x, nil, slope)
}

// leakyReLUGrad: dx = g if x ≥ 0 else slope·g.
func leakyReLUGrad[T float](dx, x, g []T, slope T) {
	leakyScale(dx, x, g, slope)
}

// leakyScale writes dst = f(x)·g (g nil: f(x)·x) with f = 1 for x ≥ 0, slope for x < 0.
func leakyScale[T float](dst, x, g []T, slope T) {
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

// mbstdEps is NVlabs' epsilon inside the square root of minibatch_stddev_layer.
const mbstdEps = 1e-8

// mbstdGroup clamps the group size to the batch as NVlabs does (tf.minimum(group_size, N)).
func mbstdGroup(group, batch int) int {
	if group <= 0 || group > batch {
		return batch
	}
	return group
}

// minibatchStddev appends one feature map to x [B,C,H,W]: sample b = g·M+m (M = B/group) gets
// s_m = mean over (c,h,w) of sqrt(var over g of x[g·M+m,c,h,w] + 1e-8), as NVlabs'
// minibatch_stddev_layer with num_new_features=1. dst is [B,C+1,H,W].
func minibatchStddev[T float](dst, x []T, batch, c, hw, group int) {
	gs := mbstdGroup(group, batch)
	m := batch / gs
	chw := c * hw
	for b := 0; b < batch; b++ {
		copy(dst[b*(chw+hw):b*(chw+hw)+chw], x[b*chw:(b+1)*chw])
	}
	for mi := 0; mi < m; mi++ {
		var acc float64
		for k := 0; k < chw; k++ {
			var mean float64
			for g := 0; g < gs; g++ {
				mean += float64(x[(g*m+mi)*chw+k])
			}
			mean /= float64(gs)
			var v float64
			for g := 0; g < gs; g++ {
				d := float64(x[(g*m+mi)*chw+k]) - mean
				v += d * d
			}
			acc += math.Sqrt(v/float64(gs) + mbstdEps)
		}
		s := T(acc / float64(chw))
		for g := 0; g < gs; g++ {
			b := g*m + mi
			f := dst[b*(chw+hw)+chw : (b+1)*(chw+hw)]
			for j := range f {
				f[j] = s
			}
		}
	}
}

// minibatchStddevGrad: dx = g[:, :C] + (x - μ)/(C·H·W·group·σ) · Σ_{group members, h,w} g[:, C].
func minibatchStddevGrad[T float](dx, x, gy []T, batch, c, hw, group int) {
	gs := mbstdGroup(group, batch)
	m := batch / gs
	chw := c * hw
	for b := 0; b < batch; b++ {
		copy(dx[b*chw:(b+1)*chw], gy[b*(chw+hw):b*(chw+hw)+chw])
	}
	for mi := 0; mi < m; mi++ {
		var gm float64
		for g := 0; g < gs; g++ {
			b := g*m + mi
			for _, v := range gy[b*(chw+hw)+chw : (b+1)*(chw+hw)] {
				gm += float64(v)
			}
		}
		f := gm / float64(chw*gs)
		for k := 0; k < chw; k++ {
			var mean float64
			for g := 0; g < gs; g++ {
				mean += float64(x[(g*m+mi)*chw+k])
			}
			mean /= float64(gs)
			var v float64
			for g := 0; g < gs; g++ {
				d := float64(x[(g*m+mi)*chw+k]) - mean
				v += d * d
			}
			sigma := math.Sqrt(v/float64(gs) + mbstdEps)
			for g := 0; g < gs; g++ {
				i := (g*m+mi)*chw + k
				dx[i] += T((float64(x[i]) - mean) / sigma * f)
			}
		}
	}
}

// Exported float32 kernels for the inference path. Sizes are in elements; each panics if a
// slice is too short.

// Upsample2xF32 writes the nearest-neighbour ×2 upsampling of x [B,C,H,W] to dst [B,C,2H,2W].
func Upsample2xF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), 4*B*C*H*W)
	upsample2x(dst, x, B*C, H, W, 1)
}

// Downsample2xF32 writes the 2×2 average pool of x [B,C,H,W] (H, W even) to dst [B,C,H/2,W/2].
func Downsample2xF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*(H/2)*(W/2))
	downsample2x(dst, x, B*C, H/2, W/2, 0.25)
}

// BlurF32 writes StyleGAN's blur ([1,2,1]ᵀ[1,2,1]/16 per channel, zero padding 1) of
// x [B,C,H,W] to dst (same size). dst may equal x.
func BlurF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	blur(dst, x, B*C, H, W)
}

// InstanceNormF32 normalizes each [H,W] plane of x [B,C,H,W] to zero mean and unit (biased)
// variance: dst = (x-mean)/sqrt(var+eps). dst may equal x.
func InstanceNormF32(dst, x []float32, B, C, H, W int, eps float64) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	instanceNorm(dst, x, B*C, H*W, eps)
}

// ModulateF32 computes dst = x·scale[b,c] + shift[b,c] for x [B,C,H,W], scale and shift [B,C];
// shift may be nil. dst may equal x.
func ModulateF32(dst, x, scale, shift []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("scale", len(scale), B*C)
	if shift != nil {
		checkLen("shift", len(shift), B*C)
	}
	modulate(dst, x, scale, shift, B*C, H*W)
}

// AddNoiseF32 computes dst = x + noise·strength[c] for x [B,C,H,W], noise [B,1,H,W] or
// [1,1,H,W] (by its length), strength [C]. dst may equal x.
func AddNoiseF32(dst, x, noise, strength []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("noise", len(noise), H*W)
	checkLen("strength", len(strength), C)
	addNoise(dst, x, noise, strength, B, C, H*W, B > 1 && len(noise) >= B*H*W)
}

// AddBiasF32 computes dst = x + bias[c] for x [B,C,H,W]. dst may equal x.
func AddBiasF32(dst, x, bias []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("bias", len(bias), C)
	addBias(dst, x, bias, B, C, H*W)
}

// LeakyReLUF32 computes dst = x for x > 0, slope·x otherwise. dst may equal x.
func LeakyReLUF32(dst, x []float32, slope float32) {
	checkLen("dst", len(dst), len(x))
	leakyReLU(dst[:len(x)], x, slope)
}
