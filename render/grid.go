package render

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font/basicfont"
)

// GridOptions adjusts Grid; a nil *GridOptions means DefaultGridOptions.
type GridOptions struct {
	// CellW x CellH is the box each cell image is fitted into (keeping its
	// aspect ratio, centred); 0 takes the largest cell's width or height.
	CellW, CellH int
	// Gap is the space in pixels between cells and around the grid.
	Gap int
	// Background and Text are the colours of the canvas and of the labels;
	// nil means white and black.
	Background, Text color.Color
	// TextScale enlarges the 7x13 bitmap font by whole pixels; 0 means 1.
	TextScale int
}

// DefaultGridOptions are the options Grid uses when given nil: a paper-style
// figure, black labels on white with 4-pixel gaps.
var DefaultGridOptions = GridOptions{Gap: 4}

// Grid composes cells (row-major; rows may be ragged and nil cells stay
// empty, e.g. the corner of a style-mixing figure) into one labelled image
// like the figures of the StyleGAN paper. rowLabels go left of their rows,
// right-aligned and vertically centred; colLabels go above their columns,
// centred and cut to the cell width. Labels may hold several lines ("\n").
// Text uses a 7x13 bitmap font (ASCII; other runes show as '?'), legible at
// scale 1.
func Grid(cells [][]image.Image, rowLabels, colLabels []string, opts *GridOptions) *image.RGBA {
	o := DefaultGridOptions
	if opts != nil {
		o = *opts
	}
	if o.Background == nil {
		o.Background = color.White
	}
	if o.Text == nil {
		o.Text = color.Black
	}
	s := max(o.TextScale, 1)
	gap := max(o.Gap, 0)
	nr, nc := len(cells), len(colLabels)
	cw, ch := o.CellW, o.CellH
	for _, row := range cells {
		nc = max(nc, len(row))
		for _, c := range row {
			if c == nil {
				continue
			}
			if o.CellW <= 0 {
				cw = max(cw, c.Bounds().Dx())
			}
			if o.CellH <= 0 {
				ch = max(ch, c.Bounds().Dy())
			}
		}
	}
	nr = max(nr, len(rowLabels))
	pad := 4 * s
	lineH := fontH * s

	labelW := 0
	for _, l := range rowLabels {
		for _, line := range strings.Split(l, "\n") {
			labelW = max(labelW, textWidth(line, s))
		}
	}
	if labelW > 0 {
		labelW += 2 * pad
	}
	headerH := 0
	for _, l := range colLabels {
		if l != "" {
			headerH = max(headerH, len(strings.Split(l, "\n"))*lineH+2*pad)
		}
	}

	W := gap + labelW + nc*(cw+gap)
	H := gap + headerH + nr*(ch+gap)
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(dst, dst.Rect, image.NewUniform(o.Background), image.Point{}, draw.Src)

	cellAt := func(r, c int) image.Point {
		return image.Pt(gap+labelW+c*(cw+gap), gap+headerH+r*(ch+gap))
	}
	for r, row := range cells {
		for c, img := range row {
			if img == nil || cw == 0 || ch == 0 {
				continue
			}
			b := img.Bounds()
			pw, ph, _, _ := Fit(b.Dx(), b.Dy(), 1, 1, cw, ch)
			var m image.Image = img
			if pw != b.Dx() || ph != b.Dy() {
				m = Resize(img, pw, ph)
			}
			p := cellAt(r, c).Add(image.Pt((cw-pw)/2, (ch-ph)/2))
			draw.Draw(dst, image.Rectangle{p, p.Add(image.Pt(pw, ph))}, m, m.Bounds().Min, draw.Over)
		}
	}
	for r, l := range rowLabels {
		lines := strings.Split(l, "\n")
		y := cellAt(r, 0).Y + (ch-len(lines)*lineH)/2
		for i, line := range lines {
			x := gap + labelW - pad - textWidth(line, s)
			drawText(dst, x, y+i*lineH, line, o.Text, s)
		}
	}
	for c, l := range colLabels {
		lines := strings.Split(l, "\n")
		y := gap + headerH - pad - len(lines)*lineH
		for i, line := range lines {
			line = fitText(line, cw, s)
			x := cellAt(0, c).X + (cw-textWidth(line, s))/2
			drawText(dst, x, y+i*lineH, line, o.Text, s)
		}
	}
	return dst
}

