package checkpoints

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
)

// FuzzParseModel feeds arbitrary bytes through the whole native/convention
// loading path (safetensors parsing, key recognition, shape checks, config
// validation). It must never panic; errors are fine.
func FuzzParseModel(f *testing.F) {
	for _, p := range []string{
		testfix.Path(f, "rosinality/tiny_fusedlow_s3.safetensors"),
		testfix.Path(f, "nvlabs/tf_stylegan1_32.safetensors"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}        "))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err != nil {
			return
		}
		if err := m.W.Check(m.Cfg); err != nil {
			t.Fatalf("Parse returned an inconsistent model: %v", err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile(testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := (&safetensors.File{Tensors: map[string]*safetensors.Tensor{
		"encoder.weight": {Shape: []int{2}, Data: []float32{1, 2}}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"empty":     write("empty.safetensors", nil),
		"truncated": write("trunc.safetensors", good[:len(good)/2]),
		"garbage":   write("garbage.safetensors", []byte("this is not a checkpoint at all")),
		"missing":   filepath.Join(dir, "nope.safetensors"),
		"foreign":   write("foreign.safetensors", foreign),
	}
	for name, p := range cases {
		if _, err := Load(p); err == nil {
			t.Errorf("%s: loaded without error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	} // A file that is neither pickle, zip nor safetensors, under another
	// name: the error says what would be read, before the format's detail.
	text := write("README.md", []byte("# notes: the checkpoint is in ../run\n"))
	if _, err := Load(text); err == nil || !strings.Contains(err.Error(), text+" is not a checkpoint this program reads") {
		t.Errorf("README.md: %v", err)
	}

	// Each error names the file and what is wrong with it.
	m, err := Load(testfix.Path(t, "rosinality/tiny_s3.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	delete(f.Metadata, "config")
	noConfig, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{write("noconfig.safetensors", noConfig), `no "config" in __metadata__`},
	} {
		if _, err := Load(tc.path); err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", filepath.Base(tc.path), err, tc.want)
		}
	}
	for _, name := range []string{"g.safetensors", "g.pt", "g.pkl", "g"} {
		d := filepath.Join(dir, "dirs", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(d); err == nil || !strings.Contains(err.Error(), d) || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("directory %s: error %v, want one naming it a directory", name, err)
		}
	}
}
