// Package ops implements custom gorgonia ops for StyleGAN: NCHW convolutions, blur, resampling,
// instance norm, modulation, noise, bias, leaky ReLU and the minibatch-stddev layer.
//
// The networks follow Karras et al., "A Style-Based Generator Architecture for Generative
// Adversarial Networks" (2019, arXiv:1812.04948), with the tensor layouts of PyTorch (NCHW
// activations, [Cout, Cin, k, k] convolution weights, [Cin, Cout, 4, 4] transposed-convolution
// weights), as rosinality's stylegan and NVlabs' networks_stylegan.py use them.
//
// Each constructor (Conv2d, ConvTranspose2x, Upsample2x, Downsample2x, Blur, InstanceNorm,
// Modulate, AddNoise, AddBias, LeakyReLU, MinibatchStddev, and the fused StyleEpilogue and
// BiasLeakyReLU) adds one node to a gorgonia graph.
// The ops implement gorgonia's SDOp, so gorgonia.Grad and gorgonia.Backpropagate differentiate
// graphs built with them; the backward passes are themselves ops of this package.
//
// The plain kernels (Conv2dF32, Conv2dWinogradF32, ConvTranspose2xF32, BlurF32, ...) compute the
// same functions on float32 slices without a graph, for inference code that manages its own
// buffers; the ops run the same code.
//
// # Rules for graph builders
//
//   - Dtypes: Float32 or Float64; all inputs of one op have the same dtype (the type checker
//     rejects a mix at graph-building time).
//   - No op overwrites its inputs (OverwritesInput is -1). Each run allocates fresh outputs
//     (Do), so a Value taken from a node after one run stays valid after the next Reset+RunAll,
//     unless the graph opted into ReuseOutputs.
//     UsePreallocDo is implemented but a TapeMachine only uses it when a register still holds
//     a value, which Reset clears. Scratch memory (im2col columns, Winograd tiles) is pooled and
//     bounded (about 4 MB for im2col, 16 MB for Winograd, float32), so memory stays flat across
//     runs.
//   - Inputs made with gorgonia.NewConstant get no gradient ops (e.g. no back-data conv for a
//     constant image). But gorgonia formats a constant's whole tensor as text to hash it (and to
//     name it, without gorgonia.WithName) when it enters a graph: make large fixed tensors
//     input nodes (NewTensor + WithValue) instead.
//   - Backward ops are not differentiable again: no double backprop.
//   - Shapes are checked when the node is built; errors read "ops: Conv2d{pad=1}: shapes ...".
//   - Downsample2x needs even H and W. ConvTranspose2x gives exactly [B,Cout,2H,2W].
//     AddNoise takes noise [B,1,H,W] or [1,1,H,W]. Modulate's shift may be nil. LeakyReLU takes
//     any rank. MinibatchStddev groups samples b mod (B/group) as NVlabs' reshape does.
//   - Inference: call FreezeWeights on loaded weights so 3×3 convolutions keep their Winograd
//     weight transforms (important with OpenBLAS); never freeze weights an optimizer updates.
//
// # Speed
//
// Convolutions are im2col + GEMM through gorgonia.WhichBLAS() (gonum by default, OpenBLAS when
// the program calls gorgonia.Use(netlib.Implementation{})), in chunks of output rows; batches of
// small images share one im2col matrix and GEMM, and batches are split over the cores. A
// conv's weight gradient reuses its forward pass's im2col matrices; its input gradient is a
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
// (convTBatch, useConvTTrain) instead of GEMM + col2im.
// Conv2dDown2x is D's conv + 2×2 average as one stride-2 4×4 conv.
//
// On an AVX2+FMA CPU, float32 GEMMs without transposes in the pure-Go build go to a Go-assembly
// 4×16 micro-kernel (simd.Sgemm4x16; 8×16 with AVX-512 where the CPU has it, simd.Sgemm8x16,
// which all the Winograd GEMMs use too) with packed B panels (sgemm.go), 5-8x gonum's Sgemm. In
// both builds, Winograd convolutions with 64-256 channels on large images take the fused path
// (winograd_fused.go): groups of tiles go through the input transform, the GEMMs on packed
// panels and the output transform while they are in L2, with AVX2 transform loops
// (model/ops/simd, a package of its own because Go assembly cannot live next to cgo). With
// OpenBLAS, inference runs between InferenceBLAS() and its restore function and training with
// SingleThreadedBLAS: OpenBLAS single-threaded, the independent GEMMs spread over goroutines
// (OpenBLAS's idle workers otherwise spin in sched_yield and take a core from the Go kernels).
// StyleEpilogue is the fused form of the per-layer epilogue, with a fused gradient (one op for
// the gradients of x, strength, bias, scale and shift, a few passes over each plane in cache);
// BiasLeakyReLU fuses a discriminator layer's bias and activation the same way. They, Blur
// and LeakyReLU's gradient run AVX2 loops (model/ops/simd). Conv2dDown2x's stride-2 4×4
// convolution, its weight gradient and ConvTranspose2x's input and weight gradients (the same
// convolution) run on Winograd F(2×2,2×2) over the four polyphase images in training, from
// 8×8 outputs with 16-128 channels (winograd_down.go, useDown2xTrain).
package ops
