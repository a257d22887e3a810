package kernels

import (
	"sync"
	"unsafe"
)

// frozen holds the weights declared constant with Freeze, keyed by the address of their first
// element, with their Winograd transforms once computed.
var frozen = struct {
	sync.Mutex
	m map[uintptr]*frozenWeight
}{m: map[uintptr]*frozenWeight{}}

type frozenWeight struct {
	w         any // the frozen slice: keeps its backing array alive, so its address cannot be reused
	n         int // its length
	u         any // []float32 or []float64 transform, nil until first used
	cout, cin int
}

func key[T Float](w []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(w))) }

// Freeze declares that the values of w will not change until it is passed to Freeze again or
// to Thaw. A 3×3 convolution (Conv2dF32, Conv) whose weight is frozen keeps the weight's
// Winograd transform instead of recomputing it on every call, and so does a ConvTranspose2x
// weight; the transform is computed again after the next Freeze. A frozen slice is kept alive
// until thawed. Never freeze weights that an optimizer updates.
func Freeze[T Float](w []T) {
	if len(w) == 0 {
		return
	}
	frozen.Lock()
	defer frozen.Unlock()
	frozen.m[key(w)] = &frozenWeight{w: w, n: len(w)}
}

// Thaw ends Freeze for w and drops its cached transforms.
func Thaw[T Float](w []T) {
	if len(w) == 0 {
		return
	}
	frozen.Lock()
	defer frozen.Unlock()
	delete(frozen.m, key(w))
}

// frozenConvT returns the cached ConvTranspose2x Winograd transform of w [cin,cout,4,4] if w is
// the backing array of a frozen tensor (computing it on first use), or nil.
func frozenConvT[T Float](w []T, cin, cout int) []T {
	// a negative cout marks a ConvTranspose2x transform
	return frozenTransform(w, -cout, cin, cin*cout*16, func() []T {
		u := make([]T, convTLen(cin, cout))
		convTAllWeights(u, w, cin, cout)
		return u
	})
}

// frozenWinograd returns the cached Winograd transform of w [cout,cin,3,3] if w is the backing
// array of a frozen tensor (computing it on first use), or nil.
func frozenWinograd[T Float](w []T, cout, cin int) []T {
	return frozenTransform(w, cout, cin, 0, func() []T {
		u := make([]T, winogradLen(cout, cin))
		winogradWeights(u, w, cout, cin)
		return u
	})
}

// frozenTransform returns the transform of w cached under (tag, cin) if w, at least need long,
// is the backing array of a frozen tensor, computing it with compute on first use; or nil.
func frozenTransform[T Float](w []T, tag, cin, need int, compute func() []T) []T {
	if len(w) == 0 {
		return nil
	}
	key := key(w)
	frozen.Lock()
	e := frozen.m[key]
	var u []T
	ok := false
	if e != nil {
		u, ok = e.u.([]T)
		ok = ok && e.cout == tag && e.cin == cin
	}
	frozen.Unlock()
	if e == nil || e.n < len(w) || len(w) < need {
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
