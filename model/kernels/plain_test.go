package kernels

import (
	"fmt"
	"math/rand"
	"testing"

	"stylegan-tui/model/internal/kerneltest"
	"stylegan-tui/model/kernels/simd"
)

// The float32 forms of the kernels that only the tests call, with the checks of the
// exported ones (Conv2dF32, ...).

// upsample2xF32 writes the nearest-neighbour ×2 upsampling of x [B,C,H,W] to dst [B,C,2H,2W].
func upsample2xF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), 4*B*C*H*W)
	Upsample2x(dst, x, B*C, H, W, 1)
}

// blurF32 writes StyleGAN's blur ([1,2,1]ᵀ[1,2,1]/16 per channel, zero padding 1) of
// x [B,C,H,W] to dst (same size). dst may equal x.
func blurF32(dst, x []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	Blur(dst, x, B*C, H, W)
}

// instanceNormF32 normalizes each [H,W] plane of x [B,C,H,W] to zero mean and unit (biased)
// variance: dst = (x-mean)/sqrt(var+eps). dst may equal x.
func instanceNormF32(dst, x []float32, B, C, H, W int, eps float64) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	InstanceNorm(dst, x, B*C, H*W, eps)
}

// modulateF32 computes dst = x·scale[b,c] + shift[b,c] for x [B,C,H,W], scale and shift [B,C];
// shift may be nil. dst may equal x.
func modulateF32(dst, x, scale, shift []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("scale", len(scale), B*C)
	if shift != nil {
		checkLen("shift", len(shift), B*C)
	}
	Modulate(dst, x, scale, shift, B*C, H*W)
}

// addNoiseF32 computes dst = x + noise·strength[c] for x [B,C,H,W], noise [B,1,H,W] or
// [1,1,H,W] (by its length), strength [C]. dst may equal x.
func addNoiseF32(dst, x, noise, strength []float32, B, C, H, W int) {
	checkLen("x", len(x), B*C*H*W)
	checkLen("dst", len(dst), B*C*H*W)
	checkLen("noise", len(noise), H*W)
	checkLen("strength", len(strength), C)
	AddNoise(dst, x, noise, strength, B, C, H*W, B > 1 && len(noise) >= B*H*W)
}

// convTranspose2xF32 computes PyTorch's conv_transpose2d(x, w, stride=2, padding=1) of
// x [B,Cin,H,W] with w [Cin,Cout,4,4] into dst [B,Cout,2H,2W]. dst must not overlap x or w.
func convTranspose2xF32(dst, x, w []float32, B, Cin, H, W, Cout int) {
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("w", len(w), Cin*Cout*16)
	checkLen("dst", len(dst), B*Cout*4*H*W)
	convT2x(dst, x, w, B, Cin, H, W, Cout)
}

// prepareWinogradF32 returns the Winograd transform of a 3×3 weight w [Cout,Cin,3,3], to pass
// to conv2dWinogradF32 for every convolution with that weight. Its layout is internal; it holds
// about 16/9 as many floats as w.
func prepareWinogradF32(w []float32, Cout, Cin int) []float32 {
	checkLen("w", len(w), Cout*Cin*9)
	u := make([]float32, winogradLen(Cout, Cin))
	winogradWeights(u, w, Cout, Cin)
	return u
}

// conv2dWinogradF32 computes the same as Conv2dF32(dst, x, w, B, Cin, H, W, Cout, 3, 1) with
// the weight already transformed by prepareWinogradF32.
func conv2dWinogradF32(dst, x, u []float32, B, Cin, H, W, Cout int) {
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("u", len(u), winogradLen(Cout, Cin))
	checkLen("dst", len(dst), B*Cout*H*W)
	winogradConv2d(dst, x, nil, u, B, Cin, H, W, Cout)
}

