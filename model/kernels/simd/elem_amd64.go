//go:build !noasm

package simd

// The loops below take n a multiple of 8 and work on float32 slices given by their first
// element; float64 sums add the lanes in a fixed order, so a call gives the same bits every
// time.

// Sum121 sets t = a + 2b + c over n elements (the vertical pass of the [1,2,1] blur).
//
//go:noescape
func Sum121(t, a, b, c *float32, n int)

// HBlur121 sets dst[j] = (t[j] + 2·t[j+1] + t[j+2])·s for j < n (t holds n+2 elements: the
// horizontal pass of the [1,2,1] blur over a row padded with one zero at each end).
//
//go:noescape
func HBlur121(dst, t *float32, n int, s float32)

// LeakyScale sets dst = gy where x ≥ 0 (sign bit clear) and slope·gy elsewhere: LeakyReLU
// (gy = x) or its gradient.
//
//go:noescape
func LeakyScale(dst, x, gy *float32, n int, slope float32)

// AddConst sets dst = x + b.
//
//go:noescape
func AddConst(dst, x *float32, n int, b float32)

// BiasLeaky sets dst = LeakyReLU(x + b).
//
//go:noescape
func BiasLeaky(dst, x *float32, n int, b, slope float32)

// LeakyGradSum sets gx = gy where y ≥ 0 (sign bit clear) and slope·gy elsewhere, and returns
// Σgx.
//
//go:noescape
func LeakyGradSum(gx, y, gy *float32, n int, slope float32) (sum float64)

// SumF64 returns Σx in float64.
//
//go:noescape
func SumF64(x *float32, n int) float64

// DotF64 returns Σa·b, the products rounded to float32, the sum in float64.
//
//go:noescape
func DotF64(a, b *float32, n int) float64

// EpiDots returns, with xn = (t − m)·a, sg = Σgy and sgx = Σgy·xn (the style epilogue's
// shift and scale gradients).
//
//go:noescape
func EpiDots(t, gy *float32, n int, m, a float32) (sg, sgx float64)

// EpiGrad sets, with xn = (t − m)·a, gx = g = k·(gy − c1 − xn·c2), times slope where t's sign
// bit is set (the style epilogue's input gradient through the instance norm and LeakyReLU),
// and returns sg = Σg and sgn = Σg·nz.
//
//go:noescape
func EpiGrad(gx, t, gy, nz *float32, n int, m, a, k, c1, c2, slope float32) (sg, sgn float64)

// RowCombos forms the row combinations of the Winograd F(2×2,3×3) input transform Bᵀ d for
// n tiles (n % 8 == 0) from four padded image rows a, b, e, f (2n floats each, from the
// first tile's column): with c0 = a−e, c1 = b+e, c2 = e−b, c3 = b−f, Ek[i] = ck[2i] and
// Ok[i] = ck[2i+1], stored to eo as E0 O0 E1 O1 E2 O2 E3 O3, rows ld floats apart.
//
//go:noescape
func RowCombos(eo *float32, ld int, a, b, e, f *float32, n int)

// PhaseCombos forms the row combinations of the Winograd F(2×2,2×2) input transform for n
// tiles (n % 8 == 0) from three padded rows p, q, s (2n floats each): with c0 = p−q, c1 = q,
// c2 = s−q, Pk[i] = ck[2i] and Qk[i] = ck[2i+1], stored to pq as P0 Q0 P1 Q1 P2 Q2, rows ld
// floats apart.
//
//go:noescape
func PhaseCombos(pq *float32, ld int, p, q, s *float32, n int)

// QuadCombos is PhaseCombos for the polyphase stride-2 convolution: from three padded rows p,
// q, s (4n floats each) with c0 = p−q, c1 = q, c2 = s−q, Pk[i] = ck[4i] and Qk[i] = ck[4i+2]
// (n % 8 == 0), stored to pq as P0 Q0 P1 Q1 P2 Q2, rows ld floats apart.
//
//go:noescape
func QuadCombos(pq *float32, ld int, p, q, s *float32, n int)

// GradTile writes the Winograd F(2×2,3×3) weight-gradient transform Z = A gY Aᵀ of one 2×2
// tile inside the image for n channels (n % 8 == 0): channel o's tile is gy[o·hw], gy[o·hw+1],
// gy[o·hw+w], gy[o·hw+w+1], and Z[ξ] goes to z[ξ·stride+o].
//
//go:noescape
func GradTile(z *float32, stride int, gy *float32, hw, w, n int)
