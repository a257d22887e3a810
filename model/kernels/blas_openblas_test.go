//go:build openblas

package kernels

import "testing"

// The openblas build switches the kernels' own test binary too, not only programs that
// link model/ops.
func TestOpenBLASChosen(t *testing.T) {
	if got := BLASName(); got != "OpenBLAS (netlib)" {
		t.Fatalf("BLASName() = %q, want OpenBLAS's", got)
	}
	if !ExternalBLAS() {
		t.Fatalf("ExternalBLAS() = false with -tags openblas (%T)", CurrentBLAS())
	}
	old := SetBLASThreads(1)
	if SetBLASThreads(old) != 1 {
		t.Fatal("SetBLASThreads does not reach OpenBLAS")
	}
}
