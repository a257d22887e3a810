package render

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"golang.org/x/image/font/basicfont"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	return m
}

// inkIn counts pixels in r that differ from bg.
func inkIn(m *image.RGBA, r image.Rectangle, bg color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if m.RGBAAt(x, y) != bg {
				n++
			}
		}
	}
	return n
}

func TestGridLayout(t *testing.T) {
	red, green, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}
	white := color.RGBA{255, 255, 255, 255}
	// A style-mixing layout: empty corner, sources across the top and down
	// the side, mixes inside. One cell is smaller and must be centred.
	cells := [][]image.Image{
		{nil, solid(40, 30, red), solid(40, 30, red)},
		{solid(40, 30, green), solid(40, 30, blue), solid(20, 30, blue)},
	}
	rows := []string{"", "seed 2"}
	cols := []string{"", "coarse", "fine\n64-256"}
	g := Grid(cells, rows, cols, nil)

	const gap, pad = 4, 4
	labelW := len("seed 2")*7 + 2*pad
	headerH := 2*13 + 2*pad
	wantW := gap + labelW + 3*(40+gap)
	wantH := gap + headerH + 2*(30+gap)
	if g.Rect != image.Rect(0, 0, wantW, wantH) {
		t.Fatalf("grid is %v, want %dx%d", g.Rect, wantW, wantH)
	}
	cell := func(r, c int) image.Rectangle {
		x, y := gap+labelW+c*(40+gap), gap+headerH+r*(30+gap)
		return image.Rect(x, y, x+40, y+30)
	}
	if n := inkIn(g, cell(0, 0), white); n != 0 {
		t.Errorf("empty corner cell has %d inked pixels", n)
	}
	for _, c := range []struct {
		r, c int
		col  color.RGBA
	}{{0, 1, red}, {0, 2, red}, {1, 0, green}, {1, 1, blue}} {
		if n := inkIn(g, cell(c.r, c.c), c.col); n != 0 {
			t.Errorf("cell (%d,%d): %d pixels are not %v", c.r, c.c, n, c.col)
		}
	}
	// The 20-wide cell sits centred with background either side.
	small := cell(1, 2)
	if n := inkIn(g, image.Rect(small.Min.X+10, small.Min.Y, small.Min.X+30, small.Max.Y), blue); n != 0 {
		t.Errorf("narrow cell not centred: %d pixels off", n)
	}
	if n := inkIn(g, image.Rect(small.Min.X, small.Min.Y, small.Min.X+10, small.Max.Y), white); n != 0 {
		t.Errorf("narrow cell's margin has %d inked pixels", n)
	}
	// Labels: ink in the label column beside row 1 and in the header above
	// columns 1 and 2, none above the empty corner or beside row 0.
	r1 := cell(1, 0)
	if n := inkIn(g, image.Rect(gap, r1.Min.Y, gap+labelW, r1.Max.Y), white); n < 20 {
		t.Errorf("row label has %d inked pixels", n)
	}
	r0 := cell(0, 0)
	if n := inkIn(g, image.Rect(0, r0.Min.Y, gap+labelW, r0.Max.Y), white); n != 0 {
		t.Errorf("empty row label has %d inked pixels", n)
	}
	for c, want := range []bool{false, true, true} {
		x := cell(0, c)
		n := inkIn(g, image.Rect(x.Min.X, gap, x.Max.X, gap+headerH), white)
		if (n > 0) != want {
			t.Errorf("column %d header has %d inked pixels", c, n)
		}
	}
	// Two-line column label: ink on both lines.
	x := cell(0, 2)
	top := image.Rect(x.Min.X, gap+pad, x.Max.X, gap+pad+13)
	bot := top.Add(image.Pt(0, 13))
	if inkIn(g, top, white) == 0 || inkIn(g, bot, white) == 0 {
		t.Error("two-line label does not use two lines")
	}
}

// One glyph drawn at scale 1 must reproduce the font's bitmap exactly, and at
// scale 3 as 3x3 blocks.
func TestDrawTextGlyph(t *testing.T) {
	for _, s := range []int{1, 3} {
		m := solid(7*s, 13*s, color.RGBA{255, 255, 255, 255})
		drawText(m, 0, 0, "R", color.Black, s)
		want := 0
		mask := glyphMask('R')
		for y := 0; y < 13; y++ {
			for x := 0; x < 6; x++ {
				on := mask(x, y)
				if on {
					want++
				}
				if got := m.RGBAAt(x*s+s-1, y*s+s-1).R == 0; got != on {
					t.Fatalf("scale %d: pixel (%d,%d) ink %v, font says %v", s, x, y, got, on)
				}
			}
		}
		if got := inkIn(m, m.Rect, color.RGBA{255, 255, 255, 255}); got != want*s*s || want < 10 {
			t.Errorf("scale %d: %d inked pixels, want %d", s, got, want*s*s)
		}
	}
}

func TestLabel(t *testing.T) {
	img := solid(100, 50, color.RGBA{10, 200, 10, 255})
	out := Label(img, "seed 42 psi 0.7 a long caption that has to wrap")
	if out.Rect.Dx() != 100 || out.Rect.Dy() <= 50 {
		t.Fatalf("labelled image is %v", out.Rect)
	}
	if n := inkIn(out, image.Rect(0, 0, 100, 50), color.RGBA{10, 200, 10, 255}); n != 0 {
		t.Errorf("caption spilled %d pixels onto the image", n)
	}
	// 100 px holds 13 characters a line: the text needs 4 lines.
	lines := wrapText("seed 42 psi 0.7 a long caption that has to wrap", (100-6)/7)
	if want := 50 + len(lines)*13 + 6; out.Rect.Dy() != want {
		t.Errorf("height %d, want %d for %d lines %q", out.Rect.Dy(), want, len(lines), lines)
	}
	if n := inkIn(out, image.Rect(0, 50, 100, out.Rect.Dy()), color.RGBA{0, 0, 0, 255}); n < 50 {
		t.Errorf("caption strip has %d lit pixels", n)
	}
	if big := Label(solid(1024, 1024, color.RGBA{}), "x"); big.Rect.Dy() != 1024+2*13+2*6 {
		t.Errorf("1024-wide caption strip is %d high, want text at scale 2", big.Rect.Dy()-1024)
	}
}

func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want []string
	}{
		{"a bb ccc", 4, []string{"a bb", "ccc"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"one\ntwo three", 20, []string{"one", "two three"}},
		{"", 5, []string{""}},
	} {
		got := wrapText(c.in, c.n)
		if len(got) != len(c.want) {
			t.Errorf("wrapText(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("wrapText(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
				break
			}
		}
	}
	if got := fitText("a long label", 35, 1); got != "a l.." {
		t.Errorf("fitText = %q", got)
	}
}

// glyphMask reads rune r's bitmap straight from the font.
func glyphMask(r rune) func(x, y int) bool {
	f := basicfont.Face7x13
	g := int(r-f.Ranges[0].Low) + f.Ranges[0].Offset
	return func(x, y int) bool {
		_, _, _, a := f.Mask.At(x, g*13+y).RGBA()
		return a > 0
	}
}
