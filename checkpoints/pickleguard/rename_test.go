package pickleguard

import (
	"bytes"
	"testing"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
)

type named struct{ module, name string }

func (named) Call(args ...any) (any, error) { return len(args), nil }

// TestRename: a renamed GLOBAL reaches FindClass under its new name, even one
// that gopickle would otherwise resolve itself; other globals are untouched.
func TestRename(t *testing.T) {
	var b bytes.Buffer
	w := pickletest.New(&b)
	w.Proto(2).Mark()
	w.Global("collections", "OrderedDict").Mark().Int(1).Int(2).Tuple().Reduce()
	w.Global("collections", "OrderedDict").EmptyTuple().Reduce()
	w.Tuple().Stop()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	opt := Options{Rename: map[Global]Global{{"collections", "OrderedDict"}: {"mine", "Dict"}}}
	r := New(bytes.NewReader(b.Bytes()), 0, int64(b.Len()), opt)
	u := r.Unpickler()
	var asked []named
	u.FindClass = func(module, name string) (any, error) {
		asked = append(asked, named{module, name})
		return named{module, name}, nil
	}
	v, err := Load(u, r)
	if err != nil {
		t.Fatal(err)
	}
	tup, ok := v.(*types.Tuple)
	if !ok || tup.Len() != 2 || tup.Get(0) != 2 || tup.Get(1) != 0 {
		t.Errorf("got %#v, want (2, 0) from the renamed constructor", v)
	}
	if len(asked) != 2 || asked[0] != (named{"mine", "Dict"}) {
		t.Errorf("FindClass asked for %v", asked)
	}
	// Without the option gopickle resolves OrderedDict itself and refuses the argument.
	r = New(bytes.NewReader(b.Bytes()), 0, int64(b.Len()), Options{})
	if _, err := Load(r.Unpickler(), r); err == nil {
		t.Error("OrderedDict(1, 2) accepted without the rename")
	}
}
