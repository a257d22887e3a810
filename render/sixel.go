package render

import (
	"image"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Sixel writes img as one DEC sixel image: DCS "ESC P 0;1;0 q" (pixel aspect
// from the raster attributes, undrawn pixels left transparent), raster
// attributes "1;1;W;H, colour registers "#i;2;r;g;b" (percent, rounded) for
// the palette entries the image uses, then six-row bands with run-length
// encoding, ended by ST "ESC \". Register i holds img.Palette[i], so the
// terminal must offer as many registers as the palette has colours (size the
// Palette from the XTSMGRAPHICS reply). Pixels whose palette colour has zero
// alpha are not drawn (they stay transparent); other alpha is ignored.
//
// The encoder does no colour work: make img with a Palette reused across the
// frames of an image family (Palette.Dither, PaletteCache).
func Sixel(w io.Writer, img *image.Paletted) error {
	buf := sixelBufs.Get().(*[]byte)
	*buf = AppendSixel((*buf)[:0], img)
	_, err := w.Write(*buf)
	if cap(*buf) <= 4<<20 {
		sixelBufs.Put(buf)
	}
	return err
}

var sixelBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// sixelScratch holds the per-band bit rows of an encode.
type sixelScratch struct {
	bits       []uint8 // 256 rows of width bytes: bit k set = pixel in band row k has that colour
	minX, maxX [256]int
	seen       [256]bool
}

var sixelScratches = sync.Pool{New: func() any { return new(sixelScratch) }}

// AppendSixel appends the bytes Sixel writes to dst and returns the extended
// slice.
func AppendSixel(dst []byte, img *image.Paletted) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst = append(dst, "\x1bP0;1;0q\"1;1;"...)
	dst = strconv.AppendInt(dst, int64(max(w, 0)), 10)
	dst = append(dst, ';')
	dst = strconv.AppendInt(dst, int64(max(h, 0)), 10)
	if w <= 0 || h <= 0 {
		return append(dst, "\x1b\\"...)
	}

	var used, skip [256]bool
	for i, c := range img.Palette[:min(len(img.Palette), 256)] {
		_, _, _, a := c.RGBA()
		skip[i] = a == 0
	}
	for y := 0; y < h; y++ {
		off := img.PixOffset(b.Min.X, b.Min.Y+y)
		for _, i := range img.Pix[off : off+w] {
			used[i] = true
		}
	}
	for i, ok := range used {
		if !ok || skip[i] {
			continue
		}
		var r, g, bl uint32
		if i < len(img.Palette) {
			r, g, bl, _ = img.Palette[i].RGBA()
		}
		dst = append(dst, '#')
		dst = strconv.AppendInt(dst, int64(i), 10)
		dst = append(dst, ";2;"...)
		dst = strconv.AppendUint(dst, uint64(percent(r)), 10)
		dst = append(dst, ';')
		dst = strconv.AppendUint(dst, uint64(percent(g)), 10)
		dst = append(dst, ';')
		dst = strconv.AppendUint(dst, uint64(percent(bl)), 10)
	}

	sc := sixelScratches.Get().(*sixelScratch)
	defer sixelScratches.Put(sc)
	if cap(sc.bits) < 256*w {
		sc.bits = make([]uint8, 256*w)
	}
	bits := sc.bits[:256*w] // all zero between bands: emitting clears what it reads
	for band := 0; band*6 < h; band++ {
		if band > 0 {
			dst = append(dst, '-')
		}
		for k := 0; k < 6 && band*6+k < h; k++ {
			off := img.PixOffset(b.Min.X, b.Min.Y+band*6+k)
			mask := uint8(1) << k
			for x, i := range img.Pix[off : off+w] {
				if skip[i] {
					continue
				}
				if !sc.seen[i] {
					sc.seen[i] = true
					sc.minX[i], sc.maxX[i] = x, x
				} else {
					sc.minX[i] = min(sc.minX[i], x)
					sc.maxX[i] = max(sc.maxX[i], x)
				}
				bits[int(i)*w+x] |= mask
			}
		}
		first := true
		for i := 0; i < 256; i++ {
			if !sc.seen[i] {
				continue
			}
			sc.seen[i] = false
			if !first {
				dst = append(dst, '$')
			}
			first = false
			dst = append(dst, '#')
			dst = strconv.AppendInt(dst, int64(i), 10)
			row := bits[i*w : i*w+w]
			lo, hi := sc.minX[i], sc.maxX[i]
			dst = appendRun(dst, 0, lo)
			run, cnt := row[lo], 0
			for x := lo; x <= hi; x++ {
				c := row[x]
				row[x] = 0
				if c != run {
					dst = appendRun(dst, run, cnt)
					run, cnt = c, 0
				}
				cnt++
			}
			dst = appendRun(dst, run, cnt)
		}
	}
	return append(dst, "\x1b\\"...)
}

// percent converts a 16-bit colour channel to the 0..100 of sixel colour
// registers, rounding to nearest.
func percent(v uint32) uint32 { return (v*100 + 0xffff/2) / 0xffff }

// appendRun appends cnt sixels of bit pattern c: literally up to three, as a
// repeat introducer "!n" beyond.
func appendRun(dst []byte, c uint8, cnt int) []byte {
	ch := '?' + c
	switch {
	case cnt <= 0:
		return dst
	case cnt <= 3:
		for ; cnt > 0; cnt-- {
			dst = append(dst, ch)
		}
		return dst
	}
	dst = append(dst, '!')
	dst = strconv.AppendInt(dst, int64(cnt), 10)
	return append(dst, ch)
}

// CellOptions adjusts SixelCell; a nil *CellOptions means the zero value.
type CellOptions struct {
	// Tmux wraps the image in tmux's passthrough escape (TmuxPassthrough).
	// tmux (3.3+, with `set -g allow-passthrough on`) then forwards it to the
	// outer terminal, which must support sixel; tmux does not track the image.
	Tmux bool
}

// SixelCell lays img out as rows lines for a bubbletea (v1) view, taking cols
// x rows cells (size img to them first, see Fit):
//
//	line 0:        ESC 7, the sixel image, ESC 8, CSI cols C
//	lines 1..rows-1: CSI cols C
//
// ESC 7 / ESC 8 save and restore the cursor, so the terminal's cursor ends
// where the renderer believes it is; the cursor-forward moves keep the cells
// under the image free of printed characters (any character, even a space,
// would erase the pixels below it). Every line measures zero columns to
// lipgloss/ansi, so lay the screen out with cols-wide placeholders first and
// substitute these lines last. With opts.Tmux the save/sixel/restore part is
// wrapped whole in tmux passthrough, so the outer terminal restores its own
// cursor. Returns nil when cols or rows is not positive.
func SixelCell(img *image.Paletted, cols, rows int, opts *CellOptions) []string {
	if cols <= 0 || rows <= 0 {
		return nil
	}
	fwd := "\x1b[" + strconv.Itoa(cols) + "C"
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, "\x1b7"...)
	buf = AppendSixel(buf, img)
	buf = append(buf, "\x1b8"...)
	first := string(buf)
	if opts != nil && opts.Tmux {
		first = TmuxPassthrough(first)
	}
	lines := make([]string, rows)
	lines[0] = first + fwd
	for i := 1; i < rows; i++ {
		lines[i] = fwd
	}
	return lines
}

// TmuxPassthrough wraps seq for tmux's passthrough: "ESC Ptmux;", seq with
// every ESC doubled, then ST "ESC \".
func TmuxPassthrough(seq string) string {
	var b strings.Builder
	b.Grow(len(seq) + len(seq)/64 + 16)
	b.WriteString("\x1bPtmux;")
	for i := 0; i < len(seq); i++ {
		if seq[i] == 0x1b {
			b.WriteByte(0x1b)
		}
		b.WriteByte(seq[i])
	}
	b.WriteString("\x1b\\")
	return b.String()
}
