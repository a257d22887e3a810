package torchpt

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
	"stylegan-tui/internal/testfix"
)

// loadBytes writes b to a file and loads it, checking the error's form.
func loadBytes(t *testing.T, b []byte) error {
	t.Helper()
	path := writeFile(t, "x.pt", b)
	_, _, err := Load(path)
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "torchpt: "+path+": ") {
		t.Errorf("error not one line starting with the file name: %q", msg)
	}
	return err
}

// rezip copies a zip archive, letting edit drop (return false) or change
// records.
func rezip(t *testing.T, b []byte, edit func(f *zip.File, zw *zip.Writer) bool) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if edit(f, zw) {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMissingDataRecord drops each storage record of a zip checkpoint in
// turn: a record g_running needs is an error naming it, one that only the
// unused "generator" entry needs is never read.
func TestMissingDataRecord(t *testing.T) {
	b, err := os.ReadFile(testfix.Path(t, "rosinality/tiny_s3_zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	const dir = "tiny_s3_zip/data/"
	var records []string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, dir) {
			records = append(records, f.Name)
		}
	}
	// g_running less its blur buffers, as the reference safetensors file
	// holds it; in this file every tensor has a storage of its own.
	want := len(readSafetensors(t, testfix.Path(t, "rosinality/tiny_s3.safetensors")))
	if len(records) <= want {
		t.Fatalf("%d storage records, want more than g_running's %d (the generator entry has its own)", len(records), want)
	}
	failed := 0
	for _, drop := range records {
		err := loadBytes(t, rezip(t, b, func(f *zip.File, _ *zip.Writer) bool { return f.Name != drop }))
		if err == nil {
			continue // a storage only the unused "generator" entry needs
		}
		failed++
		if want := fmt.Sprintf("storage %q: no record %s in the zip", strings.TrimPrefix(drop, dir), drop); !strings.Contains(err.Error(), want) {
			t.Fatalf("dropping %s: %v, want %q", drop, err, want)
		}
		if failed == 1 {
			t.Log(err)
		}
	}
	if failed != want {
		t.Errorf("%d of %d drops failed, want %d (g_running's tensors less its blur buffers)", failed, len(records), want)
	}
}

func TestHostile(t *testing.T) {
	zipFixture, err := os.ReadFile(testfix.Path(t, "rosinality/tiny_s3_zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	nvpkl, err := os.ReadFile(testfix.Path(t, "nvlabs/tf_stylegan1_32_p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	compressed := rezip(t, zipFixture, func(f *zip.File, zw *zip.Writer) bool {
		if !strings.HasSuffix(f.Name, "data.pkl") {
			return true
		}
		r, _ := f.Open()
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		var buf bytes.Buffer
		buf.ReadFrom(r)
		w.Write(buf.Bytes())
		return false
	})
	torchScript := rezip(t, zipFixture, func(f *zip.File, zw *zip.Writer) bool {
		if strings.HasSuffix(f.Name, "data.pkl") {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: "tiny_s3_zip/constants.pkl", Method: zip.Store})
			w.Write([]byte("\x80\x02).")) // order of records does not matter
		}
		return true
	})
	osSystem := func() []byte {
		var buf bytes.Buffer
		w := pickletest.New(&buf)
		w.Proto(2).Global("os", "system").Str("ls").Raw(0x85).Reduce().Stop()
		w.Flush()
		f := &ptFile{}
		b := f.zipBytes(t)
		return rezip(t, b, func(f *zip.File, zw *zip.Writer) bool {
			if strings.HasSuffix(f.Name, "data.pkl") {
				w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
				w.Write(buf.Bytes())
				return false
			}
			return true
		})
	}()
	mk := func(legacy bool, edit func(f *ptFile)) []byte {
		f, _ := synthFile(legacy)
		edit(f)
		if legacy {
			return f.legacyBytes(t)
		}
		return f.zipBytes(t)
	}
	setItem := func(name string, edit func(*ptTensor)) func(*ptFile) {
		return func(f *ptFile) {
			for i := range f.dicts[1] {
				if f.dicts[1][i].name == name {
					edit(&f.dicts[1][i])
				}
			}
		}
	}
	repeated := func() []byte { // one 1 MiB storage viewed whole by 100 tensors
		f := &ptFile{entries: []string{"g_running"}, storages: []ptStorage{{"big", "FloatStorage", 1 << 18, make([]byte, 1<<20)}}}
		items := []ptTensor{{name: "style.1.linear.weight_orig", key: "big", size: []int{1}, stride: []int{1}}}
		for i := range 100 {
			items = append(items, ptTensor{name: fmt.Sprint("again", i), key: "big", size: []int{1 << 18}, stride: []int{1}})
		}
		f.dicts = [][]ptTensor{items}
		return f.zipBytes(t)
	}()
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"truncated zip", mk(false, func(*ptFile) {})[:200], "a zip archive whose central directory cannot be read (truncated?)"},
		{"storage viewed 100 times", repeated, "again20: the tensors would exceed"},
		{"text", []byte("hello"), "not a torch checkpoint"},
		{"NVlabs pickle", nvpkl, "not a torch checkpoint (no torch magic number"},
		{"os.system", osSystem, `pickle wants global "os.system", which is not allowed`},
		{"compressed record", compressed, "is compressed (method 8)"},
		{"TorchScript", torchScript, "TorchScript"},
		{"view past storage", mk(false, setItem("style.1.linear.bias", func(x *ptTensor) { x.off = 22 })), "style.1.linear.bias: size [4] stride [1] offset 22 reach past its storage of 24 elements"},
		{"offset past storage", mk(false, setItem("style.1.linear.bias", func(x *ptTensor) { x.off = 1 << 40 })), "storage offset 1099511627776 outside"},
		{"expanded view", mk(false, setItem("style.1.linear.bias", func(x *ptTensor) { x.size, x.stride = []int{1 << 40}, []int{0} })), "has more elements than its storage"},
		{"negative stride", mk(false, setItem("style.1.linear.bias", func(x *ptTensor) { x.stride = []int{-1} })), "negative stride"},
		{"storage bigger than file", mk(false, func(f *ptFile) { f.storages[5].numel = 1 << 40 }), "claims 1099511627776 float32 elements, more than the file holds"},
		{"storage bigger than record", mk(false, func(f *ptFile) { f.storages[5].numel = 25 }), `storage "1main" claims 25 float32 elements, record archive/data/1main holds 96 bytes`},
		{"legacy size mismatch", mk(true, func(f *ptFile) { f.storages[5].numel = 25 }), "the file says"},
		{"legacy bad view", mk(true, setItem("view", func(x *ptTensor) { x.view[2] = 100 })), `storage "1main": bad view`},
		{"pre-July-2019", mk(false, setItem("scalar", func(x *ptTensor) { x.name = "generator.progression.1.conv1.conv.weight_orig" })), "from before July 2019 (it has generator.progression.1.conv1.conv.weight_orig)"},
		{"unknown layout", mk(false, setItem("style.1.linear.weight_orig", func(x *ptTensor) { x.name = "conv.weight" })), "g_running is not a rosinality StyledGenerator state dict: no style.1.linear.weight_orig among its 10 keys (conv.weight, style.1.linear.bias, style.3.linear.weight_orig...)"},
		{"int tensor", mk(false, func(f *ptFile) {
			f.storages[5].class = "LongStorage"
			f.storages[5].data = append(f.storages[5].data, f.storages[5].data...)
		}), "style.1.linear.weight_orig: int64 tensors are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loadBytes(t, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestTruncated cuts each serialization of a fixture at every point in its
// first 2 KiB and then at every 257th byte: never a panic, always an error.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"tiny_s3_legacy.pt", "tiny_s3_zip.pt", "tiny_s3_grunning_only_legacy.pt"} {
		b, err := os.ReadFile(testfix.Path(t, "rosinality/"+name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if n > 2048 && n%257 != 0 {
				continue
			}
			_, _, err := load(bytes.NewReader(b[:n]), int64(n))
			if err == nil {
				t.Fatalf("%s cut at %d of %d: no error", name, n, len(b))
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%s cut at %d: multi-line error %q", name, n, err)
			}
		}
	}
}
