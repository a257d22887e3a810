package lpips

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
)

// The fixtures (testdata/fixtures/lpips, see its README): a VGG16-shaped trunk
// with random weights and widths 8/16/24/32/32 in torchvision's state-dict layout (legacy and
// zip torch.save), LPIPS linear layers for it, and the distances richzhang/PerceptualSimilarity's
// lpips.py computes from them for image pairs at 16, 32, 64 and 256 px.
var sizes = []int{16, 32, 64, 256}

func loadTiny(t testing.TB, trunk string) *Net {
	t.Helper()
	n, err := Load(testfix.Path(t, "lpips/"+trunk), testfix.Path(t, "lpips/lin_tiny_legacy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

func readRef(t testing.TB) *safetensors.File {
	t.Helper()
	f, err := safetensors.ReadFile(testfix.Path(t, "lpips/lpips_tiny_ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func get(t testing.TB, f *safetensors.File, name string) *safetensors.Tensor {
	t.Helper()
	x, err := f.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// within is the fixtures' tolerance: max|err| ≤ 1e-5 + 1e-4·|ref|. The reference runs in
// float32 with PyTorch's direct convolutions; the trunk here uses Winograd transforms and
// float64 sums, so the last bits differ.
func within(got, ref float64) bool { return math.Abs(got-ref) <= 1e-5+1e-4*math.Abs(ref) }

// TestParity reproduces every pair's distance and per-tap terms, from both serializations of
// the trunk, at every size of the fixture.
func TestParity(t *testing.T) {
	ref := readRef(t)
	for _, trunk := range []string{"vgg16_tiny_legacy.pth", "vgg16_tiny_zip.pth"} {
		n := loadTiny(t, trunk)
		if got := n.Widths(); got != [Taps]int{8, 16, 24, 32, 32} {
			t.Fatalf("%s: widths %v", trunk, got)
		}
		for _, s := range sizes {
			x0, x1 := get(t, ref, fmt.Sprint("x0_", s)), get(t, ref, fmt.Sprint("x1_", s))
			want, wantL := get(t, ref, fmt.Sprint("d_", s)), get(t, ref, fmt.Sprint("dlayers_", s))
			N := x0.Shape[0]
			d, layers, err := n.Distance(x0.Data, x1.Data, N, s, s)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range N {
				if !within(d[i], float64(want.Data[i])) {
					t.Errorf("%s %d px pair %d: d = %.8g, reference %.8g", trunk, s, i, d[i], want.Data[i])
				}
				for l := range Taps {
					r := float64(wantL.Data[i*Taps+l])
					worst = max(worst, math.Abs(layers[i][l]-r))
					if !within(layers[i][l], r) {
						t.Errorf("%s %d px pair %d %s: %.8g, reference %.8g", trunk, s, i, TapNames[l], layers[i][l], r)
					}
				}
			}
			t.Logf("%s %d px: %d pairs, d %.6g..., worst per-tap error %.2g", trunk, s, N, d[0], worst)
		}
	}
}

// TestBatchIndependent checks that a pair's distance does not depend on the batch it is in or
// on how the batch is split into chunks: pairs of several sizes of chunk, and one at a time.
func TestBatchIndependent(t *testing.T) {
	ref := readRef(t)
	n := loadTiny(t, "vgg16_tiny_zip.pth")
	x0, x1 := get(t, ref, "x0_64"), get(t, ref, "x1_64")
	N, img := x0.Shape[0], 3*64*64
	all, _, err := n.Distance(x0.Data, x1.Data, N, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer func(b int) { actBudget = b }(actBudget)
	actBudget = 2 * 8 * 64 * 64 * 2 // two pairs per chunk
	chunked, _, err := n.Distance(x0.Data, x1.Data, N, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range N {
		one, _, err := n.Distance(x0.Data[i*img:(i+1)*img], x1.Data[i*img:(i+1)*img], 1, 64, 64)
		if err != nil {
			t.Fatal(err)
		}
		if !within(one[0], all[i]) || !within(chunked[i], all[i]) {
			t.Errorf("pair %d: %g in a batch of %d, %g in chunks of 2, %g alone", i, all[i], N, chunked[i], one[0])
		}
	}
	// Identical images are at distance 0; swapping the images keeps the distance.
	same, _, _ := n.Distance(x0.Data, x0.Data, N, 64, 64)
	swapped, _, _ := n.Distance(x1.Data, x0.Data, N, 64, 64)
	for i := range N {
		if same[i] != 0 || !within(swapped[i], all[i]) {
			t.Errorf("pair %d: d(x0, x0) = %g, d(x1, x0) = %g, d(x0, x1) = %g", i, same[i], swapped[i], all[i])
		}
	}
}

// TestEmbeddedLin loads the real LPIPS v0.1 VGG linear layers (embedded; their legacy pickle
// records CUDA storage locations): five non-negative tensors of VGG16's widths.
func TestEmbeddedLin(t *testing.T) {
	lin, err := LoadLin("")
	if err != nil {
		t.Fatal(err)
	}
	if len(lin) != Taps {
		t.Errorf("%d tensors, want %d", len(lin), Taps)
	}
	for l, c := range []int{64, 128, 256, 512, 512} {
		w := lin[fmt.Sprintf("lin%d.model.1.weight", l)]
		if w == nil || fmt.Sprint(w.Shape) != fmt.Sprint([]int{1, c, 1, 1}) {
			t.Fatalf("lin%d: %v", l, w)
		}
		sum := 0.0
		for _, v := range w.Data {
			if v < 0 {
				t.Errorf("lin%d has a negative weight %g", l, v)
			}
			sum += float64(v)
		}
		if sum == 0 {
			t.Errorf("lin%d is all zeros", l)
		}
	}
}

// TestBadInput: malformed trunks, linear layers and images are refused with one line naming the
// tensor or the sizes, never a panic.
func TestBadInput(t *testing.T) {
	trunk, err := LoadVGG16(testfix.Path(t, "lpips/vgg16_tiny_legacy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	lin, err := LoadLin(testfix.Path(t, "lpips/lin_tiny_legacy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := LoadLin("")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(m map[string]*safetensors.Tensor, name string, v *safetensors.Tensor) map[string]*safetensors.Tensor {
		out := map[string]*safetensors.Tensor{}
		for k, x := range m {
			out[k] = x
		}
		if v == nil {
			delete(out, name)
		} else {
			out[name] = v
		}
		return out
	}
	t32 := func(shape ...int) *safetensors.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return &safetensors.Tensor{Shape: shape, Data: make([]float32, n)}
	}
	nan := t32(32)
	nan.Data[3] = float32(math.NaN())
	cases := []struct {
		name       string
		trunk, lin map[string]*safetensors.Tensor
		want       []string
	}{
		{"missing tap conv", edit(trunk, "features.28.weight", nil), lin, []string{"features.28.weight", "relu5_3"}},
		{"missing bias", edit(trunk, "features.7.bias", nil), lin, []string{"features.7.bias"}},
		{"misshapen tap conv", edit(trunk, "features.21.weight", t32(32, 24, 3, 3)), lin, []string{"features.21.weight", "[32 24 3 3]", "want [Cout 32 3 3]", "relu4_3"}},
		{"1x1 kernel", edit(trunk, "features.0.weight", t32(8, 3, 1, 1)), lin, []string{"features.0.weight", "[8 3 1 1]"}},
		{"bias length", edit(trunk, "features.2.bias", t32(9)), lin, []string{"features.2.bias", "[9]", "want [8]"}},
		{"NaN bias", edit(trunk, "features.28.bias", nan), lin, []string{"features.28.bias", "NaN"}},
		{"lin widths of full VGG16", trunk, embedded, []string{"lin0.model.1.weight", "[1 64 1 1]", "want [1 8 1 1]", "relu1_2"}},
		{"missing lin", trunk, edit(lin, "lin3.model.1.weight", nil), []string{"lin3.model.1.weight", "relu4_3"}},
	}
	for _, c := range cases {
		n, err := New(c.trunk, c.lin)
		if err == nil {
			n.Close()
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error on several lines: %q", c.name, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not mention %q", c.name, msg, w)
			}
		}
	}

	n := loadTiny(t, "vgg16_tiny_legacy.pth")
	x := make([]float32, 2*3*32*32)
	for _, c := range []struct {
		x0, x1  []float32
		b, h, w int
		want    string
	}{
		{x, x[:len(x)-1], 2, 32, 32, "6144 and 6143 values"},
		{x, x, 2, 32, 16, "6144 and 6144 values for 2 pairs of 3×32×16"},
		{x, x, 8, 8, 8, "8×8 px"},
		{x, x, -1, 32, 32, "-1 pairs"},
	} {
		if _, _, err := n.Distance(c.x0, c.x1, c.b, c.h, c.w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Distance(%d, %d, %d, %d×%d): %v, want an error with %q", len(c.x0), len(c.x1), c.b, c.h, c.w, err, c.want)
		}
	}
}
