//go:build !amd64 || noasm || openblas

package ops

const haveSgemmKernel = false

func sgemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, acc int) {
	panic("ops: sgemm4x16 without the amd64 kernel")
}
