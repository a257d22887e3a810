package render

import (
	"image"
	"strconv"
)

// HalfBlock draws img in cols x rows terminal cells with the upper half block
// "▀": its 24-bit foreground is the upper pixel and its background the lower,
// so the image is first scaled to cols x 2·rows pixels (Resize: area average
// when shrinking). Colour codes are written only when they change along a line
// and each line ends with a reset (SGR 0), so lines stand alone. Each line is
// cols columns wide. Use Fit(w, h, cols, rows, 1, 2) to keep the aspect ratio.
// Returns nil when cols or rows is not positive.
func HalfBlock(img image.Image, cols, rows int) []string {
	if cols <= 0 || rows <= 0 {
		return nil
	}
	m := Resize(img, cols, 2*rows)
	lines := make([]string, rows)
	buf := make([]byte, 0, cols*40)
	for r := 0; r < rows; r++ {
		buf = buf[:0]
		top := m.Pix[2*r*m.Stride:]
		bot := m.Pix[(2*r+1)*m.Stride:]
		fg, bg := -1, -1
		for x := 0; x < cols; x++ {
			t := int(top[4*x])<<16 | int(top[4*x+1])<<8 | int(top[4*x+2])
			b := int(bot[4*x])<<16 | int(bot[4*x+1])<<8 | int(bot[4*x+2])
			switch {
			case t != fg && b != bg:
				buf = append(buf, "\x1b[38;2;"...)
				buf = appendRGB(buf, t)
				buf = append(buf, ";48;2;"...)
				buf = appendRGB(buf, b)
				buf = append(buf, 'm')
			case t != fg:
				buf = append(buf, "\x1b[38;2;"...)
				buf = appendRGB(buf, t)
				buf = append(buf, 'm')
			case b != bg:
				buf = append(buf, "\x1b[48;2;"...)
				buf = appendRGB(buf, b)
				buf = append(buf, 'm')
			}
			fg, bg = t, b
			buf = append(buf, "▀"...)
		}
		buf = append(buf, "\x1b[0m"...)
		lines[r] = string(buf)
	}
	return lines
}

func appendRGB(dst []byte, c int) []byte {
	dst = strconv.AppendUint(dst, uint64(c>>16), 10)
	dst = append(dst, ';')
	dst = strconv.AppendUint(dst, uint64(c>>8&0xff), 10)
	dst = append(dst, ';')
	return strconv.AppendUint(dst, uint64(c&0xff), 10)
}
