package ops

import "stylegan-tui/model/ops/simd"

// haveSgemmKernel reports whether the CPU runs the AVX2/FMA GEMM micro-kernel
// (simd.Sgemm4x16). It lives in model/ops/simd, outside this package's cgo, so that both
// builds have it: the pure-Go build's GEMMs use it, and so do the fused Winograd paths of
// the OpenBLAS build.
var haveSgemmKernel = simd.Available
