package figures

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/termimage"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// Fixture models (random weights, real layouts): a rosinality 128 px model
// with one style per block, and NVlabs models with per-layer styles at 32 px
// (no fine group) and 256 px.
const (
	fixRos128 = "rosinality/tiny_s5.safetensors"
	fixNV32   = "nvlabs/tf_stylegan1_32.safetensors"
	fixNV256  = "nvlabs/tf_stylegan1_256.safetensors"
)

// generator loads fixture path (relative to the repository's fixtures).
func generator(t testing.TB, path string) *model.Generator {
	t.Helper()
	m, err := checkpoints.Load(testfix.Path(t, path))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// want is the reference picture of a state: the generator's output, resized
// as the figure resizes it.
func want(t testing.TB, g *model.Generator, st latent.State, size int) *image.RGBA {
	t.Helper()
	img, _, err := g.Render(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return render.Resize(img, size, size)
}

// crop copies rectangle r of img into an image at (0, 0).
func crop(img image.Image, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			out.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	return out
}

// psnr of b against a (same size), over RGB, in dB.
func psnr(a, b image.Image) float64 {
	var se float64
	n := 0
	r := a.Bounds()
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			c1 := color.RGBAModel.Convert(a.At(r.Min.X+x, r.Min.Y+y)).(color.RGBA)
			c2 := color.RGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y)).(color.RGBA)
			for _, d := range []float64{float64(c1.R) - float64(c2.R), float64(c1.G) - float64(c2.G), float64(c1.B) - float64(c2.B)} {
				se += d * d
			}
			n += 3
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

func sameImage(t *testing.T, what string, got, exp *image.RGBA) {
	t.Helper()
	if got.Rect.Size() != exp.Rect.Size() {
		t.Fatalf("%s: %v, want %v", what, got.Rect.Size(), exp.Rect.Size())
	}
	if !bytes.Equal(got.Pix, exp.Pix) {
		t.Fatalf("%s: pixels differ from the generator's output (PSNR %.1f dB)", what, psnr(exp, got))
	}
}

// checkCells renders f and checks every state cell against the generator.
func checkCells(t *testing.T, g *model.Generator, f *Figure, size int) *image.RGBA {
	t.Helper()
	img, err := f.Render(context.Background(), g, size, nil)
	if err != nil {
		t.Fatal(err)
	}
	rects := f.Rects(size)
	for r, row := range f.Cells {
		for c, cell := range row {
			if cell == nil {
				if !rects[r][c].Empty() {
					t.Errorf("%s: empty cell %d,%d has a rectangle %v", f.Kind, r, c, rects[r][c])
				}
				continue
			}
			rc := rects[r][c]
			if rc.Dx() != size || rc.Dy() != size || !rc.In(img.Rect) {
				t.Fatalf("%s: cell %d,%d at %v, want %dx%d inside %v", f.Kind, r, c, rc, size, size, img.Rect)
			}
			if cell.StdDraws > 0 {
				continue
			}
			sameImage(t, fmt.Sprintf("%s cell %d,%d", f.Kind, r, c), crop(img, rc), want(t, g, cell.State, size))
		}
	}
	return img
}

func TestFigures(t *testing.T) {
	g := generator(t, fixRos128)
	base := g.NewState()
	cfg := g.Cfg
	const size = 48
	for _, f := range []*Figure{
		Uncurated(cfg, base, []int64{3, 4, 5}),
		Mixing(cfg, base, []int64{7, 8, 9}, []int64{10, 11}),
		NoiseLayers(cfg, base, []int64{3}),
		Truncation(cfg, base, []int64{3}, PaperTruncationPsis),
		Interpolation(cfg, base, 4),
	} {
		t.Run(f.Kind, func(t *testing.T) {
			img := checkCells(t, g, f, size)
			rows, cols := len(f.Cells), 0
			for _, r := range f.Cells {
				cols = max(cols, len(r))
			}
			// Each cell, the gaps and the labels fit; nothing is larger than
			// the cells plus generous label room.
			if img.Rect.Dx() < cols*size || img.Rect.Dy() < rows*size ||
				img.Rect.Dx() > cols*(size+4)+200 || img.Rect.Dy() > rows*(size+4)+60 {
				t.Errorf("%s: %v for %dx%d cells of %d px", f.Kind, img.Rect, rows, cols, size)
			}
		})
	}
}

// A mixing cell that takes coarse styles from B is the picture of exactly
// the model's coarse slots from B, built here from the config, not through
// the figure's helpers.
func TestMixingCoarseFromB(t *testing.T) {
	for _, path := range []string{fixRos128, fixNV32} {
		g := generator(t, path)
		cfg := g.Cfg
		f := Mixing(cfg, g.NewState(), []int64{5, 6, 7}, []int64{8, 9})
		const size = 32
		img, err := f.Render(context.Background(), g, size, nil)
		if err != nil {
			t.Fatal(err)
		}
		rects := f.Rects(size)
		lo, hi, _ := cfg.GroupSlots("coarse")
		st := g.NewState()
		st.A, st.B = latent.Source{Seed: 5}, latent.Source{Seed: 9}
		for s := range st.Styles {
			if res := cfg.SlotRes(s); res == 4 || res == 8 {
				st.Styles[s] = latent.FromB
			}
		}
		if ref := g.NewState().WithStyles(lo, hi, latent.FromB); !slicesEqual(ref.Styles, st.Styles) {
			t.Fatalf("%s: GroupSlots coarse %d-%d disagrees with the 4-8 px slots", path, lo, hi)
		}
		// Row 1 is A seed 5 (coarse), column 2 is B seed 9.
		if !f.Cells[1][2].State.Equal(st) {
			t.Errorf("%s: coarse cell state %s, want %s", path, f.Cells[1][2].State.Encode(), st.Encode())
		}
		sameImage(t, path+" coarse-from-B cell", crop(img, rects[1][2]), want(t, g, st, size))
		// The model's groups decide the rows: the 32 px model has no fine
		// group, so its three rows are coarse, coarse, middle.
		names, _, _ := Groups(cfg)
		if path == fixNV32 && len(names) != 2 {
			t.Errorf("32 px model groups %v, want coarse and middle", names)
		}
	}
}

func slicesEqual(a, b []uint8) bool { return bytes.Equal(a, b) }

func TestRowGroups(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want string
	}{
		{6, 3, "[0 0 0 1 1 2]"}, {3, 3, "[0 1 2]"}, {5, 2, "[0 0 0 1 1]"}, {4, 3, "[0 0 1 2]"}, {0, 3, "[]"},
	} {
		if got := fmt.Sprint(rowGroups(c.n, c.k)); got != c.want {
			t.Errorf("rowGroups(%d, %d) = %s, want %s", c.n, c.k, got, c.want)
		}
	}
}

