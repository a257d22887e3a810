//go:build openblas

package ops

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

// setBLASThreads sets OpenBLAS's thread count and returns the previous one.
func setBLASThreads(n int) int {
	old := int(C.openblas_get_num_threads())
	if n != old {
		C.openblas_set_num_threads(C.int(n))
	}
	return old
}
