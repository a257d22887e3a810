//go:build !openblas

package ops

// BLASName names the BLAS the build multiplies with.
func BLASName() string { return "gonum (pure Go)" }

// setBLASThreads is a no-op without OpenBLAS (gonum's BLAS parallelizes with goroutines).
func setBLASThreads(n int) int { return n }
