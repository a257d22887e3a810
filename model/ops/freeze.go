package ops

import (
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// frozen holds the weights declared constant with FreezeWeights, keyed by the address of their
// backing array, with their Winograd transforms once computed.
var frozen = struct {
	sync.Mutex
	m map[uintptr]*frozenWeight
}{m: map[uintptr]*frozenWeight{}}

type frozenWeight struct {
	t         *tensor.Dense // keeps the backing array alive, so its address cannot be reused
	u         any           // []float32 or []float64 transform, nil until first used
	cout, cin int
	up4       *tensor.Dense // Upsample2xConv2d's 4×4 weight of t (itself frozen), or nil
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
			delete(frozen.m, e.up4.Uintptr())
		}
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
		upWeight(data[float32](up), data[float32](t), cout, cin, false)
	case tensor.Float64:
		upWeight(data[float64](up), data[float64](t), cout, cin, false)
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
	return up
}

// frozenConvT returns the cached ConvTranspose2x Winograd transform of w [cin,cout,4,4] if w is
// the backing array of a frozen tensor (computing it on first use), or nil.
func frozenConvT[T float](w []T, cin, cout int) []T {
	// a negative cout marks a ConvTranspose2x transform
	return frozenTransform(w, -cout, cin, cin*cout*16, func() []T {
		u := make([]T, convTLen(cin, cout))
		convTAllWeights(u, w, cin, cout)
		return u
	})
}

// frozenWinograd returns the cached Winograd transform of w [cout,cin,3,3] if w is the backing
// array of a frozen tensor (computing it on first use), or nil.
func frozenWinograd[T float](w []T, cout, cin int) []T {
	return frozenTransform(w, cout, cin, 0, func() []T {
		u := make([]T, winogradLen(cout, cin))
		winogradWeights(u, w, cout, cin)
		return u
	})
}

// frozenTransform returns the transform of w cached under (tag, cin) if w, at least need long,
// is the backing array of a frozen tensor, computing it with compute on first use; or nil.
func frozenTransform[T float](w []T, tag, cin, need int, compute func() []T) []T {
	if len(w) == 0 {
		return nil
	}
	key := uintptr(unsafe.Pointer(unsafe.SliceData(w)))
	frozen.Lock()
	e := frozen.m[key]
	var u []T
	ok := false
	if e != nil {
		u, ok = e.u.([]T)
		ok = ok && e.cout == tag && e.cin == cin
	}
	frozen.Unlock()
	if e == nil || e.t.Shape().TotalSize() < len(w) || len(w) < need {
		return nil
	}
	if ok {
		return u
	}
	u = compute()
	frozen.Lock()
	if frozen.m[key] == e {
		e.u, e.cout, e.cin = u, tag, cin
	}
	frozen.Unlock()
	return u
}

// externalBLAS reports whether gorgonia uses a BLAS other than gonum's pure-Go one (OpenBLAS):
// GEMMs are then several times faster and Winograd's transforms weigh more.
func externalBLAS() bool {
	_, ok := G.WhichBLAS().(gonum.Implementation)
	return !ok
}
