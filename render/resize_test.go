package render

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestFit(t *testing.T) {
	for _, c := range []struct {
		name                                 string
		imgW, imgH, cols, rows, cellW, cellH int
		pxW, pxH, usedCols, usedRows         int
	}{
		{"square into wide area: height binds", 256, 256, 80, 24, 10, 20, 480, 480, 48, 24},
		{"square into tall area: width binds", 256, 256, 20, 40, 10, 20, 200, 200, 20, 10},
		{"wide image", 512, 256, 40, 40, 10, 20, 400, 200, 40, 10},
		{"upscale small image", 64, 64, 30, 10, 10, 20, 200, 200, 20, 10},
		{"partial cells round up", 100, 100, 7, 7, 9, 17, 63, 63, 7, 4},
		{"half-blocks", 256, 256, 80, 40, 1, 2, 80, 80, 80, 40},
		{"half-blocks, height binds odd", 256, 256, 80, 15, 1, 2, 30, 30, 30, 15},
		{"thin image keeps one pixel", 1000, 1, 10, 10, 1, 1, 10, 1, 10, 1},
		{"exact fit", 300, 200, 30, 10, 10, 20, 300, 200, 30, 10},
		{"zero cols", 256, 256, 0, 10, 10, 20, 0, 0, 0, 0},
		{"zero image", 0, 256, 10, 10, 10, 20, 0, 0, 0, 0},
		{"negative cell", 256, 256, 10, 10, -1, 20, 0, 0, 0, 0},
	} {
		pw, ph, uc, ur := Fit(c.imgW, c.imgH, c.cols, c.rows, c.cellW, c.cellH)
		if pw != c.pxW || ph != c.pxH || uc != c.usedCols || ur != c.usedRows {
			t.Errorf("%s: Fit(%d,%d,%d,%d,%d,%d) = %d,%d,%d,%d, want %d,%d,%d,%d", c.name,
				c.imgW, c.imgH, c.cols, c.rows, c.cellW, c.cellH, pw, ph, uc, ur, c.pxW, c.pxH, c.usedCols, c.usedRows)
		}
		if pw > 0 && pw > c.cols*c.cellW || ph > c.rows*c.cellH || uc > c.cols || ur > c.rows {
			t.Errorf("%s: result exceeds the area", c.name)
		}
	}
}

// resizeRef is the obviously-correct area average: each output pixel is the
// mean of the source over its footprint, integrated in 2-D in float64.
func resizeRef(src *image.RGBA, w, h int) [][4]float64 {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	sx, sy := float64(sw)/float64(w), float64(sh)/float64(h)
	out := make([][4]float64, w*h)
	for oy := 0; oy < h; oy++ {
		for ox := 0; ox < w; ox++ {
			var acc [4]float64
			for y := 0; y < sh; y++ {
				cy := math.Min(float64(y+1), float64(oy+1)*sy) - math.Max(float64(y), float64(oy)*sy)
				if cy <= 0 {
					continue
				}
				for x := 0; x < sw; x++ {
					cx := math.Min(float64(x+1), float64(ox+1)*sx) - math.Max(float64(x), float64(ox)*sx)
					if cx <= 0 {
						continue
					}
					p := src.RGBAAt(x, y)
					for i, v := range [4]uint8{p.R, p.G, p.B, p.A} {
						acc[i] += cx * cy * float64(v)
					}
				}
			}
			for i := range acc {
				out[oy*w+ox][i] = acc[i] / (sx * sy)
			}
		}
	}
	return out
}

func TestResizeDownMatchesAreaAverage(t *testing.T) {
	src := synth(97, 61, 4, 0)
	for _, sz := range []image.Point{{32, 32}, {41, 13}, {1, 1}, {97, 20}, {10, 61}} {
		got := Resize(src, sz.X, sz.Y)
		ref := resizeRef(src, sz.X, sz.Y)
		for y := 0; y < sz.Y; y++ {
			for x := 0; x < sz.X; x++ {
				p := got.RGBAAt(x, y)
				for i, v := range [4]uint8{p.R, p.G, p.B, p.A} {
					if d := math.Abs(float64(v) - ref[y*sz.X+x][i]); d > 0.51 {
						t.Fatalf("%v: pixel (%d,%d) channel %d = %d, reference %.3f", sz, x, y, i, v, ref[y*sz.X+x][i])
					}
				}
			}
		}
	}
}

func TestResizeUpBilinear(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 2, 1))
	src.SetRGBA(0, 0, color.RGBA{0, 0, 0, 255})
	src.SetRGBA(1, 0, color.RGBA{200, 100, 40, 255})
	got := Resize(src, 4, 2)
	// Output centres 0.5, 1.5, 2.5, 3.5 map to source -0.25, 0.25, 0.75, 1.25.
	want := []uint8{0, 50, 150, 200}
	for y := 0; y < 2; y++ {
		for x, w := range want {
			if r := got.RGBAAt(x, y).R; r != w {
				t.Errorf("(%d,%d): R = %d, want %d", x, y, r, w)
			}
		}
	}
}

func TestResizeIdentityAndBounds(t *testing.T) {
	src := synth(40, 30, 1, 0)
	sub := src.SubImage(image.Rect(10, 5, 30, 25))
	got := Resize(sub, 20, 20)
	if got.Rect != image.Rect(0, 0, 20, 20) {
		t.Fatalf("bounds %v", got.Rect)
	}
	for y := 0; y < 20; y++ {
		for x := 0; x < 20; x++ {
			if got.RGBAAt(x, y) != src.RGBAAt(x+10, y+5) {
				t.Fatalf("same-size resize changed pixel (%d,%d)", x, y)
			}
		}
	}
	if r := Resize(src, 0, 10); r.Rect.Dx() != 0 {
		t.Errorf("zero width gave %v", r.Rect)
	}
	// A non-RGBA source goes through conversion.
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range gray.Pix {
		gray.Pix[i] = 100
	}
	if c := Resize(gray, 2, 2).RGBAAt(1, 1); c != (color.RGBA{100, 100, 100, 255}) {
		t.Errorf("gray resize gave %v", c)
	}
}

// TestEnlarge: every source pixel becomes an s×s square of its colour,
// wherever the source's bounds start.
func TestEnlarge(t *testing.T) {
	src := image.NewRGBA(image.Rect(5, 7, 8, 9)) // 3x2, offset origin
	for y := 7; y < 9; y++ {
		for x := 5; x < 8; x++ {
			src.SetRGBA(x, y, color.RGBA{uint8(x * 10), uint8(y * 10), 3, 255})
		}
	}
	out := Enlarge(src, 4)
	if b := out.Bounds(); b != image.Rect(0, 0, 12, 8) {
		t.Fatalf("bounds %v, want 12x8 at the origin", b)
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 12; x++ {
			if got, want := out.RGBAAt(x, y), src.RGBAAt(5+x/4, 7+y/4); got != want {
				t.Fatalf("(%d, %d) = %v, want %v", x, y, got, want)
			}
		}
	}
}
