package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/internal/testfix"
)

// build assembles a file from a raw header and data section.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// lenOnly is a file holding only a header length prefix of n.
func lenOnly(n uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, n)
}

// equalFiles compares two files bit for bit (NaNs included); nil and empty
// maps are equal.
func equalFiles(t *testing.T, got, want *File) {
	t.Helper()
	if g, w := got.Names(), want.Names(); !equalStrings(g, w) {
		t.Fatalf("names %q, want %q", g, w)
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if !equalInts(g.Shape, w.Shape) {
			t.Fatalf("%q: shape %v, want %v", name, g.Shape, w.Shape)
		}
		if len(g.Data) != len(w.Data) {
			t.Fatalf("%q: %d values, want %d", name, len(g.Data), len(w.Data))
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("%q[%d] = %v, want %v", name, i, g.Data[i], w.Data[i])
			}
		}
	}
	if len(got.Metadata) != len(want.Metadata) {
		t.Fatalf("metadata %v, want %v", got.Metadata, want.Metadata)
	}
	for k, v := range want.Metadata {
		if g, ok := got.Metadata[k]; !ok || g != v {
			t.Fatalf("metadata[%q] = %q, want %q", k, g, v)
		}
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		path   string
		count  int
		shapes map[string][]int
		meta   map[string]string
	}{
		{
			path:  "rosinality/tiny_s3.safetensors",
			count: 59,
			shapes: map[string][]int{
				"style.1.linear.weight_orig":                       {16, 16},
				"style.1.linear.bias":                              {16},
				"generator.progression.0.conv1.input":              {1, 16, 4, 4},
				"generator.progression.0.adain1.style.linear.bias": {32},
			},
			meta: map[string]string{"resolution": "32", "style_dim": "16", "step": "3"},
		},
		{
			path:  "nvlabs/tf_stylegan1_32.safetensors",
			count: 73,
			shapes: map[string][]int{
				"G_synthesis/4x4/Const/const":           {1, 16, 4, 4},
				"G_synthesis/4x4/Const/StyleMod/weight": {16, 32},
				"G_mapping/Dense0/weight":               {16, 16},
				"G_synthesis/noise7":                    {1, 1, 32, 32},
			},
			meta: map[string]string{"resolution": "32", "latent_size": "16", "fmap_max": "16"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, err := ReadFile(testfix.Path(t, tt.path))
			if err != nil {
				t.Fatal(err) // a missing fixture fails, it does not skip
			}
			if len(f.Tensors) != tt.count {
				t.Errorf("%d tensors, want %d", len(f.Tensors), tt.count)
			}
			for name, shape := range tt.shapes {
				if _, err := f.Get(name, shape...); err != nil {
					t.Error(err)
				}
			}
			for k, v := range tt.meta {
				if got := f.Metadata[k]; got != v {
					t.Errorf("metadata[%q] = %q, want %q", k, got, v)
				}
			}
			// Our writer lays the data out as the reference writer does
			// (name order, header padded to 8 bytes); only the header's key
			// order differs (it puts __metadata__ last, unsorted).
			orig, err := os.ReadFile(testfix.Path(t, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(orig) || !bytes.Equal(out[:8], orig[:8]) {
				t.Fatalf("re-marshalled %d bytes, header prefix %x; original %d, %x", len(out), out[:8], len(orig), orig[:8])
			}
			dataStart := 8 + binary.LittleEndian.Uint64(orig)
			if !bytes.Equal(out[dataStart:], orig[dataStart:]) {
				t.Error("re-marshalled data section differs from the original")
			}
			g, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			equalFiles(t, g, f)
		})
	}
}

func TestReadFileErrorNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.safetensors")
	if err := os.WriteFile(path, []byte("1234567"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	want := path + ": safetensors: truncated file (7 bytes, need at least 8)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want ErrNotExist", err)
	}
}

