//go:build !openblas

package ops

// setBLASThreads is a no-op without OpenBLAS (gonum's BLAS parallelizes with goroutines).
func setBLASThreads(n int) int { return n }
