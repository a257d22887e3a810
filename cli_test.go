package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
)

// runCLI runs a command line in-process and returns its exit code and output.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRenderPNG(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.png")
	code, stdout, stderr := runCLI("render", "--checkpoint", testfix.Path(t, "rosinality/tiny_s5.safetensors"), "--seed", "1", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	img := readPNG(t, out)
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Errorf("image is %v, want 128x128", b)
	}
	// The printed state string reproduces the picture.
	i := strings.Index(stdout, "state ")
	if i < 0 {
		t.Fatalf("no state in %q", stdout)
	}
	state := strings.TrimSpace(stdout[i+len("state "):])
	out2 := filepath.Join(t.TempDir(), "y.png")
	if code, _, stderr := runCLI("render", "--checkpoint", testfix.Path(t, "rosinality/tiny_s5.safetensors"), "--state", state, "-o", out2); code != 0 {
		t.Fatalf("render --state: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("--state of the printed string gave a different PNG")
	}
}

// TestRenderLatents renders explicit latents to a raw tensor, with mixing.
func TestRenderLatents(t *testing.T) {
	dir := t.TempDir()
	ckpt := testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors")
	lat := filepath.Join(dir, "in.safetensors")
	z := make([]float32, 2*16)
	for i := range z {
		z[i] = float32(i%7) - 3
	}
	if err := safetensors.WriteFile(lat, &safetensors.File{Tensors: map[string]*safetensors.Tensor{
		"z": {Shape: []int{2, 16}, Data: z}, "z2": {Shape: []int{2, 16}, Data: append(z[16:], z[:16]...)},
	}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.safetensors")
	if code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--latents", lat, "--mix-layers", "4-", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.Get("image", 2, 3, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	// Image 0 mixes z[0] (coarse) with z2[0] = z[1] (middle); image 1 the
	// reverse: they must differ from each other.
	if slices.Equal(img.Data[:3072], img.Data[3072:]) {
		t.Error("the two mixed images are identical")
	}
}

// renderTensor runs render with args to a raw tensor file and returns its
// image [1,3,res,res].
func renderTensor(t *testing.T, res int, args ...string) []float32 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.safetensors")
	if code, _, stderr := runCLI(append(append([]string{"render"}, args...), "-o", out)...); code != 0 {
		t.Fatalf("render %v: exit %d: %s", args, code, stderr)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.Get("image", 1, 3, res, res)
	if err != nil {
		t.Fatal(err)
	}
	return img.Data
}

// The noise maps a --latents file does not carry come from --noise and
// --noise-seed exactly as for --seed: the same z through both gives the
// same tensor in every mode, on a model that stores no noise maps (this
// once failed with "missing noise0"); a map the file carries wins.
func TestRenderLatentsNoise(t *testing.T) {
	ckpt := testfix.Path(t, "rosinality/tiny_s3.safetensors")
	m, err := checkpoints.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if m.W.NoiseConst != nil {
		t.Fatal("the fixture stores noise maps: pick one that does not")
	}
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c, dir := g.Cfg, t.TempDir()
	z := latent.Source{Seed: 1}.ZVec(c.ZDim)
	zOnly, withNoise0 := filepath.Join(dir, "z.safetensors"), filepath.Join(dir, "z_noise0.safetensors")
	for path, tensors := range map[string]map[string]*safetensors.Tensor{
		zOnly:      {"z": {Shape: []int{1, c.ZDim}, Data: z}},
		withNoise0: {"z": {Shape: []int{1, c.ZDim}, Data: z}, "noise0": {Shape: []int{1, 1, 4, 4}, Data: make([]float32, 16)}},
	} {
		if err := safetensors.WriteFile(path, &safetensors.File{Tensors: tensors}); err != nil {
			t.Fatal(err)
		}
	}
	res := c.Resolution()
	var prev []float32
	for _, mode := range []string{"random", "const", "off"} {
		// --psi 1: --latents does not truncate unless asked
		viaSeed := renderTensor(t, res, "--checkpoint", ckpt, "--seed", "1", "--psi", "1", "--noise", mode, "--noise-seed", "5")
		viaLatents := renderTensor(t, res, "--checkpoint", ckpt, "--latents", zOnly, "--noise", mode, "--noise-seed", "5")
		if !slices.Equal(viaSeed, viaLatents) {
			t.Errorf("--noise %s: --latents z renders differently from --seed 1", mode)
		}
		if slices.Equal(viaSeed, prev) {
			t.Errorf("--noise %s renders as the mode before it", mode)
		}
		prev = viaSeed
	}
	if !slices.Equal(renderTensor(t, res, "--checkpoint", ckpt, "--latents", zOnly), renderTensor(t, res, "--checkpoint", ckpt, "--seed", "1", "--psi", "1")) {
		t.Error("without --noise, --latents and --seed differ")
	}
	// noise0 of zeros from the file, the other slots random from seed 5+j
	st := g.NewState()
	st.A, st.Psi = latent.Source{Seed: 1}, 1
	for j := range st.Noise {
		st.Noise[j] = latent.Noise{Mode: latent.NoiseRandom, Seed: 5 + int64(j)}
	}
	st.Noise[0] = latent.Noise{Mode: latent.NoiseOff}
	if !slices.Equal(renderTensor(t, res, "--checkpoint", ckpt, "--latents", withNoise0, "--noise-seed", "5"), renderTensor(t, res, "--checkpoint", ckpt, "--state", st.Encode())) {
		t.Error("a noise map in the file is not the one used for its slot")
	}
}

// render --help shows a default only where there is one (no sentinels like
// -99), and the flags without one still work and refuse bad values.
func TestRenderHelp(t *testing.T) {
	code, stdout, stderr := runCLI("render", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	help := stdout + stderr
	for _, want := range []string{"-seed N", "-psi P", "-cutoff N", "-mix-seed M", `(default "random")`, ".jpg"} {
		if !strings.Contains(help, want) {
			t.Errorf("no %q in the help:\n%s", want, help)
		}
	}
	if strings.Contains(help, "(default -") {
		t.Errorf("a sentinel default in the help:\n%s", help)
	}
	ckpt := testfix.Path(t, "rosinality/tiny_s3.safetensors")
	m, err := checkpoints.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	state := func(args ...string) latent.State {
		t.Helper()
		code, stdout, stderr := runCLI(append([]string{"render", "--checkpoint", ckpt, "-o", filepath.Join(t.TempDir(), "x.png")}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		st, err := latent.Decode(strings.TrimSpace(stdout[strings.Index(stdout, "state ")+len("state "):]))
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return st
	}
	if st := state("--seed", "0"); st.A.Seed != 0 || st.Psi != m.Cfg.TruncPsi || st.Cutoff != m.Cfg.TruncCutoff {
		t.Errorf("--seed 0 alone: %s, want A seed 0 with the model's psi %g and cutoff %d", st.Encode(), m.Cfg.TruncPsi, m.Cfg.TruncCutoff)
	}
	st := state("--seed", "3", "--psi", "-0.5", "--cutoff", "0", "--mix-seed", "4", "--mix-layers", "0-1")
	if st.A.Seed != 3 || st.Psi != -0.5 || st.Cutoff != 0 || st.B.Seed != 4 || st.Styles[0] != latent.FromB || st.Styles[2] == latent.FromB {
		t.Errorf("explicit flags: state %s", st.Encode())
	}
	for _, c := range []struct{ flag, value string }{{"seed", "-1"}, {"psi", "x"}, {"psi", "NaN"}, {"cutoff", "-1"}, {"mix-seed", "1.5"}} {
		code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--seed", "1", "--"+c.flag, c.value, "-o", filepath.Join(t.TempDir(), "x.png"))
		if code != 2 || !strings.Contains(stderr, "-"+c.flag) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--%s %s: exit %d, stderr %q", c.flag, c.value, code, stderr)
		}
	}
}

// -o picks the encoder by its extension: .jpg and .jpeg are JPEG of the
// PNG's pixels (one per batch item with --latents); any other extension is
// refused before any work, and nothing is written.
func TestRenderJPEG(t *testing.T) {
	ckpt := testfix.Path(t, "rosinality/tiny_s5.safetensors")
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "a.png")
	if code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--seed", "1", "-o", pngPath); code != 0 {
		t.Fatalf("png: exit %d: %s", code, stderr)
	}
	// The random weights make per-pixel colour noise that JPEG's chroma
	// subsampling cannot keep (18 dB PSNR at quality 95): compare the
	// file with the PNG's pixels encoded at the writer's quality instead.
	var want bytes.Buffer
	if err := jpeg.Encode(&want, readPNG(t, pngPath), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	lat := filepath.Join(dir, "z.safetensors")
	if err := safetensors.WriteFile(lat, &safetensors.File{Tensors: map[string]*safetensors.Tensor{
		"z": {Shape: []int{2, 16}, Data: make([]float32, 32)},
	}}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--latents", lat, "-o", filepath.Join(dir, "batch.jpg")); code != 0 {
		t.Fatalf("--latents to .jpg: exit %d: %s", code, stderr)
	}
	check := func(path string, ref []byte) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s holds a PNG", path)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if img.Bounds() != image.Rect(0, 0, 128, 128) {
			t.Fatalf("%s: %v, want 128x128", path, img.Bounds())
		}
		if ref != nil && !bytes.Equal(b, ref) {
			t.Errorf("%s is not the PNG's image at quality 95", path)
		}
	}
	for _, name := range []string{"b.jpg", "c.JPEG"} {
		path := filepath.Join(dir, name)
		if code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--seed", "1", "-o", path); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		check(path, want.Bytes())
	}
	check(filepath.Join(dir, "batch_0.jpg"), nil)
	check(filepath.Join(dir, "batch_1.jpg"), nil)
	for _, name := range []string{"d.gif", "d", "d.png.txt"} {
		path := filepath.Join(dir, name)
		code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--seed", "1", "-o", path)
		if code != 2 || !strings.Contains(stderr, "-o "+path) || !strings.Contains(stderr, ".jpg") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("-o %s: exit %d, stderr %q", name, code, stderr)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("-o %s: a file was written", name)
		}
	}
}

func TestImportBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for _, in := range []string{"rosinality/tiny_s3_legacy.pt", "nvlabs/tf_stylegan1_32_p2.pkl"} {
		native := filepath.Join(dir, filepath.Base(in)+".safetensors")
		if code, _, stderr := runCLI("import", testfix.Path(t, in), native); code != 0 {
			t.Fatalf("import %s: exit %d: %s", in, code, stderr)
		}
		a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
		for _, c := range [][2]string{{testfix.Path(t, in), a}, {native, b}} {
			if code, _, stderr := runCLI("render", "--checkpoint", c[0], "--seed", "5", "--mix-seed", "6", "--mix-layers", "1-2", "-o", c[1]); code != 0 {
				t.Fatalf("render %s: exit %d: %s", c[0], code, stderr)
			}
		}
		ba, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if !bytes.Equal(ba, bb) {
			t.Errorf("%s: the imported native file renders differently", in)
		}
	}
}

func TestInfoFormats(t *testing.T) {
	for in, want := range map[string]string{
		"rosinality/tiny_s5_zip.pt":               "rosinality",
		"nvlabs/tf_stylegan1_256_p4.pkl":          "nvlabs",
		"nvlabs/tf_stylegan1_32.safetensors":      "nvlabs",
		"rosinality/tiny_fusedlow_s3.safetensors": "rosinality",
	} {
		code, out, stderr := runCLI("info", testfix.Path(t, in))
		if code != 0 {
			t.Fatalf("info %s: exit %d: %s", in, code, stderr)
		}
		if !strings.Contains(out, "format:      "+want) || !strings.Contains(out, "convention:") || !strings.Contains(out, "slot  0") {
			t.Errorf("info %s:\n%s", in, out)
		}
		// the noise strengths as stored in the file
		m, err := checkpoints.Load(testfix.Path(t, in))
		if err != nil {
			t.Fatal(err)
		}
		last := len(m.W.Layers) - 1
		var sum, peak float64
		for _, v := range m.W.Layers[last].Noise {
			sum += math.Abs(float64(v))
			peak = math.Max(peak, math.Abs(float64(v)))
		}
		res := m.Cfg.LayerRes(last)
		line := fmt.Sprintf("layer %2d  %4dx%-4d  %.3f  %.3f", last, res, res, sum/float64(len(m.W.Layers[last].Noise)), peak)
		if !strings.Contains(out, line) {
			t.Errorf("info %s: no line %q in\n%s", in, line, out)
		}
	}
}

