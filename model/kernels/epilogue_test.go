package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"stylegan-tui/model/kernels/simd"
)

func BenchmarkStyleEpilogue(b *testing.B) {
	const B, C, H, W = 1, 64, 256, 256
	x, y := make([]float32, B*C*H*W), make([]float32, B*C*H*W)
	for i := range x {
		x[i] = float32(i%97) - 40
	}
	n, s, bias, sc, sh := make([]float32, H*W), make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
	b.Run("fused", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			StyleEpilogue(y, x, n, s, bias, sc, sh, B, C, H*W, false, 0.2, 1e-8)
		}
	})
	b.Run("chain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			AddNoise(y, x, n, s, B, C, H*W, false)
			AddBias(y, y, bias, B, C, H*W)
			LeakyReLU(y, y, 0.2)
			InstanceNorm(y, y, B*C, H*W, 1e-8)
			Modulate(y, y, sc, sh, B*C, H*W)
		}
	})
}

// TestEpiloguePlaneKernel compares the AVX2 plane loop with the portable one, on sizes with
// and without a tail and on planes whose mean is far from zero (the one-pass variance).
func TestEpiloguePlaneKernel(t *testing.T) {
	if !simd.Available {
		t.Log("no AVX2/FMA here: only the portable loop exists")
		return
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, hw := range []int{8, 13, 64, 1000, 4096} {
		for _, off := range []float64{0, 50} {
			const b, c = 2, 3
			x, nz := make([]float32, b*c*hw), make([]float32, hw)
			for i := range x {
				x[i] = float32(r.NormFloat64() + off)
			}
			for i := range nz {
				nz[i] = float32(r.NormFloat64())
			}
			str, bias := []float32{0.5, -1, 2}, []float32{0.1, 0, -0.3}
			scale, shift := []float32{1, 2, 0.5, -1, 3, 1}, []float32{0, 1, -1, 0.5, 0, 2}
			run := func(on bool) []float32 {
				epiKernelOn = on
				defer func() { epiKernelOn = true }()
				out := make([]float32, len(x))
				StyleEpilogue(out, x, nz, str, bias, scale, shift, b, c, hw, false, 0.2, 1e-8)
				return out
			}
			want, got := run(false), run(true)
			for i := range want {
				if d := math.Abs(float64(want[i] - got[i])); d > 2e-5*max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("hw %d offset %g: element %d: kernel %g, portable %g", hw, off, i, got[i], want[i])
				}
			}
		}
	}
}