// The standard deviation cell against a slow per-draw reference.
func TestNoiseStd(t *testing.T) {
	g := generator(t, fixRos128)
	const size, draws = 32, 5
	f := Noise(g.Cfg, g.NewState(), []int64{3}, draws)
	img := checkCells(t, g, f, size)
	cell := f.Cells[0][4]
	if cell.StdDraws != draws {
		t.Fatalf("std cell has %d draws", cell.StdDraws)
	}
	res := g.Cfg.Resolution()
	var imgs []*image.RGBA
	for k := 0; k < draws; k++ {
		m, _, err := g.Render(NoiseDraw(cell.State, k), nil)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, m)
	}
	ref := image.NewRGBA(image.Rect(0, 0, res, res))
	for y := 0; y < res; y++ {
		for x := 0; x < res; x++ {
			var vs []float64
			for _, m := range imgs {
				c := m.RGBAAt(x, y)
				vs = append(vs, (float64(c.R)+float64(c.G)+float64(c.B))/3)
			}
			mean := 0.0
			for _, v := range vs {
				mean += v / draws
			}
			sd := 0.0
			for _, v := range vs {
				sd += (v - mean) * (v - mean) / draws
			}
			v := uint8(math.Min(255, math.Sqrt(sd)*4+0.5))
			ref.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	got := crop(img, f.Rects(size)[0][4])
	if p := psnr(render.Resize(ref, size, size), got); p < 45 {
		t.Errorf("std cell PSNR %.1f dB against the reference, want >= 45", p)
	}
	// Draws differ where noise matters: the std is not all zero.
	if bytes.Count(got.Pix, []byte{0, 0, 0, 255}) == size*size {
		t.Error("std cell is all black")
	}
}

// Every animation preset: frame counts, sizes, and each panel equal to the
// generator's output for its state.
func TestAnimations(t *testing.T) {
	g := generator(t, fixRos128)
	base := g.NewState()
	base.A, base.B = latent.Source{Seed: 3}, latent.Source{Seed: 4}
	const size = 40
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			a, err := Preset(kind, g.Cfg, base, 6)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Frames) != 6 {
				t.Fatalf("%d frames, want 6", len(a.Frames))
			}
			frames, err := a.Render(context.Background(), g, size, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := frames[0].Bounds().Dy()
			for i, f := range a.Frames {
				if frames[i].Bounds().Dy() != h || frames[i].Bounds().Dy() <= size {
					t.Fatalf("frame %d is %v, want a caption under %d px and the height of frame 0 (%d)", i, frames[i].Bounds(), size, h)
				}
				for p, st := range f.States {
					sameImage(t, fmt.Sprintf("frame %d panel %d", i, p), crop(frames[i], PanelRect(p, size)), want(t, g, st, size))
				}
			}
		})
	}
}

