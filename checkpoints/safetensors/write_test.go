package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *File {
	return &File{
		Tensors: map[string]*Tensor{
			"G_synthesis/4x4/Const/const": {Shape: []int{1, 2, 2, 2}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), float32(math.NaN()), 1e-42, -0.0}},
			"style.1.linear.weight_orig":  {Shape: []int{2, 3}, Data: []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}},
			"scalar":                      {Shape: []int{}, Data: []float32{42}},
			"empty":                       {Shape: []int{0, 4}, Data: nil},
			`odd "name" <&>`:              {Shape: []int{1}, Data: []float32{7}},
		},
		Metadata: map[string]string{"resolution": "32", "format": "test <&> \"quoted\"", "é": "ü"},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []*File{sample(), {}, {Metadata: map[string]string{"only": "metadata"}}} {
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		equalFiles(t, g, f)
		// Deterministic: marshalling the parsed file gives the same bytes.
		b2, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("re-marshal differs:\n%q\n%q", b, b2)
		}
	}
}

func TestMarshalLayout(t *testing.T) {
	f := &File{
		Tensors:  map[string]*Tensor{"b": {Shape: []int{1}, Data: []float32{1}}, "a": {Shape: []int{2}, Data: []float32{2, 3}}},
		Metadata: map[string]string{"k": "v"},
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"k":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	want := build(header, []byte{0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x3f})
	if !bytes.Equal(b, want) {
		t.Fatalf("Marshal =\n%q\nwant\n%q", b, want)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		want string
	}{
		{"nil tensor", &File{Tensors: map[string]*Tensor{"w": nil}}, `safetensors: tensor "w" is nil`},
		{"shape mismatch", &File{Tensors: map[string]*Tensor{"w": {Shape: []int{2, 2}, Data: make([]float32, 3)}}},
			`safetensors: tensor "w": shape [2 2] does not match 3 values`},
		{"negative dim", &File{Tensors: map[string]*Tensor{"w": {Shape: []int{-1, -2}, Data: make([]float32, 2)}}},
			`safetensors: tensor "w": shape [-1 -2] has a negative dimension`},
		{"overflow", &File{Tensors: map[string]*Tensor{"w": {Shape: []int{1 << 40, 1 << 40}, Data: make([]float32, 0)}}},
			`safetensors: tensor "w": shape [1099511627776 1099511627776] does not match 0 values`},
		{"reserved name", &File{Tensors: map[string]*Tensor{"__metadata__": {Data: []float32{1}}}},
			`safetensors: "__metadata__" is reserved and cannot name a tensor`},
		{"bad UTF-8", &File{Tensors: map[string]*Tensor{"\xff": {Data: []float32{1}}}},
			`safetensors: tensor "\xff": name is not valid UTF-8`},
		{"bad UTF-8 metadata", &File{Metadata: map[string]string{"k": "\xff"}},
			`safetensors: metadata "k": not valid UTF-8`},
		{"nil file", nil, `safetensors: nil File`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Marshal()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.safetensors")
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalFiles(t, f, sample())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}

	// Overwriting keeps the existing mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	small := &File{Tensors: map[string]*Tensor{"x": {Shape: []int{1}, Data: []float32{1}}}}
	if err := WriteFile(path, small); err != nil {
		t.Fatal(err)
	}
	if f, err = ReadFile(path); err != nil {
		t.Fatal(err)
	}
	equalFiles(t, f, small)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("overwritten file mode %v, want 0600", st.Mode().Perm())
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Errorf("directory holds %q, want only g.safetensors", got)
	}

	// A relative path writes into the working directory.
	t.Chdir(dir)
	if err := WriteFile("rel.safetensors", small); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(dir, "rel.safetensors")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.safetensors")
	old := []byte("previous checkpoint")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}

	// Marshal fails: nothing is written.
	bad := &File{Tensors: map[string]*Tensor{"ok": {Shape: []int{1}, Data: []float32{1}}, "w": nil}}
	err := WriteFile(path, bad)
	if want := path + `: safetensors: tensor "w" is nil`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}

	// The rename fails after the temporary file was written: the target is
	// a non-empty directory.
	target := filepath.Join(dir, "isdir")
	if err := os.MkdirAll(filepath.Join(target, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, sample()); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	} else if !strings.HasPrefix(err.Error(), target+": ") {
		t.Errorf("error %q does not start with the path", err)
	}

	// The directory is missing: CreateTemp fails.
	missing := filepath.Join(dir, "no", "such", "dir.safetensors")
	if err := WriteFile(missing, sample()); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	} else if !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("error %q does not start with the path", err)
	}

	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("old file now %q, %v; want %q", got, err, old)
	}
	if got := listDir(t, dir); !equalStrings(got, []string{"g.safetensors", "isdir"}) {
		t.Fatalf("directory holds %q, want no temporary files", got)
	}
	if got := listDir(t, target); !equalStrings(got, []string{"keep"}) {
		t.Fatalf("target directory holds %q", got)
	}
}

func TestWriteFileReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.safetensors")
	old := []byte("previous checkpoint")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if probe, err := os.CreateTemp(dir, "probe"); err == nil {
		probe.Close()
		os.Remove(probe.Name())
		t.Skip("directory permissions are not enforced (running as root)")
	}
	if err := WriteFile(path, sample()); err == nil {
		t.Fatal("WriteFile into a read-only directory succeeded")
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("old file now %q, %v; want %q", got, err, old)
	}
}
