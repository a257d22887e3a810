package pickleguard

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Float is a binary floating-point encoding found in checkpoints. Both
// readers hand out float32 whatever the file holds.
type Float uint8

const (
	F16  Float = iota + 1 // IEEE binary16 (numpy float16, torch.HalfStorage)
	BF16                  // bfloat16 (torch.BFloat16Storage)
	F32                   // IEEE binary32
	F64                   // IEEE binary64
)

// Size is the encoding's width in bytes.
func (f Float) Size() int {
	switch f {
	case F16, BF16:
		return 2
	case F32:
		return 4
	case F64:
		return 8
	}
	return 0
}

func (f Float) String() string {
	switch f {
	case F16:
		return "float16"
	case BF16:
		return "bfloat16"
	case F32:
		return "float32"
	case F64:
		return "float64"
	}
	return fmt.Sprintf("Float(%d)", uint8(f))
}

var hostLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ReadFloats fills dst from exactly len(dst)*f.Size() bytes of r, holding
// values of encoding f in big- or little-endian byte order. float32 in the
// host's byte order is read straight into dst's memory (no second copy).
func ReadFloats(dst []float32, r io.Reader, f Float, bigEndian bool) error {
	if len(dst) == 0 {
		return nil
	}
	if f == F32 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)*4)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		if bigEndian == hostLittle {
			for i := 0; i < len(b); i += 4 {
				b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
			}
		}
		return nil
	}
	size := f.Size()
	if size == 0 {
		return fmt.Errorf("unknown float encoding %v", f)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		bo = binary.BigEndian
	}
	buf := make([]byte, min(len(dst)*size, 64<<10))
	for len(dst) > 0 {
		n := min(len(dst), len(buf)/size)
		b := buf[:n*size]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		for i := range n {
			switch f {
			case F16:
				dst[i] = Float16(bo.Uint16(b[2*i:]))
			case BF16:
				dst[i] = math.Float32frombits(uint32(bo.Uint16(b[2*i:])) << 16)
			case F64:
				dst[i] = float32(math.Float64frombits(bo.Uint64(b[8*i:])))
			}
		}
		dst = dst[n:]
	}
	return nil
}

// Float16 converts IEEE binary16 bits to float32 exactly.
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// subnormal: mant·2^-24
	v := float32(mant) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}