// upsample2xConv2dF32 computes Conv2dF32 of the nearest-upsampled x [B,Cin,H,W] with a 3×3,
// pad-1 weight w [Cout,Cin,3,3] into dst [B,Cout,2H,2W], without materializing the upsampled
// image.
func upsample2xConv2dF32(dst, x, w []float32, B, Cin, H, W, Cout int) {
	checkLen("x", len(x), B*Cin*H*W)
	checkLen("w", len(w), Cout*Cin*9)
	checkLen("dst", len(dst), B*Cout*4*H*W)
	w4p := getBuf[float32](Cin * Cout * 16)
	defer putBuf(w4p)
	UpWeight(*w4p, w, Cout, Cin, false)
	convT2x(dst, x, *w4p, B, Cin, H, W, Cout)
}

// TestPlainKernels checks the exported float32 kernels against the references, in place where
// they allow dst == x.
func TestPlainKernels(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	rnd := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	const B, C, H, W = 2, 3, 4, 6
	xs := []int{B, C, H, W}
	x := rnd(B * C * H * W)
	check := func(name string, got []float32, want []float64) {
		t.Helper()
		g := make([]float64, len(got))
		for i, v := range got {
			g[i] = float64(v)
		}
		if e := kerneltest.MaxRelErr(g, want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", name, e)
		}
	}
	inPlace := func(f func(dst, x []float32)) []float32 {
		d := kerneltest.F32(x)
		f(d, d)
		return d
	}
	{
		w := rnd(5 * C * 9)
		want, ws := kerneltest.RefConv2d(x, xs, w, []int{5, C, 3, 3}, 1)
		got := make([]float32, kerneltest.Size(ws))
		Conv2dF32(got, kerneltest.F32(x), kerneltest.F32(w), B, C, H, W, 5, 3, 1)
		check("Conv2dF32", got, want)
		got = make([]float32, kerneltest.Size(ws))
		conv2dWinogradF32(got, kerneltest.F32(x), prepareWinogradF32(kerneltest.F32(w), 5, C), B, C, H, W, 5)
		check("conv2dWinogradF32", got, want)
	}
	{
		w := rnd(5 * C * 9)
		up, us := kerneltest.RefUpsample(x, xs)
		want, ws := kerneltest.RefConv2d(up, us, w, []int{5, C, 3, 3}, 1)
		got := make([]float32, kerneltest.Size(ws))
		upsample2xConv2dF32(got, kerneltest.F32(x), kerneltest.F32(w), B, C, H, W, 5)
		check("upsample2xConv2dF32", got, want)
	}
	{
		w := rnd(C * 2 * 16)
		want, ws := kerneltest.RefConvT2x(x, xs, w, []int{C, 2, 4, 4})
		got := make([]float32, kerneltest.Size(ws))
		convTranspose2xF32(got, kerneltest.F32(x), kerneltest.F32(w), B, C, H, W, 2)
		check("convTranspose2xF32", got, want)
	}
	{
		want, ws := kerneltest.RefUpsample(x, xs)
		got := make([]float32, kerneltest.Size(ws))
		upsample2xF32(got, kerneltest.F32(x), B, C, H, W)
		check("upsample2xF32", got, want)
		want, ws = kerneltest.RefDownsample(x, xs)
		got = make([]float32, kerneltest.Size(ws))
		Downsample2xF32(got, kerneltest.F32(x), B, C, H, W)
		check("Downsample2xF32", got, want)
	}
	want, _ := kerneltest.RefBlur(x, xs)
	check("blurF32 in place", inPlace(func(d, s []float32) { blurF32(d, s, B, C, H, W) }), want)
	want, _ = kerneltest.RefInstanceNorm(x, xs, 1e-5)
	check("instanceNormF32 in place", inPlace(func(d, s []float32) { instanceNormF32(d, s, B, C, H, W, 1e-5) }), want)
	sc, sh := rnd(B*C), rnd(B*C)
	want, _ = kerneltest.RefModulate(x, xs, sc, sh)
	check("modulateF32 in place", inPlace(func(d, s []float32) { modulateF32(d, s, kerneltest.F32(sc), kerneltest.F32(sh), B, C, H, W) }), want)
	want, _ = kerneltest.RefModulate(x, xs, sc, nil)
	check("modulateF32 no shift", inPlace(func(d, s []float32) { modulateF32(d, s, kerneltest.F32(sc), nil, B, C, H, W) }), want)
	for _, nb := range []int{1, B} {
		noise, str := rnd(nb*H*W), rnd(C)
		want, _ = kerneltest.RefAddNoise(x, xs, noise, []int{nb, 1, H, W}, str)
		check(fmt.Sprintf("addNoiseF32 noise batch %d", nb), inPlace(func(d, s []float32) { addNoiseF32(d, s, kerneltest.F32(noise), kerneltest.F32(str), B, C, H, W) }), want)
	}
	bias := rnd(C)
	want, _ = kerneltest.RefAddBias(x, xs, bias)
	check("AddBiasF32 in place", inPlace(func(d, s []float32) { AddBiasF32(d, s, kerneltest.F32(bias), B, C, H, W) }), want)
	want, _ = kerneltest.RefLeaky(x, xs, 0.2)
	check("LeakyReLUF32 in place", inPlace(func(d, s []float32) { LeakyReLUF32(d, s, 0.2) }), want)

	defer func() {
		if recover() == nil {
			t.Error("Conv2dF32 with a short dst did not panic")
		}
	}()
	Conv2dF32(make([]float32, 3), kerneltest.F32(x), kerneltest.F32(rnd(5*C*9)), B, C, H, W, 5, 3, 1)
}

