package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"stylegan-tui/internal/atomicfile"
)

// Marshal encodes f as a safetensors file. The output is deterministic:
// tensors are stored as little-endian F32 in name order with contiguous
// byte ranges, "__metadata__" comes first when f.Metadata is non-empty, and
// the header is padded with spaces to a multiple of 8 bytes (as the
// reference implementation does) so the data section is 8-byte aligned.
func (f *File) Marshal() ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("safetensors: nil File")
	}
	names := f.Names()
	var dataSize int64
	for _, name := range names {
		t := f.Tensors[name]
		if err := checkTensor(name, t); err != nil {
			return nil, err
		}
		dataSize += 4 * int64(len(t.Data))
	}

	var h bytes.Buffer
	h.WriteByte('{')
	if len(f.Metadata) > 0 {
		keys := make([]string, 0, len(f.Metadata))
		for k, v := range f.Metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("safetensors: metadata %q: not valid UTF-8", k)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeString(&h, k)
			h.WriteByte(':')
			writeString(&h, f.Metadata[k])
		}
		h.WriteByte('}')
	}
	var off int64
	for i, name := range names {
		t := f.Tensors[name]
		if i > 0 || len(f.Metadata) > 0 {
			h.WriteByte(',')
		}
		writeString(&h, name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := off + 4*int64(len(t.Data))
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header of %d bytes exceeds limit %d", h.Len(), MaxHeaderSize)
	}

	out := make([]byte, 8, 8+int64(h.Len())+dataSize)
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, name := range names {
		for _, v := range f.Tensors[name].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}

// checkTensor reports why t cannot be written under name.
func checkTensor(name string, t *Tensor) error {
	switch {
	case name == metadataKey:
		return fmt.Errorf("safetensors: %q is reserved and cannot name a tensor", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("safetensors: tensor %q: name is not valid UTF-8", name)
	case t == nil:
		return fmt.Errorf("safetensors: tensor %q is nil", name)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("safetensors: tensor %q: shape %v has a negative dimension", name, t.Shape)
		}
		if d != 0 && n > math.MaxInt/d {
			n = -1 // overflow: cannot match len(t.Data)
			break
		}
		n *= d
	}
	if n != len(t.Data) {
		return fmt.Errorf("safetensors: tensor %q: shape %v does not match %d values", name, t.Shape, len(t.Data))
	}
	return nil
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // a string always encodes
	b.Truncate(b.Len() - 1) // drop Encode's newline
}

// WriteFile writes f to path atomically: the file is written to a
// temporary file in the same directory, synced, then renamed over path, so
// an error never leaves a partial file and never clobbers an existing one.
// A new file gets mode 0644; an existing file keeps its mode.
func WriteFile(path string, f *File) error {
	b, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
