package kernels

import "sync"

// ConvMode is one of the convolutions Conv computes: a forward pass or one of its gradients.
type ConvMode int

const (
	Conv2dForward     ConvMode = iota // (x, w) -> y: Conv2d
	Conv2dBackData                    // (gy, w) -> gx
	Conv2dBackFilter                  // (x, gy) -> gw
	ConvT2xForward                    // (x, w) -> y: ConvTranspose2x
	ConvT2xBackData                   // (gy, w) -> gx
	ConvT2xBackFilter                 // (x, gy) -> gw
	Down2xForward                     // (x, w) -> y: Conv2dDown2x
	Down2xBackData                    // (gy, w) -> gx
	Down2xBackFilter                  // (x, gy) -> gw
)

var convModeNames = [...]string{"Conv2d", "Conv2dBackData", "Conv2dBackFilter", "ConvTranspose2x", "ConvTranspose2xBackData", "ConvTranspose2xBackFilter",
	"Conv2dDown2x", "Conv2dDown2xBackData", "Conv2dDown2xBackFilter"}

func (m ConvMode) String() string { return convModeNames[m] }

// ConvDims holds the sizes of one convolution: in = [B,C,H,W], out = [B,Cout,Ho,Wo], kernel K.
// For ConvTranspose2x the input is the transposed convolution's input x [B,Cin,H,W].
type ConvDims struct{ B, C, H, W, Cout, Ho, Wo, K int }

// ColCache holds the im2col matrices of one forward run of a convolution over x, for its
// weight gradient (the zero value holds none).
type ColCache struct {
	mu             sync.Mutex
	buf            any     // *[]float32 or *[]float64 from getBuf
	x              uintptr // the input they were made from
	workers, group int     // the plan of the forward pass
}

// colPut keeps buf (returning an unused older buffer to the pool).
func colPut[T Float](c *ColCache, buf *[]T, x uintptr, workers, group int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.buf.(*[]T); ok {
		putBuf(old)
	}
	c.buf, c.x, c.workers, c.group = buf, x, workers, group
}

// colTake returns and forgets the matrices if they were made from x and have n elements.
func colTake[T Float](c *ColCache, x uintptr, n int) (buf *[]T, workers, group int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.buf.(*[]T)
	if !ok || c.x != x || len(*b) != n {
		return nil, 0, 0
	}
	c.buf = nil
	return b, c.workers, c.group
}

// convCached runs the forward convolution of geometry g keeping its im2col matrices in cc, or
// the weight gradient with the matrices kept there for the same x (made again if they are
// missing).
func convCached[T Float](fwd bool, g geom, cout, batch int, a, b, out []T, cc *ColCache, x uintptr) {
	n := batch * g.rows() * g.Ho * g.Wo
	if fwd {
		if cc == nil || g.identity() {
			convForward(g, cout, batch, a, b, out)
			return
		}
		buf := getBuf[T](n)
		workers, group := convForwardCols(g, cout, batch, a, b, out, *buf)
		colPut(cc, buf, x, workers, group)
		return
	}
	if cc != nil {
		if buf, workers, group := colTake[T](cc, x, n); buf != nil {
			convBackFilterCols(g, cout, batch, a, b, out, *buf, workers, group)
			putBuf(buf)
			return
		}
	}
	convBackFilter(g, cout, batch, a, b, out)
}

// Conv computes the convolution mode of sizes d into out: for the forward modes a is x and b
// the weight, for the data gradients a is gy and b the weight, for the weight gradients a is
// x and b is gy. pad is Conv2d's padding. cc, if not nil, passes the im2col matrices of a
// forward pass over the input at address x to its weight gradient.
func Conv[T Float](mode ConvMode, pad int, d ConvDims, a, b, out []T, cc *ColCache, x uintptr) {
	switch mode {
	case Conv2dForward:
		runConv2d(pad, d, a, b, out, cc, x)
	case Conv2dBackData:
		runConv2dBackData(pad, d, a, b, out)
	case Conv2dBackFilter:
		runConv2dBackFilter(pad, d, a, b, out, cc, x)
	case ConvT2xForward:
		runConvT2x(d, a, b, out)
	case ConvT2xBackData:
		runConvT2xBackData(d, a, b, out)
	case ConvT2xBackFilter:
		runConvT2xBackFilter(d, a, b, out)
	case Down2xForward:
		runDown2x(d, a, b, out, cc, x)
	case Down2xBackData:
		runDown2xBackData(d, a, b, out)
	case Down2xBackFilter:
		runDown2xBackFilter(d, a, b, out, cc, x)
	}
}

