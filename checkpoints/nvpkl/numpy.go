package nvpkl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard"
	"stylegan-tui/checkpoints/safetensors"
)

// The numpy side of the allow-list. numpy pickles an array either as
//
//	_reconstruct(ndarray, (0,), b'b') + __setstate__((1, shape, dtype, is_fortran, raw))
//
// (ndarray.__reduce__, all protocols) or, from protocol 5, as
//
//	_frombuffer(buffer, dtype, shape, order)
//
// and a numpy scalar as scalar(dtype, raw). Under protocol 2, raw bytes are
// spelled _codecs.encode(str, 'latin1'). A dtype is dtype('f4', False, True)
// + __setstate__((3, '<', None, None, None, -1, -1, 0)).

const (
	maxDims  = 32      // numpy's own limit is 64; no checkpoint comes close
	maxElems = 1 << 36 // refuse shapes claiming more elements than this
)

// dtype is numpy.dtype for the fixed-size types; structured and object
// dtypes parse but cannot be read.
type dtype struct {
	descr      string
	kind       byte // numpy kind: 'f' float, 'i' int, 'u' uint, 'b' bool, 'O', 'V', 'S', 'U', ...
	size       int
	byteorder  byte // '<', '>', '|' or '='
	structured bool
}

type dtypeClass struct{}

// Call is numpy.dtype(descr, align, copy).
func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("numpy.dtype() without arguments")
	}
	s, ok := args[0].(string)
	if !ok || s == "" || len(s) > 32 {
		return nil, fmt.Errorf("numpy.dtype(%s): want a short type string", pyType(args[0]))
	}
	d := &dtype{descr: s, byteorder: '='}
	if strings.IndexByte("<>|=", s[0]) >= 0 {
		d.byteorder, s = s[0], s[1:]
	}
	if s == "" {
		return nil, fmt.Errorf("numpy.dtype(%q): no type", d.descr)
	}
	d.kind = s[0]
	if len(s) > 1 {
		n, err := strconv.Atoi(s[1:])
		if err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("numpy.dtype(%q): bad size", d.descr)
		}
		d.size = n
	}
	return d, nil
}

// PySetState is dtype.__setstate__((version, byteorder, subarray, names,
// fields, elsize, alignment, flags[, metadata])).
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() < 2 {
		return fmt.Errorf("numpy dtype state is %s, want a tuple", pyType(state))
	}
	bo, ok := t.Get(1).(string)
	if !ok || len(bo) != 1 || strings.IndexByte("<>|=", bo[0]) < 0 {
		return errors.New("numpy dtype state has a bad byte order")
	}
	d.byteorder = bo[0]
	if t.Len() >= 5 && (t.Get(2) != nil || t.Get(3) != nil || t.Get(4) != nil) {
		d.structured = true
	}
	return nil
}

func (d *dtype) String() string {
	if d == nil {
		return "<no dtype>"
	}
	return d.descr
}

// float is the encoding of a float dtype.
func (d *dtype) float() (pickleguard.Float, bool) {
	if d == nil || d.kind != 'f' || d.structured {
		return 0, false
	}
	switch d.size {
	case 2:
		return pickleguard.F16, true
	case 4:
		return pickleguard.F32, true
	case 8:
		return pickleguard.F64, true
	}
	return 0, false
}

// ndarrayClass is numpy.ndarray: only ever an argument of _reconstruct.
type ndarrayClass struct{}

// ndarray is a numpy array (or scalar) whose data is still encoded.
type ndarray struct {
	ok      bool
	shape   []int // nil for a 0-d array or scalar
	dt      *dtype
	fortran bool
	// data is the raw buffer: []byte, *types.ByteArray, a Python 2 str,
	// *pickleguard.Lazy (not yet read) or *latin1Lazy.
	data any
}

type reconstructFunc struct{}

// Call is numpy.core.multiarray._reconstruct(subtype, shape, dtype): an
// empty array that __setstate__ fills.
func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_reconstruct with %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("_reconstruct of %s, want numpy.ndarray", pyType(args[0]))
	}
	return &ndarray{}, nil
}

