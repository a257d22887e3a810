package kernels

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"stylegan-tui/model/internal/kerneltest"
)

// TestDown2xTrain checks the stride-2 4×4 convolution on the Winograd path (down2xBatch: the
// forward pass of Conv2dDown2x and the input gradient of ConvTranspose2x) and its weight
// gradient (down2xBackFilterBatch) against im2col in float32 and a float64 im2col reference
// on the same float32-rounded inputs, at the trainer's shapes (B=16: 32 channels from 64² and
// 32², 64 from 16²) and odd ones: batches that split unevenly over the cores, Cin ≠ Cout,
// channel counts that leave padding columns (Cout not a multiple of 16) in the weight
// gradient's GEMMs, outputs with odd sizes (edge tiles) or a tile count that is not a
// multiple of 16, several images per group (16 tiles each), and weight-gradient groups that
// end mid-image (winogradGradTiles forced to 48). Two calls must give the same bits.
//
// Error bounds as TestWinogradTrain's and TestWinogradTrainGrad's: 4·u·√K with K = 16·Cin
// terms per output and K = B·Ho·Wo per weight, twice that between the two paths.
func TestDown2xTrain(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2/FMA GEMM kernel: the stride-2 convolutions stay on im2col")
	}
	for _, s := range []struct{ b, cin, h, w, cout, procs, group int }{
		{16, 32, 64, 64, 32, 2, 0}, {16, 32, 32, 32, 64, 2, 0}, {16, 64, 16, 16, 64, 2, 0},
		{3, 16, 20, 18, 16, 2, 0}, {5, 64, 16, 24, 32, 2, 0}, {7, 20, 18, 22, 36, 3, 48},
		{2, 128, 16, 16, 128, 2, 0}, {4, 32, 40, 40, 32, 2, 48},
	} {
		t.Run(fmt.Sprintf("B%d_%dx%dx%d_to%d_P%d_G%d", s.b, s.cin, s.h, s.w, s.cout, s.procs, s.group), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(s.procs))
			if s.group > 0 {
				defer func(old int) { winogradGradTiles = old }(winogradGradTiles)
				winogradGradTiles = s.group
			}
			ho, wo := s.h/2, s.w/2
			shapes := [][]int{{s.b, s.cin, s.h, s.w}, {s.cout, s.cin, 4, 4}, {s.b, s.cout, ho, wo}}
			in := kerneltest.RandInputs(shapes, 13)
			x32, w32, gy32 := kerneltest.F32(in[0]), kerneltest.F32(in[1]), kerneltest.F32(in[2])
			x, w, gy := kerneltest.F64(x32), kerneltest.F64(w32), kerneltest.F64(gy32)
			g := down2xGeom(s.cin, s.h, s.w)

			n := s.b * s.cout * ho * wo
			want := make([]float64, n)
			convForward(g, s.cout, s.b, x, w, want)
			y := kerneltest.SameTwice(t, n, func(out []float32) { down2xBatch(out, x32, w32, s.b, s.cin, s.h, s.w, s.cout) })
			y0 := make([]float32, n)
			convForward(g, s.cout, s.b, x32, w32, y0)
			kerneltest.CheckFastSlow(t, "im2col", y, y0, want, 4*0x1p-24*math.Sqrt(float64(16*s.cin)))

			wantW := make([]float64, len(w))
			convBackFilter(g, s.cout, s.b, x, gy, wantW)
			gw := kerneltest.SameTwice(t, len(w), func(out []float32) { down2xBackFilterBatch(out, x32, gy32, s.b, s.cin, s.h, s.w, s.cout) })
			gw0 := make([]float32, len(w))
			convBackFilter(g, s.cout, s.b, x32, gy32, gw0)
			kerneltest.CheckFastSlow(t, "im2col", gw, gw0, wantW, 4*0x1p-24*math.Sqrt(float64(s.b*ho*wo)))
		})
	}
}

// TestTransformKernels checks that the AVX2 loops of the Winograd transforms (the row
// combinations of winogradInput, convTInput and down2xInput, and winogradGradInput's gathered
// tiles) give the same bits as the portable loops, on images with edge tiles and channel
// counts that leave a tail after the multiples of 8.
func TestTransformKernels(t *testing.T) {
	if !haveSgemmKernel {
		t.Skip("no AVX2: only the portable loops exist")
	}
	const cin, h, w = 20, 34, 38
	x := kerneltest.F32(kerneltest.RandInputs([][]int{{cin, h, w}}, 21)[0])
	run := func(on bool, f func() []float32) []float32 {
		defer func(old bool) { combosKernelOn = old }(combosKernelOn)
		combosKernelOn = on
		return f()
	}
	check := func(name string, f func() []float32) {
		t.Helper()
		want, got := run(false, f), run(true, f)
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
				t.Fatalf("%s: element %d: kernel %g, portable %g", name, i, got[i], want[i])
			}
		}
	}
	tiles := ((h + 1) / 2) * ((w + 1) / 2)
	check("winogradInput", func() []float32 {
		vs := slabStride(cin * tiles)
		v := make([]float32, 16*vs)
		winogradInput(v, vs, tileLayout{cin, tiles, false}, x, h, w, 0, tiles, 0, cin)
		return v
	})
	check("winogradGradInput", func() []float32 {
		ld := (cin + 15) &^ 15
		zs := slabStride(tiles * ld)
		z := make([]float32, 16*zs)
		winogradGradInput(z, zs, ld, x, h, w, 0, tiles, cin)
		return z
	})
	check("convTInput", func() []float32 {
		vs := slabStride(cin * tiles)
		v := make([]float32, 9*vs)
		for ph := 0; ph < 4; ph++ {
			convTInput(v, vs, tileLayout{cin, tiles, false}, x, h, w, ph/2, ph%2, 0, tiles, 0, cin)
		}
		return v
	})
	check("down2xInput", func() []float32 {
		dt := ((h/2 + 1) / 2) * ((w/2 + 1) / 2)
		vs := slabStride(4 * cin * dt)
		v := make([]float32, 9*vs)
		down2xInput(v, vs, tileLayout{4 * cin, dt, false}, x, h, w, 0, dt, cin)
		return v
	})
}
