package render

import (
	"bytes"
	"image"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGIFRoundTrip(t *testing.T) {
	n, w, h := 24, 128, 96
	if !testing.Short() {
		n, w, h = 60, 256, 256
	}
	src := frames(n, w, h)
	delays := make([]int, n)
	for i := range delays {
		delays[i] = 3 + i%4
	}
	prog := NewProgress(&bytes.Buffer{}, "gif", n)
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, src, delays, &GIFOptions{LoopCount: 2, Progress: prog}); err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != n {
		t.Fatalf("%d frames, want %d", len(g.Image), n)
	}
	if g.Config.Width != w || g.Config.Height != h {
		t.Errorf("logical screen %dx%d, want %dx%d", g.Config.Width, g.Config.Height, w, h)
	}
	if g.LoopCount != 2 {
		t.Errorf("loop count %d, want 2", g.LoopCount)
	}
	worst := 1e9
	for i, f := range g.Image {
		if g.Delay[i] != delays[i] {
			t.Errorf("frame %d delay %d, want %d", i, g.Delay[i], delays[i])
		}
		if f.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("frame %d bounds %v", i, f.Bounds())
		}
		worst = min(worst, psnr(t, src[i], f))
	}
	t.Logf("%d frames %dx%d: %d bytes, worst frame %.2f dB", n, w, h, buf.Len(), worst)
	if worst < 28 {
		t.Errorf("worst frame PSNR %.2f dB, want >= 28", worst)
	}
	if prog.current != n {
		t.Errorf("progress counted %d frames, want %d", prog.current, n)
	}
	// One global palette: no frame carries a local colour table. The stdlib
	// decoder gives every frame the global palette object in that case.
	for i, f := range g.Image {
		if len(f.Palette) != len(g.Image[0].Palette) || &f.Palette[0] != &g.Image[0].Palette[0] {
			t.Fatalf("frame %d has a local palette", i)
		}
	}
}

func TestGIFOptionsAndErrors(t *testing.T) {
	src := frames(3, 32, 24)
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, src, nil, &GIFOptions{LoopCount: -1, Colors: 16, NoDither: true}); err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if g.Delay[2] != DefaultGIFDelay || g.LoopCount != -1 || len(g.Image[0].Palette) > 16 {
		t.Errorf("delay %d, loop %d, %d colours", g.Delay[2], g.LoopCount, len(g.Image[0].Palette))
	}
	buf.Reset()
	if err := EncodeGIF(&buf, src, []int{7}, nil); err != nil {
		t.Fatal(err)
	}
	if g, _ = gif.DecodeAll(&buf); g.Delay[1] != 7 || g.LoopCount != 0 {
		t.Errorf("single delay: %v, loop %d", g.Delay, g.LoopCount)
	}
	for name, c := range map[string]struct {
		frames []image.Image
		delays []int
	}{
		"no frames":     {nil, nil},
		"delay count":   {src, []int{1, 2}},
		"size mismatch": {append(src[:2:2], synth(10, 10, 1, 0)), nil},
		"empty frame":   {[]image.Image{image.NewRGBA(image.Rectangle{})}, nil},
	} {
		if err := EncodeGIF(&bytes.Buffer{}, c.frames, c.delays, nil); err == nil || !strings.HasPrefix(err.Error(), "render: gif: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestWritePNGAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "face.png")
	img := synth(40, 30, 1, 0)
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if q := psnr(t, img, back); q < 1000 {
		t.Errorf("PNG is lossy: %.1f dB", q)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	old, _ := os.ReadFile(path)

	// A failing encode (zero-size image) must leave the old file and no litter.
	if err := WritePNG(path, image.NewRGBA(image.Rectangle{})); err == nil {
		t.Fatal("writing an empty image succeeded")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Error("failed write changed the existing file")
	}
	// So must a failing GIF.
	if err := WriteGIF(path, nil, nil, nil); err == nil {
		t.Fatal("writing a GIF of no frames succeeded")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Error("failed GIF write changed the existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want face.png alone", names)
	}

	// An unwritable directory: the temporary file cannot be made.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	target := filepath.Join(ro, "x.png")
	os.WriteFile(target, old, 0o644)
	os.Chmod(ro, 0o555)
	defer os.Chmod(ro, 0o755)
	if probe, err := os.CreateTemp(ro, "probe"); err == nil {
		probe.Close()
		os.Remove(probe.Name())
		t.Log("running as a user who can write a 0555 directory (root?): unwritable-dir case skipped")
	} else {
		if err := WritePNG(target, img); err == nil {
			t.Error("write into an unwritable directory succeeded")
		}
		if now, _ := os.ReadFile(target); !bytes.Equal(now, old) {
			t.Error("failed write into an unwritable directory changed the file")
		}
	}

	// An I/O failure that root cannot bypass: a name so long that the
	// temporary file's name ("." + name + ".tmp" + digits) exceeds the
	// file system's 255-byte limit, though the file itself exists.
	long := filepath.Join(dir, strings.Repeat("n", 250)+".png")
	if err := os.WriteFile(long, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePNG(long, img); err == nil {
		t.Error("write whose temporary file cannot be created succeeded")
	}
	if now, _ := os.ReadFile(long); !bytes.Equal(now, old) {
		t.Error("failed write changed the existing long-named file")
	}

	// A missing directory is an error, not a panic.
	missing := filepath.Join(dir, "missing", "x.png")
	if err := WritePNG(missing, img); err == nil || !strings.HasPrefix(err.Error(), "writing "+missing+": ") {
		t.Errorf("write into a missing directory: %v, want an error starting with \"writing %s: \"", err, missing)
	}
}

func TestWriteGIF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "walk.gif")
	if err := WriteGIF(path, frames(4, 32, 32), []int{5}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 4 {
		t.Errorf("%d frames", len(g.Image))
	}
}