// PySetState is ndarray.__setstate__((version, shape, dtype, is_fortran,
// rawdata)), or the same without version.
func (a *ndarray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || (t.Len() != 4 && t.Len() != 5) {
		return fmt.Errorf("numpy array state is %s, want a 4- or 5-tuple", pyType(state))
	}
	s := []any(*t)
	if len(s) == 5 {
		s = s[1:]
	}
	shape, err := parseShape(s[0])
	if err != nil {
		return err
	}
	dt, ok := s[1].(*dtype)
	if !ok {
		return fmt.Errorf("numpy array dtype is %s", pyType(s[1]))
	}
	var fortran bool
	switch f := s[2].(type) {
	case bool:
		fortran = f
	case int:
		fortran = f != 0
	default:
		return fmt.Errorf("numpy array fortran flag is %s", pyType(s[2]))
	}
	*a = ndarray{ok: true, shape: shape, dt: dt, fortran: fortran, data: s[3]}
	return nil
}

type scalarFunc struct{}

// Call is numpy.core.multiarray.scalar(dtype, rawdata).
func (scalarFunc) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("numpy scalar with %d arguments, want 2", len(args))
	}
	dt, ok := args[0].(*dtype)
	if !ok {
		return nil, fmt.Errorf("numpy scalar dtype is %s", pyType(args[0]))
	}
	return &ndarray{ok: true, dt: dt, data: args[1]}, nil
}

type frombufferFunc struct{}

// Call is numpy.core.numeric._frombuffer(buf, dtype, shape, order), the
// protocol 5 spelling of an array (buf in-band).
func (frombufferFunc) Call(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_frombuffer with %d arguments, want 4", len(args))
	}
	dt, ok := args[1].(*dtype)
	if !ok {
		return nil, fmt.Errorf("_frombuffer dtype is %s", pyType(args[1]))
	}
	shape, err := parseShape(args[2])
	if err != nil {
		return nil, err
	}
	order, _ := args[3].(string)
	if order != "C" && order != "F" {
		return nil, fmt.Errorf("_frombuffer order %q, want C or F", order)
	}
	return &ndarray{ok: true, shape: shape, dt: dt, fortran: order == "F", data: args[0]}, nil
}

func parseShape(v any) ([]int, error) {
	var items []any
	switch t := v.(type) {
	case *types.Tuple:
		items = *t
	case *types.List:
		items = *t
	default:
		return nil, fmt.Errorf("numpy array shape is %s, want a tuple", pyType(v))
	}
	if len(items) > maxDims {
		return nil, fmt.Errorf("numpy array with %d dimensions", len(items))
	}
	shape := make([]int, len(items))
	n := 1
	for i, it := range items {
		d, ok := it.(int)
		if !ok {
			return nil, fmt.Errorf("numpy array shape has a dimension of type %s", pyType(it))
		}
		if d < 0 || d > maxElems {
			return nil, fmt.Errorf("numpy array dimension %d is absurd", d)
		}
		shape[i] = d
		if d != 0 && n > maxElems/d {
			return nil, fmt.Errorf("numpy array shape %v is absurd (more than %d elements)", shape[:i+1], maxElems)
		}
		n *= d
	}
	return shape, nil
}

type encodeFunc struct{}

// latin1Lazy is _codecs.encode(s, 'latin1') of a str that is still in the file.
type latin1Lazy struct{ s *pickleguard.Lazy }

// Call is _codecs.encode(str, 'latin1'), which protocol 2 uses for bytes.
func (encodeFunc) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("_codecs.encode with %d arguments, want 2", len(args))
	}
	switch enc, _ := args[1].(string); strings.ToLower(enc) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
	default:
		return nil, fmt.Errorf("_codecs.encode to %q, want latin1", enc)
	}
	switch s := args[0].(type) {
	case string:
		b := make([]byte, 0, len(s))
		for _, r := range s { // invalid UTF-8 reads as U+FFFD, also > 0xff
			if r > 0xff {
				return nil, errors.New("_codecs.encode: str is not latin-1")
			}
			b = append(b, byte(r))
		}
		return b, nil
	case *pickleguard.Lazy:
		if s.Kind != pickleguard.Str {
			return nil, fmt.Errorf("_codecs.encode of %s", s.Kind)
		}
		return &latin1Lazy{s}, nil
	}
	return nil, fmt.Errorf("_codecs.encode of %s", pyType(args[0]))
}

// errBudget says that a tensor would exceed the bytes left in the budget.
var errBudget = errors.New("over budget")

