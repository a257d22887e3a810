//go:build !amd64 || noasm

package simd

// Available is false: the loops exist only for amd64.
const Available = false

// LeakySum panics: check Available.
func LeakySum(dst, x, nz *float32, n int, s, b, slope float32) (float64, float64) {
	panic("simd: LeakySum without the amd64 kernel")
}

// NormAffine panics: check Available.
func NormAffine(dst *float32, n int, m, a, c float32) {
	panic("simd: NormAffine without the amd64 kernel")
}

// WinogradIn panics: check Available.
func WinogradIn(dst *float32, stride int, eo *float32, ld int, n int) {
	panic("simd: WinogradIn without the amd64 kernel")
}

// WinogradOut panics: check Available.
func WinogradOut(y0, y1, m *float32, stride int, n int) {
	panic("simd: WinogradOut without the amd64 kernel")
}

// ConvTIn panics: check Available.
func ConvTIn(dst *float32, stride int, pq *float32, ld int, n int) {
	panic("simd: ConvTIn without the amd64 kernel")
}

// ConvTOut panics: check Available.
func ConvTOut(y0, y1, m0, m1 *float32, stride int, n int) {
	panic("simd: ConvTOut without the amd64 kernel")
}

// Sgemm4x16 panics: check Available.
func Sgemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int) {
	panic("simd: Sgemm4x16 without the amd64 kernel")
}

// Available512 is false: the loops exist only for amd64.
const Available512 = false

// Sgemm8x16 panics: check Available512.
func Sgemm8x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int) {
	panic("simd: Sgemm8x16 without the amd64 kernel")
}
