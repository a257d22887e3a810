// Package termimage decodes the images the explorer writes to a terminal
// (sixel, including tmux's passthrough wrapping, and 24-bit half-block
// cells) back into pixels, so that tests can check what a terminal would
// show. It is a test helper, not a terminal emulator.
package termimage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// DecodeSixel decodes the first sixel image in b, which may hold other bytes
// around it (a terminal stream, SixelCell's lines). A tmux passthrough
// wrapper around it is undone first. The image is as large as its raster
// attributes say, or as far as pixels were drawn if that is larger; pixels
// never drawn are transparent. Colour registers may be set in RGB or HLS and
// start as the VT340's 16 defaults. Meant for tests: it checks what an
// encoder wrote, it is not a terminal emulator.
func DecodeSixel(b []byte) (image.Image, error) {
	if i := bytes.Index(b, []byte("\x1bPtmux;")); i >= 0 {
		b = unwrapTmux(b[i+len("\x1bPtmux;"):])
	}
	// Find DCS P1;P2;P3 q.
	for {
		i := bytes.Index(b, []byte("\x1bP"))
		if i < 0 {
			return nil, errors.New("termimage: decoding sixel: no DCS introducer")
		}
		b = b[i+2:]
		j := 0
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
			j++
		}
		if j < len(b) && b[j] == 'q' {
			b = b[j+1:]
			break
		}
	}
	d := sixelDecoder{data: b}
	d.regs = vt340Colors
	if err := d.run(); err != nil {
		return nil, fmt.Errorf("termimage: decoding sixel: at byte %d: %w", d.pos, err)
	}
	w, h := max(d.rasterW, d.extentW), max(d.rasterH, d.extentH)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	n := 4 * min(w, d.capW)
	for y := 0; y < min(h, d.rows()); y++ {
		copy(img.Pix[y*img.Stride:y*img.Stride+n], d.pix[y*4*d.capW:y*4*d.capW+n])
	}
	return img, nil
}

// unwrapTmux undoes TmuxPassthrough on the bytes after "ESC Ptmux;".
func unwrapTmux(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+1 < len(b) {
			if b[i+1] == 0x1b {
				out = append(out, 0x1b)
				i++
				continue
			}
			if b[i+1] == '\\' {
				break
			}
		}
		out = append(out, b[i])
	}
	return out
}

// vt340Colors are the VT340's default colour registers (percent RGB).
var vt340Colors = func() (regs [256]color.RGBA) {
	def := [16][3]uint32{
		{0, 0, 0}, {20, 20, 80}, {80, 13, 13}, {20, 80, 20},
		{80, 20, 80}, {20, 80, 80}, {80, 80, 20}, {53, 53, 53},
		{26, 26, 26}, {33, 33, 60}, {60, 26, 26}, {33, 60, 33},
		{60, 33, 60}, {33, 60, 60}, {60, 60, 33}, {80, 80, 80},
	}
	for i, c := range def {
		regs[i] = PercentRGB(c[0], c[1], c[2])
	}
	for i := 16; i < 256; i++ {
		regs[i] = color.RGBA{0, 0, 0, 0xff}
	}
	return regs
}()

// PercentRGB is the colour of a sixel register set in RGB percentages.
func PercentRGB(r, g, b uint32) color.RGBA {
	f := func(v uint32) uint8 { return uint8((min(v, 100)*255 + 50) / 100) }
	return color.RGBA{f(r), f(g), f(b), 0xff}
}

// hlsRGB converts a DEC HLS colour (hue 0..360 with 0 = blue, lightness and
// saturation 0..100) to RGB.
func hlsRGB(h, l, s uint32) color.RGBA {
	hue := float64((h + 240) % 360) // DEC's 0° is blue; the usual 0° is red
	lf, sf := float64(min(l, 100))/100, float64(min(s, 100))/100
	var q float64
	if lf < 0.5 {
		q = lf * (1 + sf)
	} else {
		q = lf + sf - lf*sf
	}
	p := 2*lf - q
	ch := func(t float64) uint8 {
		for t < 0 {
			t += 360
		}
		for t >= 360 {
			t -= 360
		}
		var v float64
		switch {
		case t < 60:
			v = p + (q-p)*t/60
		case t < 180:
			v = q
		case t < 240:
			v = p + (q-p)*(240-t)/60
		default:
			v = p
		}
		return uint8(v*255 + 0.5)
	}
	return color.RGBA{ch(hue + 120), ch(hue), ch(hue - 120), 0xff}
}

// MaxDecode bounds each dimension DecodeSixel accepts (64 MiB of pixels).
const MaxDecode = 4096

