package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation does.
const MaxHeaderSize = 100_000_000

const metadataKey = "__metadata__"

// chunkSize is the largest scratch buffer used to convert tensor bytes.
const chunkSize = 1 << 20

// entry is one validated header entry, before its data is read.
type entry struct {
	name       string
	dt         dtype
	shape      []int
	begin, end int64
}

// ReadFile reads and validates the safetensors file at path. Errors start
// with the path.
func ReadFile(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	f, err := Read(fd, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse decodes a safetensors file held in memory.
func Parse(b []byte) (*File, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

// Read decodes a safetensors file of size bytes from r.
//
// The whole header is validated before any tensor data is allocated: every
// dtype is known and a float type (F32, F16, BF16, F64; others are refused
// with an error naming the tensor), shapes are non-negative without
// overflow, each byte range matches its shape and lies inside the data
// section, and the ranges tile the data section exactly - no overlaps, no
// gaps, no trailing bytes - as the format specification requires. Memory
// use is therefore bounded by about twice the file size.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("safetensors: truncated file (%d bytes, need at least 8)", max(size, 0))
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds file size %d", n, size)
	}
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds limit %d", n, MaxHeaderSize)
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	dataStart := 8 + int64(n)
	dataSize := size - dataStart

	entries, meta, err := parseHeader(header, dataSize)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, dataSize); err != nil {
		return nil, err
	}

	f := &File{Tensors: make(map[string]*Tensor, len(entries)), Metadata: meta}
	var scratch []byte
	for _, e := range entries {
		t := &Tensor{Shape: e.shape, Data: make([]float32, (e.end-e.begin)/int64(e.dt.size))}
		if len(t.Data) > 0 && scratch == nil {
			scratch = make([]byte, min(chunkSize, dataSize))
		}
		// Convert in element-aligned chunks of at most chunkSize bytes.
		esize := int64(e.dt.size)
		step := int64(len(scratch)) / esize * esize
		for off := e.begin; off < e.end; off += step {
			nb := min(step, e.end-off)
			buf := scratch[:nb]
			if err := readFull(r, buf, dataStart+off); err != nil {
				return nil, fmt.Errorf("safetensors: tensor %q: reading data: %w", e.name, err)
			}
			i := (off - e.begin) / esize
			e.dt.decode(t.Data[i:i+nb/esize], buf)
		}
		f.Tensors[e.name] = t
	}
	return f, nil
}

// readFull reads len(p) bytes at off; a short read is io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader decodes the JSON header and validates each entry on its own.
// Entries are returned in header order.
func parseHeader(header []byte, dataSize int64) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: header is not JSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, nil, errors.New("safetensors: header is not a JSON object")
	}
	var entries []entry
	meta := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: header is not JSON: %w", err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: header has key %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: header is not JSON: %w", err)
		}
		if name == metadataKey {
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil || m == nil {
				return nil, nil, fmt.Errorf("safetensors: %s is not an object of strings", metadataKey)
			}
			meta = m
			continue
		}
		e, err := parseEntry(name, raw, dataSize)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, fmt.Errorf("safetensors: header is not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("safetensors: header has data after the JSON object")
	}
	return entries, meta, nil
}

