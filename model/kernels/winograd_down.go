package kernels

import (
	"runtime"

	"stylegan-tui/model/kernels/simd"
)

// Winograd F(2×2, 2×2) for the stride-2 4×4 pad-1 convolution y[o,i,j] =
// Σ_{c,u,v} w4[o,c,u,v]·x[c, 2i+u−1, 2j+v−1]: Conv2dDown2x's forward pass and the input
// gradient of ConvTranspose2x (its adjoint). With u = 2p+α and v = 2q+β the convolution is a
// sum over the four polyphase images X_αβ[c,r,s] = x[c, 2r+α−1, 2s+β−1] of 2×2 correlations
// with the kernels g_αβ[p][q] = w4[o,c,2p+α,2q+β], so each 2×2 output tile is
// Aᵀ[Σ_{αβ,c} (G g_αβ Gᵀ) ⊙ (Bᵀ d_αβ B)]A (the transforms of winograd_t.go): 9 GEMMs of
// Cout × 4·Cin over the tiles, 9·4 = 36 multiplies per 4 outputs and input channel instead
// of 64, and no im2col matrix (16 times the input). Output tile (ti,tj) reads the 6×6 input
// window at (4ti−1, 4tj−1); phase (α,β) takes its rows α, α+2, α+4 and columns β, β+2, β+4.
// The weight gradient runs in the same domain (down2xBackFilterBatch).

// down2xTrainOn lets tests and benchmarks compare with im2col.
var down2xTrainOn = true

// down2xTrainMinHW is the smallest output image (Ho·Wo) that takes the Winograd path (a
// variable so that tests can force it).
var down2xTrainMinHW = 64

// useDown2xTrain reports whether a float32 stride-2 4×4 convolution of batch images
// [Cin,H,W] → [Cout,H/2,W/2] runs on down2xBatch: the conditions of the other batch-split
// fused paths (trainShapeOK), H and W even, and an output of at least 8×8.
func useDown2xTrain(batch, cin, h, w, cout int) bool {
	return down2xTrainOn && trainShapeOK(batch, cin, cout) && h%2 == 0 && w%2 == 0 && (h/2)*(w/2) >= down2xTrainMinHW
}

// down2xLen is the length of the transformed weights: 9 matrices Cout × 4·Cin.
func down2xLen(cout, cin int) int { return 9 * slabStride(cout*4*cin) }

// down2xWeights writes U[ξ][o][ph·Cin+c] (matrices us apart, ph = 2α+β) = (G g_αβ Gᵀ)[ξ]
// from w4 [Cout,Cin,4,4].
func down2xWeights(u, w4 []float32, us, cout, cin int) {
	k4 := 4 * cin
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			k := w4[(o*cin+c)*16 : (o*cin+c)*16+16]
			for ph := 0; ph < 4; ph++ {
				a, b := ph/2, ph%2
				g00, g01 := k[a*4+b], k[a*4+2+b]
				g10, g11 := k[(2+a)*4+b], k[(2+a)*4+2+b]
				// t = G g (3×2), then U = t Gᵀ (3×3)
				t10, t11 := g00+g10, g01+g11
				i := o*k4 + ph*cin + c
				u[0*us+i], u[1*us+i], u[2*us+i] = g00, g00+g01, g01
				u[3*us+i], u[4*us+i], u[5*us+i] = t10, t10+t11, t11
				u[6*us+i], u[7*us+i], u[8*us+i] = g10, g10+g11, g11
			}
		}
	}
}

// down2xWeightsAdjoint writes dw4 [Cout,Cin,4,4] = Gᵀ dU_αβ G from du, whose 9 matrices
// (ds apart) hold dUᵀ: row ph·Cin+c, column o, ld columns.
func down2xWeightsAdjoint(dw4, du []float32, ds, ld, cout, cin int) {
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			k := dw4[(o*cin+c)*16 : (o*cin+c)*16+16]
			for ph := 0; ph < 4; ph++ {
				a, b := ph/2, ph%2
				i := (ph*cin+c)*ld + o
				var s [9]float32
				for xi := range s {
					s[xi] = du[xi*ds+i]
				}
				// Gᵀ dU: rows r0+r1, r1+r2; then · G: (a+b, b+c) per row
				t0, t1, t2 := s[0]+s[3], s[1]+s[4], s[2]+s[5]
				t3, t4, t5 := s[3]+s[6], s[4]+s[7], s[5]+s[8]
				k[a*4+b], k[a*4+2+b] = t0+t1, t1+t2
				k[(2+a)*4+b], k[(2+a)*4+2+b] = t3+t4, t4+t5
			}
		}
	}
}