// TestBadInput: bad paths, flags and files give one line on stderr and exit 2.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	zip, _ := os.ReadFile(testfix.Path(t, "rosinality/tiny_s3_zip.pt"))
	pkl, _ := os.ReadFile(testfix.Path(t, "nvlabs/tf_stylegan1_32_p4.pkl"))
	cases := [][]string{
		{"render", "--checkpoint", filepath.Join(dir, "missing.pt"), "--seed", "1", "-o", filepath.Join(dir, "x.png")},
		{"render", "--bogus"},
		{"render", "--checkpoint", testfix.Path(t, "rosinality/tiny_s3.safetensors"), "-o", filepath.Join(dir, "x.png")},
		{"render", "--checkpoint", testfix.Path(t, "rosinality/tiny_s3.safetensors"), "--seed", "1", "--mix-seed", "2", "--mix-layers", "7-9", "-o", filepath.Join(dir, "x.png")},
		{"render", "--checkpoint", testfix.Path(t, "rosinality/tiny_s3.safetensors"), "--state", "sg1:garbage", "-o", filepath.Join(dir, "x.png")},
		{"info", write("empty.pkl", nil)},
		{"info", write("trunc.pt", zip[:len(zip)/2])},
		{"info", write("trunc.pkl", pkl[:len(pkl)/3])},
		{"info", write("evil.pkl", []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03."))},
		{"info", write("junk.safetensors", []byte("not a checkpoint"))},
		{"nosuchcommand"},
		{"import", testfix.Path(t, "rosinality/tiny_s3.safetensors")},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c, code, stderr)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines != 0 || stderr == "" {
			t.Errorf("%v: want one line on stderr, got %q", c, stderr)
		}
		if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("%v: stack trace: %q", c, stderr)
		}
	}
}