// runConv2d is Conv2dForward: y = x ⋆ w.
func runConv2d[T Float](pad int, d ConvDims, x, w, y []T, cc *ColCache, xp uintptr) {
	if d.K == 3 && pad == 1 && is32[T]() && useWinogradTrain(d.B, d.C, d.H, d.W, d.Cout) && frozenWinograd(w, d.Cout, d.C) == nil {
		// a weight that changes between runs (training): transformed on every call
		winogradBatch(as32(y), as32(x), as32(w), d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	if cc != nil && !(d.K == 3 && pad == 1 && useWinograd(d.C, d.H, d.W, d.Cout, d.K, pad, frozenWinograd(w, d.Cout, d.C) != nil)) {
		convCached(true, conv2dGeom(d.C, d.H, d.W, d.K, pad), d.Cout, d.B, x, w, y, cc, xp)
		return
	}
	conv2d(y, x, w, d.B, d.C, d.H, d.W, d.Cout, d.K, pad)
}

// runConv2dBackData is Conv2dBackData: gx from gy and w.
func runConv2dBackData[T Float](pad int, d ConvDims, gy, w, gx []T) {
	if d.K == 3 && pad == 1 && is32[T]() && useWinogradTrain(d.B, d.Cout, d.Ho, d.Wo, d.C) {
		winogradBackDataBatch(as32(gx), as32(gy), as32(w), d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	if useWinograd(d.Cout, d.Ho, d.Wo, d.C, d.K, pad, false) {
		// gx = gy ⋆ flip(wᵀ): again a 3×3 pad-1 convolution.
		wt := getBuf[T](d.C * d.Cout * 9)
		defer putBuf(wt)
		flipTranspose(*wt, w, d.Cout, d.C)
		winogradConv2d(gx, gy, *wt, nil, d.B, d.Cout, d.Ho, d.Wo, d.C)
		return
	}
	if d.K > 1 && pad <= d.K-1 {
		// gx = gy ⋆ flip(wᵀ) with padding k-1-pad: im2col of gy and one GEMM with
		// K = Cout·k·k, faster than a GEMM with K = Cout into im2col-sized columns
		// followed by col2im.
		wt := getBuf[T](d.C * d.Cout * d.K * d.K)
		defer putBuf(wt)
		flipTransposeK(*wt, w, d.Cout, d.C, d.K)
		convForward(conv2dGeom(d.Cout, d.Ho, d.Wo, d.K, d.K-1-pad), d.C, d.B, gy, *wt, gx)
		return
	}
	convBackData(conv2dGeom(d.C, d.H, d.W, d.K, pad), d.Cout, d.B, gy, w, gx)
}

// runConv2dBackFilter is Conv2dBackFilter: gw from x and gy.
func runConv2dBackFilter[T Float](pad int, d ConvDims, x, gy, gw []T, cc *ColCache, xp uintptr) {
	if d.K == 3 && pad == 1 && is32[T]() && winogradTrainGradOn && useWinogradTrain(d.B, d.C, d.H, d.W, d.Cout) {
		// the layers whose forward pass ran on winogradBatch
		winogradBackFilterBatch(as32(gw), as32(x), as32(gy), d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	if useWinograd(d.C, d.H, d.W, d.Cout, d.K, pad, false) {
		winogradBackFilter(gw, x, gy, d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	convCached(false, conv2dGeom(d.C, d.H, d.W, d.K, pad), d.Cout, d.B, x, gy, gw, cc, xp)
}

// runConvT2x is ConvT2xForward: y = ConvTranspose2x(x, w).
func runConvT2x[T Float](d ConvDims, x, w, y []T) {
	if is32[T]() && UseConvTTrain(d.B, d.C, d.H, d.W, d.Cout) && frozenConvT(w, d.C, d.Cout) == nil {
		convTBatch(as32(y), as32(x), as32(w), d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	convT2x(y, x, w, d.B, d.C, d.H, d.W, d.Cout)
}

// runConvT2xBackData is ConvT2xBackData: the stride-2 4×4 convolution of gy [B,Cout,2H,2W]
// with w read as [Cin][Cout][4][4].
func runConvT2xBackData[T Float](d ConvDims, gy, w, gx []T) {
	if is32[T]() && useDown2xTrain(d.B, d.Cout, 2*d.H, 2*d.W, d.C) {
		down2xBatch(as32(gx), as32(gy), as32(w), d.B, d.Cout, 2*d.H, 2*d.W, d.C)
		return
	}
	convForward(convT2xGeom(d.Cout, d.H, d.W), d.C, d.B, gy, w, gx)
}

// runConvT2xBackFilter is ConvT2xBackFilter. The transposed conv is the adjoint of a conv
// from its output to its input, whose "input" image is gy and whose "output gradient" is x.
func runConvT2xBackFilter[T Float](d ConvDims, x, gy, gw []T) {
	if is32[T]() && useDown2xTrain(d.B, d.Cout, 2*d.H, 2*d.W, d.C) {
		down2xBackFilterBatch(as32(gw), as32(gy), as32(x), d.B, d.Cout, 2*d.H, 2*d.W, d.C)
		return
	}
	convBackFilter(convT2xGeom(d.Cout, d.H, d.W), d.C, d.B, gy, x, gw)
}

// runDown2x is Down2xForward: the stride-2 4×4 convolution of x with downWeight(w).
func runDown2x[T Float](d ConvDims, x, w, y []T, cc *ColCache, xp uintptr) {
	w4 := getBuf[T](d.Cout * d.C * 16)
	defer putBuf(w4)
	downWeight(*w4, w, d.Cout*d.C)
	if is32[T]() && useDown2xTrain(d.B, d.C, d.H, d.W, d.Cout) {
		down2xBatch(as32(y), as32(x), as32(*w4), d.B, d.C, d.H, d.W, d.Cout)
		return
	}
	convCached(true, down2xGeom(d.C, d.H, d.W), d.Cout, d.B, x, *w4, y, cc, xp)
}

// runDown2xBackData is Down2xBackData: gx from gy and downWeight(w).
func runDown2xBackData[T Float](d ConvDims, gy, w, gx []T) {
	w4 := getBuf[T](d.Cout * d.C * 16)
	defer putBuf(w4)
	downWeight(*w4, w, d.Cout*d.C)
	if is32[T]() && UseConvTTrain(d.B, d.Cout, d.Ho, d.Wo, d.C) {
		// the adjoint of the stride-2 4×4 conv: ConvTranspose2x of gy with w4 as it is
		convTBatch(as32(gx), as32(gy), as32(*w4), d.B, d.Cout, d.Ho, d.Wo, d.C)
		return
	}
	convBackData(down2xGeom(d.C, d.H, d.W), d.Cout, d.B, gy, *w4, gx)
}

// runDown2xBackFilter is Down2xBackFilter: the 4×4 weight gradient, folded back onto the
// 3×3 weight by downWeightAdjoint.
func runDown2xBackFilter[T Float](d ConvDims, x, gy, gw []T, cc *ColCache, xp uintptr) {
	dw4 := getBuf[T](d.Cout * d.C * 16)
	defer putBuf(dw4)
	if is32[T]() && useDown2xTrain(d.B, d.C, d.H, d.W, d.Cout) {
		// the layers whose forward pass ran on down2xBatch
		down2xBackFilterBatch(as32(*dw4), as32(x), as32(gy), d.B, d.C, d.H, d.W, d.Cout)
	} else {
		convCached(false, down2xGeom(d.C, d.H, d.W), d.Cout, d.B, x, gy, *dw4, cc, xp)
	}
	downWeightAdjoint(gw, *dw4, d.Cout*d.C)
}

// downWeight writes the 4×4 kernels w4 [n][4][4] of Conv2dDown2x from the 3×3 kernels w [n][3][3]:
// w4[u'][v'] = ¼ Σ w[u][v] over u' - 1 ≤ u ≤ u', v' - 1 ≤ v ≤ v'.
func downWeight[T Float](w4, w []T, n int) {
	for k := 0; k < n; k++ {
		g, d := w[k*9:k*9+9], w4[k*16:k*16+16]
		// rows: r[u'][v] = Σ_{u=u'-1..u'} g[u][v]
		var r [4][3]T
		for v := 0; v < 3; v++ {
			r[0][v] = g[v]
			r[1][v] = g[v] + g[3+v]
			r[2][v] = g[3+v] + g[6+v]
			r[3][v] = g[6+v]
		}
		for u := 0; u < 4; u++ {
			d[u*4+0] = r[u][0] / 4
			d[u*4+1] = (r[u][0] + r[u][1]) / 4
			d[u*4+2] = (r[u][1] + r[u][2]) / 4
			d[u*4+3] = r[u][2] / 4
		}
	}
}

// downWeightAdjoint writes dw [n][3][3] from dw4 [n][4][4]: the adjoint of downWeight,
// dw[u][v] = ¼ Σ_{a,b∈{0,1}} dw4[u+a][v+b].
func downWeightAdjoint[T Float](dw, dw4 []T, n int) {
	for k := 0; k < n; k++ {
		s, d := dw4[k*16:k*16+16], dw[k*9:k*9+9]
		for u := 0; u < 3; u++ {
			for v := 0; v < 3; v++ {
				d[u*3+v] = (s[u*4+v] + s[u*4+v+1] + s[(u+1)*4+v] + s[(u+1)*4+v+1]) / 4
			}
		}
	}
}

// flipTransposeK writes wt[c][o][u][v] = w[o][c][k-1-u][k-1-v] for k×k kernels.
func flipTransposeK[T Float](wt, w []T, cout, cin, k int) {
	kk := k * k
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			src := w[(o*cin+c)*kk : (o*cin+c+1)*kk]
			dst := wt[(c*cout+o)*kk : (c*cout+o+1)*kk]
			for i := 0; i < kk; i++ {
				dst[i] = src[kk-1-i]
			}
		}
	}
}

// flipTranspose writes wt[c][o][u][v] = w[o][c][2-u][2-v] for 3×3 kernels.
func flipTranspose[T Float](wt, w []T, cout, cin int) {
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			src := w[(o*cin+c)*9 : (o*cin+c)*9+9]
			dst := wt[(c*cout+o)*9 : (c*cout+o)*9+9]
			for i := 0; i < 9; i++ {
				dst[i] = src[8-i]
			}
		}
	}
}
