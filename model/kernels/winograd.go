package kernels

import "stylegan-tui/model/kernels/simd"

// Winograd F(2×2, 3×3) for 3×3, stride-1, pad-1 convolutions (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015, arXiv:1509.09308). Each 2×2 output tile is
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with d the 4×4 input tile around it. Summing over input channels
// turns the element-wise product into 16 GEMMs, M[ξ] = U[ξ] × V[ξ], with 4 multiplies per
// output pixel and channel pair instead of 9.
//
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 -1 -1]

// winogradBudget bounds the elements of the transformed input and output tiles of one chunk.
var winogradBudget = 1 << 21

// useWinograd decides the algorithm of a forward conv from BenchmarkConv2d (B=1, float32, 2
// shared cores, ratios over several runs): with gonum's BLAS, Winograd is 1.8-4x faster than
// im2col from 16×16 and 32 channels up, and slower at 8×8. With OpenBLAS it is 1.6-2.7x faster
// with 256-512 channels from 16×16 up when the weight's transform is cached (Freeze),
// 1.9-2.6x at 32×32+ when the weight is transformed on every call, and within ±10% of im2col
// with 32-128 channels at 256×256.
func useWinograd(cin, h, w, cout, k, pad int, cached bool) bool {
	if k != 3 || pad != 1 || cin < winogradMinC || cout < winogradMinC || h*w < winogradMinHW {
		return false
	}
	if !ExternalBLAS() || winogradMinC <= 1 {
		return true
	}
	if cached {
		return min(cin, cout) >= 64 && h*w >= 256
	}
	return min(cin, cout) >= 64 && h*w >= 1024
}

// Thresholds of useWinograd (variables so that tests can force either algorithm).
var winogradMinC, winogradMinHW = 16, 144

// winogradWeights transforms w [Cout,Cin,3,3] into u [16][Cout][Cin] = G g Gᵀ (matrices
// slabStride(Cout·Cin) apart), a block of kernels at a time so that the 16 output rows are
// written contiguously, blocks split over the cores.
func winogradWeights[T Float](u, w []T, cout, cin int) {
	n := cout * cin
	us := slabStride(n)
	const blk = 128
	parallelFor((n+blk-1)/blk, 25*n, func(b0, b1 int) {
		var tmp [16][blk]T
		for o0 := b0 * blk; o0 < min(b1*blk, n); o0 += blk {
			o1 := min(o0+blk, n)
			for oc := o0; oc < o1; oc++ {
				g := w[oc*9 : oc*9+9]
				var t [4][3]T
				for j := 0; j < 3; j++ {
					g0, g1, g2 := g[j], g[3+j], g[6+j]
					t[0][j] = g0
					t[1][j] = (g0 + g1 + g2) / 2
					t[2][j] = (g0 - g1 + g2) / 2
					t[3][j] = g2
				}
				k := oc - o0
				for r := 0; r < 4; r++ {
					t0, t1, t2 := t[r][0], t[r][1], t[r][2]
					tmp[r*4+0][k] = t0
					tmp[r*4+1][k] = (t0 + t1 + t2) / 2
					tmp[r*4+2][k] = (t0 - t1 + t2) / 2
					tmp[r*4+3][k] = t2
				}
			}
			for xi := range tmp {
				copy(u[xi*us+o0:xi*us+o1], tmp[xi][:o1-o0])
			}
		}
	})
}

// winogradLen is the length of a transformed weight.
func winogradLen(cout, cin int) int { return 16 * slabStride(cout*cin) }

