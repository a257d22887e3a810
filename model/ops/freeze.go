package ops

import (
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/kernels"
)

// frozen holds the tensors declared constant with FreezeWeights, keyed by the address of their
// backing array; their data is frozen in the kernels too (kernels.Freeze), which cache the
// Winograd transforms.
var frozen = struct {
	sync.Mutex
	m map[uintptr]*frozenWeight
}{m: map[uintptr]*frozenWeight{}}

type frozenWeight struct {
	t   *tensor.Dense // keeps the backing array alive, so its address cannot be reused
	up4 *tensor.Dense // Upsample2xConv2d's 4×4 weight of t (itself frozen), or nil
}

// freezeData freezes (on) or thaws t's elements in the kernels.
func freezeData(t *tensor.Dense, on bool) {
	switch t.Dtype() {
	case tensor.Float32:
		if on {
			kernels.Freeze(data[float32](t))
		} else {
			kernels.Thaw(data[float32](t))
		}
	case tensor.Float64:
		if on {
			kernels.Freeze(data[float64](t))
		} else {
			kernels.Thaw(data[float64](t))
		}
	}
}

// FreezeWeights declares that the values of these tensors will not change until they are passed
// to FreezeWeights again or to ThawWeights. A 3×3 Conv2d (op or Conv2dF32) whose weight is
// frozen keeps the weight's Winograd transform instead of recomputing it on every run: with
// OpenBLAS the transform of a 512×512 weight costs about as much as the convolution itself at
// 16×16. Inference code freezes its weights after loading them; call FreezeWeights again after
// writing new values into a frozen tensor (a frozen tensor whose values change gives stale
// results). Never freeze weights that an optimizer updates. Frozen tensors are kept alive until
// thawed. A frozen 4×4 ConvTranspose2x weight keeps its Winograd transforms too, and a graph built
// by Upsample2xConv2d with a frozen weight node binds the derived 4×4 weight computed once.
func FreezeWeights(ws ...*tensor.Dense) {
	frozen.Lock()
	defer frozen.Unlock()
	for _, w := range ws {
		if w != nil {
			thaw(w.Uintptr())
			frozen.m[w.Uintptr()] = &frozenWeight{t: w}
			freezeData(w, true)
		}
	}
}

// ThawWeights ends FreezeWeights for these tensors and drops their cached transforms.
func ThawWeights(ws ...*tensor.Dense) {
	frozen.Lock()
	defer frozen.Unlock()
	for _, w := range ws {
		if w != nil {
			thaw(w.Uintptr())
		}
	}
}

// thaw drops a frozen entry and the entry of its derived 4×4 weight. frozen must be locked.
func thaw(key uintptr) {
	if e := frozen.m[key]; e != nil {
		if e.up4 != nil {
			freezeData(e.up4, false)
			delete(frozen.m, e.up4.Uintptr())
		}
		freezeData(e.t, false)
		delete(frozen.m, key)
	}
}

// frozenTensor returns w's value if it is a frozen tensor.
func frozenTensor(w *G.Node) *tensor.Dense {
	t, ok := w.Value().(*tensor.Dense)
	if !ok || t == nil || t.RequiresIterator() {
		return nil
	}
	frozen.Lock()
	defer frozen.Unlock()
	if e := frozen.m[t.Uintptr()]; e != nil && e.t == t {
		return t
	}
	return nil
}

// frozenUpWeight returns the (frozen) Upsample2xConv2d 4×4 weight [Cin,Cout,4,4] of the frozen
// 3×3 weight t [Cout,Cin,3,3], computing it on first use. It lives as long as t stays frozen.
func frozenUpWeight(t *tensor.Dense) *tensor.Dense {
	frozen.Lock()
	e := frozen.m[t.Uintptr()]
	var up *tensor.Dense
	if e != nil {
		up = e.up4
	}
	frozen.Unlock()
	if e == nil || up != nil {
		return up
	}
	s := t.Shape()
	cout, cin := s[0], s[1]
	up = tensor.New(tensor.Of(t.Dtype()), tensor.WithShape(cin, cout, 4, 4))
	switch t.Dtype() {
	case tensor.Float32:
		kernels.UpWeight(data[float32](up), data[float32](t), cout, cin, false)
	case tensor.Float64:
		kernels.UpWeight(data[float64](up), data[float64](t), cout, cin, false)
	default:
		return nil
	}
	frozen.Lock()
	defer frozen.Unlock()
	if frozen.m[t.Uintptr()] != e {
		return nil // thawed or refrozen meanwhile
	}
	if e.up4 != nil {
		return e.up4
	}
	e.up4 = up
	frozen.m[up.Uintptr()] = &frozenWeight{t: up}
	freezeData(up, true)
	return up
}
