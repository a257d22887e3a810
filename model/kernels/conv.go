package kernels

import (
	"fmt"
	"runtime"
	"sync"
)

// geom describes a 2-D cross-correlation of one [C,H,W] image with a k×k window at stride s and
// zero padding p; Ho×Wo is the output size. The im2col matrix has C·k·k rows (index (c·k+u)·k+v)
// and Ho·Wo columns.
type geom struct {
	C, H, W, K, S, P, Ho, Wo int
}

func newGeom(c, h, w, k, s, p int) geom {
	return geom{C: c, H: h, W: w, K: k, S: s, P: p, Ho: (h+2*p-k)/s + 1, Wo: (w+2*p-k)/s + 1}
}

func (g geom) rows() int { return g.C * g.K * g.K }

// identity reports whether im2col is the identity (1×1 window, stride 1, no padding).
func (g geom) identity() bool { return g.K == 1 && g.S == 1 && g.P == 0 }

// colRange returns the output columns j whose input column j·S+v-P lies inside [0,W).
func (g geom) colRange(v int) (lo, hi int) {
	if d := g.P - v; d > 0 {
		lo = (d + g.S - 1) / g.S
	}
	e := g.W - 1 + g.P - v
	if e < 0 {
		return 0, 0
	}
	hi = e/g.S + 1
	if hi > g.Wo {
		hi = g.Wo
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// colBudget bounds the size (in elements) of one im2col chunk. Chunks of output rows keep the
// scratch at a few MB while the GEMMs stay large enough to run at full speed.
var colBudget = 1 << 20

// chunkRows returns how many output rows of g go into one chunk.
func (g geom) chunkRows() int {
	rb := colBudget / (g.rows() * g.Wo)
	if rb < 1 {
		rb = 1
	}
	if rb > g.Ho {
		rb = g.Ho
	}
	return rb
}

// im2col writes rows [c0·k·k, c1·k·k) of the im2col matrix of x (one image), restricted to the
// output rows [r0,r1), into col with row stride ld (at least (r1-r0)·Wo; a larger ld leaves room
// for the columns of other images of a group).
func im2col[T Float](g geom, x, col []T, ld, r0, r1, c0, c1 int) {
	if g.S == 1 && g.K <= 8 {
		im2colS1(g, x, col, ld, r0, r1, c0, c1)
		return
	}
	for c := c0; c < c1; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for u := 0; u < g.K; u++ {
			for v := 0; v < g.K; v++ {
				row := col[((c*g.K+u)*g.K+v)*ld:][:(r1-r0)*g.Wo]
				lo, hi := g.colRange(v)
				for i := r0; i < r1; i++ {
					dst := row[(i-r0)*g.Wo:][:g.Wo]
					ii := i*g.S + u - g.P
					if ii < 0 || ii >= g.H || lo >= hi {
						clear(dst)
						continue
					}
					src := xc[ii*g.W : (ii+1)*g.W]
					clear(dst[:lo])
					if g.S == 1 {
						copy(dst[lo:hi], src[lo+v-g.P:hi+v-g.P])
					} else {
						for j := lo; j < hi; j++ {
							dst[j] = src[j*g.S+v-g.P]
						}
					}
					clear(dst[hi:])
				}
			}
		}
	}
}

// im2colS1 is im2col for stride 1 (k ≤ 8): the column ranges are worked out once per call and
// the few zeros at the row ends are written without calls.
func im2colS1[T Float](g geom, x, col []T, ld, r0, r1, c0, c1 int) {
	var los, his [8]int
	for v := 0; v < g.K; v++ {
		los[v], his[v] = g.colRange(v)
	}
	wo, hw := g.Wo, g.H*g.W
	for c := c0; c < c1; c++ {
		xc := x[c*hw : (c+1)*hw]
		for u := 0; u < g.K; u++ {
			// output rows whose input row i+u-P is inside the image
			i0, i1 := max(r0, g.P-u), min(r1, g.H+g.P-u)
			for v := 0; v < g.K; v++ {
				row := col[((c*g.K+u)*g.K+v)*ld:][:(r1-r0)*wo]
				lo, hi := los[v], his[v]
				if lo >= hi || i0 >= i1 {
					clear(row)
					continue
				}
				if i0 > r0 {
					clear(row[:(i0-r0)*wo])
				}
				if i1 < r1 {
					clear(row[(i1-r0)*wo:])
				}
				off := v - g.P
				if wo == g.W {
					// same-size output: the valid rows are one shifted copy of the image's
					// rows, with the columns that wrapped around to the next or previous
					// row zeroed.
					d := row[(i0-r0)*wo : (i1-r0)*wo]
					s0 := (i0+u-g.P)*g.W + off
					a, b := max(0, -s0), min(len(d), hw-s0)
					copy(d[a:b], xc[s0+a:s0+b])
					for j := 0; j < a; j++ {
						d[j] = 0
					}
					for j := b; j < len(d); j++ {
						d[j] = 0
					}
					if lo > 0 || hi < wo {
						for r := 0; r < len(d); r += wo {
							dr := d[r : r+wo]
							for j := 0; j < lo; j++ {
								dr[j] = 0
							}
							for j := hi; j < wo; j++ {
								dr[j] = 0
							}
						}
					}
					continue
				}
				for i := i0; i < i1; i++ {
					dst := row[(i-r0)*wo:][:wo]
					ii := i + u - g.P
					src := xc[ii*g.W+lo+off : ii*g.W+hi+off]
					for j := 0; j < lo; j++ {
						dst[j] = 0
					}
					copy(dst[lo:hi], src)
					for j := hi; j < wo; j++ {
						dst[j] = 0
					}
				}
			}
		}
	}
}

// col2im adds rows [c0·k·k, c1·k·k) of an im2col-shaped matrix (output rows [r0,r1), row stride
// ld) back into the image x: the adjoint of im2col. Channels are independent, so disjoint
// channel ranges may run concurrently.
func col2im[T Float](g geom, col, x []T, ld, r0, r1, c0, c1 int) {
	for c := c0; c < c1; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for u := 0; u < g.K; u++ {
			for v := 0; v < g.K; v++ {
				row := col[((c*g.K+u)*g.K+v)*ld:][:(r1-r0)*g.Wo]
				lo, hi := g.colRange(v)
				if lo >= hi {
					continue
				}
				for i := r0; i < r1; i++ {
					ii := i*g.S + u - g.P
					if ii < 0 || ii >= g.H {
						continue
					}
					src := row[(i-r0)*g.Wo:][lo:hi]
					dst := xc[ii*g.W : (ii+1)*g.W]
					if g.S == 1 {
						dst = dst[lo+v-g.P : hi+v-g.P]
						for j, s := range src {
							dst[j] += s
						}
					} else {
						off := lo*g.S + v - g.P
						for j, s := range src {
							dst[off+j*g.S] += s
						}
					}
				}
			}
		}
	}
}

