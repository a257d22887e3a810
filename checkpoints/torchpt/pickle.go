package torchpt

import (
	"fmt"
	"io"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard"
	"stylegan-tui/checkpoints/safetensors"
)

// dtype is a torch storage element type.
type dtype struct {
	name  string
	size  int               // bytes per element
	float pickleguard.Float // 0 for integer and bool types
}

var storageTypes = map[string]dtype{
	"FloatStorage":    {"float32", 4, pickleguard.F32},
	"DoubleStorage":   {"float64", 8, pickleguard.F64},
	"HalfStorage":     {"float16", 2, pickleguard.F16},
	"BFloat16Storage": {"bfloat16", 2, pickleguard.BF16},
	"LongStorage":     {"int64", 8, 0},
	"IntStorage":      {"int32", 4, 0},
	"ShortStorage":    {"int16", 2, 0},
	"CharStorage":     {"int8", 1, 0},
	"ByteStorage":     {"uint8", 1, 0},
	"BoolStorage":     {"bool", 1, 0},
}

// renames sends collections.OrderedDict (state dicts, tensor backward hooks)
// to orderedDictClass: gopickle's own takes no arguments, and Python 2 pickles
// an OrderedDict's items as its argument (LPIPS v0.1's weights were saved so).
var renames = map[pickleguard.Global]pickleguard.Global{
	{Module: "collections", Name: "OrderedDict"}: {Module: "torchpt", Name: "OrderedDict"},
}

// findClass is the allow-list of globals.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torchpt.OrderedDict":
		return orderedDictClass{}, nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return rebuildParameter{}, nil
	}
	if dt, ok := storageTypes[name]; ok && module == "torch" {
		return storageClass{dt}, nil
	}
	return nil, fmt.Errorf("pickle wants global %q, which is not allowed", module+"."+name)
}

// orderedDictClass is collections.OrderedDict.
type orderedDictClass struct{}

// Call is OrderedDict() or OrderedDict(items), items a list or tuple of
// (key, value) pairs with str keys.
func (orderedDictClass) Call(args ...any) (any, error) {
	d := types.NewOrderedDict()
	if len(args) == 0 {
		return d, nil
	}
	if len(args) > 1 {
		return nil, fmt.Errorf("OrderedDict with %d arguments", len(args))
	}
	items, err := sequence(args[0])
	if err != nil {
		return nil, fmt.Errorf("OrderedDict of %s, want a list of pairs", pyType(args[0]))
	}
	for _, it := range items {
		kv, err := sequence(it)
		if err != nil || len(kv) != 2 {
			return nil, fmt.Errorf("OrderedDict item is %s, want a (key, value) pair", pyType(it))
		}
		k, ok := kv[0].(string)
		if !ok {
			return nil, fmt.Errorf("OrderedDict key is %s, want a str", pyType(kv[0]))
		}
		d.Set(k, kv[1])
	}
	return d, nil
}

// sequence returns the items of a list or tuple.
func sequence(v any) ([]any, error) {
	switch s := v.(type) {
	case *types.List:
		return []any(*s), nil
	case *types.Tuple:
		return []any(*s), nil
	}
	return nil, fmt.Errorf("%s is not a list or tuple", pyType(v))
}

// storageClass is a torch.*Storage class as named in a persistent id.
type storageClass struct{ dt dtype }

// storage is one torch storage: numel elements of dt, found at byte
// offset off of ra once located.
type storage struct {
	key     string
	dt      dtype
	numel   int64
	located bool
	ra      io.ReaderAt
	off     int64
}

// storageRef is what a persistent id resolves to: a storage, or (legacy
// format) a view of numel elements from element base of one.
type storageRef struct {
	st          *storage
	base, numel int64
}

// declare records the storage a persistent id names, or checks it against
// an earlier declaration.
func (c *container) declare(key string, cls, numelV any) (*storage, error) {
	sc, ok := cls.(storageClass)
	if !ok {
		return nil, fmt.Errorf("storage %q has type %s, want a torch storage class", key, pyType(cls))
	}
	numel, ok := numelV.(int)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %q has a bad size", key)
	}
	if st := c.storages[key]; st != nil {
		if st.dt != sc.dt || st.numel != int64(numel) {
			return nil, fmt.Errorf("storage %q declared twice differently", key)
		}
		return st, nil
	}
	if int64(numel) > c.size/int64(sc.dt.size) { // early check; exact one when located
		return nil, fmt.Errorf("storage %q claims %d %s elements, more than the file holds", key, numel, sc.dt.name)
	}
	st := &storage{key: key, dt: sc.dt, numel: int64(numel)}
	c.storages[key] = st
	return st, nil
}

// persistentID parses ('storage', class, key, location, numel[, view]).
func persistentID(id any) (fields []any, err error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() == 0 {
		return nil, fmt.Errorf("persistent id is %s, want a tuple", pyType(id))
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		if kind == "module" {
			return nil, fmt.Errorf("checkpoint pickles a whole nn.Module; save its state_dict() instead")
		}
		return nil, fmt.Errorf("persistent id of kind %q, want storage", kind)
	}
	if t.Len() < 5 {
		return nil, fmt.Errorf("storage persistent id with %d fields", t.Len())
	}
	if _, ok := t.Get(2).(string); !ok {
		return nil, fmt.Errorf("storage key is %s", pyType(t.Get(2)))
	}
	return []any(*t), nil
}