// tensor decodes the array into a float32 tensor in C order, reading its
// data from ra if it is still in the file. The data's byte length is
// checked against shape and dtype, and the result's against *budget (which
// it is then taken from), before anything is allocated.
func (a *ndarray) tensor(name string, ra io.ReaderAt, budget *int64) (*safetensors.Tensor, error) {
	if !a.ok {
		return nil, fmt.Errorf("%s: numpy array without state", name)
	}
	f, ok := a.dt.float()
	if !ok {
		return nil, fmt.Errorf("%s: dtype %q is not float16/32/64", name, a.dt)
	}
	numel := a.numel()
	need := int64(numel) * int64(f.Size())
	var r io.Reader
	have, fits := int64(-1), false
	switch d := a.data.(type) {
	case []byte:
		have, r = int64(len(d)), bytes.NewReader(d)
	case *types.ByteArray:
		have, r = int64(len(*d)), bytes.NewReader(*d)
	case string: // Python 2 str (BINSTRING): raw bytes
		have, r = int64(len(d)), strings.NewReader(d)
	case *pickleguard.Lazy:
		if d.Kind == pickleguard.Str {
			return nil, fmt.Errorf("%s: array data is a str, want bytes", name)
		}
		have, r = d.Len, io.NewSectionReader(ra, d.Off, d.Len)
	case *latin1Lazy:
		// UTF-8 of latin-1 text: 1 or 2 bytes per data byte.
		have = d.s.Len
		fits = need <= have && 2*need >= have
		r = &latin1Reader{br: bufio.NewReader(io.NewSectionReader(ra, d.s.Off, d.s.Len))}
	default:
		return nil, fmt.Errorf("%s: array data is %s, want bytes", name, pyType(a.data))
	}
	if _, latin := a.data.(*latin1Lazy); !latin {
		fits = have == need
	}
	if !fits {
		return nil, fmt.Errorf("%s: shape %v %v needs %d bytes, the pickle holds %d", name, a.shape, f, need, have)
	}
	if 4*int64(numel) > *budget {
		return nil, errBudget
	}
	*budget -= 4 * int64(numel)
	big := a.dt.byteorder == '>'
	data := make([]float32, numel)
	if !a.fortran || isVector(a.shape) {
		if err := pickleguard.ReadFloats(data, r, f, big); err != nil {
			return nil, fmt.Errorf("%s: reading data: %w", name, err)
		}
	} else {
		tmp := make([]float32, numel)
		if err := pickleguard.ReadFloats(tmp, r, f, big); err != nil {
			return nil, fmt.Errorf("%s: reading data: %w", name, err)
		}
		fortranToC(data, tmp, a.shape)
	}
	if l, ok := r.(*latin1Reader); ok {
		if _, _, err := l.br.ReadRune(); err != io.EOF {
			return nil, fmt.Errorf("%s: array data holds more than %d bytes", name, need)
		}
	}
	shape := a.shape
	if shape == nil {
		shape = []int{}
	}
	return &safetensors.Tensor{Shape: shape, Data: data}, nil
}

// numel is the number of elements (parseShape bounded the product).
func (a *ndarray) numel() int {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	return n
}

// isVector reports whether at most one dimension exceeds 1, so that C and
// Fortran order coincide.
func isVector(shape []int) bool {
	n := 0
	for _, d := range shape {
		if d > 1 {
			n++
		}
	}
	return n <= 1
}

// fortranToC copies src, a column-major array of the given shape, into dst
// in row-major order.
func fortranToC(dst, src []float32, shape []int) {
	nd := len(shape)
	fs := make([]int, nd) // Fortran strides
	s := 1
	for i, d := range shape {
		fs[i] = s
		s *= d
	}
	idx := make([]int, nd)
	off := 0
	for c := range dst {
		dst[c] = src[off]
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			off += fs[d]
			if idx[d] < shape[d] {
				break
			}
			off -= fs[d] * shape[d]
			idx[d] = 0
		}
	}
}

// latin1Reader turns UTF-8 text whose code points are all below 256 back
// into the bytes they stand for.
type latin1Reader struct{ br *bufio.Reader }

func (l *latin1Reader) Read(p []byte) (int, error) {
	for i := range p {
		r, _, err := l.br.ReadRune()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		if r > 0xff { // invalid UTF-8 reads as U+FFFD, also > 0xff
			return i, errors.New("array data is not latin-1 text")
		}
		p[i] = byte(r)
	}
	return len(p), nil
}