// down2xBatch computes y [B,Cout,H/2,W/2] = the stride-2 4×4 pad-1 convolution of
// x [B,Cin,H,W] with w4 [Cout,Cin,4,4], the batch split over the cores (forBatch), each core
// taking its images a group of tiles at a time through the input transform, the 9 GEMMs on
// packed panels and the output transform.
func down2xBatch(y, x, w4 []float32, batch, cin, h, w, cout int) {
	us := slabStride(cout * 4 * cin)
	up := getBuf[float32](9 * us)
	defer putBuf(up)
	down2xWeights(*up, w4, us, cout, cin)
	workers := max(1, min(runtime.GOMAXPROCS(0), batch))
	forBatch(batch, workers, func(_, b0, b1 int, _ bool) {
		down2xRange(y, x, *up, us, b0, b1, cin, h, w, cout)
	})
}

// down2xGroup is the number of output tiles per group: V (9·4·Cin·group floats) about
// 256 KB, in whole panels.
func down2xGroup(cin int) int { return min(256, max(16, 1792/cin&^15)) }

// down2xRange is down2xBatch for images [b0,b1) on the calling goroutine: fusedConv.run with
// the stride-2 transforms.
func down2xRange(y, x, u []float32, us, b0, b1, cin, h, w, cout int) {
	ho, wo := h/2, w/2
	f := fusedConv{nm: 9, k: 4 * cin, cout: cout, tiles: ((ho + 1) / 2) * ((wo + 1) / 2), group: down2xGroup(cin),
		in: cin * h * w, out: cout * ho * wo,
		input: func(v []float32, vs int, l tileLayout, x []float32, ta, tb int) {
			down2xInput(v, vs, l, x, h, w, ta, tb, cin)
		},
		output: func(y, m []float32, ms int, l tileLayout, ta, tb int) {
			down2xOutput(y, m, ms, l, ho, wo, ta, tb, cout)
		},
	}
	f.run(y, x, u, us, b0, b1)
}

// down2xInput writes V[ξ][ph·Cin+c][t−ta] = (Bᵀ d_αβ B)[ξ] (layout l, matrices stride apart)
// for the output tiles [ta,tb) (row major, (W/2+1)/2 per row) of x [Cin,H,W].
func down2xInput(v []float32, stride int, l tileLayout, x []float32, h, w, ta, tb, cin int) {
	wo := w / 2
	tw := (wo + 1) / 2
	pw := 4*tw + 2 // padded row: column -1 .. 4tw
	buf := make([]float32, 6*pw)
	var rows [6][]float32
	for r := range rows {
		rows[r] = buf[r*pw : (r+1)*pw]
	}
	vec := simd.Available && winogradVecOn
	ld := tw + 1
	pq := make([]float32, 6*ld)
	for c := 0; c < cin; c++ {
		xc := x[c*h*w : (c+1)*h*w]
		for ti := ta / tw; ti*tw < tb; ti++ {
			for r, row := range rows {
				ii := 4*ti - 1 + r
				if ii < 0 || ii >= h {
					clear(row)
					continue
				}
				row[0] = 0
				copy(row[1:], xc[ii*w:(ii+1)*w])
				clear(row[1+w:])
			}
			tja, tjb := max(ta-ti*tw, 0), min(tb-ti*tw, tw)
			for ph := 0; ph < 4; ph++ {
				a, b := ph/2, ph%2
				down2xCombos(pq, ld, rows[a], rows[a+2], rows[a+4], b, tja, tjb)
				p0, q0, p1, q1, p2, q2 := pq[0:ld], pq[ld:2*ld], pq[2*ld:3*ld], pq[3*ld:4*ld], pq[4*ld:5*ld], pq[5*ld:6*ld]
				row := ph*cin + c
				for tj0, t := tja, ti*tw+tja-ta; tj0 < tjb; {
					seg := l.run(t, tjb-tj0)
					at := l.at(row, t)
					k0 := 0
					if vec {
						if k0 = seg &^ 7; k0 > 0 {
							simd.ConvTIn(&v[at], stride, &pq[tj0], ld, k0)
						}
					}
					for k := k0; k < seg; k++ {
						i := tj0 + k
						// V = (Bᵀ d) B, row combination k as (P − Q, Q, P' − Q)
						v[0*stride+at+k], v[1*stride+at+k], v[2*stride+at+k] = p0[i]-q0[i], q0[i], p0[i+1]-q0[i]
						v[3*stride+at+k], v[4*stride+at+k], v[5*stride+at+k] = p1[i]-q1[i], q1[i], p1[i+1]-q1[i]
						v[6*stride+at+k], v[7*stride+at+k], v[8*stride+at+k] = p2[i]-q2[i], q2[i], p2[i+1]-q2[i]
					}
					tj0, t = tj0+seg, t+seg
				}
			}
		}
	}
}