// im2colPar fills a chunk of the im2col matrix, splitting the channels over the cores when par.
func im2colPar[T Float](par bool, g geom, x, col []T, ld, r0, r1 int) {
	if !par {
		im2col(g, x, col, ld, r0, r1, 0, g.C)
		return
	}
	parallelFor(g.C, g.rows()*(r1-r0)*g.Wo, func(c0, c1 int) { im2col(g, x, col, ld, r0, r1, c0, c1) })
}

func col2imPar[T Float](par bool, g geom, col, x []T, ld, r0, r1 int) {
	if !par {
		col2im(g, col, x, ld, r0, r1, 0, g.C)
		return
	}
	parallelFor(g.C, g.rows()*(r1-r0)*g.Wo, func(c0, c1 int) { col2im(g, col, x, ld, r0, r1, c0, c1) })
}

// groupCols is the number of GEMM columns (output pixels) a convolution aims for: images smaller
// than this are put side by side, several per im2col matrix and GEMM, so that the GEMMs of small
// images (8×8: 64 columns) run at full speed.
var groupCols = 1024

// convSplitWork is the number of multiply-adds from which a convolution splits its batch over
// the cores.
var convSplitWork = 1 << 20

// convPlan decides how a convolution of batch images runs: workers goroutines, each with a
// contiguous range of the batch and its own scratch, and group images per GEMM (1: one image
// per GEMM, in chunks of output rows if its im2col matrix exceeds colBudget). Images are split
// over the cores only when the GEMMs may run concurrently, that is with gonum's BLAS or with a
// single-threaded OpenBLAS (SplitGEMM); otherwise one range uses the BLAS's threads.
func convPlan(g geom, cout, batch int) (workers, group int) {
	hw, kk := g.Ho*g.Wo, g.rows()
	workers = 1
	if p := runtime.GOMAXPROCS(0); p > 1 && batch > 1 && (splitGEMM.Load() != 0 || !ExternalBLAS()) &&
		batch*hw*kk*max(cout, 1) >= convSplitWork {
		workers = min(p, batch)
	}
	per := (batch + workers - 1) / workers
	group = 1
	if hw < groupCols && kk*hw <= colBudget {
		group = max(1, min(per, groupCols/hw, colBudget/(kk*hw)))
	}
	return workers, group
}