func TestPresetStates(t *testing.T) {
	g := generator(t, fixNV32)
	base := g.NewState()
	n := len(base.Styles)
	ms := MixSweep(g.Cfg, base, 2*n)
	for i, f := range ms.Frames {
		c := i
		if i > n {
			c = 2*n - i
		}
		if got := f.States[0].Styles; bytes.Count(got, []byte{latent.FromB}) != c || (c > 0 && got[c-1] != latent.FromB) {
			t.Errorf("mix sweep frame %d styles %v, want the first %d from B", i, got, c)
		}
	}
	ts := TruncationSweep(base, 8)
	for i, want := range []float64{1, 0.5, 0, -0.5, -1, -0.5, 0, 0.5} {
		if got := ts.Frames[i].States[0].Psi; got != want {
			t.Errorf("truncation sweep frame %d psi %v, want %v", i, got, want)
		}
	}
	w := Walk(base, []latent.Source{{Seed: 1}, {Seed: 2}, {Seed: 3}}, 6)
	for i, want := range []struct{ a, b int64 }{{1, 2}, {1, 2}, {2, 3}, {2, 3}, {3, 1}, {3, 1}} {
		st := w.Frames[i].States
		if st[0].A.Seed != want.a || st[0].B.Seed != want.b || st[0].Interp.Space != latent.SpaceW || st[1].Interp.Space != latent.SpaceZ {
			t.Errorf("walk frame %d: %s | %s", i, st[0].Encode(), st[1].Encode())
		}
		if i%2 == 0 && st[0].Interp.T != 0 {
			t.Errorf("walk frame %d starts a leg at t=%v", i, st[0].Interp.T)
		}
	}
	ns := NoiseSweep(base, 3)
	if ns.Frames[0].States[0].Equal(ns.Frames[1].States[0]) || !slicesEqual(ns.Frames[1].States[0].Styles, base.Styles) {
		t.Error("noise sweep: frames must differ in noise only")
	}
}