// winogradConv2d convolves x [B,Cin,H,W] with a 3×3 pad-1 kernel into y [B,Cout,H,W]. u is the
// transformed weight; if it is nil, w [Cout,Cin,3,3] is transformed first.
func winogradConv2d[T Float](y, x, w, u []T, batch, cin, h, wd, cout int) {
	if u == nil {
		up := getBuf[T](winogradLen(cout, cin))
		defer putBuf(up)
		u = *up
		winogradWeights(u, w, cout, cin)
	}
	us := slabStride(cout * cin)
	th, tw := (h+1)/2, (wd+1)/2
	if is32[T]() && useWinogradFused(cin, cout, th*tw) {
		winogradFused(as32(y), as32(x), as32(u), us, batch, cin, h, wd, cout)
		return
	}
	rb := winogradBudget / (16 * (cin + cout) * tw) // tile rows per chunk
	rb = max(1, min(rb, th))
	packed := winogradPacked[T](cin, cout)
	np := rb * tw
	if packed {
		np = (np + 15) &^ 15
	}
	vs, ms := slabStride(cin*np), slabStride(cout*np)
	vp := getBuf[T](16 * vs)
	mp := getBuf[T](16 * ms)
	defer putBuf(vp)
	defer putBuf(mp)
	v, m := *vp, *mp
	in, out := cin*h*wd, cout*h*wd
	for b := 0; b < batch; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for t0 := 0; t0 < th; t0 += rb {
			t1 := min(t0+rb, th)
			n := (t1 - t0) * tw
			lv, lm := tileLayout{cin, n, packed}, tileLayout{cout, n, packed}
			parallelFor(cin, 16*cin*n, func(c0, c1 int) {
				winogradInput(v, vs, lv, xb, h, wd, t0*tw, t1*tw, c0, c1)
			})
			if packed && n&15 != 0 { // zero the padding tiles: stale denormals would slow the kernel
				for xi := 0; xi < 16; xi++ {
					for c := 0; c < cin; c++ {
						at := xi*vs + lv.at(c, n)
						clear(v[at : at+16-n&15])
					}
				}
			}
			if packed {
				winogradGEMMPacked(as32(u), us, as32(v), vs, as32(m), ms, cout, cin, n)
			} else {
				gemms(16, 16*cout*n*cin, func(xi int) {
					gemm(false, false, cout, n, cin, 1, u[xi*us:], cin, v[xi*vs:], n, 0, m[xi*ms:], n)
				})
			}
			parallelFor(cout, 16*cout*n, func(o0, o1 int) {
				winogradOutput(yb, m, ms, lm, h, wd, t0*tw, t1*tw, o0, o1)
			})
		}
	}
}

// winogradPackOn lets tests compare the packed-panel layout with the plain one.
var winogradPackOn = true

// winogradPacked reports whether the 16 GEMMs of a forward conv run on the packed-panel
// layout: float32 with the pure-Go build's AVX2 kernel (an external BLAS packs on its own).
func winogradPacked[T Float](cin, cout int) bool {
	return winogradPackOn && is32[T]() && useSgemmKernel(false, false, cout, 16, cin, 1, 0) && cout%4 == 0
}

// tileLayout places element (row r, tile t) of one of the 16 matrices V[ξ] (rows = channels)
// or M[ξ]. Plain is row major, n tiles per row. Packed stores panels of 16 tiles, each panel
// row major [rows][16], so that the GEMM kernel reads its B operand and writes its C block
// contiguously instead of gathering rows n floats apart (often 4 KB: L1 aliasing and a TLB
// miss per row); the tiles past n in the last panel are padding that nothing reads back.
type tileLayout struct {
	rows, n int
	packed  bool
}

// run is how many of the next k tiles from t are contiguous.
func (l tileLayout) run(t, k int) int {
	if !l.packed {
		return k
	}
	return min(k, 16-t&15)
}

func (l tileLayout) at(r, t int) int {
	if !l.packed {
		return r*l.n + t
	}
	return ((t>>4)*l.rows+r)<<4 | t&15
}

// winogradGEMMPacked computes M[ξ] = U[ξ] × V[ξ] for the 16 ξ on packed layouts (u plain
// [Cout][Cin], us apart; v and m packed, vs and ms apart), one (ξ, panel) job at a time
// spread over the cores.
func winogradGEMMPacked(u []float32, us int, v []float32, vs int, m []float32, ms int, cout, cin, n int) {
	panels := (n + 15) / 16
	jobs := 16 * panels
	work := 16 * cout * cin * panels * 16
	parallelFor(jobs, work/64, func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			xi, q := j/panels, j%panels
			panelGEMM(u[xi*us:], v[xi*vs:], m[xi*ms:], cout, cin, q, q+1)
		}
	})
}

// slabStride is the distance between the 16 matrices V[ξ] (or M[ξ]) of k elements each: k
// rounded up to a cache line plus one more, so that the 16 streams the transforms read or write
// at once do not map to the same cache sets (k is often a multiple of 4 KB).
func slabStride(k int) int { return (k+15)/16*16 + 16 }

