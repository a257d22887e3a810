package render

import (
	"image"
	"image/color"
	"image/draw"
	"math/rand"
	"sync"
	"testing"
)

// The lookup table must give, for every cell centre, a colour exactly as near
// as the brute-force nearest one (ties may pick another index).
func TestLUTMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := map[string]color.Palette{}
	var uniform, clustered, tiny color.Palette
	for i := 0; i < 256; i++ {
		uniform = append(uniform, color.RGBA{uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256)), 255})
		// Skin-like cluster: what a face palette looks like.
		clustered = append(clustered, color.RGBA{uint8(150 + rng.Intn(60)), uint8(100 + rng.Intn(50)), uint8(80 + rng.Intn(40)), 255})
	}
	tiny = color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}, color.RGBA{200, 10, 10, 255}}
	cases["uniform"], cases["clustered"], cases["tiny"] = uniform, clustered, tiny
	if testing.Short() {
		delete(cases, "uniform")
	}
	for name, cs := range cases {
		t.Run(name, func(t *testing.T) {
			p := PaletteOf(cs)
			bad := 0
			for cell := 0; cell < lutSide*lutSide*lutSide; cell++ {
				// Cell centre, doubled: 8c+3.
				cr := int32(cell>>(2*lutBits))*8 + 3
				cg := int32(cell>>lutBits&(lutSide-1))*8 + 3
				cb := int32(cell&(lutSide-1))*8 + 3
				dist := func(i int) int32 {
					dr, dg, db := cr-2*p.pr[i], cg-2*p.pg[i], cb-2*p.pb[i]
					return dr*dr + dg*dg + db*db
				}
				best := int32(1<<31 - 1)
				for i := range p.colors {
					best = min(best, dist(i))
				}
				if got := dist(int(p.lut[cell])); got != best {
					if bad++; bad < 5 {
						t.Errorf("cell %d: lut gives colour %d at d²=%d, nearest is at d²=%d", cell, p.lut[cell], got, best)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d cells wrong", bad)
			}
		})
	}
}

func TestNewPaletteExactWhenFewColours(t *testing.T) {
	want := []color.RGBA{{10, 20, 30, 255}, {200, 100, 0, 255}, {0, 255, 0, 255}, {128, 128, 128, 255}, {255, 255, 255, 255}}
	img := image.NewRGBA(image.Rect(0, 0, 50, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 50; x++ {
			img.SetRGBA(x, y, want[(x/7+y/5)%len(want)])
		}
	}
	p := NewPalette(256, img)
	if p.Len() != len(want) {
		t.Fatalf("palette has %d colours, want %d: %v", p.Len(), len(want), p.Colors())
	}
	for _, m := range []*image.Paletted{p.Quantize(img), p.Dither(img)} {
		if got := psnr(t, img, m); got < 1000 {
			t.Errorf("mapping an image onto its own colours: PSNR %.1f dB, want exact", got)
		}
	}
}

func TestNewPaletteEmpty(t *testing.T) {
	p := NewPalette(16)
	if p.Len() != 1 {
		t.Fatalf("palette of nothing has %d colours, want 1", p.Len())
	}
	p = NewPalette(16, image.NewRGBA(image.Rectangle{}))
	if p.Len() != 1 {
		t.Fatalf("palette of an empty image has %d colours, want 1", p.Len())
	}
}

func TestNewPaletteSize(t *testing.T) {
	img := synth(128, 128, 3, 0)
	for _, n := range []int{2, 16, 255, 256} {
		if got := NewPalette(n, img).Len(); got != n {
			t.Errorf("NewPalette(%d): %d colours", n, got)
		}
	}
	if got := NewPalette(0, img).Len(); got != 256 {
		t.Errorf("NewPalette(0): %d colours, want 256", got)
	}
}

// Dithering costs some PSNR against plain mapping (it trades banding for
// noise) but must clear the bar the terminal and GIF paths rely on, beat
// plain mapping once blurred (no banding), and match the stdlib's
// Floyd–Steinberg, which searches the palette exhaustively.
func TestDitherQuality(t *testing.T) {
	img := synth(256, 256, 1, 0)
	for _, n := range []int{256, 16} {
		p := NewPalette(n, img)
		qm, dm := p.Quantize(img), p.Dither(img)
		q, d := psnr(t, img, qm), psnr(t, img, dm)
		bi := blur(img)
		qb, db := psnr(t, bi, blur(qm)), psnr(t, bi, blur(dm))
		t.Logf("%d colours: quantize %.2f dB (blurred %.2f), dither %.2f dB (blurred %.2f)", n, q, qb, d, db)
		if want := map[int]float64{256: 32, 16: 20}[n]; d < want {
			t.Errorf("%d colours: dithered PSNR %.2f dB, want >= %.0f", n, d, want)
		}
		if db < qb+2 {
			t.Errorf("%d colours: blurred, dithering (%.2f dB) is not 2 dB better than plain mapping (%.2f dB)", n, db, qb)
		}
	}
	p := NewPalette(256, img)
	d := psnr(t, img, p.Dither(img))
	// Reference: stdlib Floyd–Steinberg with the same palette (linear search).
	ref := image.NewPaletted(img.Bounds(), p.Colors())
	draw.FloydSteinberg.Draw(ref, ref.Rect, img, image.Point{})
	r := psnr(t, img, ref)
	t.Logf("stdlib draw.FloydSteinberg, same palette: %.2f dB", r)
	if d < r-1 {
		t.Errorf("dither %.2f dB is more than 1 dB worse than the stdlib's %.2f dB", d, r)
	}
}

// Error diffusion keeps local averages: a flat grey between black and white
// comes out with the right share of white pixels.
func TestDitherKeepsMean(t *testing.T) {
	p := PaletteOf(color.Palette{color.Black, color.White})
	for _, v := range []uint8{32, 100, 128, 200} {
		src := image.NewRGBA(image.Rect(0, 0, 64, 64))
		draw.Draw(src, src.Rect, image.NewUniform(color.RGBA{v, v, v, 255}), image.Point{}, draw.Src)
		m := p.Dither(src)
		white := 0
		for _, i := range m.Pix {
			white += int(i)
		}
		mean := 255 * float64(white) / float64(len(m.Pix))
		if d := mean - float64(v); d < -2 || d > 2 {
			t.Errorf("grey %d dithers to mean %.1f", v, mean)
		}
	}
}

func TestDitherKeepsBounds(t *testing.T) {
	img := synth(40, 30, 2, 0).SubImage(image.Rect(5, 7, 35, 27))
	p := NewPalette(64, img)
	for _, m := range []*image.Paletted{p.Dither(img), p.Quantize(img)} {
		if m.Bounds() != img.Bounds() {
			t.Errorf("bounds %v, want %v", m.Bounds(), img.Bounds())
		}
		if got := psnr(t, img, m); got < 25 {
			t.Errorf("sub-image PSNR %.1f dB", got)
		}
	}
}

func TestPaletteCache(t *testing.T) {
	a, b := synth(64, 64, 1, 0), synth(64, 64, 2, 0)
	c := NewPaletteCache(2)
	pa := c.Get("seed=1", 256, a)
	if got := c.Get("seed=1", 256, b); got != pa {
		t.Error("second Get of a family built a new palette")
	}
	if h, m := c.Stats(); h != 1 || m != 1 {
		t.Errorf("stats %d hits %d misses, want 1 and 1", h, m)
	}
	if c.Get("seed=1", 16, a) == pa {
		t.Error("another palette size shares the entry")
	}
	c.Get("seed=2", 256, b) // evicts seed=1 (256), the least recently used
	if c.Len() != 2 {
		t.Errorf("cache holds %d palettes, want 2", c.Len())
	}
	if c.Get("seed=1", 256, a) == pa {
		t.Error("evicted entry still served")
	}

	// Concurrent misses on one key build once and agree.
	c = NewPaletteCache(0)
	var wg sync.WaitGroup
	got := make([]*Palette, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = c.Get("family", 256, a)
		}()
	}
	wg.Wait()
	for _, p := range got[1:] {
		if p != got[0] {
			t.Fatal("concurrent Gets returned different palettes")
		}
	}
	if h, m := c.Stats(); h != 7 || m != 1 {
		t.Errorf("concurrent stats %d hits %d misses, want 7 and 1", h, m)
	}
}
