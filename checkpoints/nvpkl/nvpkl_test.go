package nvpkl

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
	for _, tc := range []struct{ res, proto string }{
		{"32", "2"}, {"32", "4"}, {"32", "5"}, {"256", "4"},
	} {
		name := fmt.Sprintf("tf_stylegan1_%s_p%s.pkl", tc.res, tc.proto)
		t.Run(name, func(t *testing.T) {
			got, meta, err := Load(testfix.Path(t, "nvlabs/"+name))
			if err != nil {
				t.Fatal(err)
			}
			want := readSafetensors(t, testfix.Path(t, "nvlabs/tf_stylegan1_"+tc.res+".safetensors"))
			if err := sameTensors(got, want); err != nil {
				t.Fatal(err)
			}
			for k, v := range map[string]string{"resolution": tc.res, "lod": "0", "num_channels": "3", "mapping_fmaps": "16"} {
				if meta[k] != v {
					t.Errorf("meta[%q] = %q, want %q", k, meta[k], v)
				}
			}
		})
	}
}

// TestSpellings covers array encodings the fixtures lack: Fortran order,
// float64, float16, big-endian, _frombuffer, inline and lazily read data.
func TestSpellings(t *testing.T) {
	ints := func(n int) []float32 { // exact in float16
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%200 - 100)
		}
		return v
	}
	vars := []synthVar{
		{name: "c_small", shape: []int{2, 3, 4, 5}},
		{name: "c_lazy", shape: []int{8, 8, 4, 4}},
		{name: "f_small", shape: []int{2, 3, 4, 5}, fortran: true},
		{name: "f_lazy", shape: []int{3, 3, 16, 8}, fortran: true},
		{name: "f_vector", shape: []int{1, 700, 1}, fortran: true},
		{name: "f8_fortran", shape: []int{5, 7, 11}, dtype: "f8", fortran: true},
		{name: "f8_lazy", shape: []int{300}, dtype: "f8"},
		{name: "f2", shape: []int{40, 30}, dtype: "f2", data: ints(1200)},
		{name: "big_f4", shape: []int{17, 19}, big: true},
		{name: "big_f8_fortran", shape: []int{9, 13}, dtype: "f8", big: true, fortran: true},
		{name: "fb_c", shape: []int{6, 50}, frombuffer: true},
		{name: "fb_f", shape: []int{6, 50, 2}, frombuffer: true, fortran: true},
		{name: "scalar_other", scalar: true, data: []float32{2.5}},
	}
	G, D, Gs := smallGs(vars...)
	path := writeTemp(t, G, D, Gs)
	got, meta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*safetensors.Tensor{
		"dlatent_avg":             {Shape: []int{2}, Data: []float32{5, 6}},
		"G_mapping/Dense0/weight": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
	}
	for _, v := range Gs.components[0].net.vars[1:] {
		shape := v.shape
		if shape == nil {
			shape = []int{}
		}
		data := v.data
		if v.dtype == "f8" { // written as float64 of the float32 values: exact
			data = append([]float32(nil), data...)
		}
		want["G_synthesis/"+v.name] = &safetensors.Tensor{Shape: shape, Data: data}
	}
	if err := sameTensors(got, want); err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{"resolution": "8", "fmap_base": "16", "truncation_psi": "0.7",
		"nonlinearity": "lrelu", "use_noise": "true", "label": "null", "lod": "0"}
	if fmt.Sprint(meta) != fmt.Sprint(wantMeta) {
		t.Errorf("meta = %v, want %v", meta, wantMeta)
	}
}
