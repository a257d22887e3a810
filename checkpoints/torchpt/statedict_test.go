package torchpt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
	"stylegan-tui/checkpoints/safetensors"
)

// vggLikeFile is a bare state dict with torchvision's VGG16 names: convolution
// weights under features.*, a classifier.* tensor that LoadStateDict must
// skip, and a strided view.
func vggLikeFile() (*ptFile, map[string]*safetensors.Tensor) {
	f := &ptFile{bare: true, storages: []ptStorage{
		{"0", "FloatStorage", 12, f32(iota32(12, 0)...)},
		{"1", "FloatStorage", 3, f32(7, 8, 9)},
		{"2", "DoubleStorage", 4, f64(1, 2, 3, 4)},
	}}
	f.dicts = [][]ptTensor{{
		{name: "features.0.weight", key: "0", size: []int{3, 1, 2, 2}, stride: []int{4, 4, 2, 1}},
		{name: "features.0.bias", key: "1", size: []int{3}, stride: []int{1}},
		{name: "features.2.weight", key: "0", off: 1, size: []int{2, 2}, stride: []int{1, 3}},
		{name: "classifier.0.weight", key: "2", size: []int{2, 2}, stride: []int{2, 1}},
	}}
	want := map[string]*safetensors.Tensor{
		"features.0.weight": {Shape: []int{3, 1, 2, 2}, Data: iota32(12, 0)},
		"features.0.bias":   {Shape: []int{3}, Data: []float32{7, 8, 9}},
		"features.2.weight": {Shape: []int{2, 2}, Data: []float32{1, 4, 2, 5}},
	}
	return f, want
}

func TestLoadStateDict(t *testing.T) {
	features := func(name string) bool { return strings.HasPrefix(name, "features.") }
	for _, legacy := range []bool{false, true} {
		f, want := vggLikeFile()
		b, format := f.zipBytes(t), "zip"
		if legacy {
			b, format = f.legacyBytes(t), "legacy"
		}
		path := writeFile(t, "vgg.pth", b)
		got, meta, err := LoadStateDict(path, features)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := sameTensors(got, want); err != nil {
			t.Errorf("%s: %v", format, err)
		}
		if meta["serialization"] != format {
			t.Errorf("%s: meta %v", format, meta)
		}
		all, _, err := LoadStateDict(path, nil)
		if err != nil || len(all) != 4 || all["classifier.0.weight"].Data[3] != 4 {
			t.Errorf("%s: keep nil read %d tensors (%v), want all 4", format, len(all), err)
		}
		// The generator reader still refuses what is not a rosinality generator.
		if _, _, err := Load(path); err == nil || !strings.Contains(err.Error(), "style.1.linear.weight_orig") {
			t.Errorf("%s: Load of a VGG state dict: %v", format, err)
		}
	}
	// A dict of dicts is a checkpoint, not a state dict.
	f, _ := synthFile(false)
	_, _, err := LoadStateDict(writeFile(t, "ckpt.pt", f.zipBytes(t)), nil)
	if err == nil || !strings.Contains(err.Error(), "want a tensor") {
		t.Errorf("LoadStateDict of a generator/g_running checkpoint: %v", err)
	}
}

// py2LegacyBytes is a legacy torch.save file as Python 2 wrote it (LPIPS v0.1's
// weights): OrderedDict called with its [key, value] items as a list, then
// BUILD with the _metadata attribute, storages located on a CUDA device.
func py2LegacyBytes(t *testing.T, items [][2]any) []byte {
	var buf bytes.Buffer
	w := pickletest.New(&buf)
	w.Proto(2).Raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop()
	w.Proto(2).Int(1001).Stop()
	w.Proto(2).EmptyDict().Mark().Str("protocol_version").Int(1001).Str("little_endian").Bool(true).SetItems().Stop()
	w.Proto(2).Global("collections", "OrderedDict").EmptyList().Mark()
	for _, it := range items {
		w.EmptyList().Mark().Str(it[0].(string))
		switch v := it[1].(type) {
		case int: // a storage of v floats
			w.Global("torch._utils", "_rebuild_tensor_v2").Mark()
			w.Mark().Str("storage").Global("torch", "FloatStorage").Str(fmt.Sprint("k", v)).Str("cuda:0").Int(v).None().Tuple().BinPersID()
			w.Int(0).IntTuple(1, v, 1, 1).IntTuple(v, 1, 1, 1).Bool(false).None().Tuple().Reduce()
		default:
			w.Int(7)
		}
		w.Appends()
	}
	w.Appends().Raw(0x85).Reduce()
	w.EmptyDict().Str("_metadata").Global("collections", "OrderedDict").EmptyList().Mark()
	w.EmptyList().Mark().Str("").EmptyDict().Str("version").Int(1).Raw('s').Appends()
	w.Appends().Raw(0x85).Reduce().Raw('s').Build().Stop()
	var keys []int
	for _, it := range items {
		if n, ok := it[1].(int); ok {
			keys = append(keys, n)
		}
	}
	w.Proto(2).EmptyList().Mark()
	for _, n := range keys {
		w.Str(fmt.Sprint("k", n))
	}
	w.Appends().Stop()
	for _, n := range keys {
		var h [8]byte
		binary.LittleEndian.PutUint64(h[:], uint64(n))
		w.Raw(h[:]...).Raw(f32(iota32(n, float32(n))...)...)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadStateDictPython2(t *testing.T) {
	got, meta, err := LoadStateDict(writeFile(t, "lin.pth", py2LegacyBytes(t, [][2]any{{"lin0.model.1.weight", 2}, {"lin1.model.1.weight", 3}})), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*safetensors.Tensor{
		"lin0.model.1.weight": {Shape: []int{1, 2, 1, 1}, Data: []float32{2, 3}},
		"lin1.model.1.weight": {Shape: []int{1, 3, 1, 1}, Data: []float32{3, 4, 5}},
	}
	if err := sameTensors(got, want); err != nil || meta["serialization"] != "legacy" {
		t.Errorf("%v, meta %v", err, meta)
	}
	_, _, err = LoadStateDict(writeFile(t, "bad.pth", py2LegacyBytes(t, [][2]any{{"lin0.model.1.weight", 2}, {"x", "int"}})), nil)
	if err == nil || !strings.Contains(err.Error(), "x is an int, want a tensor") {
		t.Errorf("a state dict holding an int: %v", err)
	}
}