// winogradInput writes V[ξ][c][t−ta] = (Bᵀ d B)[ξ] for channels [c0,c1) and the tiles
// [ta,tb) of the image (row major, (w+1)/2 per row) into v, whose matrices are stride elements
// apart, in layout l.
func winogradInput[T Float](v []T, stride int, l tileLayout, x []T, h, w, ta, tb, c0, c1 int) {
	tw := (w + 1) / 2
	pw := 2*tw + 2 // padded row: column -1 .. 2tw
	buf := make([]T, 4*pw)
	r0, r1, r2, r3 := buf[0:pw], buf[pw:2*pw], buf[2*pw:3*pw], buf[3*pw:4*pw]
	rows := [4][]T{r0, r1, r2, r3}
	// With the AVX2 loops, the four row combinations of Bᵀ d are formed once per column (eo:
	// E0 O0 .. E3 O3 at the even and odd padded columns) and the tiles eight at a time.
	vec := is32[T]() && simd.Available && winogradVecOn
	ld := tw + 1
	var eo []float32
	if vec {
		eo = make([]float32, 8*ld)
	}
	for c := c0; c < c1; c++ {
		xc := x[c*h*w : (c+1)*h*w]
		for ty := ta / tw; ty*tw < tb; ty++ {
			for r, row := range rows {
				ii := 2*ty - 1 + r
				if ii < 0 || ii >= h {
					clear(row)
					continue
				}
				row[0] = 0
				copy(row[1:], xc[ii*w:(ii+1)*w])
				clear(row[1+w:])
			}
			// Runs of tiles that are contiguous in the layout (a whole row in the plain one,
			// up to a panel's end in the packed one); d holds their 16 destination runs.
			txa, txb := max(ta-ty*tw, 0), min(tb-ty*tw, tw)
			if vec {
				rowCombos(eo, ld, as32(r0), as32(r1), as32(r2), as32(r3), txa, txb)
			}
			for tx0, t := txa, ty*tw+txa-ta; tx0 < txb; {
				seg := l.run(t, txb-tx0)
				at := l.at(c, t)
				k0 := 0
				if vec {
					k0 = seg &^ 7
					if k0 > 0 {
						simd.WinogradIn(&as32(v)[at], stride, &eo[tx0], ld, k0)
					}
				}
				var d [16][]T
				if k0 < seg { // the scalar tail (or the portable loop) needs them
					for xi := range d {
						d[xi] = v[xi*stride+at : xi*stride+at+seg]
					}
				}
				for k := k0; k < seg; k++ {
					j := 2 * (tx0 + k)
					a, b, e, f := r0[j:j+4], r1[j:j+4], r2[j:j+4], r3[j:j+4]
					// t = Bᵀ d, column q of the 4×4 tile
					t00, t01, t02, t03 := a[0]-e[0], a[1]-e[1], a[2]-e[2], a[3]-e[3]
					t10, t11, t12, t13 := b[0]+e[0], b[1]+e[1], b[2]+e[2], b[3]+e[3]
					t20, t21, t22, t23 := e[0]-b[0], e[1]-b[1], e[2]-b[2], e[3]-b[3]
					t30, t31, t32, t33 := b[0]-f[0], b[1]-f[1], b[2]-f[2], b[3]-f[3]
					// V = t B
					d[0][k], d[1][k], d[2][k], d[3][k] = t00-t02, t01+t02, t02-t01, t01-t03
					d[4][k], d[5][k], d[6][k], d[7][k] = t10-t12, t11+t12, t12-t11, t11-t13
					d[8][k], d[9][k], d[10][k], d[11][k] = t20-t22, t21+t22, t22-t21, t21-t23
					d[12][k], d[13][k], d[14][k], d[15][k] = t30-t32, t31+t32, t32-t31, t31-t33
				}
				tx0, t = tx0+seg, t+seg
			}
		}
	}
}

// winogradVecOn lets tests compare the AVX2 transform loops with the portable ones.
var winogradVecOn = true

// combosKernelOn lets tests compare the AVX2 loops of the transforms' row combinations
// (rowCombos, convTCombos, down2xCombos) and of winogradGradInput with the portable ones.
var combosKernelOn = true

// rowCombos fills eo (rows ld apart) with the row combinations of Bᵀ d for padded columns
// 2·txa .. 2·txb+1: Ek[i] at column 2i and Ok[i] at 2i+1 of combination k of the padded input
// rows a, b, e, f: a−e, b+e, e−b, b−f.
func rowCombos(eo []float32, ld int, a, b, e, f []float32, txa, txb int) {
	if n8 := (txb - txa + 1) &^ 7; n8 > 0 && combosKernelOn {
		simd.RowCombos(&eo[txa], ld, &a[2*txa], &b[2*txa], &e[2*txa], &f[2*txa], n8)
		txa += n8
	}
	e0, o0, e1, o1 := eo[0:ld], eo[ld:2*ld], eo[2*ld:3*ld], eo[3*ld:4*ld]
	e2, o2, e3, o3 := eo[4*ld:5*ld], eo[5*ld:6*ld], eo[6*ld:7*ld], eo[7*ld:8*ld]
	for i := txa; i <= txb; i++ {
		p, q := 2*i, 2*i+1
		e0[i], o0[i] = a[p]-e[p], a[q]-e[q]
		e1[i], o1[i] = b[p]+e[p], b[q]+e[q]
		e2[i], o2[i] = e[p]-b[p], e[q]-b[q]
		e3[i], o3[i] = b[p]-f[p], b[q]-f[q]
	}
}

