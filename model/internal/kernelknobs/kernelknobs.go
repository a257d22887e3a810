// Package kernelknobs gives the tests of model/ops the algorithm switches and size thresholds
// of model/kernels, to run the graph ops (and their finite-difference gradient checks) on each
// kernel path. model/kernels points these at its own variables when it is initialized;
// production code leaves them alone.
package kernelknobs

var (
	// WinogradMinC and WinogradMinHW are the smallest channel count and image (H·W) of the
	// Winograd 3×3 convolutions with an external BLAS (1 and 0: Winograd for every size).
	WinogradMinC, WinogradMinHW *int
	// ColBudget bounds one im2col chunk (elements); WinogradBudget one chunk of Winograd tiles.
	ColBudget, WinogradBudget *int
	// ConvSplitWork is the multiply-add count from which a convolution splits its batch over
	// the cores; GroupCols the GEMM width small images are grouped up to.
	ConvSplitWork, GroupCols *int
	// ElemKernelOn and EpiKernelOn switch the AVX2 element-wise and StyleEpilogue loops (off:
	// the portable loops).
	ElemKernelOn, EpiKernelOn *bool
)