func TestCorrupt(t *testing.T) {
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	tests := []struct {
		name string
		in   []byte
		want string // the full error, or a substring when it starts with "~"
	}{
		{"empty", nil, "safetensors: truncated file (0 bytes, need at least 8)"},
		{"7 bytes", []byte("{}     "), "safetensors: truncated file (7 bytes, need at least 8)"},
		{"header longer than file", append(lenOnly(100), "{}{}{}{}{}{}"...),
			"safetensors: header length 100 exceeds file size 20"},
		{"header length 1<<63", lenOnly(1 << 63),
			"safetensors: header length 9223372036854775808 exceeds file size 8"},
		{"header length maxint64", append(lenOnly(math.MaxInt64), make([]byte, 1192)...),
			"safetensors: header length 9223372036854775807 exceeds file size 1200"},
		{"empty header", build("", nil), "~header is not JSON"},
		{"non-JSON header", build("hello", nil), "~header is not JSON"},
		{"truncated JSON", build(`{"x":{"dtype":"F32"`, nil), "~header is not JSON"},
		{"array header", build(`[1,2]`, nil), "safetensors: header is not a JSON object"},
		{"trailing garbage", build(`{} {}`, nil), "safetensors: header has data after the JSON object"},
		{"invalid UTF-8", build("{\"\xff\":1}", nil), "safetensors: header is not valid UTF-8"},
		{"duplicate name", build(`{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32(1)),
			`safetensors: header has key "x" twice`},
		{"metadata not strings", build(`{"__metadata__":{"a":1}}`, nil),
			"safetensors: __metadata__ is not an object of strings"},
		{"metadata null", build(`{"__metadata__":null}`, nil),
			"safetensors: __metadata__ is not an object of strings"},
		{"entry not object", build(`{"x":[1]}`, nil), `safetensors: tensor "x": header entry [1] is not an object with dtype, shape and data_offsets`},
		{"entry a string", build(`{"x":"abc"}`, nil), `safetensors: tensor "x": header entry "abc" is not an object with dtype, shape and data_offsets`},
		{"dtype not a string", build(`{"x":{"dtype":4,"shape":[],"data_offsets":[0,4]}}`, f32(1)), `safetensors: tensor "x": dtype 4 is not a string`},
		{"shape a string", build(`{"x":{"dtype":"F32","shape":"abc","data_offsets":[0,4]}}`, f32(1)), `safetensors: tensor "x": shape "abc" is not a list of integers`},
		{"offsets an object", build(`{"x":{"dtype":"F32","shape":[],"data_offsets":{"a":0}}}`, f32(1)), `safetensors: tensor "x": data_offsets {"a":0} is not a list of two integers`},
		{"missing dtype", build(`{"x":{"shape":[],"data_offsets":[0,4]}}`, f32(1)), `safetensors: tensor "x": missing dtype`},
		{"missing shape", build(`{"x":{"dtype":"F32","data_offsets":[0,4]}}`, f32(1)), `safetensors: tensor "x": missing shape`},
		{"missing offsets", build(`{"x":{"dtype":"F32","shape":[]}}`, f32(1)), `safetensors: tensor "x": missing data_offsets`},
		{"unknown dtype", build(`{"x":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)),
			`safetensors: tensor "x": unknown dtype "F128"`},
		{"integer dtype", build(`{"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)),
			`safetensors: tensor "step": dtype I64 is not supported (want F32, F16, BF16 or F64)`},
		{"bool dtype", build(`{"m":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)),
			`safetensors: tensor "m": dtype BOOL is not supported (want F32, F16, BF16 or F64)`},
		{"negative dim", build(`{"x":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}}`, nil),
			`safetensors: tensor "x": shape [2 -1]: negative dimension`},
		{"fractional dim", build(`{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}}`, nil),
			`safetensors: tensor "x": shape[0] 1.5 is not an integer`},
		{"string dim", build(`{"x":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, f32(2)),
			`safetensors: tensor "x": shape[0] "2" is not an integer`},
		{"huge dim", build(`{"x":{"dtype":"F32","shape":[1e30],"data_offsets":[0,0]}}`, nil),
			`safetensors: tensor "x": shape[0] 1e30 is not an integer`},
		{"overflow shape", build(`{"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}}`, f32(4)),
			`safetensors: tensor "x": shape [1099511627776 1099511627776]: element count overflows`},
		{"overflow bytes", build(`{"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}`, f32(4)),
			`~safetensors: tensor "x": data_offsets [0 16] hold 16 bytes, shape [4611686018427387904] of F32 needs`},
		{"offsets out of range", build(`{"G_synthesis/4x4/Const/const":{"dtype":"F32","shape":[1,16,4,4],"data_offsets":[0,512]}}`, f32(64)),
			`safetensors: tensor "G_synthesis/4x4/Const/const": data_offsets [0 512] exceed data size 256`},
		{"end before begin", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, f32(2)),
			`safetensors: tensor "x": data_offsets [8 4]: end before begin`},
		{"negative offset", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, f32(1)),
			`safetensors: tensor "x": data_offsets[0] -4 is negative`},
		{"three offsets", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(2)),
			`safetensors: tensor "x": data_offsets has 3 values, want 2`},
		{"size mismatch", build(`{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`, f32(3)),
			`safetensors: tensor "x": data_offsets [0 12] hold 12 bytes, shape [2 2] of F32 needs 4 elements of 4 bytes`},
		{"size mismatch F16", build(`{"x":{"dtype":"F16","shape":[4],"data_offsets":[0,16]}}`, f32(4)),
			`safetensors: tensor "x": data_offsets [0 16] hold 16 bytes, shape [4] of F16 needs 4 elements of 2 bytes`},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, f32(6)),
			`safetensors: tensors "a" [0 16] and "b" [8 24] overlap`},
		{"same range", build(`{"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(4)),
			`safetensors: tensors "a" [0 16] and "b" [0 16] overlap`},
		{"empty tensor inside another", build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}`, f32(4)),
			`safetensors: tensors "a" [0 16] and "e" [8 8] overlap`},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32(3)),
			`safetensors: gap in data section: bytes [4 8) before tensor "b" belong to no tensor`},
		{"trailing data", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(3)),
			`safetensors: data section has 8 trailing bytes after the last tensor (data size 12)`},
		{"truncated data", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2,2],"data_offsets":[4,20]}}`, f32(3)),
			`safetensors: tensor "b": data_offsets [4 20] exceed data size 12`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("parsed %d tensors, want error %q", len(f.Tensors), tt.want)
			}
			if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !strings.Contains(err.Error(), sub) {
					t.Fatalf("error %q, want it to contain %q", err, sub)
				}
			} else if err.Error() != tt.want {
				t.Fatalf("error %q\nwant       %q", err, tt.want)
			}
		})
	}
}

// sparseFile pretends to be a file of the given size that starts with a
// header length prefix and is zero elsewhere.
type sparseFile struct{ prefix []byte }

func (s sparseFile) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	if off < int64(len(s.prefix)) {
		copy(p, s.prefix[off:])
	}
	return len(p), nil
}

func TestHeaderLimit(t *testing.T) {
	// A 150 MB "file" whose header claims 120 MB: refused before reading.
	_, err := Read(sparseFile{lenOnly(120_000_000)}, 150_000_000)
	want := "safetensors: header length 120000000 exceeds limit 100000000"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestShortReader(t *testing.T) {
	// The size passed to Read is larger than what the reader holds.
	b := build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 16))
	_, err := Read(bytes.NewReader(b[:len(b)-4]), int64(len(b)))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), `tensor "a": reading data`) {
		t.Fatalf("error %v, want unexpected EOF reading tensor a", err)
	}
}

// refF16 is a slow, obviously correct binary16 decoder: value =
// (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 when e = 0.
func refF16(h uint16) float64 {
	s, e, m := h>>15, int(h>>10&0x1f), float64(h&0x3ff)
	var v float64
	switch e {
	case 0x1f:
		if m != 0 {
			return math.NaN()
		}
		v = math.Inf(1)
	case 0:
		v = math.Ldexp(m/1024, -14)
	default:
		v = math.Ldexp(1+m/1024, e-15)
	}
	if s == 1 {
		v = math.Copysign(v, -1)
	}
	return v
}

func TestF16AllValues(t *testing.T) {
	// Every half value in one tensor of 2^16 elements, and the same again so
	// the tensor spans the 1 MiB conversion chunks (2^19 elements = 1 MiB).
	const n = 1 << 19
	data := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(i))
	}
	f, err := Parse(build(`{"h":{"dtype":"F16","shape":[524288],"data_offsets":[0,1048576]}}`+"  ", data))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Tensors["h"].Data
	for i, g := range got {
		want := refF16(uint16(i))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(g)) {
				t.Fatalf("f16 %#04x = %v, want NaN", uint16(i), g)
			}
			continue
		}
		if math.Float32bits(g) != math.Float32bits(float32(want)) || float64(g) != want {
			t.Fatalf("f16 %#04x = %v, want %v", uint16(i), g, want)
		}
	}
}

func TestConvert(t *testing.T) {
	bf16 := []uint16{0x3f80, 0xc000, 0x0000, 0x8000, 0x7f80, 0x3e20, 0x0001}
	bf16Want := []float32{1, -2, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), 0.15625, math.Float32frombits(0x00010000)}
	f64 := []float64{1, -2.5, 1e-3, 1e300, -1e300, 1e-50, math.Pi}
	f64Want := []float32{1, -2.5, 1e-3, float32(math.Inf(1)), float32(math.Inf(-1)), 0, math.Pi}

	var data []byte
	for _, v := range bf16 {
		data = binary.LittleEndian.AppendUint16(data, v)
	}
	data = append(data, 0, 0) // padding so the F64 tensor starts at 16
	for _, v := range f64 {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(v))
	}
	header := `{"b":{"dtype":"BF16","shape":[7],"data_offsets":[0,14]},` +
		`"pad":{"dtype":"F16","shape":[1],"data_offsets":[14,16]},` +
		`"d":{"dtype":"F64","shape":[7],"data_offsets":[16,72]}}`
	f, err := Parse(build(header, data))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{"b": bf16Want, "d": f64Want} {
		got := f.Tensors[name].Data
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestEmptyAndScalar(t *testing.T) {
	// Zero-element tensors may share an offset; a scalar has shape [].
	header := `{"e1":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},` +
		`"e2":{"dtype":"F16","shape":[5,0],"data_offsets":[0,0]},` +
		`"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
		`"e3":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`
	f, err := Parse(build(header, binary.LittleEndian.AppendUint32(nil, math.Float32bits(2.5))))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Tensors["s"]; len(s.Shape) != 0 || len(s.Data) != 1 || s.Data[0] != 2.5 || s.Len() != 1 {
		t.Fatalf("scalar = %+v", s)
	}
	if e := f.Tensors["e2"]; !equalInts(e.Shape, []int{5, 0}) || len(e.Data) != 0 {
		t.Fatalf("e2 = %+v", e)
	}
	if f.Metadata == nil {
		t.Fatal("Metadata is nil, want an empty map")
	}
}

func TestGetNames(t *testing.T) {
	f := &File{Tensors: map[string]*Tensor{
		"x": {Shape: []int{3, 3, 16, 8}, Data: make([]float32, 3*3*16*8)},
		"a": {Shape: []int{2}, Data: []float32{1, 2}},
	}}
	if got := f.Names(); !equalStrings(got, []string{"a", "x"}) {
		t.Fatalf("Names = %q", got)
	}
	if _, err := f.Get("x", 3, 3, 16, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get("x"); err != nil {
		t.Fatal(err)
	}
	_, err := f.Get("x", 3, 3, 8, 8)
	if want := `safetensors: "x": shape [3 3 16 8], want [3 3 8 8]`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	_, err = f.Get("y")
	if want := `safetensors: no tensor "y"`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}