// TestElementKernels checks the AVX2 blur, LeakyReLU (and gradient) and bias loops against the
// float64 references on the shapes that take them (widths a multiple of 8, tails after the
// multiples of 8), in place and not.
func TestElementKernels(t *testing.T) {
	if !simd.Available {
		t.Skip("no AVX2/FMA: the portable loops are what TestPlainKernels checks")
	}
	r := rand.New(rand.NewSource(11))
	rnd := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	check := func(name string, got []float32, want []float64) {
		t.Helper()
		g := make([]float64, len(got))
		for i, v := range got {
			g[i] = float64(v)
		}
		if e := kerneltest.MaxRelErr(g, want, 1); e > 2e-6 {
			t.Errorf("%s: error %.3g", name, e)
		}
	}
	for _, s := range [][]int{{1, 1, 1, 8}, {2, 3, 2, 8}, {1, 2, 5, 16}, {3, 2, 8, 64}, {2, 1, 7, 24}} {
		B, C, H, W := s[0], s[1], s[2], s[3]
		x := rnd(B * C * H * W)
		want, _ := kerneltest.RefBlur(x, s)
		got := make([]float32, len(x))
		blurF32(got, kerneltest.F32(x), B, C, H, W)
		check(fmt.Sprintf("blur %v", s), got, want)
		got = kerneltest.F32(x)
		blurF32(got, got, B, C, H, W)
		check(fmt.Sprintf("blur %v in place", s), got, want)
	}
	for _, n := range []int{8, 13, 64, 203} {
		// lengths with and without a tail after the multiples of 8
		x, g := rnd(n), rnd(n)
		x[0] = 0
		want, _ := kerneltest.RefLeaky(x, []int{1, 1, 1, n}, 0.2)
		got := make([]float32, n)
		LeakyReLUF32(got, kerneltest.F32(x), 0.2)
		check(fmt.Sprintf("leaky n=%d", n), got, want)
		for i := range want {
			want[i] = g[i]
			if x[i] < 0 {
				want[i] *= 0.2
			}
		}
		LeakyReLUGrad(got, kerneltest.F32(x), kerneltest.F32(g), float32(0.2))
		check(fmt.Sprintf("leaky grad n=%d", n), got, want)
	}
	for _, s := range [][]int{{2, 3, 3, 3}, {2, 3, 5, 13}, {1, 4, 8, 8}} {
		x, bias := rnd(s[0]*s[1]*s[2]*s[3]), rnd(s[1])
		want, _ := kerneltest.RefAddBias(x, s, bias)
		got := kerneltest.F32(x)
		AddBiasF32(got, got, kerneltest.F32(bias), s[0], s[1], s[2], s[3])
		check(fmt.Sprintf("bias %v", s), got, want)
	}
}
