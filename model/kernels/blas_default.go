//go:build !openblas

package kernels

// BLASName names the BLAS the build multiplies with.
func BLASName() string { return "gonum (pure Go)" }

// SetBLASThreads is a no-op without OpenBLAS (gonum's BLAS parallelizes with goroutines).
func SetBLASThreads(n int) int { return n }