// down2xCombos fills pq (rows ld apart: P0 Q0 P1 Q1 P2 Q2) with the row combinations of
// Bᵀ d of column phase b for tiles tja .. tjb: Pk[i] at padded column 4i+b and Qk[i] at
// 4i+b+2 (i < tjb) of combination k of the padded rows p, q, s: p−q, q, s−q. Tile i's third
// column, 4i+b+4, is P[i+1].
func down2xCombos(pq []float32, ld int, p, q, s []float32, b, tja, tjb int) {
	// the AVX2 loop for whole blocks of 8 tiles before tjb (whose Q column may lie past the row)
	if n8 := (tjb - tja) &^ 7; n8 > 0 && simd.Available && combosKernelOn {
		c := 4*tja + b
		simd.QuadCombos(&pq[tja], ld, &p[c], &q[c], &s[c], n8)
		tja += n8
	}
	p0, q0, p1, q1, p2, q2 := pq[0:ld], pq[ld:2*ld], pq[2*ld:3*ld], pq[3*ld:4*ld], pq[4*ld:5*ld], pq[5*ld:6*ld]
	for i := tja; i <= tjb; i++ {
		c := 4*i + b
		p0[i], p1[i], p2[i] = p[c]-q[c], q[c], s[c]-q[c]
		if i < tjb {
			c += 2
			q0[i], q1[i], q2[i] = p[c]-q[c], q[c], s[c]-q[c]
		}
	}
}

// down2xOutput writes the 2×2 tiles Aᵀ M A of the output channels for the tiles [ta,tb) of
// y [Cout,Ho,Wo] from m (tile t at column t−ta, layout l, matrices stride apart).
func down2xOutput(y, m []float32, stride int, l tileLayout, ho, wo, ta, tb, cout int) {
	tw := (wo + 1) / 2
	for o := 0; o < cout; o++ {
		yo := y[o*ho*wo : (o+1)*ho*wo]
		for ti := ta / tw; ti*tw < tb; ti++ {
			i := 2 * ti
			row0 := yo[i*wo : (i+1)*wo]
			var row1 []float32
			if i+1 < ho {
				row1 = yo[(i+1)*wo : (i+2)*wo]
			}
			tja, tjb := max(ta-ti*tw, 0), min(tb-ti*tw, tw)
			for tj0, t := tja, ti*tw+tja-ta; tj0 < tjb; {
				seg := l.run(t, tjb-tj0)
				at := l.at(o, t)
				s := m[at:]
				for k := 0; k < seg; k++ {
					u00 := s[k] + s[3*stride+k]
					u01 := s[stride+k] + s[4*stride+k]
					u02 := s[2*stride+k] + s[5*stride+k]
					j := 2 * (tj0 + k)
					row0[j] = u00 + u01
					if j+1 < wo {
						row0[j+1] = u01 + u02
					}
					if row1 != nil {
						u10 := s[3*stride+k] + s[6*stride+k]
						u11 := s[4*stride+k] + s[7*stride+k]
						u12 := s[5*stride+k] + s[8*stride+k]
						row1[j] = u10 + u11
						if j+1 < wo {
							row1[j+1] = u11 + u12
						}
					}
				}
				tj0, t = tj0+seg, t+seg
			}
		}
	}
}

