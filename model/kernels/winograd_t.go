package kernels

import "stylegan-tui/model/kernels/simd"

// Winograd F(2×2, 2×2) for ConvTranspose2x (stride 2, padding 1, 4×4 kernel). Output pixel
// (2i+a, 2j+b) of the transposed convolution only sees the 2×2 input window starting at
// (i+a-1, j+b-1), through the kernel taps u = 3-a-2p, v = 3-b-2q (p, q ∈ {0,1}). So each of
// the four phases (a,b) is a 2×2 correlation of x, computed here tile by tile as
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A with 9 multiplies per 2×2 outputs instead of 16:
//
//	Bᵀ = [1 -1 0; 0 1 0; 0 -1 1]
//	G  = [1 0; 1 1; 0 1]
//	Aᵀ = [1 1 0; 0 1 1]

// useConvTWinograd decides the algorithm of ConvTranspose2x (see BenchmarkConvTranspose2x).
func useConvTWinograd(cin, h, w, cout int) bool {
	if cin < winogradMinC || cout < winogradMinC || h*w < winogradMinHW {
		return false
	}
	return !ExternalBLAS() || winogradMinC <= 1 || (min(cin, cout) >= 64 && h*w >= 1024)
}

// convTWeights writes the transformed kernels of phase (a,b): u[ξ][o][c] (matrices us apart)
// = G g Gᵀ with g[p][q] = w[c][o][3-a-2p][3-b-2q].
func convTWeights[T Float](u, w []T, us, cin, cout, a, b int) {
	parallelFor(cout, 12*cin*cout, func(o0, o1 int) {
		for o := o0; o < o1; o++ {
			for c := 0; c < cin; c++ {
				k := w[(c*cout+o)*16 : (c*cout+o)*16+16]
				g00, g01 := k[(3-a)*4+3-b], k[(3-a)*4+1-b]
				g10, g11 := k[(1-a)*4+3-b], k[(1-a)*4+1-b]
				// t = G g (3×2), then U = t Gᵀ (3×3)
				t00, t01 := g00, g01
				t10, t11 := g00+g10, g01+g11
				t20, t21 := g10, g11
				i := o*cin + c
				u[0*us+i], u[1*us+i], u[2*us+i] = t00, t00+t01, t01
				u[3*us+i], u[4*us+i], u[5*us+i] = t10, t10+t11, t11
				u[6*us+i], u[7*us+i], u[8*us+i] = t20, t20+t21, t21
			}
		}
	})
}

// convTLen is the length of the transformed weights of the four phases.
func convTLen(cin, cout int) int { return 4 * 9 * slabStride(cout*cin) }

// convTAllWeights writes the transformed weights of the four phases into u.
func convTAllWeights[T Float](u, w []T, cin, cout int) {
	us := slabStride(cout * cin)
	for ph := 0; ph < 4; ph++ {
		convTWeights(u[ph*9*us:], w, us, cin, cout, ph/2, ph%2)
	}
}

// convT2xWinograd computes ConvTranspose2x of x [B,Cin,H,W] with w [Cin,Cout,4,4] into
// y [B,Cout,2H,2W].
func convT2xWinograd[T Float](y, x, w []T, batch, cin, h, wd, cout int) {
	us := slabStride(cout * cin)
	up := &[]T{}
	if u := frozenConvT(w, cin, cout); u != nil {
		*up = u
	} else {
		up = getBuf[T](convTLen(cin, cout))
		defer putBuf(up)
		convTAllWeights(*up, w, cin, cout)
	}
	th, tw := (h+1)/2, (wd+1)/2
	if is32[T]() && useWinogradFused(cin, cout, th*tw) {
		convTFused(as32(y), as32(x), as32(*up), us, batch, cin, h, wd, cout)
		return
	}
	rb := winogradBudget / (9 * (cin + cout) * tw)
	rb = max(1, min(rb, th))
	vs, ms := slabStride(cin*rb*tw), slabStride(cout*rb*tw)
	vp, mp := getBuf[T](9*vs), getBuf[T](9*ms)
	defer putBuf(vp)
	defer putBuf(mp)
	v, m := *vp, *mp
	in, out := cin*h*wd, cout*4*h*wd
	for b := 0; b < batch; b++ {
		xb, yb := x[b*in:(b+1)*in], y[b*out:(b+1)*out]
		for t0 := 0; t0 < th; t0 += rb {
			t1 := min(t0+rb, th)
			n := (t1 - t0) * tw
			for ph := 0; ph < 4; ph++ {
				pa, pb := ph/2, ph%2
				u := (*up)[ph*9*us:]
				parallelFor(cin, 9*cin*n, func(c0, c1 int) {
					convTInput(v, vs, tileLayout{cin, n, false}, xb, h, wd, pa, pb, t0*tw, t1*tw, c0, c1)
				})
				gemms(9, 9*cout*n*cin, func(xi int) {
					gemm(false, false, cout, n, cin, 1, u[xi*us:], cin, v[xi*vs:], n, 0, m[xi*ms:], n)
				})
				parallelFor(cout, 9*cout*n, func(o0, o1 int) {
					convTOutput(yb, m, nil, ms, tileLayout{cout, n, false}, h, wd, pa, pb, t0*tw, t1*tw, o0, o1)
				})
			}
		}
	}
}

