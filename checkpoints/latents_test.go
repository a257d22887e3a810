package checkpoints

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
)

// TestReadLatentsErrors: a latents file that does not fit the model is
// refused with the file, the tensor and the expected shape named; mixing
// without a source B is refused; a good file gives one w per slot and item.
func TestReadLatentsErrors(t *testing.T) {
	m, err := Load(testfix.Path(t, "rosinality/tiny_s3.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	c := g.Cfg
	dir := t.TempDir()
	write := func(name string, tensors map[string]*safetensors.Tensor) string {
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, &safetensors.File{Tensors: tensors}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vec := func(b, d int) *safetensors.Tensor {
		return &safetensors.Tensor{Shape: []int{b, d}, Data: make([]float32, b*d)}
	}
	nan := func(t *safetensors.Tensor, i int) *safetensors.Tensor { t.Data[i] = float32(math.NaN()); return t }
	inf := func(t *safetensors.Tensor, i int) *safetensors.Tensor { t.Data[i] = float32(math.Inf(1)); return t }
	noMix := LatentsOptions{Psi: 1, Cutoff: c.NumStyles(), MixFrom: 1, MixTo: 0}
	for _, tc := range []struct {
		file    string
		tensors map[string]*safetensors.Tensor
		opt     LatentsOptions
		want    string
	}{
		{"none.safetensors", map[string]*safetensors.Tensor{"w_avg": vec(1, c.WDim)}, noMix, "no z or w tensor"},
		{"x.safetensors", map[string]*safetensors.Tensor{"z": vec(1, c.ZDim), "x": vec(1, 3)}, noMix, `unexpected tensor "x"`},
		{"noise_0.safetensors", map[string]*safetensors.Tensor{"z": vec(1, c.ZDim), "noise_0": vec(1, 16)}, noMix, `unexpected tensor "noise_0"`},
		{"noise99.safetensors", map[string]*safetensors.Tensor{"z": vec(1, c.ZDim), "noise99": vec(1, 16)}, noMix, `unexpected tensor "noise99"`},
		{"zw.safetensors", map[string]*safetensors.Tensor{"z": vec(1, c.ZDim), "w": vec(1, c.WDim)}, noMix, "both z and w"},
		{"b0.safetensors", map[string]*safetensors.Tensor{"z": vec(0, c.ZDim)}, noMix, "z has shape [0 "},
		{"w0.safetensors", map[string]*safetensors.Tensor{"w": vec(0, c.WDim)}, noMix, "w has shape [0 "},
		{"nan.safetensors", map[string]*safetensors.Tensor{"z": nan(vec(2, c.ZDim), 3)}, noMix, "z[3] is NaN"},
		{"inf.safetensors", map[string]*safetensors.Tensor{"w": vec(1, c.WDim), "w_avg": inf(vec(1, c.WDim), 0)}, noMix, "w_avg[0] is +Inf"},
		{"noisenan.safetensors", map[string]*safetensors.Tensor{"w": vec(1, c.WDim), "noise0": nan(vec(1, 16), 15)}, noMix, "noise0[15] is NaN"},
		{"z.safetensors", map[string]*safetensors.Tensor{"z": vec(2, c.ZDim+1)}, noMix, "z has shape [2 "},
		{"noise.safetensors", map[string]*safetensors.Tensor{"w": vec(1, c.WDim), "noise0": vec(1, 5)}, noMix, "noise0 has shape [1 5]"},
		{"mix.safetensors", map[string]*safetensors.Tensor{"w": vec(2, c.WDim)}, LatentsOptions{Psi: 1, Cutoff: 0, MixFrom: 2, MixTo: 3}, "needs z2 or w2 with batch 2"},
	} {
		p := write(tc.file, tc.tensors)
		_, err := ReadLatents(p, g, tc.opt)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", tc.file, err, tc.want)
		}
	}
	fallback := make([][]float32, c.NumNoise())
	for j := range fallback {
		fallback[j] = make([]float32, c.NoiseRes(j)*c.NoiseRes(j))
	}
	ok := noMix
	ok.Noise = fallback
	in, err := ReadLatents(write("ok.safetensors", map[string]*safetensors.Tensor{"z": vec(3, c.ZDim), "w2": vec(3, c.WDim)}), g, ok)
	if err != nil {
		t.Fatal(err)
	}
	if in.B != 3 || len(in.W) != c.NumStyles() || len(in.W[0]) != 3*c.WDim || len(in.Noise) != c.NumNoise() {
		t.Errorf("B %d, %d slots of %d values, %d noise maps", in.B, len(in.W), len(in.W[0]), len(in.Noise))
	}
}