// parseEntry validates one tensor's header entry against the data size.
func parseEntry(name string, raw json.RawMessage, dataSize int64) (entry, error) {
	var v struct {
		Dtype       *string           `json:"dtype"`
		Shape       []json.RawMessage `json:"shape"`
		DataOffsets []json.RawMessage `json:"data_offsets"`
	}
	// Say which field is wrong in the file's terms (encoding/json would
	// name this struct's Go types).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return entry{}, fmt.Errorf("header entry %s is not an object with dtype, shape and data_offsets", excerpt(raw))
	}
	for _, f := range []struct {
		name string
		to   any
		want string
	}{{"dtype", &v.Dtype, "a string"}, {"shape", &v.Shape, "a list of integers"}, {"data_offsets", &v.DataOffsets, "a list of two integers"}} {
		if r, ok := fields[f.name]; ok {
			if err := json.Unmarshal(r, f.to); err != nil {
				return entry{}, fmt.Errorf("%s %s is not %s", f.name, excerpt(r), f.want)
			}
		}
	}
	switch {
	case v.Dtype == nil:
		return entry{}, errors.New("missing dtype")
	case v.Shape == nil:
		return entry{}, errors.New("missing shape")
	case v.DataOffsets == nil:
		return entry{}, errors.New("missing data_offsets")
	}
	dt, ok := dtypes[*v.Dtype]
	if !ok {
		return entry{}, fmt.Errorf("unknown dtype %q", *v.Dtype)
	}
	if dt.decode == nil {
		return entry{}, fmt.Errorf("dtype %s is not supported (want F32, F16, BF16 or F64)", *v.Dtype)
	}

	shape := make([]int, len(v.Shape))
	for i, r := range v.Shape {
		d, err := strconv.ParseInt(string(bytes.TrimSpace(r)), 10, 64)
		if err != nil || d > math.MaxInt {
			return entry{}, fmt.Errorf("shape[%d] %s is not an integer", i, r)
		}
		shape[i] = int(d)
		if d < 0 {
			return entry{}, fmt.Errorf("shape %v: negative dimension", shape[:i+1])
		}
	}
	// Element count with overflow checks. A zero dimension makes the count
	// zero whatever the others are.
	count := int64(1)
	if !slices.Contains(shape, 0) {
		for _, d := range shape {
			if count > math.MaxInt64/int64(d) {
				return entry{}, fmt.Errorf("shape %v: element count overflows", shape)
			}
			count *= int64(d)
		}
	} else {
		count = 0
	}

	if len(v.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("data_offsets has %d values, want 2", len(v.DataOffsets))
	}
	var off [2]int64
	for i, r := range v.DataOffsets {
		o, err := strconv.ParseInt(string(bytes.TrimSpace(r)), 10, 64)
		if err != nil {
			return entry{}, fmt.Errorf("data_offsets[%d] %s is not an integer", i, r)
		}
		if o < 0 {
			return entry{}, fmt.Errorf("data_offsets[%d] %d is negative", i, o)
		}
		off[i] = o
	}
	begin, end := off[0], off[1]
	if end < begin {
		return entry{}, fmt.Errorf("data_offsets [%d %d]: end before begin", begin, end)
	}
	if end > dataSize {
		return entry{}, fmt.Errorf("data_offsets [%d %d] exceed data size %d", begin, end, dataSize)
	}
	if count > math.MaxInt64/int64(dt.size) || end-begin != count*int64(dt.size) {
		return entry{}, fmt.Errorf("data_offsets [%d %d] hold %d bytes, shape %v of %s needs %d elements of %d bytes",
			begin, end, end-begin, shape, *v.Dtype, count, dt.size)
	}
	return entry{name: name, dt: dt, shape: shape, begin: begin, end: end}, nil
}

// checkLayout sorts entries by offset and requires their byte ranges to
// tile [0, dataSize) exactly.
func checkLayout(entries []entry, dataSize int64) error {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
	var pos int64
	for i, e := range entries {
		if e.begin < pos {
			p := entries[i-1]
			for j := i - 1; j >= 0; j-- { // the earlier tensor that reaches past e.begin
				if entries[j].end > e.begin {
					p = entries[j]
					break
				}
			}
			return fmt.Errorf("safetensors: tensors %q [%d %d] and %q [%d %d] overlap",
				p.name, p.begin, p.end, e.name, e.begin, e.end)
		}
		if e.begin > pos {
			return fmt.Errorf("safetensors: gap in data section: bytes [%d %d) before tensor %q belong to no tensor",
				pos, e.begin, e.name)
		}
		pos = e.end
	}
	if pos != dataSize {
		return fmt.Errorf("safetensors: data section has %d trailing bytes after the last tensor (data size %d)",
			dataSize-pos, dataSize)
	}
	return nil
}

// excerpt is raw JSON for an error message, cut to a readable length.
func excerpt(raw json.RawMessage) string {
	r := []rune(string(bytes.TrimSpace(raw)))
	if len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return string(r)
}