// winogradOutput writes the 2×2 tiles Aᵀ M A of output channels [o0,o1) for the tiles
// [ta,tb) of the image from m (tile t at column t−ta), whose matrices are stride elements
// apart, in layout l.
func winogradOutput[T Float](y, m []T, stride int, l tileLayout, h, w, ta, tb, o0, o1 int) {
	tw := (w + 1) / 2
	vec := is32[T]() && simd.Available && winogradVecOn
	for o := o0; o < o1; o++ {
		yo := y[o*h*w : (o+1)*h*w]
		for ty := ta / tw; ty*tw < tb; ty++ {
			i := 2 * ty
			full := i+1 < h
			txa, txb := max(ta-ty*tw, 0), min(tb-ty*tw, tw)
			for tx0, t := txa, ty*tw+txa-ta; tx0 < txb; {
				seg := l.run(t, txb-tx0)
				at := l.at(o, t)
				k0 := 0
				if vec && full {
					// tiles with both output columns inside the image, eight at a time
					k0 = max(0, min(seg, w/2-tx0)) &^ 7
					if k0 > 0 {
						j := 2 * tx0
						simd.WinogradOut(&as32(yo)[i*w+j], &as32(yo)[(i+1)*w+j], &as32(m)[at], stride, k0)
					}
				}
				var s [16][]T
				if k0 < seg { // the scalar tail (or the portable loop) needs them
					for xi := range s {
						s[xi] = m[xi*stride+at : xi*stride+at+seg]
					}
				}
				for k := k0; k < seg; k++ {
					// u = Aᵀ M (2×4), then Y = u A
					u00 := s[0][k] + s[4][k] + s[8][k]
					u01 := s[1][k] + s[5][k] + s[9][k]
					u02 := s[2][k] + s[6][k] + s[10][k]
					u03 := s[3][k] + s[7][k] + s[11][k]
					u10 := s[4][k] - s[8][k] - s[12][k]
					u11 := s[5][k] - s[9][k] - s[13][k]
					u12 := s[6][k] - s[10][k] - s[14][k]
					u13 := s[7][k] - s[11][k] - s[15][k]
					y00, y01 := u00+u01+u02, u01-u02-u03
					y10, y11 := u10+u11+u12, u11-u12-u13
					j := 2 * (tx0 + k)
					if full && j+1 < w {
						r := yo[i*w+j : i*w+j+2]
						r[0], r[1] = y00, y01
						r = yo[(i+1)*w+j : (i+1)*w+j+2]
						r[0], r[1] = y10, y11
						continue
					}
					yo[i*w+j] = y00
					if j+1 < w {
						yo[i*w+j+1] = y01
					}
					if full {
						yo[(i+1)*w+j] = y10
						if j+1 < w {
							yo[(i+1)*w+j+1] = y11
						}
					}
				}
				tx0, t = tx0+seg, t+seg
			}
		}
	}
}

