package tui

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// visibleWidth is the number of columns a view line moves the cursor:
// printed cells plus cursor-forward moves (sixel image rows).
func visibleWidth(s string) int {
	w := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j, seq := escEnd(s, i)
			if strings.HasPrefix(seq, "\x1b[") && strings.HasSuffix(seq, "C") {
				n, _ := strconv.Atoi(seq[2 : len(seq)-1])
				w += max(n, 1)
			}
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		w += ansi.StringWidth(string(r))
		i += n
	}
	return w
}

// escEnd returns the end of the escape sequence at s[i] and the sequence.
func escEnd(s string, i int) (int, string) {
	if i+1 >= len(s) {
		return len(s), s[i:]
	}
	switch s[i+1] {
	case '[':
		j := i + 2
		for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
			j++
		}
		return min(j+1, len(s)), s[i:min(j+1, len(s))]
	case 'P', ']', '_':
		// String: ends with ST (ESC \) or BEL.
		for j := i + 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1, s[i : j+1]
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2, s[i : j+2]
			}
		}
		return len(s), s[i:]
	}
	return i + 2, s[i : i+2]
}

// vt is a minimal terminal for tests: it follows the cursor through what the
// program writes, keeps the cells (character and SGR) and the sixel images
// drawn, and records every print or erase that touches an image's cells.
type vt struct {
	w, h         int
	cellW, cellH int
	row, col     int
	saved        [2]int
	sgr          string
	cells        [][]vtCell
	images       []vtImage
	violations   []string
	fed          int    // bytes written so far
	firstBad     int    // offset of the first violation
	cur          string // the chunk being written
	unwrapped    int    // sixels not directly inside ESC 7 ... ESC 8
	done         bool
}

type vtCell struct {
	ch  string
	sgr string
}

type vtImage struct {
	row, col, rows, cols int
	data                 string
	serial               int
}

func newVT(w, h, cellW, cellH int) *vt {
	v := &vt{w: w, h: h, cellW: cellW, cellH: cellH}
	v.clear()
	return v
}

func (v *vt) clear() {
	v.cells = make([][]vtCell, v.h)
	for r := range v.cells {
		v.cells[r] = make([]vtCell, v.w)
		for c := range v.cells[r] {
			v.cells[r][c] = vtCell{ch: " "}
		}
	}
	v.images = nil
}

func (v *vt) touch(r, c0, c1 int, what string) {
	for _, im := range v.images {
		if r >= im.row && r < im.row+im.rows && c1 > im.col && c0 < im.col+im.cols {
			if len(v.violations) == 0 {
				v.firstBad = v.fed
			}
			v.violations = append(v.violations, fmt.Sprintf("%s at row %d cols %d-%d inside image %d at (%d,%d) %dx%d",
				what, r, c0, c1-1, im.serial, im.row, im.col, im.cols, im.rows))
		}
	}
}

func (v *vt) write(s string) {
	defer func(n int) { v.fed = n + len(s) }(v.fed)
	base := v.fed
	serial := 0
	for i := 0; i < len(s) && !v.done; {
		b := s[i]
		switch {
		case b == 0x1b:
			j, seq := escEnd(s, i)
			v.esc(s, i, seq, &serial)
			i = j
			continue
		case b == '\r':
			v.col = 0
		case b == '\n':
			v.row = min(v.row+1, v.h-1)
		case b < 0x20:
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			v.fed = base + i
			if v.col < v.w && v.row < v.h {
				v.touch(v.row, v.col, v.col+1, fmt.Sprintf("print %q", r))
				v.cells[v.row][v.col] = vtCell{ch: string(r), sgr: v.sgr}
			}
			v.col = min(v.col+1, v.w)
			i += n
			continue
		}
		i++
	}
}

