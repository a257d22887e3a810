package ops

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

// useWinograd decides the algorithm of a forward conv. Winograd pays off once the channel
// counts make the GEMMs dominate the transforms (see BenchmarkConv2d).
func useWinograd(cin, h, w, cout, k, pad int) bool {
	return k == 3 && pad == 1 && cin >= winogradMinC && cout >= winogradMinC && h*w >= winogradMinHW
}

// Thresholds of useWinograd (variables so that tests can force either algorithm).
var winogradMinC, winogradMinHW = 16, 64

// winogradWeights transforms w [Cout,Cin,3,3] into u [16][Cout][Cin] = G g Gᵀ.
func winogradWeights[T float](u, w []T, cout, cin int) {
	n := cout * cin
	for oc := 0; oc < n; oc++ {
		g := w[oc*9 : oc*9+9]
		var t [4][3]T
		for j := 0; j < 3; j++ {
			g0, g1, g2 := g[j], g[3+j], g[6+j]
			t[0][j] = g0
			t[1][j] = (g0 + g1 + g2) / 2
			t[2][j] = (g0 - g1 + g2) / 2
			t[3][j] = g2
		}
		for r := 0; r < 4; r++ {
			t0, t1, t2 := t[r][0], t[r][1], t[r][2]
			u[(r*4+0)*n+oc] = t0
			u[(r*4+1)*n+oc] = (t0 + t1 + t2) / 2
			u[(r*4+2)*n+oc] = (t0 - t1 + t2) / 2
			u[(r*4+3)*n+oc] = t2
		}
	}
}

// PrepareWinogradF32 returns the Winograd transform of a 3×3 weight w [Cout,Cin,3,3], to pass
// to Conv2dWinogradF32 for every convolution with that weight (16·Cout·Cin floats).
func PrepareWinogradF32(w []float32, Cout, Cin int) []float32 {
	checkLen("w", len(w), Cout*Cin*9)
	u := make([]float32, 16*Cout*Cin)
	winogradWeights(u, w, Cout, Cin)
	return u
}

// Conv2dWinogradF32 computes the same as Conv2dF32(dst, x, w, B, Cin, H, W, Cout, 3, 1) with
// the weight already transformed by PrepareWinogradF32.
func Conv2dWinogradF32(dst, x, u []float32, B, Cin, H, W, Cout int) {
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("u", len(u), 16*Cout*Cin)
	checkLen("dst", len(dst), B*Cout*H*W)
	winogradConv2d(dst, x, nil, u, B, Cin, H, W, Cout)
}

// winogradConv2d convolves x [B,Cin,H,W] with a 3×3 pad-1 kernel into y [B,Cout,H,W]. u is the
// transformed weight; if it is nil, w [Cout,Cin,3,3] is transformed first.
func winogradConv2d[T float](y, x, w, u []T, batch, cin, h, wd, cout int) {
	if u == nil {
		up := getBuf[T](16 * cout * cin)
		defer putBuf(up)
		u = *up
		winogradWeights(u, w, cout, cin)
	}
	th, tw := (h+1)/2, (wd+1)/2
	rb := winogradBudget / (16 * (cin + cout) * tw) // tile rows per chunk
	rb = max(1, min(rb, th))
	vp := getBuf[T](16 * cin * rb * tw)
	mp := getBuf[T](16 * cout * rb * tw)
	defer putBuf(vp)
	defer putBuf(mp)
	in, out := cin*h*wd, cout*h*wd
	for b := 0; b < batch; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for t0 := 0; t0 < th; t0 += rb {
			t1 := min(t0+rb, th)
			n := (t1 - t0) * tw
			v, m := (*vp)[:16*cin*n], (*mp)[:16*cout*n]
			parallelFor(cin, 16*cin*n, func(c0, c1 int) {
				winogradInput(v, xb, h, wd, cin, t0, t1, c0, c1)
			})
			for xi := 0; xi < 16; xi++ {
				gemm(false, false, cout, n, cin, 1, u[xi*cout*cin:], cin, v[xi*cin*n:], n, 0, m[xi*cout*n:], n)
			}
			parallelFor(cout, 16*cout*n, func(o0, o1 int) {
				winogradOutput(yb, m, h, wd, cout, t0, t1, o0, o1)
			})
		}
	}
}