// winogradBackFilter computes the gradient of a 3×3 pad-1 convolution with respect to its
// weight, dw [Cout,Cin,3,3] = Σ_b ∂⟨gy[b], conv(x[b], w)⟩/∂w, through the Winograd transforms:
// with V = Bᵀ d B the input tiles (as in the forward pass) and Z = A gY Aᵀ the adjoint-transformed
// output-gradient tiles, dU[ξ] = Σ_t Z[ξ][·][t] V[ξ][·][t]ᵀ (16 GEMMs) and dw = Gᵀ dU G.
func winogradBackFilter[T Float](dw, x, gy []T, batch, cin, h, wd, cout int) {
	us := slabStride(cout * cin)
	dup := getBuf[T](16 * us)
	defer putBuf(dup)
	du := *dup
	th, tw := (h+1)/2, (wd+1)/2
	rb := winogradBudget / (16 * (cin + cout) * tw)
	rb = max(1, min(rb, th))
	vs, zs := slabStride(cin*rb*tw), slabStride(cout*rb*tw)
	vp, zp := getBuf[T](16*vs), getBuf[T](16*zs)
	defer putBuf(vp)
	defer putBuf(zp)
	v, z := *vp, *zp
	in, out := cin*h*wd, cout*h*wd
	var beta T
	for b := 0; b < batch; b++ {
		xb, gb := x[b*in:(b+1)*in], gy[b*out:(b+1)*out]
		for t0 := 0; t0 < th; t0 += rb {
			t1 := min(t0+rb, th)
			n := (t1 - t0) * tw
			parallelFor(cin, 16*cin*n, func(c0, c1 int) {
				winogradInput(v, vs, tileLayout{cin, n, false}, xb, h, wd, t0*tw, t1*tw, c0, c1)
			})
			parallelFor(cout, 16*cout*n, func(o0, o1 int) {
				winogradOutputAdjoint(z, zs, gb, h, wd, t0, t1, o0, o1)
			})
			for xi := 0; xi < 16; xi++ {
				gemm(false, true, cout, cin, n, 1, z[xi*zs:], n, v[xi*vs:], n, beta, du[xi*us:], cin)
			}
			beta = 1
		}
	}
	winogradWeightsAdjoint(dw, du, us, cout, cin, cin, 1)
}

// winogradOutputAdjoint writes Z[ξ][o][t] = (A gY Aᵀ)[ξ] for the 2×2 tiles of gy (zero outside
// the image), output channels [o0,o1), tile rows [t0,t1): the adjoint of winogradOutput.
func winogradOutputAdjoint[T Float](z []T, stride int, gy []T, h, w, t0, t1, o0, o1 int) {
	tw := (w + 1) / 2
	n := (t1 - t0) * tw
	for o := o0; o < o1; o++ {
		g := gy[o*h*w : (o+1)*h*w]
		for ty := t0; ty < t1; ty++ {
			i := 2 * ty
			base := o*n + (ty-t0)*tw
			var d [16][]T
			for xi := range d {
				d[xi] = z[xi*stride+base : xi*stride+base+tw]
			}
			for tx := 0; tx < tw; tx++ {
				j := 2 * tx
				var g00, g01, g10, g11 T
				g00 = g[i*w+j]
				if j+1 < w {
					g01 = g[i*w+j+1]
				}
				if i+1 < h {
					g10 = g[(i+1)*w+j]
					if j+1 < w {
						g11 = g[(i+1)*w+j+1]
					}
				}
				// rows of A gY: (g00,g01), (g00+g10, g01+g11), (g00-g10, g01-g11), (-g10,-g11);
				// each row (p,q) times Aᵀ is (p, p+q, p-q, -q).
				rows := [4][2]T{{g00, g01}, {g00 + g10, g01 + g11}, {g00 - g10, g01 - g11}, {-g10, -g11}}
				for r, pq := range rows {
					p, q := pq[0], pq[1]
					d[r*4][tx], d[r*4+1][tx], d[r*4+2][tx], d[r*4+3][tx] = p, p+q, p-q, -q
				}
			}
		}
	}
}

// winogradWeightsAdjoint writes dw[o][c] = Gᵀ dU[·][o][c] G (3×3) from du (16 matrices us
// apart, element (o, c) at o·ro + c·rc): the adjoint of winogradWeights.
func winogradWeightsAdjoint[T Float](dw, du []T, us, cout, cin, ro, rc int) {
	n := cout * cin
	parallelFor(n, 40*n, func(lo, hi int) {
		for oc := lo; oc < hi; oc++ {
			var m [4][4]T
			at := oc/cin*ro + oc%cin*rc
			for xi := 0; xi < 16; xi++ {
				m[xi/4][xi%4] = du[xi*us+at]
			}
			// s = Gᵀ m (3×4), Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1]
			var s [3][4]T
			for q := 0; q < 4; q++ {
				a, b := (m[1][q]+m[2][q])/2, (m[1][q]-m[2][q])/2
				s[0][q] = m[0][q] + a
				s[1][q] = b
				s[2][q] = a + m[3][q]
			}
			g := dw[oc*9 : oc*9+9]
			for r := 0; r < 3; r++ {
				a, b := (s[r][1]+s[r][2])/2, (s[r][1]-s[r][2])/2
				g[r*3+0] = s[r][0] + a
				g[r*3+1] = b
				g[r*3+2] = a + s[r][3]
			}
		}
	})
}