// Label returns img with a caption strip burnt in below it: white text on
// black, wrapped at spaces to the image width (and at "\n"). The text is
// scaled up by one pixel per 512 pixels of image width, so it stays legible on
// large images.
func Label(img image.Image, text string) *image.RGBA {
	b := img.Bounds()
	w := b.Dx()
	s := max(1, w/512)
	pad := 3 * s
	perLine := max(1, (w-2*pad)/(fontAdvance*s))
	lines := wrapText(text, perLine)
	stripH := len(lines)*fontH*s + 2*pad
	dst := image.NewRGBA(image.Rect(0, 0, w, b.Dy()+stripH))
	draw.Draw(dst, image.Rect(0, 0, w, b.Dy()), img, b.Min, draw.Src)
	draw.Draw(dst, image.Rect(0, b.Dy(), w, dst.Rect.Dy()), image.Black, image.Point{}, draw.Src)
	for i, line := range lines {
		drawText(dst, pad, b.Dy()+pad+i*fontH*s, line, color.White, s)
	}
	return dst
}

// The bitmap font: X11 misc-fixed 7x13 from x/image/font/basicfont.
const (
	fontAdvance = 7
	fontH       = 13
)

// textWidth is the width in pixels of text at scale s (one advance per rune).
func textWidth(text string, s int) int {
	return len([]rune(text)) * fontAdvance * s
}

// fitText cuts text to at most w pixels at scale s, ending it with ".." when
// cut.
func fitText(text string, w, s int) string {
	r := []rune(text)
	n := w / (fontAdvance * s)
	if len(r) <= n {
		return text
	}
	if n <= 2 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-2]) + ".."
}

// wrapText breaks text into lines of at most n runes, at spaces where it can.
func wrapText(text string, n int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := []rune{}
		for _, word := range strings.Fields(para) {
			wr := []rune(word)
			if len(line) > 0 && len(line)+1+len(wr) <= n {
				line = append(append(line, ' '), wr...)
				continue
			}
			if len(line) > 0 {
				out = append(out, string(line))
				line = line[:0:0]
			}
			for len(wr) > n {
				out = append(out, string(wr[:n]))
				wr = wr[n:]
			}
			line = append(line, wr...)
		}
		out = append(out, string(line))
	}
	return out
}

// drawText draws text with its top-left corner at (x, y), each font pixel as
// an s x s square, blending by the glyph's coverage.
func drawText(dst *image.RGBA, x, y int, text string, c color.Color, s int) {
	face := basicfont.Face7x13
	mask := face.Mask.(*image.Alpha)
	cr, cg, cb, _ := c.RGBA()
	fr, fg, fb := int(cr>>8), int(cg>>8), int(cb>>8)
	for _, r := range text {
		glyph := -1
		for _, rg := range face.Ranges {
			if r >= rg.Low && r < rg.High {
				glyph = int(r-rg.Low) + rg.Offset
			}
		}
		if glyph < 0 {
			glyph = int('?' - face.Ranges[0].Low)
		}
		for gy := 0; gy < fontH; gy++ {
			for gx := 0; gx < face.Width; gx++ {
				a := int(mask.AlphaAt(gx, glyph*fontH+gy).A)
				if a == 0 {
					continue
				}
				for dy := 0; dy < s; dy++ {
					for dx := 0; dx < s; dx++ {
						px, py := x+(face.Left+gx)*s+dx, y+gy*s+dy
						if !(image.Pt(px, py).In(dst.Rect)) {
							continue
						}
						p := dst.Pix[dst.PixOffset(px, py):]
						p[0] = uint8((fr*a + int(p[0])*(255-a)) / 255)
						p[1] = uint8((fg*a + int(p[1])*(255-a)) / 255)
						p[2] = uint8((fb*a + int(p[2])*(255-a)) / 255)
						p[3] = 0xff
					}
				}
			}
		}
		x += fontAdvance * s
	}
}