// convTInput writes V[ξ][c][t−ta] = (Bᵀ d B)[ξ] of phase (a,b) for channels [c0,c1) and the
// tiles [ta,tb) (row major, (w+1)/2 per row) in layout l; tile (ti,tj) reads the 3×3 input
// window at (2ti+a-1, 2tj+b-1).
func convTInput[T Float](v []T, stride int, l tileLayout, x []T, h, w, a, b, ta, tb, c0, c1 int) {
	tw := (w + 1) / 2
	pw := 2*tw + 2 // padded row: column -1 .. 2tw
	buf := make([]T, 3*pw)
	rows := [3][]T{buf[0:pw], buf[pw : 2*pw], buf[2*pw : 3*pw]}
	// With the AVX2 loops, the row combinations of Bᵀ d are formed once per column (pq) and
	// the tiles eight at a time.
	vec := is32[T]() && simd.Available && winogradVecOn
	ld := tw + 1
	var pq []float32
	if vec {
		pq = make([]float32, 6*ld)
	}
	for c := c0; c < c1; c++ {
		xc := x[c*h*w : (c+1)*h*w]
		for ti := ta / tw; ti*tw < tb; ti++ {
			for r, row := range rows {
				ii := 2*ti + a - 1 + r
				if ii < 0 || ii >= h {
					clear(row)
					continue
				}
				row[0] = 0
				copy(row[1:], xc[ii*w:(ii+1)*w])
				clear(row[1+w:])
			}
			r0, r1, r2 := rows[0], rows[1], rows[2]
			tja, tjb := max(ta-ti*tw, 0), min(tb-ti*tw, tw)
			if vec {
				convTCombos(pq, ld, as32(r0), as32(r1), as32(r2), b, tja, tjb)
			}
			for tj0, t := tja, ti*tw+tja-ta; tj0 < tjb; {
				seg := l.run(t, tjb-tj0)
				at := l.at(c, t)
				k0 := 0
				if vec {
					if k0 = seg &^ 7; k0 > 0 {
						simd.ConvTIn(&as32(v)[at], stride, &pq[tj0], ld, k0)
					}
				}
				var d [9][]T
				if k0 < seg { // the scalar tail (or the portable loop) needs them
					for xi := range d {
						d[xi] = v[xi*stride+at : xi*stride+at+seg]
					}
				}
				for k := k0; k < seg; k++ {
					j := 2*(tj0+k) + b // padded index of column 2tj+b-1
					p, q, s := r0[j:j+3], r1[j:j+3], r2[j:j+3]
					// t = Bᵀ d (rows), then V = t B
					t00, t01, t02 := p[0]-q[0], p[1]-q[1], p[2]-q[2]
					t10, t11, t12 := q[0], q[1], q[2]
					t20, t21, t22 := s[0]-q[0], s[1]-q[1], s[2]-q[2]
					d[0][k], d[1][k], d[2][k] = t00-t01, t01, t02-t01
					d[3][k], d[4][k], d[5][k] = t10-t11, t11, t12-t11
					d[6][k], d[7][k], d[8][k] = t20-t21, t21, t22-t21
				}
				tj0, t = tj0+seg, t+seg
			}
		}
	}
}