// winogradInput writes V[ξ][c][t] = (Bᵀ d B)[ξ] for channels [c0,c1) and tile rows [t0,t1).
func winogradInput[T float](v, x []T, h, w, cin, t0, t1, c0, c1 int) {
	tw := (w + 1) / 2
	n := (t1 - t0) * tw
	pw := 2*tw + 2 // padded row: column -1 .. 2tw
	buf := make([]T, 4*pw)
	var rows [4][]T
	for c := c0; c < c1; c++ {
		xc := x[c*h*w : (c+1)*h*w]
		for ty := t0; ty < t1; ty++ {
			for r := 0; r < 4; r++ {
				row := buf[r*pw : (r+1)*pw]
				rows[r] = row
				ii := 2*ty - 1 + r
				if ii < 0 || ii >= h {
					clear(row)
					continue
				}
				row[0] = 0
				copy(row[1:], xc[ii*w:(ii+1)*w])
				clear(row[1+w:])
			}
			r0, r1, r2, r3 := rows[0], rows[1], rows[2], rows[3]
			base := c*n + (ty-t0)*tw
			for tx := 0; tx < tw; tx++ {
				j := 2 * tx
				// t = Bᵀ d (rows), column by column
				var t [4][4]T
				for q := 0; q < 4; q++ {
					d0, d1, d2, d3 := r0[j+q], r1[j+q], r2[j+q], r3[j+q]
					t[0][q] = d0 - d2
					t[1][q] = d1 + d2
					t[2][q] = d2 - d1
					t[3][q] = d1 - d3
				}
				o := base + tx
				stride := cin * n
				for p := 0; p < 4; p++ {
					a0, a1, a2, a3 := t[p][0], t[p][1], t[p][2], t[p][3]
					v[(p*4+0)*stride+o] = a0 - a2
					v[(p*4+1)*stride+o] = a1 + a2
					v[(p*4+2)*stride+o] = a2 - a1
					v[(p*4+3)*stride+o] = a1 - a3
				}
			}
		}
	}
}

// winogradOutput writes the 2×2 tiles Aᵀ M A of output channels [o0,o1), tile rows [t0,t1).
func winogradOutput[T float](y, m []T, h, w, cout, t0, t1, o0, o1 int) {
	tw := (w + 1) / 2
	n := (t1 - t0) * tw
	stride := cout * n
	for o := o0; o < o1; o++ {
		yo := y[o*h*w : (o+1)*h*w]
		for ty := t0; ty < t1; ty++ {
			i := 2 * ty
			base := o*n + (ty-t0)*tw
			full := i+1 < h
			for tx := 0; tx < tw; tx++ {
				k := base + tx
				var s [2][4]T
				for q := 0; q < 4; q++ {
					m0, m1, m2, m3 := m[(0+q)*stride+k], m[(4+q)*stride+k], m[(8+q)*stride+k], m[(12+q)*stride+k]
					s[0][q] = m0 + m1 + m2
					s[1][q] = m1 - m2 - m3
				}
				j := 2 * tx
				y00 := s[0][0] + s[0][1] + s[0][2]
				y01 := s[0][1] - s[0][2] - s[0][3]
				y10 := s[1][0] + s[1][1] + s[1][2]
				y11 := s[1][1] - s[1][2] - s[1][3]
				if full && j+1 < w {
					yo[i*w+j], yo[i*w+j+1] = y00, y01
					yo[(i+1)*w+j], yo[(i+1)*w+j+1] = y10, y11
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
		}
	}
}