// TestBadInputNamed: each bad command line fails before any work with an
// error naming the file or flag and what was expected.
func TestBadInputNamed(t *testing.T) {
	dir := t.TempDir()
	ckpt := testfix.Path(t, "rosinality/tiny_s3.safetensors") // 4 style slots
	out := filepath.Join(dir, "x.png")
	missing := filepath.Join(dir, "no", "such")
	sub := filepath.Join(dir, "sub.safetensors")
	os.Mkdir(sub, 0o755)
	lat := func(name string, tensors map[string]*safetensors.Tensor) string {
		p := filepath.Join(dir, name)
		if err := safetensors.WriteFile(p, &safetensors.File{Tensors: tensors}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	z1 := lat("z1.safetensors", map[string]*safetensors.Tensor{"z": {Shape: []int{1, 16}, Data: make([]float32, 16)}})
	z0 := lat("z0.safetensors", map[string]*safetensors.Tensor{"z": {Shape: []int{0, 16}, Data: nil}})
	// The input's own name as the output: import would replace the original.
	in := filepath.Join(dir, "in.safetensors")
	b, _ := os.ReadFile(ckpt)
	os.WriteFile(in, b, 0o644)
	render := func(args ...string) []string { return append([]string{"--checkpoint", ckpt}, args...) }
	checkBadInput(t, runRender, []badInput{
		{render("--seed", "1", "--state", "sg1:a=1", "--latents", z1, "-o", out), []string{"--state", "--latents"}},
		{render("--seed", "1", "--mix-seed", "2", "-o", out), []string{"--mix-seed", "--mix-layers"}},
		{render("--seed", "1", "--psi", "1e300", "-o", out), []string{"--psi 1e+300", "-1e+06..1e+06"}},
		{render("--latents", z1, "--psi", "1e300", "-o", out), []string{"--psi 1e+300"}},
		{render("--latents", z1, "--cutoff", "99", "-o", out), []string{"--cutoff 99", "0..4"}},
		{render("--seed", "1", "--cutoff", "99", "-o", out), []string{"--cutoff 99", "0..4"}},
		{render("--state", "garbage", "-o", out), []string{"--state: ", `"garbage"`}},
		{render("--state", "sg1:a=1:s=18A", "-o", out), []string{"--state does not fit this model", "18 style slots"}},
		// Refused before the checkpoint (here a missing file) is read.
		{[]string{"--checkpoint", missing, "-o", out}, []string{"one of --seed, --state or --latents"}},
		{[]string{"--checkpoint", missing, "--seed", "1", "--mix-layers", "0-1", "-o", out}, []string{"--mix-layers needs --mix-seed"}},
		{[]string{"--checkpoint", missing, "--seed", "1", "-o", filepath.Join(missing, "x.png")}, []string{"-o", "no directory"}},
		{render("--latents", z0, "-o", out), []string{"--latents", z0, "z has shape [0 16]"}},
		{render("--latents", ckpt, "-o", out), []string{"--latents", ckpt, "unexpected tensor"}},
		{[]string{"--checkpoint", sub, "--seed", "1", "-o", out}, []string{sub, "is a directory"}},
	})
	checkBadInput(t, runImport, []badInput{
		{[]string{ckpt, filepath.Join(dir, "o.safetensors"), "--resolution", "-8"}, []string{"--resolution -8"}},
		{[]string{in, in}, []string{in, "is the input file"}},
		{[]string{ckpt, filepath.Join(missing, "o.safetensors")}, []string{filepath.Join(missing, "o.safetensors"), "no directory"}},
		{[]string{ckpt, sub}, []string{sub, "is a directory"}},
	})
	if got, _ := os.ReadFile(in); !bytes.Equal(got, b) {
		t.Error("import over its input changed the input")
	}
	checkBadInput(t, runBench, []badInput{
		{[]string{"--runs", "0"}, []string{"--runs 0", "1..1000"}},
		{[]string{"--runs", "100000000"}, []string{"--runs 100000000", "1..1000"}},
	})
	checkBadInput(t, runDataset, []badInput{
		{[]string{"--n", "2", "-o", filepath.Join(dir, "d.bmp")}, []string{"-o", "d.bmp", ".png"}},
	})
	// The raw tensor's extension in any case, as the image ones.
	upper := filepath.Join(dir, "X.SAFETENSORS")
	if code, _, stderr := runCLI("render", "--checkpoint", ckpt, "--seed", "1", "-o", upper); code != 0 {
		t.Errorf("-o %s: exit %d: %s", upper, code, stderr)
	} else if _, err := safetensors.ReadFile(upper); err != nil {
		t.Errorf("-o %s: %v", upper, err)
	}
}

// TestBench runs the benchmark (medians of 3) on the NVlabs 256 px size and checks that
// it reports every measurement, with incremental edits cheaper than a full
// pass (the activation cache works end to end), and refuses unknown configs.
func TestBench(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "--config", "nvlabs-256", "--runs", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"forward 256px: median", "incremental fine-layer edit (slots 8-13)", "last-slot style edit", "last-slot noise edit"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		i := strings.Index(line, "x of full")
		if i < 0 {
			continue
		}
		var r float64
		if _, err := fmt.Sscanf(line[strings.LastIndex(line[:i], "(")+1:i], "%g", &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r <= 0 || r >= 1 {
			t.Errorf("%q: an incremental edit should cost a fraction of a full pass", line)
		}
	}
	if code, _, stderr := runCLI("bench", "--config", "nvlabs-9000"); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bad --config: exit %d, stderr %q", code, stderr)
	}
}

// badInput is a command line that must fail with an error naming each of want.
type badInput struct {
	args []string
	want []string
}

// checkBadInput runs each case through run and checks that it returns an
// error (not a panic) naming every want, with nothing on stdout.
func checkBadInput(t *testing.T, run func(args []string, stdout, stderr io.Writer) error, cases []badInput) {
	t.Helper()
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			return run(c.args, &out, &errb)
		}()
		if err == nil {
			t.Errorf("%v: no error", c.args)
			continue
		}
		t.Logf("%v: %v", c.args, err)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %q", c.args, err, w)
			}
		}
		if strings.HasPrefix(err.Error(), "panic") || out.Len() > 0 {
			t.Errorf("%v: error %q, stdout %q", c.args, err, out.String())
		}
	}
}

// readPNG decodes the PNG file at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