// convTOutput writes the 2×2 phase tiles Aᵀ M A of output channels [o0,o1) for the tiles
// [ta,tb) from m (tile t at column t−ta, layout l): phase pixel (i,j) goes to y[o, 2i+a, 2j+b].
// With m1 != nil it writes phases (a,0) from m and (a,1) from m1 (b is ignored): then whole
// output rows are contiguous and the AVX2 loop writes them eight tiles at a time.
func convTOutput[T Float](y, m, m1 []T, stride int, l tileLayout, h, w, a, b, ta, tb, o0, o1 int) {
	tw := (w + 1) / 2
	W2 := 2 * w
	ms, bs := [][]T{m}, []int{b}
	if m1 != nil {
		ms, bs = [][]T{m, m1}, []int{0, 1}
	}
	vec := m1 != nil && is32[T]() && simd.Available && winogradVecOn
	for o := o0; o < o1; o++ {
		yo := y[o*4*h*w : (o+1)*4*h*w]
		for ti := ta / tw; ti*tw < tb; ti++ {
			i := 2 * ti
			full := i+1 < h
			row0 := yo[(2*i+a)*W2:]
			var row1 []T
			if full {
				row1 = yo[(2*i+2+a)*W2:]
			}
			tja, tjb := max(ta-ti*tw, 0), min(tb-ti*tw, tw)
			for tj0, t := tja, ti*tw+tja-ta; tj0 < tjb; {
				seg := l.run(t, tjb-tj0)
				at := l.at(o, t)
				k0 := 0
				if vec && full {
					// tiles with both output columns inside the image, eight at a time
					if k0 = max(0, min(seg, w/2-tj0)) &^ 7; k0 > 0 {
						simd.ConvTOut(&as32(row0)[4*tj0], &as32(row1)[4*tj0], &as32(m)[at], &as32(m1)[at], stride, k0)
					}
				}
				for p, mp := range ms {
					b := bs[p]
					var s [9][]T
					if k0 < seg { // the scalar tail (or the portable loop) needs them
						for xi := range s {
							s[xi] = mp[xi*stride+at : xi*stride+at+seg]
						}
					}
					for k := k0; k < seg; k++ {
						u00 := s[0][k] + s[3][k]
						u01 := s[1][k] + s[4][k]
						u02 := s[2][k] + s[5][k]
						u10 := s[3][k] + s[6][k]
						u11 := s[4][k] + s[7][k]
						u12 := s[5][k] + s[8][k]
						j := 2 * (tj0 + k)
						x0 := 2*j + b
						row0[x0] = u00 + u01
						if j+1 < w {
							row0[x0+2] = u01 + u02
						}
						if full {
							row1[x0] = u10 + u11
							if j+1 < w {
								row1[x0+2] = u11 + u12
							}
						}
					}
				}
				tj0, t = tj0+seg, t+seg
			}
		}
	}
}

// convTCombos fills pq (rows ld apart: P0 Q0 P1 Q1 P2 Q2) with the row combinations of Bᵀ d
// of phase b for tiles tja .. tjb: Pk[i] at padded column 2i+b and Qk[i] at 2i+b+1 (i < tjb)
// of combination k of the padded rows p, q, s: p−q, q, s−q.
func convTCombos(pq []float32, ld int, p, q, s []float32, b, tja, tjb int) {
	// the AVX2 loop for whole blocks of 8 tiles before tjb (whose Q column may lie past the row)
	if n8 := (tjb - tja) &^ 7; n8 > 0 && combosKernelOn {
		c := 2*tja + b
		simd.PhaseCombos(&pq[tja], ld, &p[c], &q[c], &s[c], n8)
		tja += n8
	}
	p0, q0, p1, q1, p2, q2 := pq[0:ld], pq[ld:2*ld], pq[2*ld:3*ld], pq[3*ld:4*ld], pq[4*ld:5*ld], pq[5*ld:6*ld]
	for i := tja; i <= tjb; i++ {
		c := 2*i + b
		p0[i], p1[i], p2[i] = p[c]-q[c], q[c], s[c]-q[c]
		if i < tjb {
			c++
			q0[i], q1[i], q2[i] = p[c]-q[c], q[c], s[c]-q[c]
		}
	}
}
