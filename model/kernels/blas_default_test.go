//go:build !openblas

package kernels

import "testing"

func TestGonumBLASChosen(t *testing.T) {
	if got := BLASName(); got != "gonum (pure Go)" || ExternalBLAS() {
		t.Fatalf("BLASName() = %q, ExternalBLAS() = %v without -tags openblas", got, ExternalBLAS())
	}
}
