package checkpoints

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/model"
)

var rosinalityTags = []string{"tiny_s3", "tiny_s5", "tiny_fusedlow_s3"}

func readRef(t *testing.T, path string) *safetensors.File {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatalf("reference fixture: %v", err)
	}
	return f
}

func tensor(t *testing.T, f *safetensors.File, name string) *safetensors.Tensor {
	t.Helper()
	x, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("reference has no %q", name)
	}
	return x
}

// maxErr is max |a-b|; a length mismatch is an infinite error.
func maxErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// parityTol is the allowed max |err| for an output whose reference peaks
// at peak = max|reference|: max(1e-4, 1e-5·peak), the fixtures' rule
// (testdata/fixtures/README.md); every parity check uses it. The random
// weights drive the images to |x| = 12..160, where float32 rounding alone
// exceeds 1e-4: the fixture itself differs from a float64 forward pass by
// 0.5–2e-6 of the peak (1.0e-4 for tiny_s3 at peak 52), and this engine
// by a similar share; TestFloat64Oracle -v prints both. The rounding moves
// with the conv algorithm (GEMM kernel, Winograd). A real error costs far
// more: a wrong convention switch or layout > 1e-2 of the peak, and the
// .pt files' "generator" entry is g_running + 0.01.
func parityTol(peak float64) float64 { return max(1e-4, 1e-5*peak) }

func expectClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	peak := 0.0
	for _, v := range want {
		peak = max(peak, math.Abs(float64(v)))
	}
	expectClosePeak(t, what, got, want, peak)
}

// expectClosePeak is expectClose with the reference's peak given: a
// reference kept only on a pixel grid records its whole output's peak.
func expectClosePeak(t *testing.T, what string, got, want []float32, peak float64) {
	t.Helper()
	e := maxErr(got, want)
	tol := parityTol(peak)
	t.Logf("%s: max |err| %.3g (peak %.3g, tolerance %.3g)", what, e, peak, tol)
	if !(e <= tol) {
		t.Errorf("%s: max |err| %.3g > %.3g (len %d vs %d)", what, e, tol, len(got), len(want))
	}
}

