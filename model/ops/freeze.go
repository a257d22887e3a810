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
}

// FreezeWeights declares that the values of these tensors will not change until they are passed
// to FreezeWeights again or to ThawWeights. A 3×3 Conv2d (op or Conv2dF32) whose weight is
// frozen keeps the weight's Winograd transform instead of recomputing it on every run: with
// OpenBLAS the transform of a 512×512 weight costs about as much as the convolution itself at
// 16×16. Inference code freezes its weights after loading them; call FreezeWeights again after
// writing new values into a frozen tensor (a frozen tensor whose values change gives stale
// results). Never freeze weights that an optimizer updates. Frozen tensors are kept alive until
// thawed.
func FreezeWeights(ws ...*tensor.Dense) {
	frozen.Lock()
	defer frozen.Unlock()
	for _, w := range ws {
		if w != nil {
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
			delete(frozen.m, w.Uintptr())
		}
	}
}

// frozenWinograd returns the cached Winograd transform of w [cout,cin,3,3] if w is the backing
// array of a frozen tensor (computing it on first use), or nil.
func frozenWinograd[T float](w []T, cout, cin int) []T {
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
		ok = ok && e.cout == cout && e.cin == cin
	}
	frozen.Unlock()
	if e == nil || e.t.Shape().TotalSize() < len(w) {
		return nil
	}
	if ok {
		return u
	}
	u = make([]T, winogradLen(cout, cin))
	winogradWeights(u, w, cout, cin)
	frozen.Lock()
	if frozen.m[key] == e {
		e.u, e.cout, e.cin = u, cout, cin
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