// WriteGIF: decoded frames match the source frames (PSNR >= 28 dB), the
// paletted frames are the palette's Dither of the frames, and those feed the
// sixel encoder.
func TestWriteGIF(t *testing.T) {
	g := generator(t, fixRos128)
	a, _ := Preset("walk", g.Cfg, g.NewState(), 8)
	frames, err := a.Render(context.Background(), g, 64, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "walk.gif")
	pal, err := WriteGIF(path, frames, []int{7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec := decodeGIF(t, path)
	if len(dec.Image) != len(frames) {
		t.Fatalf("%d frames, want %d", len(dec.Image), len(frames))
	}
	for i, m := range dec.Image {
		if dec.Delay[i] != 7 {
			t.Errorf("frame %d delay %d, want 7", i, dec.Delay[i])
		}
		if p := psnr(frames[i], m); p < 28 {
			t.Errorf("frame %d PSNR %.1f dB, want >= 28", i, p)
		}
		pm := pal.Dither(frames[i])
		if !bytes.Equal(pm.Pix, m.Pix) {
			t.Fatalf("frame %d: the GIF's indices differ from palette.Dither", i)
		}
	}
	// The same paletted frame through sixel and back (sixel colours are in
	// percent: within 2 levels).
	var buf bytes.Buffer
	pm := pal.Dither(frames[3])
	if err := render.Sixel(&buf, pm); err != nil {
		t.Fatal(err)
	}
	six, err := termimage.DecodeSixel(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	b := pm.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c1 := color.RGBAModel.Convert(pm.At(x, y)).(color.RGBA)
			c2 := color.RGBAModel.Convert(six.At(x, y)).(color.RGBA)
			if absd(c1.R, c2.R) > 2 || absd(c1.G, c2.G) > 2 || absd(c1.B, c2.B) > 2 {
				t.Fatalf("sixel pixel %d,%d = %v, GIF %v", x, y, c2, c1)
			}
		}
	}
}

func absd(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func decodeGIF(t testing.TB, path string) *gif.GIF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPNGText(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	path := filepath.Join(t.TempDir(), "x.png")
	text := [][2]string{{"cell 0,1", "sg1:a=1:b=2:s=4A"}, {"Software", "stylegan-tui"}}
	if err := WritePNG(path, img, text); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PNGText(data)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(text) {
		t.Fatalf("PNGText = %q, %v; want %q", got, err, text)
	}
	if _, err := decodePNG(data); err != nil {
		t.Fatalf("the PNG with text does not decode: %v", err)
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "missing", "x.png"), img, nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func frameAt(c uint8) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	fill(m, color.RGBA{c, 255 - c, c / 2, 255})
	return m
}

// The recorder: timing from the shown-at times, fast repeats replaced, and
// Add never waits.
func TestRecorder(t *testing.T) {
	dir := t.TempDir()
	r := NewRecorder(RecorderOptions{Dir: dir, Name: "rec"})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := latent.New(4, 4, 1, 4)
	at := []time.Duration{0, 100 * time.Millisecond, 105 * time.Millisecond, 400 * time.Millisecond}
	for i, d := range at {
		st.A.Seed = int64(i)
		if !r.Add(frameAt(uint8(60*i)), t0.Add(d), st) {
			t.Fatalf("frame %d refused", i)
		}
	}
	rec, err := r.Stop(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Frames != 3 || rec.Dropped != 1 || rec.Duration != time.Second || filepath.Dir(rec.Path) != dir {
		t.Errorf("recording %+v", rec)
	}
	dec := decodeGIF(t, rec.Path)
	if fmt.Sprint(dec.Delay) != "[10 30 60]" {
		t.Errorf("delays %v, want [10 30 60] (the frame at +105 ms replaces the one at +100 ms)", dec.Delay)
	}
	if rec.States[1] != stWithSeed(st, 2).Encode() {
		t.Errorf("frame 1 state %s, want seed 2's", rec.States[1])
	}
	if r.Add(frameAt(0), t0, st) {
		t.Error("Add after Stop took a frame")
	}
	if _, err := r.Stop(t0); err == nil {
		t.Error("second Stop succeeded")
	}

	// A full buffer drops instead of blocking.
	r = NewRecorder(RecorderOptions{Dir: dir, Buffer: 1, MaxFrames: 2})
	big := image.NewRGBA(image.Rect(0, 0, 1024, 1024))
	start := time.Now()
	for i := 0; i < 200; i++ {
		r.Add(big, t0.Add(time.Duration(i)*time.Second), st)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("200 Adds took %v", d)
	}
	rec, err = r.Stop(t0.Add(300 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Frames+rec.Dropped != 200 || rec.Frames > 2 {
		t.Errorf("recording %+v, want at most 2 frames and the rest dropped", rec)
	}
	if m := decodeGIF(t, rec.Path).Image[0]; m.Bounds().Dx() != 256 {
		t.Errorf("frame shrunk to %v, want 256 px", m.Bounds())
	}
	if _, err := NewRecorder(RecorderOptions{Dir: dir}).Stop(t0); err != ErrNoFrames {
		t.Errorf("empty recording: %v", err)
	}
}

func stWithSeed(st latent.State, seed int64) latent.State {
	c := st.Clone()
	c.A.Seed = seed
	return c
}

// Benchmark: a GIF of 60 frames of 256² made by the generator (a walk on the
// 256 px fixture): palette, dither and LZW, what WriteGIF does.
func BenchmarkGIF60x256(b *testing.B) {
	g := generator(b, fixNV256)
	a := Walk(g.NewState(), []latent.Source{{Seed: 1}, {Seed: 2}, {Seed: 3}}, 60)
	for i := range a.Frames {
		a.Frames[i].States = a.Frames[i].States[:1] // one 256² panel
		a.Frames[i].Caption = ""                    // and nothing under it
	}
	frames, err := a.Render(context.Background(), g, 256, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	var n int
	var pal *render.Palette
	for b.Loop() {
		var buf bytes.Buffer
		pal = render.NewPalette(GIFColors, frames...)
		if err := render.EncodeGIF(&buf, frames, []int{4}, &render.GIFOptions{Palette: pal}); err != nil {
			b.Fatal(err)
		}
		n = buf.Len()
	}
	worst := math.Inf(1)
	for _, f := range frames {
		worst = min(worst, psnr(f, pal.Dither(f)))
	}
	b.ReportMetric(float64(n), "bytes")
	b.ReportMetric(worst, "min-dB")
}

func decodePNG(data []byte) (image.Image, error) { return png.Decode(bytes.NewReader(data)) }

// A low-resolution preview recorded first does not shrink the GIF.
func TestRecorderSizes(t *testing.T) {
	r := NewRecorder(RecorderOptions{Dir: t.TempDir()})
	t0 := time.Now()
	st := latent.New(2, 2, 1, 2)
	r.Add(image.NewRGBA(image.Rect(0, 0, 8, 8)), t0, st)
	r.Add(image.NewRGBA(image.Rect(0, 0, 64, 64)), t0.Add(50*time.Millisecond), st)
	rec, err := r.Stop(t0.Add(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	an := decodeGIF(t, rec.Path)
	if len(an.Image) != 2 || an.Image[0].Bounds().Dx() != 64 || fmt.Sprint(an.Delay) != "[5 5]" {
		t.Errorf("%d frames of %v, delays %v; want 2 of 64 px, [5 5]", len(an.Image), an.Image[0].Bounds(), an.Delay)
	}
}

func TestPresetGIF(t *testing.T) {
	g := generator(t, fixNV32)
	st := g.NewState()
	dir := t.TempDir()
	path, err := PresetGIF(context.Background(), g, "mix-sweep", st, dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	an := decodeGIF(t, path)
	if filepath.Dir(path) != dir || len(an.Image) != DefaultFrames("mix-sweep", len(st.Styles)) || an.Image[0].Bounds().Dx() != 32 || an.Delay[0] != 25 {
		t.Errorf("%s: %d frames of %v, delay %d/100 s", path, len(an.Image), an.Image[0].Bounds(), an.Delay[0])
	}
	again, err := PresetGIF(context.Background(), g, "mix-sweep", st, dir, "x")
	if err != nil || again == path {
		t.Errorf("second preset in the same second: %s, %v (first %s)", again, err, path)
	}
	if _, err := PresetGIF(context.Background(), g, "spin", st, dir, "x"); err == nil {
		t.Error("unknown preset accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PresetGIF(ctx, g, "noise", st, dir, "x"); err == nil {
		t.Error("cancelled context: no error")
	}
}

// Adds racing Stop: no panic (no send on a closed channel), every frame
// either kept or refused.
func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(RecorderOptions{Dir: t.TempDir(), Buffer: 4})
	st := latent.New(2, 2, 1, 2)
	img := frameAt(9)
	t0 := time.Now()
	done := make(chan int)
	for w := 0; w < 4; w++ {
		go func() {
			n := 0
			for i := 0; i < 500; i++ {
				if r.Add(img, t0.Add(time.Duration(i)*30*time.Millisecond), st) {
					n++
				}
			}
			done <- n
		}()
	}
	time.Sleep(time.Millisecond)
	rec, err := r.Stop(t0.Add(time.Minute))
	taken := 0
	for range 4 {
		select {
		case n := <-done:
			taken += n
		case <-time.After(30 * time.Second):
			t.Fatal("Add blocked")
		}
	}
	if err != nil && err != ErrNoFrames {
		t.Fatal(err)
	}
	if rec.Frames+rec.Dropped > 2000 || taken > 2000 {
		t.Errorf("recording %+v, %d taken", rec, taken)
	}
}

// Labels name what each row shows, without formatting debris.
func TestLabels(t *testing.T) {
	for _, path := range []string{fixNV32, fixRos128} {
		g := generator(t, path)
		base := g.NewState()
		for _, f := range []*Figure{
			Uncurated(g.Cfg, base, []int64{1}), Mixing(g.Cfg, base, []int64{1, 2, 3}, []int64{4}),
			Noise(g.Cfg, base, []int64{1}, 9), NoiseLayers(g.Cfg, base, []int64{1}),
			Truncation(g.Cfg, base, []int64{1}, PaperTruncationPsis), Interpolation(g.Cfg, base, 3),
		} {
			for _, l := range append(append([]string{}, f.RowLabels...), f.ColLabels...) {
				if strings.Contains(l, "%!") || strings.TrimSpace(l) == "" && l != "" {
					t.Errorf("%s %s: label %q", path, f.Kind, l)
				}
			}
		}
	}
	g := generator(t, fixRos128)
	f := Mixing(g.Cfg, g.NewState(), []int64{1, 2, 3}, []int64{4})
	for i, want := range []string{"coarse from B\nslots 0-1 (4-8 px)", "middle from B\nslots 2-3 (16-32 px)", "fine from B\nslots 4-5 (64-128 px)"} {
		if !strings.Contains(f.RowLabels[i+1], want) {
			t.Errorf("mixing row %d label %q, want %q", i+1, f.RowLabels[i+1], want)
		}
	}
}

// TestDelay: GIF delays are whole 1/100 s from 2 to 65535 whatever the fps.
func TestDelay(t *testing.T) {
	for _, c := range []struct {
		fps  float64
		want int
	}{{25, 4}, {100, 2}, {8, 13}, {0.01, 10000}, {0.001, 65535}, {1e-300, 65535}, {0, render.DefaultGIFDelay}} {
		if got := Delay(c.fps); got != c.want {
			t.Errorf("Delay(%g) = %d, want %d", c.fps, got, c.want)
		}
	}
}

// Noise-layers' rows have noise exactly where their labels say, even from a
// state with some noise slots off.
func TestNoiseLayersModes(t *testing.T) {
	cfg := model.NVlabs(128)
	base := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	base = base.WithNoise(0, 3, latent.NoiseOff).WithNoise(4, 5, latent.NoiseConst)
	f := NoiseLayers(cfg, base, []int64{1})
	for r, on := range []func(res int) bool{
		func(int) bool { return true }, func(int) bool { return false },
		func(res int) bool { return res >= 64 }, func(res int) bool { return res <= 32 },
	} {
		for j, n := range f.Cells[r][0].State.Noise {
			if got := n.Mode != latent.NoiseOff; got != on(cfg.NoiseRes(j)) {
				t.Errorf("row %q, noise slot %d (%d px): mode %v", f.RowLabels[r], j, cfg.NoiseRes(j), n.Mode)
			}
		}
	}
	// A slot the state had const stays const where the row keeps noise.
	if m := f.Cells[0][0].State.Noise[4].Mode; m != latent.NoiseConst {
		t.Errorf("all layers, slot 4: %v, want const as the state had it", m)
	}
}

// The labels of a 64 px model (the embedded default's layout: per-layer
// slots, truncation on slots < 8 of 10): resolution ranges never read
// "64-64 px" or "4-4px", and a figure that names psi names its cutoff too.
func TestLabels64(t *testing.T) {
	cfg := model.NVlabs(64)
	base := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	nl := NoiseLayers(cfg, base, []int64{1})
	if got := nl.RowLabels[2]; got != "fine layers only\n(64 px)" {
		t.Errorf("noise-layers fine row %q, want \"fine layers only\\n(64 px)\"", got)
	}
	if got := nl.ColLabels[0]; got != "seed 1\npsi 0.7\nslots <8" {
		t.Errorf("noise-layers column %q, want the cutoff with psi", got)
	}
	ms := MixSweep(cfg, base, 2*cfg.NumStyles())
	for i, want := range []string{"B: none", "B: 0 (4px)", "B: 0-1 (4px)", "B: 0-2 (4-8px)", "B: 0-9 (4-64px)"} {
		c := min(i, 4)
		if i == 4 {
			c = cfg.NumStyles()
		}
		if got := ms.Frames[c].Caption; got != want {
			t.Errorf("mix sweep frame %d caption %q, want %q", c, got, want)
		}
	}
	if got := SlotRange(cfg, 8, 9); got != "slots 8-9 (64 px)" {
		t.Errorf("SlotRange(8, 9) = %q", got)
	}
}

// The labels' font grows with the cells: at 256 px a figure's header and
// row labels take twice the room they take at 128 px.
func TestLabelScale(t *testing.T) {
	cfg := model.NVlabs(256)
	base := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	f := Truncation(cfg, base, []int64{1}, PaperTruncationPsis)
	const gap = 4
	r128, r256 := f.Rects(128)[0][0], f.Rects(256)[0][0]
	if h1, h2 := r128.Min.Y-gap, r256.Min.Y-gap; h2 != 2*h1 {
		t.Errorf("header %d px at 256 px cells, want twice %d (at 128 px)", h2, h1)
	}
	if w1, w2 := r128.Min.X-gap, r256.Min.X-gap; w2 != 2*w1 {
		t.Errorf("row labels %d px wide at 256 px cells, want twice %d (at 128 px)", w2, w1)
	}
}

// Every preset's frames carry a caption without --labels, saying what they
// vary (and, for the walk, what its two panels are), burnt in under the
// panels.
func TestPresetCaptions(t *testing.T) {
	cfg := model.NVlabs(64)
	base := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	flat := func(context.Context, latent.State) (image.Image, error) {
		return image.NewRGBA(image.Rect(0, 0, 8, 8)), nil
	}
	const size = 128
	for _, kind := range Kinds {
		a, err := Preset(kind, cfg, base, 8)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range a.Frames {
			var want string
			switch kind {
			case "walk":
				want = "left: lerp in W, right: slerp in Z"
			case "truncation-sweep":
				want = psiLabel(f.States[0].Psi)
			case "noise":
				want = fmt.Sprintf("noise draw %d", i)
			case "mix-sweep":
				want = "B: "
			}
			if !strings.Contains(f.Caption, want) {
				t.Errorf("%s frame %d caption %q, want %q in it", kind, i, f.Caption, want)
			}
		}
		frames, err := a.RenderVia(context.Background(), size, false, flat)
		if err != nil {
			t.Fatal(err)
		}
		if h := frames[0].Bounds().Dy(); h <= size {
			t.Errorf("%s: frames %d px high without labels, want a caption under the %d px panels", kind, h, size)
		}
	}
	if got := TruncationSweep(base, 8).Frames[3].Caption; got != "psi -0.5\non slots <8" {
		t.Errorf("truncation sweep caption %q", got)
	}
}

// Noise draws (the noise GIF, Fig. 4's draws and standard deviation) keep a
// state's noise-off slots off: `gif noise --state ...:n=6o,4r` turned the
// coarse noise back on.
func TestNoiseDrawKeepsOff(t *testing.T) {
	cfg := model.NVlabs(64)
	base := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	base = base.WithNoise(0, 5, latent.NoiseOff).WithNoise(6, 7, latent.NoiseConst)
	for i, f := range NoiseSweep(base, 3).Frames {
		for j, nz := range f.States[0].Noise {
			if wantOff := j < 6; (nz.Mode == latent.NoiseOff) != wantOff || !wantOff && nz.Mode != latent.NoiseRandom {
				t.Errorf("frame %d noise slot %d: %+v, want off: %v, else random", i, j, nz, wantOff)
			}
		}
	}
	if a, b := NoiseDraw(base, 1), NoiseDraw(base, 2); a.Noise[8] == b.Noise[8] {
		t.Errorf("draws 1 and 2 share slot 8's noise %+v", a.Noise[8])
	}
}