// rosinalityParity checks every output of a rosinality reference file.
func rosinalityParity(t *testing.T, m *Checkpoint, ref *safetensors.File) {
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	c := g.Cfg
	z1 := tensor(t, ref, "z1")
	B := z1.Shape[0]
	w1, err := g.Mapping(z1.Data, B)
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, "w1", w1, tensor(t, ref, "w1").Data)
	zm := tensor(t, ref, "zmean")
	wm, err := g.Mapping(zm.Data, zm.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float32, c.WDim)
	for i, v := range wm {
		mean[i%c.WDim] += v / float32(zm.Shape[0])
	}
	expectClose(t, "mean_style", mean, tensor(t, ref, "mean_style").Data)
	z2 := tensor(t, ref, "z2")
	w2, err := g.Mapping(z2.Data, B)
	if err != nil {
		t.Fatal(err)
	}
	var noise [][]float32
	for j := 0; j < c.NumNoise(); j++ {
		noise = append(noise, tensor(t, ref, fmt.Sprintf("noise%d", j)).Data)
	}
	all := func(w []float32) [][]float32 {
		ws := make([][]float32, c.NumStyles())
		for i := range ws {
			ws[i] = w
		}
		return ws
	}
	run := func(ws [][]float32, alpha float64) []float32 {
		out, _, err := g.Synthesis(model.SynthesisInput{B: B, W: ws, Noise: noise}, model.Options{Step: -1, Alpha: alpha, Full: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	expectImage(t, ref, "out_plain", run(all(w1), -1), c.Resolution())
	alpha, _ := strconv.ParseFloat(ref.Metadata["alpha_blend"], 64)
	expectImage(t, ref, "out_alpha05", run(all(w1), alpha), c.Resolution())
	psi, err := strconv.ParseFloat(ref.Metadata["style_weight"], 64)
	if err != nil {
		t.Fatal(err)
	}
	trunc := make([]float32, len(w1))
	for i, v := range w1 {
		a := mean[i%c.WDim]
		trunc[i] = a + float32(psi)*(v-a)
	}
	expectImage(t, ref, "out_trunc", run(all(trunc), -1), c.Resolution())
	var lo, hi int
	if _, err := fmt.Sscanf(ref.Metadata["mixing_range"], "%d,%d", &lo, &hi); err != nil {
		t.Fatalf("mixing_range %q: %v", ref.Metadata["mixing_range"], err)
	}
	mix := all(w1)
	for s := lo; s <= hi; s++ {
		mix[s] = w2
	}
	expectImage(t, ref, "out_mix", run(mix, -1), c.Resolution())
}

func TestRosinalityParity(t *testing.T) {
	for _, tag := range rosinalityTags {
		t.Run(tag, func(t *testing.T) {
			m, err := Load(testfix.Path(t, "rosinality/"+tag+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != "rosinality" {
				t.Errorf("format %q, want rosinality", m.Format)
			}
			rosinalityParity(t, m, readRef(t, testfix.Path(t, "rosinality/"+tag+"_ref.safetensors")))
		})
	}
}

// nvlabsParity checks out_trunc, out_notrunc and out_mix with the stored noise.
func nvlabsParity(t *testing.T, m *Checkpoint, ref *safetensors.File) {
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	c := g.Cfg
	z := tensor(t, ref, "z")
	B := z.Shape[0]
	w, err := g.Mapping(z.Data, B)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := g.Mapping(tensor(t, ref, "z2").Data, B)
	if err != nil {
		t.Fatal(err)
	}
	meta := func(k string) float64 {
		v, err := strconv.ParseFloat(ref.Metadata[k], 64)
		if err != nil {
			t.Fatalf("metadata %s: %v", k, err)
		}
		return v
	}
	psi, cutoff, mixFrom := meta("truncation_psi"), int(meta("truncation_cutoff")), int(meta("mix_from_layer"))
	run := func(ws [][]float32) []float32 {
		out, _, err := g.Synthesis(model.SynthesisInput{B: B, W: ws, Noise: m.W.NoiseConst}, model.Options{Step: -1, Alpha: -1, Full: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var plain, trunc, mix [][]float32
	tw := make([]float32, len(w))
	for i, v := range w {
		a := m.W.WAvg[i%c.WDim]
		tw[i] = a + float32(psi)*(v-a)
	}
	for l := 0; l < c.NumStyles(); l++ {
		plain = append(plain, w)
		if l < cutoff {
			trunc = append(trunc, tw)
		} else {
			trunc = append(trunc, w)
		}
		if l >= mixFrom {
			mix = append(mix, w2)
		} else {
			mix = append(mix, w)
		}
	}
	expectImage(t, ref, "out_notrunc", run(plain), c.Resolution())
	expectImage(t, ref, "out_trunc", run(trunc), c.Resolution())
	expectImage(t, ref, "out_mix", run(mix), c.Resolution())
}

// expectImage checks the output images got [B,3,res,res] against the
// reference's tensor name. A reference kept on a pixel grid
// (testdata/fixtures/shrink_ref.py) is compared on that grid, with the
// whole output's peak from its metadata setting the tolerance.
func expectImage(t *testing.T, ref *safetensors.File, name string, got []float32, res int) {
	t.Helper()
	want := tensor(t, ref, name)
	stride, peak, ok := gridOf(t, ref, name)
	if !ok {
		expectClose(t, name, got, want.Data)
		return
	}
	n := len(gridIndex(res, stride))
	if len(want.Shape) != 4 || want.Shape[2] != n || want.Shape[3] != n {
		t.Fatalf("%s: shape %v is not the stride-%d grid of a %d px image (%d x %d)", name, want.Shape, stride, res, n, n)
	}
	expectClosePeak(t, name, onGrid(got, res, stride), want.Data, peak)
}

// gridOf reports whether the reference keeps output name on a pixel grid,
// with the grid's stride and the whole output's peak.
func gridOf(t *testing.T, ref *safetensors.File, name string) (stride int, peak float64, ok bool) {
	t.Helper()
	s, p := ref.Metadata["grid_stride"], ref.Metadata["peak_"+name]
	if s == "" {
		return 0, 0, false
	}
	stride, err := strconv.Atoi(s)
	if err == nil {
		peak, err = strconv.ParseFloat(p, 64)
	}
	if err != nil || stride < 1 {
		t.Fatalf("reference grid of %s: grid_stride %q, peak %q: %v", name, s, p, err)
	}
	return stride, peak, true
}

// gridIndex is the grid's rows (and columns) in a res-pixel image: 0,
// stride, 2·stride, ... and the last one.
func gridIndex(res, stride int) []int {
	var idx []int
	for i := 0; i < res; i += stride {
		idx = append(idx, i)
	}
	if idx[len(idx)-1] != res-1 {
		idx = append(idx, res-1)
	}
	return idx
}

// onGrid keeps the grid's rows and columns of each res×res plane of x.
func onGrid[T any](x []T, res, stride int) []T {
	idx := gridIndex(res, stride)
	var out []T
	for p := 0; p < len(x)/(res*res); p++ {
		for _, y := range idx {
			row := x[(p*res+y)*res:]
			for _, col := range idx {
				out = append(out, row[col])
			}
		}
	}
	return out
}

func TestNVlabsParity(t *testing.T) {
	for _, res := range []int{32, 256} {
		t.Run(strconv.Itoa(res), func(t *testing.T) {
			m, err := Load(testfix.Path(t, fmt.Sprintf("nvlabs/tf_stylegan1_%d.safetensors", res)))
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != "nvlabs" || m.Cfg.Resolution() != res {
				t.Errorf("format %q res %d, want nvlabs %d", m.Format, m.Cfg.Resolution(), res)
			}
			nvlabsParity(t, m, readRef(t, testfix.Path(t, fmt.Sprintf("nvlabs/tf_stylegan1_%d_ref.safetensors", res))))
		})
	}
}

// TestNativeRoundTrip saves each fixture model natively and checks that the
// reloaded model gives bit-identical images.
func TestNativeRoundTrip(t *testing.T) {
	paths := []string{
		testfix.Path(t, "rosinality/tiny_fusedlow_s3.safetensors"),
		testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors"),
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			m, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "m.safetensors")
			if err := Save(out, m); err != nil {
				t.Fatal(err)
			}
			n, err := Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if n.Format != "native" || !strings.Contains(n.Provenance, filepath.Base(p)) {
				t.Errorf("reloaded format %q provenance %q", n.Format, n.Provenance)
			}
			g1, _ := m.Generator()
			g2, err := n.Generator()
			if err != nil {
				t.Fatal(err)
			}
			st := g1.NewState()
			st.B.Seed = 7
			st = st.WithStyles(2, 3, 1)
			a, _, err := g1.Render(st, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := g2.Render(st, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(a.Pix) != string(b.Pix) {
				t.Error("native round trip changed the image")
			}
		})
	}
}

// TestNativeFadeRoundTrip: a model mid fade-in keeps its fade through
// Save/Load (the config's "fade_alpha", written only when fading), renders
// the same blend, and a bad fade_alpha is an error that names it.
func TestNativeFadeRoundTrip(t *testing.T) {
	m, err := Load(testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plainPath, fadePath := filepath.Join(dir, "plain.safetensors"), filepath.Join(dir, "fade.safetensors")
	if err := Save(plainPath, m); err != nil {
		t.Fatal(err)
	}
	cfg := *m.Cfg
	cfg.FadeAlpha = 0.42
	fading := *m
	fading.Cfg = &cfg
	if err := Save(fadePath, &fading); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{plainPath: false, fadePath: true} {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(f.Metadata["config"], `"fade_alpha":0.42`); got != want {
			t.Errorf("%s: metadata config %s", filepath.Base(path), f.Metadata["config"])
		}
		if !want && strings.Contains(f.Metadata["config"], "fade") {
			t.Errorf("a model without a fade writes one: %s", f.Metadata["config"])
		}
	}
	n, err := Load(fadePath)
	if err != nil {
		t.Fatal(err)
	}
	if n.Cfg.FadeAlpha != 0.42 {
		t.Fatalf("reloaded fade_alpha %g, want 0.42", n.Cfg.FadeAlpha)
	}
	// the reloaded model renders the blend of the original at 0.42
	g1, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	defer g1.Close()
	g2, err := n.Generator()
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	in, err := g1.Inputs(g1.NewState())
	if err != nil {
		t.Fatal(err)
	}
	want, _, err1 := g1.Synthesis(in, model.Options{Step: -1, Alpha: 0.42, Full: true})
	got, _, err2 := g2.Synthesis(in, model.Options{Step: -1, Alpha: -1, Full: true})
	plain, _, err3 := g1.Synthesis(in, model.Options{Step: -1, Alpha: -1, Full: true})
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if maxErr(got, want) != 0 || maxErr(got, plain) == 0 {
		t.Errorf("reloaded fading model: %g from the blend at 0.42, %g from the unblended output", maxErr(got, want), maxErr(got, plain))
	}
	// a cut below the last block drops the fade; the full cut keeps it
	if lo, err := n.AtResolution(16); err != nil || lo.Cfg.FadeAlpha != 0 {
		t.Errorf("16 px cut of a fading 32 px model: fade %v, %v", lo, err)
	}
	if same, err := n.AtResolution(32); err != nil || same.Cfg.FadeAlpha != 0.42 {
		t.Errorf("32 px cut of a fading 32 px model: %v", err)
	}

	// bad values in the file
	f, err := safetensors.ReadFile(fadePath)
	if err != nil {
		t.Fatal(err)
	}
	good := f.Metadata["config"]
	for _, bad := range []string{"1.5", "1", "-0.2", `"0.4"`, "true"} {
		f.Metadata["config"] = strings.Replace(good, `"fade_alpha":0.42`, `"fade_alpha":`+bad, 1)
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b, "bad.safetensors"); err == nil || !strings.Contains(err.Error(), "fade_alpha") {
			t.Errorf("fade_alpha %s: %v", bad, err)
		} else {
			t.Logf("fade_alpha %s: %v", bad, err)
		}
	}
}

// TestImportedParity loads the real-format fixtures (rosinality .pt in
// legacy, zip and bare-state-dict form; NVlabs pickles of protocols 2-5)
// through the importers and checks every reference output.
func TestImportedParity(t *testing.T) {
	for _, tag := range rosinalityTags {
		ref := readRef(t, testfix.Path(t, "rosinality/"+tag+"_ref.safetensors"))
		for _, kind := range []string{"legacy", "zip", "grunning_only_legacy"} {
			t.Run(tag+"_"+kind, func(t *testing.T) {
				m, err := Load(testfix.Path(t, "rosinality/"+tag+"_"+kind+".pt"))
				if err != nil {
					t.Fatal(err)
				}
				// The fixtures' .pt files hold only the trained blocks.
				rosinalityParity(t, m, ref)
			})
		}
	}
	for _, name := range []string{"32_p2", "32_p4", "32_p5", "256_p4"} {
		t.Run("nvlabs_"+name, func(t *testing.T) {
			m, err := Load(testfix.Path(t, "nvlabs/tf_stylegan1_"+name+".pkl"))
			if err != nil {
				t.Fatal(err)
			}
			res := strings.Split(name, "_")[0]
			nvlabsParity(t, m, readRef(t, testfix.Path(t, "nvlabs/tf_stylegan1_"+res+"_ref.safetensors")))
		})
	}
}

// TestImportRoundTrip: import to the native format, reload, identical output.
func TestImportRoundTrip(t *testing.T) {
	for _, p := range []string{
		testfix.Path(t, "rosinality/tiny_s3_zip.pt"),
		testfix.Path(t, "nvlabs/tf_stylegan1_32_p4.pkl"),
	} {
		m, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "x.safetensors")
		if err := Save(out, m); err != nil {
			t.Fatal(err)
		}
		n, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		g1, _ := m.Generator()
		g2, _ := n.Generator()
		st := g1.NewState()
		a, _, err1 := g1.Render(st, nil)
		b, _, err2 := g2.Render(st, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(a.Pix) != string(b.Pix) {
			t.Errorf("%s: import changed the image", p)
		}
	}
}
