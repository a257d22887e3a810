package safetensors

import (
	"encoding/binary"
	"math"
)

// dtype describes one element type of the format. Only the float types
// with a decode function can be read; the others are known so that a file
// holding them gets a precise error rather than "unknown dtype".
type dtype struct {
	size   int                             // bytes per element; 0 for sub-byte types
	decode func(dst []float32, src []byte) // nil: not supported
}

// dtypes lists every dtype name of the safetensors spec.
var dtypes = map[string]dtype{
	"F64":  {8, decodeF64},
	"F32":  {4, decodeF32},
	"F16":  {2, decodeF16},
	"BF16": {2, decodeBF16},

	// Integers, booleans and exotic floats are refused: StyleGAN weights
	// are floats, and silently turning an int64 counter into a float32
	// would lose precision. F8/F6/F4 could be added if an importer needs them.
	"BOOL":    {1, nil},
	"U8":      {1, nil},
	"I8":      {1, nil},
	"U16":     {2, nil},
	"I16":     {2, nil},
	"U32":     {4, nil},
	"I32":     {4, nil},
	"U64":     {8, nil},
	"I64":     {8, nil},
	"C64":     {8, nil},
	"F8_E5M2": {1, nil},
	"F8_E4M3": {1, nil},
	"F8_E8M0": {1, nil},
	"F6_E2M3": {0, nil},
	"F6_E3M2": {0, nil},
	"F4":      {0, nil},
}

func decodeF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func decodeF64(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

// decodeBF16: bfloat16 is the top half of a float32.
func decodeBF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
}

func decodeF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(f16to32(binary.LittleEndian.Uint16(src[2*i:])))
	}
}

// f16to32 converts IEEE 754 binary16 bits to binary32 bits exactly
// (every half value, subnormals included, is representable as a float32).
func f16to32(h uint16) uint32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN; the NaN payload is kept.
		return sign | 0xff<<23 | mant<<13
	case exp != 0: // normal: rebias 15 -> 127
		return sign | (exp+127-15)<<23 | mant<<13
	case mant == 0: // signed zero
		return sign
	}
	// Subnormal half: mant * 2^-24. Shift until the implicit bit appears.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return sign | e<<23 | (mant&0x3ff)<<13
}
