package pathlen

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/model"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func TestPixel(t *testing.T) {
	black, white := solid(4, 4, color.RGBA{0, 0, 0, 255}), solid(4, 4, color.RGBA{255, 255, 255, 255})
	for _, tc := range []struct {
		a, b *image.RGBA
		want float64
	}{
		{black, black, 0},
		{black, white, 4}, // -1 to 1 in every channel: (2)² on average
	} {
		if d, err := (Pixel{}).Distance(tc.a, tc.b); err != nil || d != tc.want {
			t.Errorf("Pixel: %v, %v; want %v", d, err, tc.want)
		}
	}
	// One channel of one pixel of 16 moves by 127.5 levels: 1/(3·16).
	c := solid(4, 4, color.RGBA{0, 0, 0, 255})
	c.Pix[4*5+1] = 255
	half := solid(4, 4, color.RGBA{0, 0, 0, 255})
	half.Pix[4*5+1] = 127 // 127/127.5
	d, _ := (Pixel{}).Distance(c, half)
	if want := math.Pow(128/127.5, 2) / 48; math.Abs(d-want) > 1e-15 {
		t.Errorf("one channel: %v, want %v", d, want)
	}
	if _, err := (Pixel{}).Distance(black, solid(2, 2, color.RGBA{})); err == nil {
		t.Error("pictures of two sizes: no error")
	}
}

// TestClassifier checks the conversion to the generator's layout against
// model.ToImage (the generator's own way from CHW floats to pixels) and the
// distance's basic properties on the embedded classifier.
func TestClassifier(t *testing.T) {
	const res = 16
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 3*res*res)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	img := model.ToImage(x, res, 0)
	back := nchw(img)
	for i := range x {
		if math.Abs(float64(back[i]-x[i])) > 1/127.5 {
			t.Fatalf("value %d: %v back as %v", i, x[i], back[i])
		}
	}
	net, err := checkpoints.DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Net: net}
	y := make([]float32, len(x))
	for i := range y {
		y[i] = r.Float32()*2 - 1
	}
	other := model.ToImage(y, res, 0)
	if d, err := c.Distance(img, img); err != nil || d != 0 {
		t.Errorf("d(x, x) = %v, %v; want 0", d, err)
	}
	d1, err1 := c.Distance(img, other)
	d2, err2 := c.Distance(other, img)
	if err1 != nil || err2 != nil || !(d1 > 0) || math.Abs(d1-d2) > 1e-9*d1 {
		t.Errorf("d(x, y) = %v, d(y, x) = %v (%v, %v)", d1, d2, err1, err2)
	}
	want, _ := net.PerceptualDistance(nchw(img), nchw(other), 1, res)
	if d1 != want[0] {
		t.Errorf("Distance %v, PerceptualDistance %v", d1, want[0])
	}
	if _, err := c.Distance(solid(128, 128, color.RGBA{}), solid(128, 128, color.RGBA{})); err == nil {
		t.Error("a 128 px picture: no error (the classifier measures 8-64 px)")
	}
}

func TestSeries(t *testing.T) {
	var s Series
	s.Add(0.2, 0.22, 0.001) // midpoint 0.21: bin 10
	s.Add(0.5, 0.5, 1)      // no step
	s.Add(0.3, 0.3+1e-12, 1)
	s.Add(0.98, 1, math.NaN())
	if !s.Have[10] || math.Abs(s.V[10]-0.001/0.0004) > 1e-12 {
		t.Errorf("bin 10: %v %v, want 2.5", s.Have[10], s.V[10])
	}
	if m, n := s.Mean(); n != 1 || math.Abs(m-2.5) > 1e-12 {
		t.Errorf("mean %v over %d", m, n)
	}
	s.Add(1, 0.98, 0.0004) // backwards too; the last bin
	if !s.Have[Bins-1] || math.Abs(s.V[Bins-1]-1) > 1e-12 || math.Abs(s.Max()-2.5) > 1e-12 {
		t.Errorf("last bin %v %v, max %v", s.Have[Bins-1], s.V[Bins-1], s.Max())
	}
}

func TestSparkline(t *testing.T) {
	var s Series
	s.V[0], s.Have[0] = 0, true
	s.V[25], s.Have[25] = 4, true
	s.V[49], s.Have[49] = 8, true
	got := Sparkline(&s, 5, 8) // cells of 10 bins: max of each
	if want := "▁·▅·█"; got != want {
		t.Errorf("Sparkline %q, want %q", got, want)
	}
	if got := Sparkline(&s, 100, 8); len([]rune(got)) != 100 {
		t.Errorf("%d cells, want 100", len([]rune(got)))
	}
	if got := Sparkline(&Series{}, 3, 0); got != "···" {
		t.Errorf("nothing measured: %q", got)
	}
	for v, want := range map[float64]string{741.2: "741", 0.01234: "0.0123", 12345: "1.2e+04", 0: "0"} {
		if got := Short(v); got != want {
			t.Errorf("Short(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestPathKey(t *testing.T) {
	a := latent.New(6, 6, 0.7, 6)
	a.Interp = latent.Interp{On: true, T: 0.3, Space: latent.SpaceZ}
	b := a.WithStyles(2, 3, latent.FromB)
	b.Interp = latent.Interp{On: true, T: 0.9, Space: latent.SpaceW}
	if PathKey(a) != PathKey(b) {
		t.Errorf("t, space and styles changed the path: %s vs %s", PathKey(a), PathKey(b))
	}
	c := a.Clone()
	c.B = latent.Source{Seed: 7}
	d := a.Clone()
	d.Psi = 1
	if PathKey(a) == PathKey(c) || PathKey(a) == PathKey(d) {
		t.Error("another B or psi is the same path")
	}
	var tr Track
	if !tr.Reset("x") || tr.Reset("x") || tr.Key != "x" {
		t.Error("Reset")
	}
}

// BenchmarkDistance64 is one step of a toyfaces walk's path length: the
// classifier's distance of two 64 px frames, against the pixel distance.
func BenchmarkDistance64(b *testing.B) {
	net, err := checkpoints.DefaultClassifier()
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	img := func() *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for i := range m.Pix {
			m.Pix[i] = uint8(r.IntN(256))
		}
		return m
	}
	x, y := img(), img()
	for _, d := range []Distance{&Classifier{Net: net}, Pixel{}} {
		b.Run(d.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Distance(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
