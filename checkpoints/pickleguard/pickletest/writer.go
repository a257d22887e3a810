// Package pickletest writes pickle opcode streams by hand, for tests and
// benchmarks of the checkpoint readers (hostile inputs, synthetic
// checkpoints). Opcodes and encodings follow CPython's Lib/pickletools.py;
// nothing is validated.
package pickletest

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
)

// Writer appends opcodes to an io.Writer. The first write error sticks and
// is returned by Flush.
type Writer struct {
	w   *bufio.Writer
	err error
}

// New returns a Writer on w.
func New(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 1<<20)} }

// Flush writes buffered output and reports the first error.
func (p *Writer) Flush() error {
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// Raw writes bytes as they are.
func (p *Writer) Raw(b ...byte) *Writer {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
	return p
}

func (p *Writer) u32(n uint32) *Writer {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	return p.Raw(b[:]...)
}

func (p *Writer) u64(n uint64) *Writer {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return p.Raw(b[:]...)
}

// Proto writes PROTO v.
func (p *Writer) Proto(v byte) *Writer { return p.Raw(0x80, v) }

// Stop writes STOP.
func (p *Writer) Stop() *Writer { return p.Raw('.') }

// Mark writes MARK.
func (p *Writer) Mark() *Writer { return p.Raw('(') }

// Tuple writes TUPLE (items since the last MARK).
func (p *Writer) Tuple() *Writer { return p.Raw('t') }

// Tuple2 writes TUPLE2.
func (p *Writer) Tuple2() *Writer { return p.Raw(0x86) }

// Tuple3 writes TUPLE3.
func (p *Writer) Tuple3() *Writer { return p.Raw(0x87) }

// EmptyTuple writes EMPTY_TUPLE.
func (p *Writer) EmptyTuple() *Writer { return p.Raw(')') }

// EmptyDict writes EMPTY_DICT.
func (p *Writer) EmptyDict() *Writer { return p.Raw('}') }

// SetItems writes SETITEMS (key/value pairs since the last MARK).
func (p *Writer) SetItems() *Writer { return p.Raw('u') }

// EmptyList writes EMPTY_LIST.
func (p *Writer) EmptyList() *Writer { return p.Raw(']') }

// Appends writes APPENDS (items since the last MARK).
func (p *Writer) Appends() *Writer { return p.Raw('e') }

// Reduce writes REDUCE (callable, args tuple).
func (p *Writer) Reduce() *Writer { return p.Raw('R') }

// Build writes BUILD (object, state).
func (p *Writer) Build() *Writer { return p.Raw('b') }

// NewObj writes NEWOBJ (class, args tuple).
func (p *Writer) NewObj() *Writer { return p.Raw(0x81) }

// BinPersID writes BINPERSID.
func (p *Writer) BinPersID() *Writer { return p.Raw('Q') }

// None writes NONE.
func (p *Writer) None() *Writer { return p.Raw('N') }

// Bool writes NEWTRUE or NEWFALSE.
func (p *Writer) Bool(v bool) *Writer {
	if v {
		return p.Raw(0x88)
	}
	return p.Raw(0x89)
}

// Global writes GLOBAL module name.
func (p *Writer) Global(module, name string) *Writer {
	p.Raw('c').Raw([]byte(module)...).Raw('\n')
	return p.Raw([]byte(name)...).Raw('\n')
}

// Put writes LONG_BINPUT i (memoize the top of the stack).
func (p *Writer) Put(i uint32) *Writer { return p.Raw('r').u32(i) }

// Get writes LONG_BINGET i (push memo entry i).
func (p *Writer) Get(i uint32) *Writer { return p.Raw('j').u32(i) }

// Int writes BININT, or LONG1 for values beyond int32.
func (p *Writer) Int(v int) *Writer {
	if v == int(int32(v)) {
		return p.Raw('J').u32(uint32(int32(v)))
	}
	return p.Raw(0x8a, 8).u64(uint64(v))
}

// Float writes BINFLOAT.
func (p *Writer) Float(v float64) *Writer {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	return p.Raw('G').Raw(b[:]...)
}

// Str writes BINUNICODE (UTF-8).
func (p *Writer) Str(s string) *Writer { return p.Raw('X').u32(uint32(len(s))).Raw([]byte(s)...) }

// Bytes writes BINBYTES.
func (p *Writer) Bytes(b []byte) *Writer { return p.Raw('B').u32(uint32(len(b))).Raw(b...) }

// Bytes8Header writes the BINBYTES8 opcode and length; the caller writes
// the n payload bytes with Raw.
func (p *Writer) Bytes8Header(n uint64) *Writer { return p.Raw(0x8e).u64(n) }

// IntTuple writes a tuple of ints.
func (p *Writer) IntTuple(v ...int) *Writer {
	p.Mark()
	for _, x := range v {
		p.Int(x)
	}
	return p.Tuple()
}
