package pickleguard

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
)

func load(t *testing.T, b []byte, start int64, opt Options) (any, *Reader, error) {
	t.Helper()
	r := New(bytes.NewReader(b), start, int64(len(b)), opt)
	v, err := Load(r.Unpickler(), r)
	return v, r, err
}

func TestBackToBack(t *testing.T) {
	b := []byte("\x80\x02K\x07.\x80\x02X\x02\x00\x00\x00hi.tail")
	v, r, err := load(t, b, 0, Options{})
	if err != nil || v != 7 || r.Offset() != 5 {
		t.Fatalf("first: %v %v offset %d", v, err, r.Offset())
	}
	v, r, err = load(t, b, 5, Options{})
	if err != nil || v != "hi" || r.Offset() != 15 {
		t.Fatalf("second: %v %v offset %d", v, err, r.Offset())
	}
}

func TestLazy(t *testing.T) {
	big, small := bytes.Repeat([]byte{1}, 2000), bytes.Repeat([]byte{2}, 500)
	var b []byte
	b = append(b, 0x80, 4, '(', 'B', 0xd0, 0x07, 0, 0)
	b = append(b, big...)
	b = append(b, 'B', 0xf4, 0x01, 0, 0)
	b = append(b, small...)
	b = append(b, 't', '.')
	v, _, err := load(t, b, 0, Options{LazyMin: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tup := v.(*types.Tuple)
	if l, ok := tup.Get(0).(*Lazy); !ok || *l != (Lazy{Off: 8, Len: 2000, Kind: Bytes}) {
		t.Errorf("big payload = %#v", tup.Get(0))
	}
	if s, ok := tup.Get(1).([]byte); !ok || !bytes.Equal(s, small) {
		t.Errorf("small payload = %T", tup.Get(1))
	}
}

func TestRewrites(t *testing.T) {
	// LONG1 of length 0 is Python's 0; gopickle would index out of range.
	if v, _, err := load(t, []byte("\x80\x02\x8a\x00."), 0, Options{}); err != nil || v != 0 {
		t.Errorf("LONG1 0: %v %v", v, err)
	}
	// Frames are checked, then dropped.
	if v, _, err := load(t, []byte("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x05."), 0, Options{}); err != nil || v != 5 {
		t.Errorf("FRAME: %v %v", v, err)
	}
	if _, _, err := load(t, []byte("\x80\x06."), 0, Options{}); err == nil || !strings.Contains(err.Error(), "protocol 6") {
		t.Errorf("protocol 6: %v", err)
	}
}

func TestFloat16(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x8400: -1.0 / (1 << 14),
		0x7c00: float32(math.Inf(1)), 0x0000: 0,
	} {
		if got := Float16(h); got != want {
			t.Errorf("Float16(%#04x) = %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(float64(Float16(0x7e00))) {
		t.Error("Float16(0x7e00) is not NaN")
	}
}

func TestReadFloats(t *testing.T) {
	for _, tc := range []struct {
		f   Float
		big bool
		in  []byte
	}{
		{F32, false, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}},
		{F32, true, []byte{0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0}},
		{F64, false, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0}},
		{F64, true, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0}},
		{F16, false, []byte{0, 0x3c, 0, 0xc0}},
		{BF16, false, []byte{0x80, 0x3f, 0, 0xc0}},
		{BF16, true, []byte{0x3f, 0x80, 0xc0, 0}},
	} {
		dst := make([]float32, 2)
		if err := ReadFloats(dst, bytes.NewReader(tc.in), tc.f, tc.big); err != nil || dst[0] != 1 || dst[1] != -2 {
			t.Errorf("%v big=%v: %v %v", tc.f, tc.big, dst, err)
		}
		if err := ReadFloats(dst, bytes.NewReader(tc.in[:len(tc.in)-1]), tc.f, tc.big); err == nil {
			t.Errorf("%v big=%v: short input accepted", tc.f, tc.big)
		}
	}
}
