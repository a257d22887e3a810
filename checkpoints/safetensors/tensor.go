// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. It is the project's native
// checkpoint container and the common currency between importers.
package safetensors

import (
	"fmt"
	"slices"
)

// Tensor is one named array, always held as float32 in memory (other float
// dtypes are converted on read). Shape is row-major (C order).
type Tensor struct {
	Shape []int
	Data  []float32
}

// Len is the number of elements the shape describes.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file: tensors by name and the free-form
// string metadata of the header's "__metadata__" entry.
type File struct {
	Tensors  map[string]*Tensor
	Metadata map[string]string
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Get returns the named tensor. With shape arguments it also checks the
// tensor has exactly that shape; without, any shape is accepted.
func (f *File) Get(name string, shape ...int) (*Tensor, error) {
	t := f.Tensors[name]
	if t == nil {
		return nil, fmt.Errorf("safetensors: no tensor %q", name)
	}
	if len(shape) > 0 && !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("safetensors: %q: shape %v, want %v", name, t.Shape, shape)
	}
	return t, nil
}