func (v *vt) esc(s string, i int, seq string, serial *int) {
	switch {
	case seq == "\x1b7":
		v.saved = [2]int{v.row, v.col}
	case seq == "\x1b8":
		v.row, v.col = v.saved[0], v.saved[1]
	case strings.HasPrefix(seq, "\x1bP"):
		v.sixel(s, i, seq, serial)
	case strings.HasPrefix(seq, "\x1b["):
		body, final := seq[2:len(seq)-1], seq[len(seq)-1]
		if strings.HasPrefix(body, "?") {
			if body == "?1049l" && final == 'l' {
				v.done = true // left the alternate screen: the program is over
			}
			return
		}
		ps := strings.Split(body, ";")
		arg := func(k, def int) int {
			if k < len(ps) {
				if n, err := strconv.Atoi(ps[k]); err == nil {
					return n
				}
			}
			return def
		}
		switch final {
		case 'A':
			v.row = max(0, v.row-max(arg(0, 1), 1))
		case 'B':
			v.row = min(v.h-1, v.row+max(arg(0, 1), 1))
		case 'C':
			v.col = min(v.w, v.col+max(arg(0, 1), 1))
		case 'D':
			v.col = max(0, v.col-max(arg(0, 1), 1))
		case 'H':
			v.row, v.col = min(v.h-1, max(arg(0, 1), 1)-1), min(v.w-1, max(arg(1, 1), 1)-1)
		case 'K':
			c0, c1 := v.col, v.w
			switch arg(0, 0) {
			case 1:
				c0, c1 = 0, v.col+1
			case 2:
				c0, c1 = 0, v.w
			}
			v.touch(v.row, c0, c1, "erase line")
			for c := c0; c < c1 && v.row < v.h; c++ {
				v.cells[v.row][c] = vtCell{ch: " "}
			}
		case 'J':
			if arg(0, 0) == 2 {
				v.clear()
				return
			}
			for r := v.row; r < v.h; r++ {
				c0 := 0
				if r == v.row {
					c0 = v.col
				}
				v.touch(r, c0, v.w, "erase below")
				for c := c0; c < v.w; c++ {
					v.cells[r][c] = vtCell{ch: " "}
				}
			}
		case 'm':
			if body == "" || body == "0" {
				v.sgr = ""
			} else {
				v.sgr += seq
			}
		}
	}
}

// sixel records an image at the cursor; it must sit inside ESC 7 (and a
// cursor-up) ... ESC 8.
func (v *vt) sixel(s string, i int, seq string, serial *int) {
	pre := s[max(0, i-16):i]
	k := strings.LastIndex(pre, "\x1b7")
	between := ""
	if k >= 0 {
		between = pre[k+2:]
	}
	okPre := k >= 0 && (between == "" || (strings.HasPrefix(between, "\x1b[") && strings.HasSuffix(between, "A") && !strings.Contains(between[1:], "\x1b")))
	end := i + len(seq)
	if !okPre || !strings.HasPrefix(s[end:], "\x1b8") {
		v.unwrapped++
	}
	w, h := rasterSize(seq)
	im := vtImage{row: v.row, col: v.col, rows: (h + v.cellH - 1) / v.cellH, cols: (w + v.cellW - 1) / v.cellW, data: seq}
	// A new image replaces those it covers.
	kept := v.images[:0]
	for _, o := range v.images {
		if !(o.row >= im.row && o.row+o.rows <= im.row+im.rows && o.col >= im.col && o.col+o.cols <= im.col+im.cols) {
			kept = append(kept, o)
		}
	}
	*serial++
	im.serial = len(kept) + *serial
	v.images = append(kept, im)
	// Pixels replace the text under them.
	for r := im.row; r < min(v.h, im.row+im.rows); r++ {
		for c := im.col; c < min(v.w, im.col+im.cols); c++ {
			v.cells[r][c] = vtCell{ch: " "}
		}
	}
}

// rasterSize reads "Pan;Pad;Ph;Pv from a sixel DCS.
func rasterSize(seq string) (w, h int) {
	q := strings.IndexByte(seq, 'q')
	if q < 0 || q+1 >= len(seq) || seq[q+1] != '"' {
		return 0, 0
	}
	rest := seq[q+2:]
	end := strings.IndexFunc(rest, func(r rune) bool { return !(r >= '0' && r <= '9' || r == ';') })
	f := strings.Split(rest[:end], ";")
	if len(f) < 4 {
		return 0, 0
	}
	w, _ = strconv.Atoi(f[2])
	h, _ = strconv.Atoi(f[3])
	return w, h
}

// text returns row r as plain text.
func (v *vt) text(r int) string {
	var b strings.Builder
	for _, c := range v.cells[r] {
		b.WriteString(c.ch)
	}
	return b.String()
}

// find returns the first row and column where text starts.
func (v *vt) find(text string) (int, int, bool) {
	for r := range v.cells {
		line := v.text(r)
		if k := strings.Index(line, text); k >= 0 {
			return r, utf8.RuneCountInString(line[:k]), true
		}
	}
	return 0, 0, false
}

// imageAt returns the image whose top-left cell is (r, c).
func (v *vt) imageAt(r, c int) (vtImage, bool) {
	for k := len(v.images) - 1; k >= 0; k-- {
		if v.images[k].row == r && v.images[k].col == c {
			return v.images[k], true
		}
	}
	return vtImage{}, false
}
