// Package kernels holds the float32/float64 kernels of StyleGAN's layers on plain NCHW slices:
// convolutions (im2col + GEMM, Winograd F(2×2,3×3) and F(2×2,2×2), the transposed and the
// stride-2 convolutions and their gradients: Conv), the float32 GEMM with its AVX2/AVX-512
// micro-kernels, blur, resampling, instance norm, modulation, noise, bias, leaky ReLU, the
// minibatch-stddev layer and the fused StyleEpilogue and BiasLeakyReLU, each with its gradient.
// It knows nothing of graphs: model/ops wraps these functions as gorgonia ops, and inference
// code that manages its own buffers calls them directly (Conv2dF32, Downsample2xF32,
// AddBiasF32, LeakyReLUF32, which check the slice lengths and panic if one is short).
//
// The generic kernels take T float32 (production) or float64 (gradient checks). Sizes are
// in elements; "planes" is B·C, each plane h×w. Kernels whose output element depends only on
// the same input element (or the same plane) accept dst == x. Scratch memory (im2col columns,
// Winograd tiles) comes from pools and is bounded (about 4 MB for im2col, 16 MB for Winograd,
// float32). Weights declared constant with Freeze keep their Winograd transforms.
//
// Convolutions are im2col + GEMM through the package's BLAS (gonum by default; OpenBLAS after
// UseBLAS(netlib.Implementation{}), which the openblas build tag's blas_openblas.go calls and
// model/ops passes on to gorgonia), in chunks of output rows; batches of small images share
// one im2col matrix and GEMM, and batches are split over the cores. A conv's weight gradient
// reuses its forward pass's im2col matrices; its input gradient is a
// convolution with the flipped kernel. 3×3 pad-1 convolutions use Winograd F(2×2,3×3) in the
// forward pass and the weight gradient, and ConvTranspose2x uses Winograd F(2×2,2×2) on its
// four output phases, where the benchmarks show them faster (useWinograd, useConvTWinograd).
// In training (float32, weights not frozen), 3×3 pad-1 convolutions with 16-128 channels from
// 16×16 up run their forward pass and input gradient through the fused Winograd path with the
// weight transformed on every call, and their weight gradient in the Winograd domain
// (dU[ξ] = Σ_tiles Z[ξ] V[ξ]ᵀ with Z = A gY Aᵀ, then dw = Gᵀ dU G: 4 instead of 9 multiply-adds
// per pixel and channel pair), each core taking its share of the batch, the cores' partial
// weight gradients added in a fixed order (winograd_train.go, useWinogradTrain), in both builds.
// ConvTranspose2x and Conv2dDown2x's input gradient (the same transposed convolution) with
// 16-128 channels from 16×16 inputs up take the Winograd F(2×2,2×2) fused path the same way
// (convTBatch, UseConvTTrain) instead of GEMM + col2im.
// Conv2dDown2x is D's conv + 2×2 average as one stride-2 4×4 conv.
//
// On an AVX2+FMA CPU, float32 GEMMs without transposes in the pure-Go build go to a Go-assembly
// 4×16 micro-kernel (simd.Sgemm4x16; 8×16 with AVX-512 where the CPU has it, simd.Sgemm8x16,
// which all the Winograd GEMMs use too) with packed B panels (sgemm.go), 5-8x gonum's Sgemm. In
// both builds, Winograd convolutions with 64-256 channels on large images take the fused path
// (winograd_fused.go): groups of tiles go through the input transform, the GEMMs on packed
// panels and the output transform while they are in L2, with AVX2 transform loops
// (model/kernels/simd). With a single-threaded OpenBLAS the convolutions spread their
// independent GEMMs over goroutines themselves (SplitGEMM).
// StyleEpilogue is the fused per-layer epilogue (noise, bias, LeakyReLU, instance norm, style
// modulation), with a fused gradient (the gradients of x, strength, bias, scale and shift in a
// few passes over each plane in cache); BiasLeakyReLU fuses a discriminator layer's bias and
// activation the same way. They, Blur and LeakyReLUGrad run AVX2 loops (model/kernels/simd).
// Conv2dDown2x's stride-2 4×4 convolution, its weight gradient and ConvTranspose2x's input and
// weight gradients (the same convolution) run on Winograd F(2×2,2×2) over the four polyphase
// images in training, from 8×8 outputs with 16-128 channels (winograd_down.go,
// useDown2xTrain).
package kernels
