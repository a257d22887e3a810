package torchpt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
)

var tags = []string{"tiny_s3", "tiny_s5", "tiny_fusedlow_s3"}

// readSafetensors parses a float32 safetensors file (the fixtures' format)
// without depending on the safetensors package's reader.
func readSafetensors(t testing.TB, path string) map[string]*safetensors.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	data := b[8+n:]
	out := map[string]*safetensors.Tensor{}
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			Dtype   string
			Shape   []int
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if e.Dtype != "F32" {
			t.Fatalf("%s: %s: dtype %s", path, name, e.Dtype)
		}
		seg := data[e.Offsets[0]:e.Offsets[1]]
		f := make([]float32, len(seg)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(seg[4*i:]))
		}
		out[name] = &safetensors.Tensor{Shape: e.Shape, Data: f}
	}
	return out
}

// sameTensors reports the first difference between got and want: names,
// shapes and every value bit for bit.
func sameTensors(got, want map[string]*safetensors.Tensor) error {
	var missing, extra []string
	for k := range want {
		if got[k] == nil {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if want[k] == nil {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		return fmt.Errorf("missing %v, unexpected %v", missing, extra)
	}
	for k, w := range want {
		g := got[k]
		if fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) {
			return fmt.Errorf("%s: shape %v, want %v", k, g.Shape, w.Shape)
		}
		if len(g.Data) != len(w.Data) {
			return fmt.Errorf("%s: %d values, want %d", k, len(g.Data), len(w.Data))
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				return fmt.Errorf("%s[%d] = %v, want %v", k, i, g.Data[i], w.Data[i])
			}
		}
	}
	return nil
}

func TestFixtures(t *testing.T) {
	for _, tag := range tags {
		want := readSafetensors(t, testfix.Path(t, "rosinality/"+tag+".safetensors"))
		for _, tc := range []struct{ suffix, entry, format string }{
			{"_legacy.pt", "g_running", "legacy"},
			{"_zip.pt", "g_running", "zip"},
			{"_grunning_only_legacy.pt", "state_dict", "legacy"},
		} {
			t.Run(tag+tc.suffix, func(t *testing.T) {
				got, meta, err := Load(testfix.Path(t, "rosinality/"+tag+tc.suffix))
				if err != nil {
					t.Fatal(err)
				}
				if err := sameTensors(got, want); err != nil {
					t.Fatal(err)
				}
				if meta["entry"] != tc.entry || meta["serialization"] != tc.format {
					t.Errorf("meta = %v, want entry %s, serialization %s", meta, tc.entry, tc.format)
				}
			})
		}
	}
}

func f64(v ...float32) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(float64(x)))
	}
	return b
}

// synthFile is a checkpoint whose g_running and generator entries (values
// differing by 100) exercise views, dtypes and blur buffers.
func synthFile(legacy bool) (*ptFile, map[string]*safetensors.Tensor) {
	f := &ptFile{entries: []string{"generator", "g_running"}}
	want := map[string]*safetensors.Tensor{}
	for e, add := range []float32{100, 0} {
		k := func(s string) string { return fmt.Sprint(e, s) }
		f.storages = append(f.storages,
			ptStorage{k("main"), "FloatStorage", 24, f32(iota32(24, add)...)},
			ptStorage{k("blur"), "FloatStorage", 18, f32(iota32(18, add)...)},
			ptStorage{k("f64"), "DoubleStorage", 36, f64(iota32(36, add)...)},
			ptStorage{k("f16"), "HalfStorage", 2, []byte{0x00, 0x3c, 0x00, 0xc0}},      // 1, -2
			ptStorage{k("bf16"), "BFloat16Storage", 2, []byte{0x80, 0x3f, 0x40, 0xc0}}, // 1, -3
		)
		items := []ptTensor{
			{name: "style.1.linear.weight_orig", key: k("main"), off: 2, size: []int{2, 3}, stride: []int{1, 2}},
			{name: "style.1.linear.bias", key: k("main"), off: 10, size: []int{4}, stride: []int{1}},
			{name: "style.3.linear.weight_orig", key: k("main"), size: []int{2, 3, 4}, stride: []int{1, 2, 6}},
			{name: "scalar", key: k("main"), off: 5, size: []int{}, stride: []int{}},
			{name: "empty", key: k("main"), off: 0, size: []int{0, 3}, stride: []int{3, 1}},
			{name: "generator.progression.1.conv1.2.weight", key: k("blur"), size: []int{2, 1, 3, 3}, stride: []int{9, 9, 3, 1}},
			{name: "generator.progression.1.conv1.2.weight_flip", key: k("blur"), size: []int{2, 1, 3, 3}, stride: []int{9, 9, 3, 1}},
			{name: "generator.progression.5.conv1.0.weight", key: k("f64"), size: []int{2, 2, 3, 3}, stride: []int{18, 9, 3, 1}},
			{name: "generator.progression.5.conv1.0.bias", key: k("f16"), size: []int{2}, stride: []int{1}},
			{name: "style.3.linear.bias", key: k("bf16"), size: []int{2}, stride: []int{1}},
		}
		if legacy { // a view storage: elements 4..11 of main
			items = append(items, ptTensor{name: "view", key: k("main"), off: 1, size: []int{3}, stride: []int{2}, view: []any{k("view"), 4, 8}})
		}
		f.dicts = append(f.dicts, items)
	}
	v := func(shape []int, vals ...float32) *safetensors.Tensor {
		return &safetensors.Tensor{Shape: shape, Data: vals}
	}
	want["style.1.linear.weight_orig"] = v([]int{2, 3}, 2, 4, 6, 3, 5, 7)
	want["style.1.linear.bias"] = v([]int{4}, 10, 11, 12, 13)
	var perm []float32
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				perm = append(perm, float32(i+2*j+6*k))
			}
		}
	}
	want["style.3.linear.weight_orig"] = v([]int{2, 3, 4}, perm...)
	want["scalar"] = v([]int{}, 5)
	want["empty"] = v([]int{0, 3})
	want["generator.progression.5.conv1.0.weight"] = v([]int{2, 2, 3, 3}, iota32(36, 0)...)
	want["generator.progression.5.conv1.0.bias"] = v([]int{2}, 1, -2)
	want["style.3.linear.bias"] = v([]int{2}, 1, -3)
	if legacy {
		want["view"] = v([]int{3}, 5, 7, 9)
	}
	return f, want
}

func TestSynthetic(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		f, want := synthFile(legacy)
		var b []byte
		if legacy {
			b = f.legacyBytes(t)
		} else {
			b = f.zipBytes(t)
		}
		got, meta, err := Load(writeFile(t, "x.pt", b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sameTensors(got, want); err != nil {
			t.Errorf("legacy=%v: %v", legacy, err)
		}
		if meta["entry"] != "g_running" {
			t.Errorf("legacy=%v: meta %v", legacy, meta)
		}
	}
	// Without g_running the generator entry is used; a bare state dict is itself.
	f, _ := synthFile(false)
	f.entries, f.dicts, f.storages = f.entries[:1], f.dicts[:1], f.storages[:5]
	got, meta, err := Load(writeFile(t, "gen.pt", f.zipBytes(t)))
	if err != nil || meta["entry"] != "generator" || got["style.1.linear.bias"].Data[0] != 110 {
		t.Errorf("generator only: %v %v", meta, err)
	}
	f.bare = true
	got, meta, err = Load(writeFile(t, "bare.pt", f.legacyBytes(t)))
	if err != nil || meta["entry"] != "state_dict" || got["style.1.linear.bias"].Data[0] != 110 {
		t.Errorf("bare: %v %v", meta, err)
	}
}
