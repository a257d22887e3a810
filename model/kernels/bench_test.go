package kernels

import (
	"fmt"
	"testing"

	"stylegan-tui/model/internal/kerneltest"
)

// The benchmarks run their variants interleaved (kerneltest.Interleave).

// BenchmarkConv2d compares, per shape (kerneltest.ConvShapes): the im2col+GEMM kernel
// (baseline), Winograd with the weight transformed once, and Winograd transforming the weight
// on every call.
func BenchmarkConv2d(b *testing.B) {
	for _, s := range kerneltest.ConvShapes {
		b.Run(fmt.Sprintf("%dto%d@%d", s.Cin, s.Cout, s.HW), func(b *testing.B) {
			x := kerneltest.RandF32(s.Cin*s.HW*s.HW, 1)
			w := kerneltest.RandF32(s.Cout*s.Cin*9, 2)
			y := make([]float32, s.Cout*s.HW*s.HW)
			u := prepareWinogradF32(w, s.Cout, s.Cin)
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convForward(conv2dGeom(s.Cin, s.HW, s.HW, 3, 1), s.Cout, 1, x, w, y) }},
				{Name: "winograd", Run: func() { conv2dWinogradF32(y, x, u, 1, s.Cin, s.HW, s.HW, s.Cout) }},
				{Name: "winograd_wt", Run: func() { winogradConv2d(y, x, w, nil, 1, s.Cin, s.HW, s.HW, s.Cout) }},
			})
		})
	}
}

// BenchmarkConvTranspose2x: StyleGAN's fused upsample-conv 256->128 from 64² to 128²: the GEMM +
// col2im kernel (baseline) and the Winograd F(2×2,2×2) kernel.
func BenchmarkConvTranspose2x(b *testing.B) {
	const cin, cout, hw = 256, 128, 64
	x, w := kerneltest.RandF32(cin*hw*hw, 1), kerneltest.RandF32(cin*cout*16, 2)
	y := make([]float32, cout*4*hw*hw)
	kerneltest.Interleave(b, []kerneltest.Variant{
		{Name: "col2im", Run: func() { convBackData(convT2xGeom(cout, hw, hw), cin, 1, x, w, y) }},
		{Name: "winograd", Run: func() { convT2xWinograd(y, x, w, 1, cin, hw, hw, cout) }},
	})
}

// BenchmarkConv2dBackFilter: the weight gradient of a 3×3 pad-1 conv (B=4), im2col+GEMM against
// Winograd.
func BenchmarkConv2dBackFilter(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{64, 64}, {256, 32}} {
		b.Run(fmt.Sprintf("%dch@%d", s.c, s.hw), func(b *testing.B) {
			const B = 4
			x, gy := kerneltest.RandF32(B*s.c*s.hw*s.hw, 1), kerneltest.RandF32(B*s.c*s.hw*s.hw, 2)
			dw := make([]float32, s.c*s.c*9)
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convBackFilter(conv2dGeom(s.c, s.hw, s.hw, 3, 1), s.c, B, x, gy, dw) }},
				{Name: "winograd", Run: func() { winogradBackFilter(dw, x, gy, B, s.c, s.hw, s.hw, s.c) }},
			})
		})
	}
}

