package main

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/model/lpips"
)

func lpipsCmd(args []string, out, errb *bytes.Buffer) error { return runLPIPS(args, out, errb) }

// tinyLPIPS are the flags of the fixtures' small VGG16-shaped trunk (widths 8/16/24/32/32,
// random weights) and its linear layers.
func tinyLPIPS(t *testing.T) []string {
	return []string{"--vgg16", testfix.Path(t, "lpips/vgg16_tiny_legacy.pth"), "--lin", testfix.Path(t, "lpips/lin_tiny_legacy.pth")}
}

func lpipsRef(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.ReadFile(testfix.Path(t, "lpips/lpips_tiny_ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// writePairs writes x0 and x1 to a --pairs file.
func writePairs(t *testing.T, path string, x0, x1 *safetensors.Tensor) {
	t.Helper()
	f := &safetensors.File{Tensors: map[string]*safetensors.Tensor{"x0": x0, "x1": x1}}
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
}

// TestLPIPSPairs runs the command on the fixture's 64 px pairs and checks the written distances
// and per-tap terms against lpips.py's (the fixtures' tolerance, 1e-5 + 1e-4·|ref|).
func TestLPIPSPairs(t *testing.T) {
	ref := lpipsRef(t)
	dir := t.TempDir()
	pairs, out := filepath.Join(dir, "p.safetensors"), filepath.Join(dir, "d.safetensors")
	writePairs(t, pairs, ref.Tensors["x0_64"], ref.Tensors["x1_64"])
	text := runCmd(t, lpipsCmd, append(tinyLPIPS(t), "--pairs", pairs, "-o", out, "--batch", "4")...)
	match(t, text, `(?m)^lpips: 6 pairs of 64×64 px, mean [0-9.]+, [0-9.]+ pairs/s$`)
	match(t, text, `(?m)^wrote .*d.safetensors \(d \[6\], layers \[6 5\]\)$`)
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Get("d", 6)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := f.Get("layers", 6, 5)
	if err != nil {
		t.Fatal(err)
	}
	wd, wl := ref.Tensors["d_64"].Data, ref.Tensors["dlayers_64"].Data
	for i := range 6 {
		if e := math.Abs(float64(d.Data[i] - wd[i])); e > 1e-5+1e-4*math.Abs(float64(wd[i])) {
			t.Errorf("pair %d: d %g, lpips.py %g", i, d.Data[i], wd[i])
		}
		for l := range 5 {
			if e := math.Abs(float64(layers.Data[i*5+l] - wl[i*5+l])); e > 1e-5+1e-4*math.Abs(float64(wl[i*5+l])) {
				t.Errorf("pair %d tap %d: %g, lpips.py %g", i, l, layers.Data[i*5+l], wl[i*5+l])
			}
		}
	}
	if m := f.Metadata; m["widths"] != "8 16 24 32 32" || !strings.Contains(m["vgg16"], "vgg16_tiny_legacy.pth") || !strings.Contains(m["lin"], "lin_tiny_legacy.pth") {
		t.Errorf("metadata %v", m)
	}
}

// quantize8 rounds [3,h,w] values in [-1, 1] to the 8-bit levels a PNG holds and returns the
// PNG and the rounded values.
func quantize8(x []float32, h, w int) (*image.RGBA, []float32) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	q := make([]float32, len(x))
	for c := range 3 {
		for i := range h {
			for j := range w {
				k := (c*h+i)*w + j
				v := uint8(max(0, min(255, math.Round((float64(x[k])+1)*127.5))))
				q[k] = float32(float64(v)/255*2 - 1)
				img.Pix[i*img.Stride+4*j+c] = v
				img.Pix[i*img.Stride+4*j+3] = 255
			}
		}
	}
	return img, q
}

func writePNGFile(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLPIPSPNG compares two PNGs and checks the distance against the --pairs path on the same
// 8-bit values, and that an image is at distance 0 from itself.
func TestLPIPSPNG(t *testing.T) {
	ref := lpipsRef(t)
	dir := t.TempDir()
	n := 3 * 32 * 32
	a, qa := quantize8(ref.Tensors["x0_32"].Data[:n], 32, 32)
	b, qb := quantize8(ref.Tensors["x0_32"].Data[n:2*n], 32, 32) // pair 1's x0: another image
	pa, pb := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writePNGFile(t, pa, a)
	writePNGFile(t, pb, b)
	text := runCmd(t, lpipsCmd, append(tinyLPIPS(t), pa, pb)...)
	m := match(t, text, `(?m)^lpips \S+a.png \S+b.png: (\S+)$`)
	got, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range lpips.TapNames {
		match(t, text, `(?m)^  `+name+` +\S+$`)
	}
	pairs := filepath.Join(dir, "p.safetensors")
	writePairs(t, pairs, &safetensors.Tensor{Shape: []int{1, 3, 32, 32}, Data: qa}, &safetensors.Tensor{Shape: []int{1, 3, 32, 32}, Data: qb})
	pm := match(t, runCmd(t, lpipsCmd, append(tinyLPIPS(t), "--pairs", pairs)...), `(?m)^0 (\S+)$`)
	want, _ := strconv.ParseFloat(pm[1], 64)
	if got <= 0 || math.Abs(got-want) > 1e-5*want {
		t.Errorf("PNGs: %g, the same values as --pairs: %g", got, want)
	}
	self := match(t, runCmd(t, lpipsCmd, append(tinyLPIPS(t), pa, pa)...), `(?m)^lpips \S+ \S+: (\S+)$`)
	if self[1] != "0" {
		t.Errorf("d(a, a) = %s, want 0", self[1])
	}
}

// writeTorchZip writes tensors as torch.save(state_dict) does since torch 1.6: a zip with
// archive/data.pkl and one stored record per tensor.
func writeTorchZip(t *testing.T, path string, ts map[string]*safetensors.Tensor) {
	t.Helper()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range ts {
			if !yield(k) {
				return
			}
		}
	})
	var pkl bytes.Buffer
	w := pickletest.New(&pkl)
	w.Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark()
	for i, name := range names {
		x := ts[name]
		stride := make([]int, len(x.Shape))
		s := 1
		for d := len(x.Shape) - 1; d >= 0; d-- {
			stride[d] = s
			s *= x.Shape[d]
		}
		w.Str(name).Global("torch._utils", "_rebuild_tensor_v2").Mark()
		w.Mark().Str("storage").Global("torch", "FloatStorage").Str(strconv.Itoa(i)).Str("cpu").Int(len(x.Data)).Tuple().BinPersID()
		w.Int(0).IntTuple(x.Shape...).IntTuple(stride...).Bool(false)
		w.Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce()
	}
	w.SetItems().Stop()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	add("data.pkl", pkl.Bytes())
	for i, name := range names {
		var b bytes.Buffer
		for _, v := range ts[name].Data {
			b.Write([]byte{byte(math.Float32bits(v)), byte(math.Float32bits(v) >> 8), byte(math.Float32bits(v) >> 16), byte(math.Float32bits(v) >> 24)})
		}
		add("data/"+strconv.Itoa(i), b.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLPIPSBadInput: broken trunks, linear layers, images and flags give one line naming the
// tensor, file or flag, and exit code 2.
func TestLPIPSBadInput(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyLPIPS(t)
	trunk, err := lpips.LoadVGG16(tiny[1])
	if err != nil {
		t.Fatal(err)
	}
	// The fixture trunk rewritten by the test's own writer loads like the original...
	good := filepath.Join(dir, "good.pth")
	writeTorchZip(t, good, trunk)
	// ...and without relu5_3's convolution, or with relu4_3's of the wrong width, it does not.
	noTap := maps(trunk, "features.28.weight", nil)
	misshapen := maps(trunk, "features.21.weight", &safetensors.Tensor{Shape: []int{32, 16, 3, 3}, Data: make([]float32, 32*16*9)})
	pNoTap, pMis := filepath.Join(dir, "notap.pth"), filepath.Join(dir, "misshapen.pth")
	writeTorchZip(t, pNoTap, noTap)
	writeTorchZip(t, pMis, misshapen)

	five := filepath.Join(dir, "five.bin")
	os.WriteFile(five, []byte("12345"), 0o644)
	gray := image.NewGray(image.Rect(0, 0, 32, 32))
	a32, a16, a8 := filepath.Join(dir, "a32.png"), filepath.Join(dir, "a16.png"), filepath.Join(dir, "a8.png")
	writePNGFile(t, a32, gray)
	writePNGFile(t, a16, image.NewRGBA(image.Rect(0, 0, 32, 16)))
	writePNGFile(t, a8, image.NewNRGBA(image.Rect(0, 0, 8, 8)))
	ref := lpipsRef(t)
	mixed, onlyX0 := filepath.Join(dir, "mixed.safetensors"), filepath.Join(dir, "x0.safetensors")
	writePairs(t, mixed, ref.Tensors["x0_32"], ref.Tensors["x1_16"])
	if err := safetensors.WriteFile(onlyX0, &safetensors.File{Tensors: map[string]*safetensors.Tensor{"x0": ref.Tensors["x0_32"]}}); err != nil {
		t.Fatal(err)
	}
	pairs := filepath.Join(dir, "p.safetensors")
	writePairs(t, pairs, ref.Tensors["x0_16"], ref.Tensors["x1_16"])
	t.Setenv("TORCH_HOME", dir) // no VGG16 where torchvision would keep it
	t.Setenv("XDG_CACHE_HOME", dir)

	code, _, stderr := runCLI(append([]string{"lpips", "--vgg16", good, "--lin", tiny[3]}, a32, a32)...)
	if code != 0 {
		t.Fatalf("the rewritten trunk: exit %d: %s", code, stderr)
	}
	huge := filepath.Join(dir, "huge.png")
	writeHugePNG(t, huge, 8000, 8000)
	cases := []badInput{
		{[]string{"--vgg16", five, "--lin", tiny[3], a32, a32}, []string{five, "not a torch checkpoint"}},
		{[]string{"--vgg16", tiny[1], "--lin", five, a32, a32}, []string{five, "linear layers"}},
		{[]string{"--vgg16", tiny[3], "--lin", tiny[3], a32, a32}, []string{"features.0.weight"}},
		{[]string{"--vgg16", pNoTap, "--lin", tiny[3], a32, a32}, []string{"features.28.weight", "relu5_3", pNoTap}},
		{[]string{"--vgg16", pMis, "--lin", tiny[3], a32, a32}, []string{"features.21.weight", "[32 16 3 3]", "relu4_3"}},
		{[]string{"--vgg16", tiny[1], a32, a32}, []string{"lin0.model.1.weight", "[1 64 1 1]", "want [1 8 1 1]", "embedded"}},
		{[]string{a32, a32}, []string{"--vgg16", filepath.Join(dir, "hub", "checkpoints", "vgg16-397923af.pth")}},
		{append(tiny, a32, a16), []string{a32, a16, "32×32", "32×16"}},
		{append(tiny, a8, a8), []string{"8×8", "at least 16"}},
		{append(tiny, a32, five), []string{five, "not a PNG"}},
		{append(tiny, a32, filepath.Join(dir, "missing.png")), []string{"missing.png"}},
		{append(tiny, "--pairs", five), []string{"--pairs", five}},
		{append(tiny, "--pairs", mixed), []string{mixed, "x0 is [4 3 32 32] but x1 is [2 3 16 16]"}},
		{append(tiny, "--pairs", onlyX0), []string{onlyX0, "no tensor x1"}},
		{append(tiny, "--pairs", pairs, "-o", filepath.Join(dir, "no", "d.safetensors")), []string{"-o", filepath.Join(dir, "no")}},
		{append(tiny, a32), []string{"two PNG files or --pairs", "not 1 file argument"}},
		{append(tiny, "--pairs", pairs, a32), []string{a32}},
		{append(tiny, "-o", filepath.Join(dir, "d.safetensors"), a32, a32), []string{"-o goes with --pairs"}},
		{append(tiny, "--batch", "0", a32, a32), []string{"--batch 0"}},
		// A few KB of PNG claiming 8000×8000 px (20000² ran out of memory).
		{append(tiny, a32, huge), []string{huge, "8000×8000 px", "at most 4096×4096"}},
		{append(tiny, "--pairs", pairs, "-o", dir), []string{"-o", dir, "is a directory"}},
	}
	checkBadInput(t, runLPIPS, cases)
	// Through run, as the binary does: exit 2 and one line on stderr.
	for _, c := range cases[:8] {
		code, stdout, stderr := runCLI(append([]string{"lpips"}, c.args...)...)
		if code != 2 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "stylegan-tui lpips: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "d.safetensors")); err == nil {
		t.Error("a refused command wrote its output")
	}
}

// maps returns a copy of m with name set to v (nil: removed).
func maps(m map[string]*safetensors.Tensor, name string, v *safetensors.Tensor) map[string]*safetensors.Tensor {
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

// TestLPIPSPathDistance: the explorer's path-length distance with --vgg16 compares NVlabs' face
// crop of two frames, the same number the lpips command gives for the crops as PNGs.
func TestLPIPSPathDistance(t *testing.T) {
	ref := lpipsRef(t)
	frame := func(x []float32) *image.RGBA {
		img, _ := quantize8(x, 64, 64)
		return img
	}
	n := 3 * 64 * 64
	a, b := frame(ref.Tensors["x0_64"].Data[:n]), frame(ref.Tensors["x0_64"].Data[n:2*n])
	tiny := tinyLPIPS(t)
	net, err := loadLPIPS(tiny[1], tiny[3])
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	got, err := lpipsPath{net}.Distance(a, b)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crop := image.Rect(16, 24, 48, 56) // columns [2c, 6c), rows [3c, 7c), c = 8
	pa, pb := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writePNGFile(t, pa, a.SubImage(crop))
	writePNGFile(t, pb, b.SubImage(crop))
	m := match(t, runCmd(t, lpipsCmd, append(tiny, pa, pb)...), `(?m)^lpips \S+ \S+: (\S+)$`)
	want, _ := strconv.ParseFloat(m[1], 64)
	if !(got > 0) || math.Abs(got-want) > 1e-5*want {
		t.Errorf("path distance %g, lpips of the 32 px crops %g", got, want)
	}
	if _, err := (lpipsPath{net}).Distance(a, image.NewRGBA(image.Rect(0, 0, 64, 32))); err == nil {
		t.Error("frames of different sizes accepted")
	}
	// explore refuses a broken --vgg16 before the terminal is touched.
	five := filepath.Join(dir, "five.pth")
	os.WriteFile(five, []byte("12345"), 0o644)
	var out, errb bytes.Buffer
	if err := runExplore([]string{"--vgg16", five}, &out, &errb); err == nil || !strings.Contains(err.Error(), five) || out.Len() > 0 {
		t.Errorf("explore --vgg16 %s: %v, stdout %q", five, err, out.String())
	}
}

// writeHugePNG writes a valid w×h grey PNG: a few KB that decode to w·h·8 bytes.
func writeHugePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	var raw bytes.Buffer
	zw := zlib.NewWriter(&raw)
	row := make([]byte, 1+w) // filter byte, then grey pixels
	for range h {
		zw.Write(row)
	}
	zw.Close()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0)) // 8-bit grey
	chunk("IDAT", raw.Bytes())
	chunk("IEND", nil)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
