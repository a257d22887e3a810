package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
)

// Synthetic torch.save files, written opcode by opcode the way torch's
// pickler does, for what the fixtures lack: strided views with offsets,
// legacy view metadata, other dtypes, and hostile variants.

// ptStorage is one storage: class ("FloatStorage", ...) and raw bytes.
type ptStorage struct {
	key, class string
	numel      int
	data       []byte
}

// ptTensor is one state dict item.
type ptTensor struct {
	name, key    string
	off          int
	size, stride []int
	view         []any // legacy view metadata (view_key, offset, numel); nil for none
}

// ptFile is a checkpoint: entries of a top-level dict, or (bare) a state dict.
type ptFile struct {
	entries  []string // names of the dict's entries, in order
	dicts    [][]ptTensor
	bare     bool // write dicts[0] as the top level
	storages []ptStorage
	class    map[string]string // storage key -> class, filled from storages
}

func f32(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func iota32(n int, add float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i) + add
	}
	return v
}

// writeObject writes the checkpoint object pickle (the zip's data.pkl, or
// the legacy format's fourth pickle).
func (f *ptFile) writeObject(w *pickletest.Writer, legacy bool) {
	f.class = map[string]string{}
	for _, s := range f.storages {
		f.class[s.key] = s.class
	}
	numel := map[string]int{}
	for _, s := range f.storages {
		numel[s.key] = s.numel
	}
	w.Proto(2)
	stateDict := func(items []ptTensor) {
		w.Global("collections", "OrderedDict").EmptyTuple().Reduce()
		if len(items) == 0 {
			return
		}
		w.Mark()
		for _, t := range items {
			w.Str(t.name)
			w.Global("torch._utils", "_rebuild_tensor_v2").Mark()
			w.Mark().Str("storage").Global("torch", f.class[t.key]).Str(t.key).Str("cpu").Int(numel[t.key])
			if legacy {
				if t.view == nil {
					w.None()
				} else {
					w.Mark().Str(t.view[0].(string)).Int(t.view[1].(int)).Int(t.view[2].(int)).Tuple()
				}
			}
			w.Tuple().BinPersID()
			w.Int(t.off).IntTuple(t.size...).IntTuple(t.stride...).Bool(false)
			w.Global("collections", "OrderedDict").EmptyTuple().Reduce()
			w.Tuple().Reduce()
		}
		w.SetItems()
	}
	if f.bare {
		stateDict(f.dicts[0])
	} else {
		w.EmptyDict().Mark()
		for i, e := range f.entries {
			w.Str(e)
			stateDict(f.dicts[i])
		}
		w.SetItems()
	}
	w.Stop()
}

// zipBytes is the torch >= 1.6 serialization of f.
func (f *ptFile) zipBytes(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	var pkl bytes.Buffer
	w := pickletest.New(&pkl)
	f.writeObject(w, false)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	add("data.pkl", pkl.Bytes())
	add("byteorder", []byte("little"))
	for _, s := range f.storages {
		add("data/"+s.key, s.data)
	}
	add("version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// legacyBytes is the torch < 1.6 serialization of f.
func (f *ptFile) legacyBytes(t testing.TB) []byte {
	var buf bytes.Buffer
	w := pickletest.New(&buf)
	w.Proto(2).Raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop() // magic number
	w.Proto(2).Int(1001).Stop()
	w.Proto(2).EmptyDict().Mark().Str("protocol_version").Int(1001).Str("little_endian").Bool(true).SetItems().Stop()
	f.writeObject(w, true)
	w.Proto(2).EmptyList().Mark()
	for _, s := range f.storages {
		w.Str(s.key)
	}
	w.Appends().Stop()
	for _, s := range f.storages {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(s.numel))
		w.Raw(n[:]...).Raw(s.data...)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