// BenchmarkConv2dTrainShapes: the 3×3 pad-1 convolutions of the trainer (B=16, float32, BLAS
// single-threaded and the batch split over the cores as in training), im2col + GEMM against
// winogradBatch. "fwd": the forward pass (the input gradient is the same convolution with the
// flipped kernel); "fwd+gw": the forward pass and the weight gradient, which takes the forward
// pass's im2col matrices when there are some and builds them again after winogradBatch
// ("winograd"), or runs in the Winograd domain ("winograd+gw", winogradBackFilterBatch); "gw":
// the weight gradient alone, im2col against winogradBackFilterBatch with groups of 64-256 tiles.
func BenchmarkConv2dTrainShapes(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{64, 8}, {64, 16}, {32, 16}, {64, 32}, {32, 32}, {32, 64}, {128, 16}, {128, 32}} {
		const B = 16
		g := conv2dGeom(s.c, s.hw, s.hw, 3, 1)
		x, w, gy := kerneltest.RandF32(B*s.c*s.hw*s.hw, 1), kerneltest.RandF32(s.c*s.c*9, 2), kerneltest.RandF32(B*s.c*s.hw*s.hw, 3)
		y, dw := make([]float32, B*s.c*s.hw*s.hw), make([]float32, s.c*s.c*9)
		cols := make([]float32, B*g.rows()*s.hw*s.hw)
		b.Run(fmt.Sprintf("fwd/%dch@%d", s.c, s.hw), func(b *testing.B) {
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convForward(g, s.c, B, x, w, y) }},
				{Name: "winograd", Run: func() { winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c) }},
				{Name: "winograd_unsplit", Run: func() { winogradConv2d(y, x, w, nil, B, s.c, s.hw, s.hw, s.c) }},
			})
		})
		b.Run(fmt.Sprintf("fwd+gw/%dch@%d", s.c, s.hw), func(b *testing.B) {
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() {
					wk, gr := convForwardCols(g, s.c, B, x, w, y, cols)
					convBackFilterCols(g, s.c, B, x, gy, dw, cols, wk, gr)
				}},
				{Name: "winograd", Run: func() {
					winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c)
					convBackFilter(g, s.c, B, x, gy, dw)
				}},
				{Name: "winograd+gw", Run: func() {
					winogradBatch(y, x, w, B, s.c, s.hw, s.hw, s.c)
					winogradBackFilterBatch(dw, x, gy, B, s.c, s.hw, s.hw, s.c)
				}},
			})
		})
		b.Run(fmt.Sprintf("gw/%dch@%d", s.c, s.hw), func(b *testing.B) {
			tiles := func(n int) func() {
				return func() {
					defer func(old int) { winogradGradTiles = old }(winogradGradTiles)
					winogradGradTiles = n
					winogradBackFilterBatch(dw, x, gy, B, s.c, s.hw, s.hw, s.c)
				}
			}
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convBackFilter(g, s.c, B, x, gy, dw) }},
				{Name: "winograd64", Run: tiles(64)}, {Name: "winograd128", Run: tiles(128)}, {Name: "winograd256", Run: tiles(256)},
			})
		})
	}
}

// BenchmarkConvTTrainShapes: ConvTranspose2x at the trainer's shapes (B=16, float32, BLAS
// single-threaded, batch split over the cores), GEMM + col2im against convTBatch. The input
// gradient of Conv2dDown2x is the same computation.
func BenchmarkConvTTrainShapes(b *testing.B) {
	for _, s := range []struct{ cin, cout, hw int }{{64, 32, 32}, {64, 64, 16}, {128, 64, 16}, {64, 64, 8}} {
		const B = 16
		x, w := kerneltest.RandF32(B*s.cin*s.hw*s.hw, 1), kerneltest.RandF32(s.cin*s.cout*16, 2)
		y := make([]float32, B*s.cout*4*s.hw*s.hw)
		b.Run(fmt.Sprintf("%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "col2im", Run: func() { convBackData(convT2xGeom(s.cout, s.hw, s.hw), s.cin, B, x, w, y) }},
				{Name: "winograd", Run: func() { convTBatch(y, x, w, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
	}
}

// BenchmarkDown2xTrainShapes compares the stride-2 4×4 convolution (Conv2dDown2x's forward
// pass, ConvTranspose2x's input gradient) and its weight gradient on im2col + GEMM and on the
// Winograd path (down2xBatch, down2xBackFilterBatch) at the trainer's shapes (B=16, input
// side hw), interleaved.
func BenchmarkDown2xTrainShapes(b *testing.B) {
	for _, s := range []struct{ cin, cout, hw int }{{32, 32, 64}, {32, 64, 32}, {64, 64, 16}, {32, 32, 32}} {
		const B = 16
		g := down2xGeom(s.cin, s.hw, s.hw)
		x, w := kerneltest.RandF32(B*s.cin*s.hw*s.hw, 1), kerneltest.RandF32(s.cin*s.cout*16, 2)
		gy := kerneltest.RandF32(B*s.cout*s.hw*s.hw/4, 3)
		y, dw := make([]float32, len(gy)), make([]float32, len(w))
		b.Run(fmt.Sprintf("fwd/%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convForward(g, s.cout, B, x, w, y) }},
				{Name: "winograd", Run: func() { down2xBatch(y, x, w, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
		b.Run(fmt.Sprintf("filter/%dto%d@%d", s.cin, s.cout, s.hw), func(b *testing.B) {
			kerneltest.Interleave(b, []kerneltest.Variant{
				{Name: "im2col", Run: func() { convBackFilter(g, s.cout, B, x, gy, dw) }},
				{Name: "winograd", Run: func() { down2xBackFilterBatch(dw, x, gy, B, s.cin, s.hw, s.hw, s.cout) }},
			})
		})
	}
}
