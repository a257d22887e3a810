package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
)

// stripRowsText is the layer strip's rows as plain text (rows from the
// bottom: strip, explain, status, info, key help).
func stripRowsText(m *Model) []string {
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	at := len(lines) - (textRows + len(m.infoLines()) - 1)
	return lines[at : at+stripRows]
}

// The layer strip's rows keep their slots in the same columns at 60, 80
// and 120 columns: the style letter, the psi mark, the noise letter and the
// cursor of slot s share one column, its resolution covers it, its group's
// bracket opens on its first column, and every row's note starts at the
// same column.
func TestStripColumnsAlign(t *testing.T) {
	for _, path := range []string{fixtureNV32, fixtureRos128, fixtureNV256} {
		for _, w := range []int{60, 80, 120} {
			m := newTestModel(t, path)
			resize(m, w, 40)
			press(m, "1") // coarse from B: both letters
			n := m.cfg.NumStyles()
			for s := 0; s < n; s++ {
				m.lat.cursor = s
				rows := stripRowsText(m)
				const prefix = 7
				cw := max(2, min(6, (m.screen.width-1-prefix-16)/n))
				lo, hi := prefix+s*cw, prefix+s*cw+cw-1 // content columns [lo, hi)
				col := func(row int, what string) int {
					r := []rune(rows[row])
					for c := lo; c < hi && c < len(r); c++ {
						if strings.ContainsRune(what, r[c]) {
							return c
						}
					}
					return -1
				}
				letter := col(2, "AB")
				if letter < 0 {
					t.Fatalf("%s %d cols slot %d: no letter in %q", path, w, s, rows[2])
				}
				for _, c := range []struct {
					row  int
					what string
					ok   bool
				}{
					{3, "ψ", s < m.lat.st.Cutoff},
					{4, "rc·-", true},
					{5, "^", true},
				} {
					if got := col(c.row, c.what); c.ok && got != letter {
						t.Errorf("%s %d cols slot %d: row %d has %q at column %d, the letter is at %d\n%s", path, w, s, c.row, c.what, got, letter, strings.Join(rows, "\n"))
					}
				}
				// The resolution covers the letter's column, inside the slot.
				r := []rune(rows[1])
				if letter >= len(r) || r[letter] == ' ' || (lo > 0 && r[lo-1] != ' ') {
					t.Errorf("%s %d cols slot %d: resolution row %q does not cover column %d", path, w, s, rows[1], letter)
				}
				if s == 0 || latent.GroupOf(m.cfg.SlotRes(s)) != latent.GroupOf(m.cfg.SlotRes(s-1)) {
					if g := []rune(rows[0]); len(g) <= lo || g[lo] != '├' {
						t.Errorf("%s %d cols slot %d: its group does not open at column %d: %q", path, w, s, lo, rows[0])
					}
				}
				// The notes after the slots start in one column (where they fit).
				end := prefix + n*cw + 1
				for i, row := range rows {
					r := []rune(row)
					if len(r) > end+1 && (r[end-1] != ' ' && i != 0 && i != 3 || r[end] == ' ') {
						t.Errorf("%s %d cols: row %d's note does not start at column %d: %q", path, w, i, end, row)
					}
				}
			}
		}
	}
}

// Nothing wraps at 60, 80, 120 or 200 columns: the status line drops whole
// parts (the timings first) rather than being cut or wrapping, and the info
// line wraps at spaces, never leaving a word or a ")" alone.
func TestTextFitsWidths(t *testing.T) {
	for _, w := range []int{60, 80, 120, 200} {
		m := newTestModel(t, fixtureNV256)
		resize(m, w, 40)
		m.pipe.imgs[imgR].rendered = true
		m.pipe.status.render, m.pipe.status.fromLayer, m.pipe.status.frame = 123e6, 3, 456e6
		m.anim.playing = true
		m.info = "recorded stylegan-tui_toyfaces-20250101-120000.gif (12 frames, 1.5 s) in the directory the explorer was started in (the working directory)"
		status := m.statusLine()
		if sw := ansi.StringWidth(status); sw > w-1 {
			t.Errorf("%d cols: status %d wide: %q", w, sw, status)
		}
		for _, part := range strings.Split(status, " · ") {
			if strings.HasSuffix(part, "…") && part != "rendering…" {
				t.Errorf("%d cols: status part cut: %q", w, part)
			}
		}
		if !strings.Contains(status, "▶ playing") {
			t.Errorf("%d cols: status lost the playing state before the timings: %q", w, status)
		}
		if w >= 200 && !strings.Contains(status, "frame") {
			t.Errorf("%d cols: status dropped parts that fit: %q", w, status)
		}
		info := m.infoLines()
		if strings.Join(info, " ") != m.info && len(info) < min(maxInfo, m.screen.height/4) {
			t.Errorf("%d cols: info wrapped to %q, losing text", w, info)
		}
		for i, l := range info {
			if ansi.StringWidth(l) > w-1 {
				t.Errorf("%d cols: info row %d is %d wide", w, i, ansi.StringWidth(l))
			}
			if i > 0 && len(strings.Fields(l)) < 2 {
				t.Errorf("%d cols: info row %d is a lone word: %q", w, i, l)
			}
		}
		for i, l := range strings.Split(m.View(), "\n") {
			if vw := visibleWidth(l); vw >= w {
				t.Errorf("%d cols: line %d is %d wide: %q", w, i, vw, ansi.Strip(l))
			}
		}
	}
}
