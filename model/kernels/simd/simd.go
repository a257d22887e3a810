// Package simd holds the AVX2/FMA (and AVX-512) assembly loops of model/kernels: the float32
// GEMM micro-kernels, the Winograd transform loops and the element-wise loops. Callers check
// Available (Available512 for Sgemm8x16) first; the element-wise loops take n a multiple of 8.
package simd
