// Package ops implements custom gorgonia ops for StyleGAN: NCHW convolutions, blur, resampling,
// instance norm, modulation, noise, bias, leaky ReLU and the minibatch-stddev layer.
//
// The networks follow Karras et al., "A Style-Based Generator Architecture for Generative
// Adversarial Networks" (2019, arXiv:1812.04948), with the tensor layouts of PyTorch (NCHW
// activations, [Cout, Cin, k, k] convolution weights), as rosinality's stylegan and NVlabs'
// networks_stylegan.py use them.
//
// Each constructor (Conv2d, ConvTranspose2x, Upsample2x, Downsample2x, Blur, InstanceNorm,
// Modulate, AddNoise, AddBias, LeakyReLU, MinibatchStddev) adds one node to a gorgonia graph.
// The ops work on Float32 and Float64 tensors (all inputs of one op share the dtype) and
// implement gorgonia's SDOp, so gorgonia.Grad and gorgonia.Backpropagate can differentiate
// graphs built with them; the backward passes are themselves ops of this package. Gradients of
// the backward ops (double backprop) are not provided.
//
// The plain kernels (Conv2dF32, BlurF32, ...) compute the same functions on float32 slices
// without a graph, for inference code that manages its own buffers.
//
// The convolutions are per-image im2col + one GEMM through gorgonia.WhichBLAS() (gonum by
// default, OpenBLAS when the program calls gorgonia.Use(netlib.Implementation{})), with no
// transpose; 3x3 stride-1 pad-1 forward convolutions use Winograd F(2x2,3x3) when it is faster.
// Im2col and the Winograd transforms are done in bounded chunks so scratch memory stays small,
// and scratch buffers are pooled.
package ops