// forBatch runs fn on workers contiguous ranges of [0,batch) concurrently (worker 0 on the
// calling goroutine); par tells fn that it runs alone and may spread its own work over the cores.
func forBatch(batch, workers int, fn func(w, b0, b1 int, par bool)) {
	if workers <= 1 {
		fn(0, 0, batch, true)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for i := 1; i < workers; i++ {
		go func() {
			defer wg.Done()
			fn(i, i*batch/workers, (i+1)*batch/workers, false)
		}()
	}
	fn(0, 0, batch/workers, false)
	wg.Wait()
}

// gemmN is C = A·B (B not transposed), split over the cores' columns when par.
func gemmN[T Float](par bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if par {
		gemmCols(m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
		return
	}
	gemm(false, false, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

// convForward computes y[b] = w × im2col(x[b]) for each of the B images:
// x [B,C,H,W], w [Cout, C·k·k], y [B,Cout,Ho,Wo].
func convForward[T Float](g geom, cout, batch int, x, w, y []T) {
	convForwardCols(g, cout, batch, x, w, y, nil)
}

// convForwardCols is convForward that, when cols is not nil (batch·C·k·k·Ho·Wo elements, and
// not an identity geometry), keeps the whole batch's im2col matrices there for
// convBackFilterCols. It returns the plan that the latter must be given.
func convForwardCols[T Float](g geom, cout, batch int, x, w, y, cols []T) (workers, group int) {
	workers, group = convPlan(g, cout, batch)
	forBatch(batch, workers, func(_, b0, b1 int, par bool) { convForwardRange(par, g, cout, group, b0, b1, x, w, y, cols) })
	return workers, group
}

// colsAt returns the part of a whole batch's im2col matrices (see convForwardCols) that holds
// output rows [r0, r0+rows) of image b, or, for groups, the matrix of the group starting at b.
func colsAt[T Float](g geom, cols []T, b, r0, n int) []T {
	kk, hw := g.rows(), g.Ho*g.Wo
	return cols[b*kk*hw+kk*r0*g.Wo:][:kk*n]
}

func convForwardRange[T Float](par bool, g geom, cout, group, b0, b1 int, x, w, y, cols []T) {
	in, out, kk := g.C*g.H*g.W, cout*g.Ho*g.Wo, g.rows()
	hw := g.Ho * g.Wo
	if group == 1 && g.identity() {
		for b := b0; b < b1; b++ {
			gemmN(par, cout, hw, kk, w, kk, x[b*in:(b+1)*in], hw, y[b*out:(b+1)*out], hw)
		}
		return
	}
	if group == 1 {
		forRowChunks(g, b0, b1, cols, func(b, r0, r1, n int, col []T) {
			yb := y[b*out : (b+1)*out]
			im2colPar(par, g, x[b*in:(b+1)*in], col, n, r0, r1)
			gemmN(par, cout, n, kk, w, kk, col, n, yb[r0*g.Wo:], hw)
		})
		return
	}
	// group images side by side: col [kk, n·hw], t [cout, n·hw], then t's blocks to y.
	forImageGroups(g, cout, group, b0, b1, cols, func(b, n int, col, t []T) {
		ld := n * hw
		for j := 0; j < n; j++ {
			im2colPar(par, g, x[(b+j)*in:(b+j+1)*in], col[j*hw:], ld, 0, g.Ho)
		}
		gemmN(par, cout, ld, kk, w, kk, col, ld, t, ld)
		for j := 0; j < n; j++ {
			yb := y[(b+j)*out : (b+j+1)*out]
			for o := 0; o < cout; o++ {
				copy(yb[o*hw:(o+1)*hw], t[o*ld+j*hw:])
			}
		}
	})
}

// forRowChunks calls fn on each chunk of at most g.chunkRows() output rows [r0, r1) of images
// b0..b1-1 (n = (r1-r0)·Wo columns) with the chunk's im2col matrix col [kk, n]: its part of
// a whole batch's kept matrices cols (see convForwardCols), or scratch when cols is nil.
func forRowChunks[T Float](g geom, b0, b1 int, cols []T, fn func(b, r0, r1, n int, col []T)) {
	kk, rb := g.rows(), g.chunkRows()
	var colp *[]T
	if cols == nil {
		colp = getBuf[T](kk * rb * g.Wo)
		defer putBuf(colp)
	}
	for b := b0; b < b1; b++ {
		for r0 := 0; r0 < g.Ho; r0 += rb {
			r1 := min(r0+rb, g.Ho)
			n := (r1 - r0) * g.Wo
			var col []T
			if cols != nil {
				col = colsAt(g, cols, b, r0, n)
			} else {
				col = (*colp)[:kk*n]
			}
			fn(b, r0, r1, n, col)
		}
	}
}

// forImageGroups calls fn on each group of n ≤ group images [b, b+n) of b0..b1-1 with the
// group's im2col matrix col [kk, n·hw] (images side by side: its part of the kept matrices
// cols, or scratch when cols is nil) and scratch t [cout, n·hw].
func forImageGroups[T Float](g geom, cout, group, b0, b1 int, cols []T, fn func(b, n int, col, t []T)) {
	kk, hw := g.rows(), g.Ho*g.Wo
	var colp *[]T
	if cols == nil {
		colp = getBuf[T](kk * group * hw)
		defer putBuf(colp)
	}
	tp := getBuf[T](cout * group * hw)
	defer putBuf(tp)
	for b := b0; b < b1; b += group {
		n := min(group, b1-b)
		ld := n * hw
		var col []T
		if cols != nil {
			col = colsAt(g, cols, b, 0, ld)
		} else {
			col = (*colp)[:kk*ld]
		}
		fn(b, n, col, (*tp)[:cout*ld])
	}
}

// gatherGroup copies the n images of src [n][rows][hw] into dst [rows][n·hw] (images side by
// side).
func gatherGroup[T Float](dst, src []T, n, rows, hw int) {
	ld := n * hw
	for j := 0; j < n; j++ {
		s := src[j*rows*hw:]
		for r := 0; r < rows; r++ {
			copy(dst[r*ld+j*hw:r*ld+(j+1)*hw], s[r*hw:])
		}
	}
}

// convBackData computes the adjoint of convForward in x: dx[b] = col2im(wᵀ × dy[b]).
func convBackData[T Float](g geom, cout, batch int, dy, w, dx []T) {
	workers, group := convPlan(g, cout, batch)
	forBatch(batch, workers, func(_, b0, b1 int, par bool) { convBackDataRange(par, g, cout, group, b0, b1, dy, w, dx) })
}

func convBackDataRange[T Float](par bool, g geom, cout, group, b0, b1 int, dy, w, dx []T) {
	in, out, kk := g.C*g.H*g.W, cout*g.Ho*g.Wo, g.rows()
	hw := g.Ho * g.Wo
	if group == 1 && g.identity() {
		for b := b0; b < b1; b++ {
			gemm(true, false, kk, hw, cout, 1, w, kk, dy[b*out:(b+1)*out], hw, 0, dx[b*in:(b+1)*in], hw)
		}
		return
	}
	clear(dx[b0*in : b1*in])
	if group == 1 {
		rb := g.chunkRows()
		colp := getBuf[T](kk * rb * g.Wo)
		defer putBuf(colp)
		for b := b0; b < b1; b++ {
			dyb, dxb := dy[b*out:(b+1)*out], dx[b*in:(b+1)*in]
			for r0 := 0; r0 < g.Ho; r0 += rb {
				r1 := min(r0+rb, g.Ho)
				n := (r1 - r0) * g.Wo
				col := (*colp)[:kk*n]
				gemm(true, false, kk, n, cout, 1, w, kk, dyb[r0*g.Wo:], hw, 0, col, n)
				col2imPar(par, g, col, dxb, n, r0, r1)
			}
		}
		return
	}
	colp, tp := getBuf[T](kk*group*hw), getBuf[T](cout*group*hw)
	defer putBuf(colp)
	defer putBuf(tp)
	for b := b0; b < b1; b += group {
		n := min(group, b1-b)
		ld := n * hw
		col, t := (*colp)[:kk*ld], (*tp)[:cout*ld]
		gatherGroup(t, dy[b*out:], n, cout, hw)
		gemm(true, false, kk, ld, cout, 1, w, kk, t, ld, 0, col, ld)
		for j := 0; j < n; j++ {
			col2imPar(par, g, col[j*hw:], dx[(b+j)*in:(b+j+1)*in], ld, 0, g.Ho)
		}
	}
}

// convBackFilter computes the gradient of convForward in w: dw = Σ_b dy[b] × im2col(x[b])ᵀ.
// Each worker sums its range of the batch; the partial sums are added in worker order.
func convBackFilter[T Float](g geom, cout, batch int, x, dy, dw []T) {
	workers, group := convPlan(g, cout, batch)
	convBackFilterCols(g, cout, batch, x, dy, dw, nil, workers, group)
}

// convBackFilterCols is convBackFilter with, when cols is not nil, the im2col matrices of x kept
// by convForwardCols, which returned workers and group.
func convBackFilterCols[T Float](g geom, cout, batch int, x, dy, dw, cols []T, workers, group int) {
	size := cout * g.rows()
	var parts *[]T
	if workers > 1 {
		parts = getBuf[T]((workers - 1) * size)
		defer putBuf(parts)
	}
	forBatch(batch, workers, func(wk, b0, b1 int, par bool) {
		d := dw[:size]
		if wk > 0 {
			d = (*parts)[(wk-1)*size : wk*size]
		}
		convBackFilterRange(par, g, cout, group, b0, b1, x, dy, d, cols)
	})
	for wk := 1; wk < workers; wk++ {
		p := (*parts)[(wk-1)*size : wk*size]
		for i, v := range p {
			dw[i] += v
		}
	}
}

func convBackFilterRange[T Float](par bool, g geom, cout, group, b0, b1 int, x, dy, dw, cols []T) {
	in, out, kk := g.C*g.H*g.W, cout*g.Ho*g.Wo, g.rows()
	hw := g.Ho * g.Wo
	var beta T
	// dwᵀ [kk, cout] = Σ col × gyᵀ: OpenBLAS runs this shape (many rows, few columns) faster
	// than gy × colᵀ with cout rows; transposed into dw at the end.
	dtp := getBuf[T](kk * cout)
	defer putBuf(dtp)
	dwt := *dtp
	defer func() {
		for o := 0; o < cout; o++ {
			for r := 0; r < kk; r++ {
				dw[o*kk+r] = dwt[r*cout+o]
			}
		}
	}()
	if group == 1 && g.identity() {
		for b := b0; b < b1; b++ {
			gemm(false, true, kk, cout, hw, 1, x[b*in:(b+1)*in], hw, dy[b*out:(b+1)*out], hw, beta, dwt, cout)
			beta = 1
		}
		return
	}
	if group == 1 {
		// cols, when given, already holds the im2col matrices of the forward pass.
		forRowChunks(g, b0, b1, cols, func(b, r0, r1, n int, col []T) {
			if cols == nil {
				im2colPar(par, g, x[b*in:(b+1)*in], col, n, r0, r1)
			}
			dyb := dy[b*out : (b+1)*out]
			gemm(false, true, kk, cout, n, 1, col, n, dyb[r0*g.Wo:], hw, beta, dwt, cout)
			beta = 1
		})
		return
	}
	forImageGroups(g, cout, group, b0, b1, cols, func(b, n int, col, t []T) {
		ld := n * hw
		if cols == nil {
			for j := 0; j < n; j++ {
				im2colPar(par, g, x[(b+j)*in:(b+j+1)*in], col[j*hw:], ld, 0, g.Ho)
			}
		}
		gatherGroup(t, dy[b*out:], n, cout, hw)
		gemm(false, true, kk, cout, ld, 1, col, ld, t, ld, beta, dwt, cout)
		beta = 1
	})
}

// Conv geometry of the two public convolutions.

// conv2dGeom is Conv2d: k×k, stride 1, padding pad.
func conv2dGeom(cin, h, w, k, pad int) geom { return newGeom(cin, h, w, k, 1, pad) }

// convT2xGeom is the stride-2 4×4 pad-1 convolution whose adjoint is ConvTranspose2x: it maps
// the transposed convolution's output [Cout,2H,2W] to its input [Cin,H,W].
func convT2xGeom(cout, h, w int) geom { return newGeom(cout, 2*h, 2*w, 4, 2, 1) }

// down2xGeom is Conv2dDown2x's stride-2 4×4 pad-1 convolution of a [Cin,H,W] image.
func down2xGeom(cin, h, w int) geom { return newGeom(cin, h, w, 4, 2, 1) }

// conv2d runs the forward convolution, choosing Winograd where it is faster.
func conv2d[T Float](dst, x, w []T, batch, cin, h, wd, cout, k, pad int) {
	if k == 3 && pad == 1 {
		u := frozenWinograd(w, cout, cin)
		if useWinograd(cin, h, wd, cout, k, pad, u != nil) {
			winogradConv2d(dst, x, w, u, batch, cin, h, wd, cout)
			return
		}
	}
	convForward(conv2dGeom(cin, h, wd, k, pad), cout, batch, x, w, dst)
}

func checkLen(name string, n, want int) {
	if n < want {
		panic(fmt.Sprintf("kernels: %s has %d elements, want %d", name, n, want))
	}
}

// Conv2dF32 computes the cross-correlation dst = x ⋆ w (PyTorch conv2d, stride 1, zero padding
// pad) of x [B,Cin,H,W] with w [Cout,Cin,k,k] into dst [B,Cout,H+2pad-k+1,W+2pad-k+1].
// dst must not overlap x or w. It panics if a slice is too short.
func Conv2dF32(dst, x, w []float32, B, Cin, H, W, Cout, k, pad int) {
	g := conv2dGeom(Cin, H, W, k, pad)
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("w", len(w), Cout*Cin*k*k)
	checkLen("dst", len(dst), B*Cout*g.Ho*g.Wo)
	conv2d(dst, x, w, B, Cin, H, W, Cout, k, pad)
}

// convT2x runs ConvTranspose2x, choosing Winograd where it is faster.
func convT2x[T Float](dst, x, w []T, batch, cin, h, wd, cout int) {
	if useConvTWinograd(cin, h, wd, cout) {
		convT2xWinograd(dst, x, w, batch, cin, h, wd, cout)
		return
	}
	convBackData(convT2xGeom(cout, h, wd), cin, batch, x, w, dst)
}
