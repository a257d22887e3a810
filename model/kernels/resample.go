package kernels

import (
	"stylegan-tui/model/kernels/simd"
)

// Upsample2x: nearest-neighbour ×2, dst[p, 2i+a, 2j+b] = s·x[p,i,j].
func Upsample2x[T Float](dst, x []T, planes, h, w int, s T) {
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

// Downsample2x: 2×2 sum pool times s, dst[p,i,j] = s·Σ_{a,b} x[p,2i+a,2j+b]; x is 2h×2w.
func Downsample2x[T Float](dst, x []T, planes, h, w int, s T) {
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

// Blur: depthwise [1,2,1]ᵀ[1,2,1]/16 with zero padding 1, as a horizontal then a vertical pass
// over a rolling window of three filtered rows. dst may equal x.
func Blur[T Float](dst, x []T, planes, h, w int) {
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

// Downsample2xF32 writes the 2×2 average pool of x [B,C,H,W] (H, W even) to dst [B,C,H/2,W/2].
func Downsample2xF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*(H/2)*(W/2))
	Downsample2x(dst, x, B*C, H/2, W/2, 0.25)
}
