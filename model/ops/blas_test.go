package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

// Gorgonia, its tensors and the kernels multiply with the one BLAS the build chose.
func TestGorgoniaUsesKernelsBLAS(t *testing.T) {
	k := kernels.CurrentBLAS()
	if G.WhichBLAS() != G.BLAS(k) || tensor.WhichBLAS() != tensor.BLAS(k) {
		t.Fatalf("gorgonia uses %T, tensor %T, the kernels %T", G.WhichBLAS(), tensor.WhichBLAS(), k)
	}
	if BLASName() != kernels.BLASName() {
		t.Fatalf("BLASName() = %q, kernels.BLASName() = %q", BLASName(), kernels.BLASName())
	}
}
