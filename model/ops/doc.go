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
// The ops compute with model/kernels, which holds the same functions on float32 and float64
// slices without a graph (for inference code that manages its own buffers, too).
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
// The algorithms (im2col + GEMM, Winograd, the fused training paths, the AVX2 loops) are
// model/kernels'. The BLAS is gonum's by default; the openblas build tag switches the kernels
// to OpenBLAS (kernels/blas_openblas.go, the only place that does) and this package hands
// gorgonia the kernels' BLAS (blas.go), so both always multiply alike. With OpenBLAS,
// inference runs between InferenceBLAS() and its restore function and training with
// SingleThreadedBLAS: OpenBLAS single-threaded, the kernels spreading the independent GEMMs
// over goroutines (OpenBLAS's idle workers otherwise spin in sched_yield and take a core from
// the Go kernels). A conv op's weight-gradient op reuses the im2col matrices of its forward
// pass (kernels.ColCache). StyleEpilogue is the fused form of the per-layer epilogue, with a
// fused gradient (one op for the gradients of x, strength, bias, scale and shift);
// BiasLeakyReLU fuses a discriminator layer's bias and activation the same way.
package ops
