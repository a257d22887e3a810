// Package simd holds the AVX2/FMA loops of model/ops that are not GEMMs. It is a package of
// its own because Go assembly cannot live in a package that uses cgo (model/ops does in the
// OpenBLAS build). Callers check Available first; the loops take n a multiple of 8.
package simd
