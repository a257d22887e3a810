package termimage

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeHalfBlock reads lines of half-block cells back into an image of
// width x 2·len(lines) pixels. It understands SGR sequences (0 / empty reset,
// 38;2 and 48;2 truecolour, 39 and 49 default; other attributes are skipped)
// and the cells "▀", "▄", "█" and " ". Every line must have the same number
// of cells and every pixel a truecolour. Meant for tests.
func DecodeHalfBlock(lines []string) (image.Image, error) {
	type cell struct{ top, bot int }
	grid := make([][]cell, len(lines))
	width := -1
	for li, line := range lines {
		fg, bg := -1, -1
		var cells []cell
		for i := 0; i < len(line); {
			if line[i] == 0x1b {
				if i+1 >= len(line) || line[i+1] != '[' {
					return nil, fmt.Errorf("termimage: decoding half-blocks: line %d byte %d: escape is not CSI", li, i)
				}
				j := i + 2
				for j < len(line) && (line[j] >= '0' && line[j] <= '9' || line[j] == ';' || line[j] == ':') {
					j++
				}
				if j >= len(line) || line[j] != 'm' {
					return nil, fmt.Errorf("termimage: decoding half-blocks: line %d byte %d: CSI is not SGR", li, i)
				}
				var err error
				if fg, bg, err = applySGR(line[i+2:j], fg, bg); err != nil {
					return nil, fmt.Errorf("termimage: decoding half-blocks: line %d byte %d: %v", li, i, err)
				}
				i = j + 1
				continue
			}
			r, n := utf8.DecodeRuneInString(line[i:])
			var c cell
			switch r {
			case '▀':
				c = cell{fg, bg}
			case '▄':
				c = cell{bg, fg}
			case '█':
				c = cell{fg, fg}
			case ' ':
				c = cell{bg, bg}
			default:
				return nil, fmt.Errorf("termimage: decoding half-blocks: line %d byte %d: unexpected %q", li, i, r)
			}
			if c.top < 0 || c.bot < 0 {
				return nil, fmt.Errorf("termimage: decoding half-blocks: line %d cell %d: colour not set", li, len(cells))
			}
			cells = append(cells, c)
			i += n
		}
		if width >= 0 && len(cells) != width {
			return nil, fmt.Errorf("termimage: decoding half-blocks: line %d has %d cells, want %d", li, len(cells), width)
		}
		width = len(cells)
		grid[li] = cells
	}
	img := image.NewRGBA(image.Rect(0, 0, max(width, 0), 2*len(lines)))
	for y, cells := range grid {
		for x, c := range cells {
			for k, v := range [2]int{c.top, c.bot} {
				p := img.Pix[(2*y+k)*img.Stride+4*x:]
				p[0], p[1], p[2], p[3] = uint8(v>>16), uint8(v>>8), uint8(v), 0xff
			}
		}
	}
	return img, nil
}

// applySGR applies one SGR parameter string to the current colours (-1 is the
// terminal's default).
func applySGR(params string, fg, bg int) (int, int, error) {
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	if params == "" {
		return -1, -1, nil
	}
	for i := 0; i < len(ps); i++ {
		switch ps[i] {
		case "0":
			fg, bg = -1, -1
		case "39":
			fg = -1
		case "49":
			bg = -1
		case "38", "48":
			if i+4 >= len(ps) || ps[i+1] != "2" {
				return fg, bg, fmt.Errorf("unsupported colour %q", params)
			}
			c := 0
			for _, s := range ps[i+2 : i+5] {
				v, err := strconv.Atoi(s)
				if err != nil || v < 0 || v > 255 {
					return fg, bg, fmt.Errorf("bad colour %q", params)
				}
				c = c<<8 | v
			}
			if ps[i] == "38" {
				fg = c
			} else {
				bg = c
			}
			i += 4
		}
	}
	return fg, bg, nil
}
