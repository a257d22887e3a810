//go:build !amd64 || noasm

package simd

const noKernel = "simd: no amd64 kernel (check Available)"

// Sum121 panics: check Available.
func Sum121(t, a, b, c *float32, n int) { panic(noKernel) }

// HBlur121 panics: check Available.
func HBlur121(dst, t *float32, n int, s float32) { panic(noKernel) }

// LeakyScale panics: check Available.
func LeakyScale(dst, x, gy *float32, n int, slope float32) { panic(noKernel) }

// AddConst panics: check Available.
func AddConst(dst, x *float32, n int, b float32) { panic(noKernel) }

// BiasLeaky panics: check Available.
func BiasLeaky(dst, x *float32, n int, b, slope float32) { panic(noKernel) }

// LeakyGradSum panics: check Available.
func LeakyGradSum(gx, y, gy *float32, n int, slope float32) float64 { panic(noKernel) }

// SumF64 panics: check Available.
func SumF64(x *float32, n int) float64 { panic(noKernel) }

// DotF64 panics: check Available.
func DotF64(a, b *float32, n int) float64 { panic(noKernel) }

// EpiDots panics: check Available.
func EpiDots(t, gy *float32, n int, m, a float32) (float64, float64) { panic(noKernel) }

// EpiGrad panics: check Available.
func EpiGrad(gx, t, gy, nz *float32, n int, m, a, k, c1, c2, slope float32) (float64, float64) {
	panic(noKernel)
}

// RowCombos panics: check Available.
func RowCombos(eo *float32, ld int, a, b, e, f *float32, n int) { panic(noKernel) }

// PhaseCombos panics: check Available.
func PhaseCombos(pq *float32, ld int, p, q, s *float32, n int) { panic(noKernel) }

// QuadCombos panics: check Available.
func QuadCombos(pq *float32, ld int, p, q, s *float32, n int) { panic(noKernel) }

// GradTile panics: check Available.
func GradTile(z *float32, stride int, gy *float32, hw, w, n int) { panic(noKernel) }
