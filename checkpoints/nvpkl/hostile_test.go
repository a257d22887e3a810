package nvpkl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
	"stylegan-tui/internal/testfix"
)

// TestFortranToC anchors the column-major conversion to numpy itself:
// np.arange(6).reshape(2, 3).tobytes('F') holds 0 3 1 4 2 5.
func TestFortranToC(t *testing.T) {
	dst := make([]float32, 6)
	fortranToC(dst, []float32{0, 3, 1, 4, 2, 5}, []int{2, 3})
	for i, v := range dst {
		if v != float32(i) {
			t.Fatalf("got %v, want 0..5", dst)
		}
	}
}

// loadBytes writes b to a file and loads it.
func loadBytes(t *testing.T, b []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.pkl")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(path)
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "nvpkl: "+path+": ") {
		t.Errorf("error not one line starting with the file name: %q", msg)
	}
	return err
}

func synthBytes(t *testing.T, G, D, Gs *synthNet) []byte {
	var buf bytes.Buffer
	if err := writeSynth(&buf, G, D, Gs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSharedKwargs: a static_kwargs value whose lists share sublists is a
// tree of 100^13 nodes in a few kilobytes; it must be skipped, not walked.
func TestSharedKwargs(t *testing.T) {
	bomb := func(w *pickletest.Writer) {
		w.EmptyList().Mark()
		for range 100 {
			w.Int(1)
		}
		w.Appends().Put(1000)
		for level := uint32(1); level <= 12; level++ {
			w.Raw('0') // POP the level below, kept in the memo
			w.EmptyList().Mark()
			for range 100 {
				w.Get(1000 + level - 1)
			}
			w.Appends().Put(1000 + level)
		}
	}
	G, D, Gs := smallGs()
	Gs.kwargs = append(Gs.kwargs, [2]any{"bomb", bomb}, [2]any{"after", 3})
	_, meta, err := Load(writeTemp(t, G, D, Gs))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := meta["bomb"]; ok || meta["after"] != "3" {
		t.Errorf("meta = %v", meta)
	}
}

func TestHostile(t *testing.T) {
	fixture, err := os.ReadFile(testfix.Path(t, "nvlabs/tf_stylegan1_32_p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	nested := func(depth int) []byte {
		return append(append([]byte{0x80, 4}, bytes.Repeat([]byte{'('}, depth)...), '.')
	}
	G, D, Gs := smallGs()
	Gs.buildFunc = "G_main"
	styleGAN2 := synthBytes(t, G, D, Gs)
	G, D, Gs = smallGs()
	Gs.version = 4
	version4 := synthBytes(t, G, D, Gs)
	G, D, Gs = smallGs()
	Gs.components[0].net.vars[0].data = []float32{1.5}
	lod := synthBytes(t, G, D, Gs)
	absurd := func(shape ...int) []byte {
		G, D, Gs := smallGs(synthVar{name: "x", shape: shape, raw: make([]byte, 16)})
		return synthBytes(t, G, D, Gs)
	}
	// One 1 MiB array named 100 times.
	repeated := []synthVar{{name: "big", shape: []int{1 << 18}, put: 900}}
	for i := range 100 {
		repeated = append(repeated, synthVar{name: fmt.Sprint("again", i), get: 900})
	}
	G, D, Gs = smallGs(repeated...)
	G.components[0].net.vars = G.components[0].net.vars[:1]
	repeatedArray := synthBytes(t, G, D, Gs)
	// Gs's synthesis component listed as its own component.
	G, D, Gs = smallGs()
	Gs.components[0].net.put = 901
	Gs.components[0].net.components = []synthComponent{{key: "loop", get: 901}}
	cycle := synthBytes(t, G, D, Gs)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"os.system", []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."), `pickle wants global "os.system", which is not allowed`},
		{"builtins.eval", []byte("\x80\x04\x8c\x08builtins\x8c\x04eval\x93."), `pickle wants global "builtins.eval", which is not allowed`},
		{"torch", []byte("\x80\x02ctorch_utils.persistence\n_reconstruct_persistent_obj\n."), "PyTorch pickle"},
		{"absurd shape", absurd(1 << 40), "numpy array dimension 1099511627776 is absurd"},
		{"absurd product", absurd(1<<20, 1<<20), "numpy array shape [1048576 1048576] is absurd"},
		{"size mismatch", absurd(1 << 30), "needs 4294967296 bytes, the pickle holds 16"},
		{"StyleGAN2", styleGAN2, `not a StyleGAN v1 pickle (build_func_name "G_main")`},
		{"version 4", version4, "unsupported dnnlib Network state version 4"},
		{"lod", lod, "G_synthesis/lod = 1.5, want 0"},
		{"array named 100 times", repeatedArray, "G_synthesis/again19: Gs's tensors would exceed"},
		{"component cycle", cycle, `network "G_synthesis/G_synthesis/" appears twice among the components`},
		{"not a tuple", []byte("\x80\x04}."), "top level is a dict"},
		{"opcode 0xff", []byte("\x80\x04\xff."), "unknown opcode 0xff"},
		{"LONG1 of 0 bytes", []byte("\x80\x02\x8a\x00."), "top level is an int"},
		{"huge LONG4", []byte("\x80\x02\x8b\x00\x00\x10\x00."), "integer of 1048576 bytes"},
		{"huge FRAME", []byte("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x40N."), "FRAME claims"},
		{"huge BINBYTES8", []byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."), "claims 9223372036854775807 bytes"},
		{"huge BINUNICODE", []byte("\x80\x04X\xff\xff\xff\xff."), "claims 4294967295 bytes"},
		{"deep MARKs", nested(2000), "MARKs nested deeper than 1000"},
		{"persistent id", []byte("\x80\x04K\x01Q."), "persistent ids are not used"},
		{"out-of-band buffer", []byte("\x80\x05\x97."), "out-of-band"},
		{"no STOP", []byte("\x80\x04N"), "without a STOP"},
		{"DICT with odd items", []byte("\x80\x02(Nd."), "malformed pickle near offset 5: gopickle panicked: runtime error: index out of range"},
		{"text pickle", []byte("hello world"), "malformed pickle near offset 3: the meta stack is empty"},
		{"bad array state", []byte("\x80\x04cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R]b."), "numpy array state is a list, want a 4- or 5-tuple"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loadBytes(t, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
	t.Run("truncated", func(t *testing.T) {
		// Every cut in the first 2 KiB (headers, dtypes, first arrays),
		// then every 97th byte.
		for n := 0; n < len(fixture); n++ {
			if n > 2048 && n%97 != 0 {
				continue
			}
			_, _, err := load(bytes.NewReader(fixture[:n]), int64(n))
			if err == nil {
				t.Fatalf("cut at %d of %d: no error", n, len(fixture))
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("cut at %d: multi-line error %q", n, err)
			}
		}
	})
}