// down2xBackFilterBatch computes the weight gradient dw4 [Cout,Cin,4,4] of the stride-2 4×4
// convolution of x [B,Cin,H,W] whose output gradient is gy [B,Cout,H/2,W/2], in the Winograd
// domain of down2xBatch: dU[ξ] = Σ_tiles Z[ξ] V[ξ]ᵀ with Z = A gY Aᵀ, then
// dg_αβ = Gᵀ dU_αβ G, as winogradBackFilterBatch does for the 3×3 convolution. Each core sums
// its share of the batch into its own dU; the partial sums are added in core order.
func down2xBackFilterBatch(dw4, x, gy []float32, batch, cin, h, w, cout int) {
	k4, o16 := 4*cin, (cout+15)&^15
	ds := slabStride(k4 * o16)
	workers := max(1, min(runtime.GOMAXPROCS(0), batch))
	pp := getBuf[float32](workers * 9 * ds)
	defer putBuf(pp)
	parts := *pp
	forBatch(batch, workers, func(wk, b0, b1 int, _ bool) {
		down2xBackFilterRange(parts[wk*9*ds:(wk+1)*9*ds], ds, x, gy, b0, b1, cin, h, w, cout)
	})
	du := parts[:9*ds]
	for wk := 1; wk < workers; wk++ {
		for i, v := range parts[wk*9*ds : (wk+1)*9*ds] {
			du[i] += v
		}
	}
	down2xWeightsAdjoint(dw4, du, ds, o16, cout, cin)
}

// down2xBackFilterRange sets du (9 matrices ds apart, each dU[ξ]ᵀ: 4·Cin rows of Cout rounded
// up to 16) to the sum over images [b0,b1) of V[ξ] Z[ξ]ᵀ, a group of tiles at a time (V in
// the plain layout from down2xInput, Z a row of Cout per tile from down2xGradInput), the
// groups running across image boundaries.
func down2xBackFilterRange(du []float32, ds int, x, gy []float32, b0, b1, cin, h, w, cout int) {
	k4, o16 := 4*cin, (cout+15)&^15
	ho, wo := h/2, w/2
	tiles := ((ho + 1) / 2) * ((wo + 1) / 2)
	group := winogradGradTiles
	vs, zs := slabStride(k4*group), slabStride(group*o16)
	vp, zp := getBuf[float32](9*vs), getBuf[float32](9*zs)
	defer putBuf(vp)
	defer putBuf(zp)
	v, z := *vp, *zp
	if o16 != cout { // the padding columns of Z stay zero (stale denormals would slow the kernel)
		clear(z)
	}
	clear(du)
	in, out := cin*h*w, cout*ho*wo
	lv := tileLayout{k4, group, false}
	gradGroups(du, ds, v, vs, z, zs, 9, k4, o16, group, tiles, b0, b1, func(q, b, ta, tb int) {
		down2xInput(v[q:], vs, lv, x[b*in:(b+1)*in], h, w, ta, tb, cin)
		down2xGradInput(z[q*o16:], zs, o16, gy[b*out:(b+1)*out], ho, wo, ta, tb, cout)
	})
}

// down2xGradInput writes Z[ξ][t−ta][o] = (A gY Aᵀ)[ξ] (ld floats per tile row, matrices
// stride apart) for the 2×2 tiles [ta,tb) of gy [Cout,Ho,Wo], zero outside the image: the
// adjoint of down2xOutput, transposed for the weight gradient's GEMM.
func down2xGradInput(z []float32, stride, ld int, gy []float32, ho, wo, ta, tb, cout int) {
	tw := (wo + 1) / 2
	hw := ho * wo
	for t := ta; t < tb; t++ {
		i, j := 2*(t/tw), 2*(t%tw)
		row := (t - ta) * ld
		var d [9][]float32
		for xi := range d {
			d[xi] = z[xi*stride+row : xi*stride+row+cout]
		}
		at := i*wo + j
		for o := 0; o < cout; o++ {
			g := gy[o*hw : (o+1)*hw]
			g00 := g[at]
			var g01, g10, g11 float32
			if j+1 < wo {
				g01 = g[at+1]
			}
			if i+1 < ho {
				g10 = g[at+wo]
				if j+1 < wo {
					g11 = g[at+wo+1]
				}
			}
			// rows of A gY: (g00,g01), (g00+g10, g01+g11), (g10,g11); each row (p,q) times Aᵀ
			// is (p, p+q, q).
			p1, q1 := g00+g10, g01+g11
			d[0][o], d[1][o], d[2][o] = g00, g00+g01, g01
			d[3][o], d[4][o], d[5][o] = p1, p1+q1, q1
			d[6][o], d[7][o], d[8][o] = g10, g10+g11, g11
		}
	}
}