type sixelDecoder struct {
	data []byte
	pos  int
	regs [256]color.RGBA
	cur  int

	x, y             int // cursor: column, top row of the band
	rasterW, rasterH int
	extentW, extentH int
	pix              []uint8 // RGBA rows of capW pixels
	capW             int
}

func (d *sixelDecoder) rows() int {
	if d.capW == 0 {
		return 0
	}
	return len(d.pix) / (4 * d.capW)
}

// ensure grows the canvas to hold w x h pixels.
func (d *sixelDecoder) ensure(w, h int) {
	if w <= d.capW && h <= d.rows() {
		return
	}
	nw, nh := max(d.capW, 64), max(d.rows(), 64)
	for nw < w {
		nw *= 2
	}
	for nh < h {
		nh *= 2
	}
	pix := make([]uint8, 4*nw*nh)
	for y := 0; y < d.rows(); y++ {
		copy(pix[4*nw*y:], d.pix[4*d.capW*y:4*d.capW*(y+1)])
	}
	d.pix, d.capW = pix, nw
}

// params reads numeric parameters separated by ';' (empty ones are 0).
func (d *sixelDecoder) params() []int {
	var ps []int
	n, digits := 0, false
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c >= '0' && c <= '9':
			if n < 1<<24 {
				n = 10*n + int(c-'0')
			}
			digits = true
		case c == ';':
			ps = append(ps, n)
			n, digits = 0, false
		default:
			if digits || len(ps) > 0 {
				ps = append(ps, n)
			}
			return ps
		}
		d.pos++
	}
	if digits || len(ps) > 0 {
		ps = append(ps, n)
	}
	return ps
}

func (d *sixelDecoder) put(c byte, count int) error {
	if d.x+count > MaxDecode || d.y+6 > MaxDecode+6 {
		return fmt.Errorf("image beyond %d pixels", MaxDecode)
	}
	bits := c - '?'
	if bits != 0 {
		d.ensure(d.x+count, d.y+6)
		col := d.regs[d.cur]
		for k := 0; k < 6; k++ {
			if bits&(1<<k) == 0 {
				continue
			}
			row := d.pix[4*d.capW*(d.y+k):]
			for x := d.x; x < d.x+count; x++ {
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = col.R, col.G, col.B, col.A
			}
			d.extentH = max(d.extentH, d.y+k+1)
		}
		d.extentW = max(d.extentW, d.x+count)
	}
	d.x += count
	return nil
}

func (d *sixelDecoder) run() error {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c >= '?' && c <= '~':
			if err := d.put(c, 1); err != nil {
				return err
			}
			d.pos++
		case c == '!':
			d.pos++
			ps := d.params()
			if len(ps) != 1 || d.pos >= len(d.data) || d.data[d.pos] < '?' || d.data[d.pos] > '~' {
				return errors.New("bad repeat introducer")
			}
			if err := d.put(d.data[d.pos], max(ps[0], 1)); err != nil {
				return err
			}
			d.pos++
		case c == '#':
			d.pos++
			ps := d.params()
			if len(ps) == 0 {
				return errors.New("colour introducer without a register")
			}
			reg := ps[0]
			if reg > 255 {
				return fmt.Errorf("colour register %d beyond 255", reg)
			}
			switch {
			case len(ps) == 1:
			case len(ps) == 5 && ps[1] == 2:
				d.regs[reg] = PercentRGB(uint32(ps[2]), uint32(ps[3]), uint32(ps[4]))
			case len(ps) == 5 && ps[1] == 1:
				d.regs[reg] = hlsRGB(uint32(ps[2]), uint32(ps[3]), uint32(ps[4]))
			default:
				return fmt.Errorf("bad colour definition %v", ps)
			}
			d.cur = reg
		case c == '"':
			d.pos++
			ps := d.params()
			if len(ps) >= 4 {
				if ps[2] > MaxDecode || ps[3] > MaxDecode {
					return fmt.Errorf("raster %dx%d too large", ps[2], ps[3])
				}
				d.rasterW, d.rasterH = ps[2], ps[3]
			}
		case c == '$':
			d.x = 0
			d.pos++
		case c == '-':
			d.x = 0
			d.y += 6
			d.pos++
		case c == 0x1b || c == 0x9c:
			return nil // ST (ESC \ or its 8-bit form) or any other escape ends the image
		case c == '\r' || c == '\n' || c == ' ':
			d.pos++
		default:
			return fmt.Errorf("unexpected byte %q", c)
		}
	}
	return errors.New("missing string terminator")
}