// tensor is a torch tensor: a strided view of a storage.
type tensor struct {
	ref          *storageRef
	off          int
	size, stride []int
}

type rebuildTensor struct{}

// Call is torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]) or the older
// _rebuild_tensor(storage, storage_offset, size, stride).
func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) != 4 && len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor with %d arguments", len(args))
	}
	ref, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor of %s, want a storage", pyType(args[0]))
	}
	off, ok := args[1].(int)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor offset is %s", pyType(args[1]))
	}
	size, err := ints(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := ints(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor: size %v with stride %v", size, stride)
	}
	return &tensor{ref: ref, off: off, size: size, stride: stride}, nil
}

func ints(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("tensor %s is %s, want a tuple", what, pyType(v))
	}
	if t.Len() > 32 {
		return nil, fmt.Errorf("tensor %s has %d dimensions", what, t.Len())
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok {
			return nil, fmt.Errorf("tensor %s has an element of type %s", what, pyType(t.Get(i)))
		}
		out[i] = n
	}
	return out, nil
}

type rebuildParameter struct{}

// Call is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks[, state]): the parameter's data tensor.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("_rebuild_parameter with %d arguments", len(args))
	}
	if _, ok := args[0].(*tensor); !ok {
		return nil, fmt.Errorf("_rebuild_parameter of %s", pyType(args[0]))
	}
	return args[0], nil
}

// numelBound is the tensor's element count, capped at its storage's (read
// refuses views with more elements than their storage).
func (t *tensor) numelBound() int64 {
	n := int64(1)
	for _, d := range t.size {
		if d <= 0 {
			return 0
		}
		if n > t.ref.numel/int64(d) {
			return t.ref.numel
		}
		n *= int64(d)
	}
	return n
}

// read returns the tensor as contiguous float32, reading only the span of
// its storage that it covers. The span is checked against the storage, and
// the storage against the file, before anything is allocated.
func (t *tensor) read(name string) (*safetensors.Tensor, error) {
	st, ref := t.ref.st, t.ref
	if st.dt.float == 0 {
		return nil, fmt.Errorf("%s: %s tensors are not supported", name, st.dt.name)
	}
	out := &safetensors.Tensor{Shape: append([]int{}, t.size...), Data: []float32{}}
	for _, d := range t.size {
		if d < 0 {
			return nil, fmt.Errorf("%s: size %v", name, t.size)
		}
		if d == 0 {
			return out, nil
		}
	}
	numel := int64(1)
	for _, d := range t.size {
		// No view in a state dict has more elements than its storage
		// (expanded tensors would), which also bounds the allocation.
		if numel > ref.numel/int64(d) {
			return nil, fmt.Errorf("%s: size %v has more elements than its storage (%d)", name, t.size, ref.numel)
		}
		numel *= int64(d)
	}
	// Last element the view touches, without overflow.
	if t.off < 0 || int64(t.off) >= ref.numel {
		return nil, fmt.Errorf("%s: storage offset %d outside its storage of %d elements", name, t.off, ref.numel)
	}
	last := int64(t.off)
	contiguous, want := true, int64(1)
	for i := len(t.size) - 1; i >= 0; i-- {
		d, s := int64(t.size[i]), int64(t.stride[i])
		if s < 0 {
			return nil, fmt.Errorf("%s: negative stride %v", name, t.stride)
		}
		if d > 1 && s > (ref.numel-1-last)/(d-1) {
			return nil, fmt.Errorf("%s: size %v stride %v offset %d reach past its storage of %d elements", name, t.size, t.stride, t.off, ref.numel)
		}
		last += (d - 1) * s
		if d != 1 && s != want {
			contiguous = false
		}
		want *= d
	}
	es := int64(st.dt.size)
	start := st.off + (ref.base+int64(t.off))*es
	data := make([]float32, numel)
	if contiguous {
		r := io.NewSectionReader(st.ra, start, numel*es)
		if err := pickleguard.ReadFloats(data, r, st.dt.float, false); err != nil {
			return nil, fmt.Errorf("%s: reading storage %q: %w", name, st.key, err)
		}
	} else {
		span := make([]float32, last-int64(t.off)+1)
		r := io.NewSectionReader(st.ra, start, int64(len(span))*es)
		if err := pickleguard.ReadFloats(span, r, st.dt.float, false); err != nil {
			return nil, fmt.Errorf("%s: reading storage %q: %w", name, st.key, err)
		}
		gather(data, span, t.size, t.stride)
	}
	out.Data = data
	return out, nil
}

// gather copies the strided view (size, stride) of src into dst in
// row-major order.
func gather(dst, src []float32, size, stride []int) {
	nd := len(size)
	idx := make([]int, nd)
	off := 0
	for c := range dst {
		dst[c] = src[off]
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < size[d] {
				break
			}
			off -= stride[d] * size[d]
			idx[d] = 0
		}
	}
}

// pyType names a value's Python type for error messages (never its value).
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case *types.Tuple:
		return "a tuple"
	case *types.List:
		return "a list"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *tensor:
		return "a tensor"
	case *storageRef:
		return "a storage"
	case storageClass:
		return "a storage class"
	}
	return fmt.Sprintf("a %T", v)
}
