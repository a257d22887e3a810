package tui

import (
	"fmt"
	"strings"
	"testing"
)

// Each source of the cell size, answering for a 140x45 window with a cell of
// its own, so that the winner can be told apart: CSI 16 t 7x14, CSI 14 t
// 8x16, TIOCGWINSZ 9x18, the SSH pty 11x22, XTSMGRAPHICS 12x24.
var sizeSources = []struct {
	from string
	set  func(a *sizeAnswers)
	w, h int
}{
	{fromCSI16, func(a *sizeAnswers) { a.cell16 = [2]int{7, 14} }, 7, 14},
	{fromCSI14, func(a *sizeAnswers) { a.area14 = [2]int{140 * 8, 45 * 16} }, 8, 16},
	// The pty's pixels include the window's padding (xterm: 2 px a side).
	{fromTTY, func(a *sizeAnswers) { a.tty = PtySize{140, 45, 140*9 + 4, 45*18 + 4} }, 9, 18},
	{fromSSH, func(a *sizeAnswers) { a.ssh = PtySize{140, 45, 140*11 + 4, 45*22 + 4} }, 11, 22},
	{fromXTSMG, func(a *sizeAnswers) { a.gfx = [2]int{140 * 12, 45 * 24} }, 12, 24},
}

// Every combination of answers (none, CSI 16 t, CSI 14 t, TIOCGWINSZ, the
// SSH pty, XTSMGRAPHICS): the first in that order wins; none gives no size.
// Through tmux passthrough, the outside terminal's text area and graphics
// size (its window, not the pane) are never used.
func TestCellSizeCombinations(t *testing.T) {
	for mask := 0; mask < 1<<len(sizeSources); mask++ {
		for _, viaTmux := range []bool{false, true} {
			a := sizeAnswers{cols: 140, rows: 45, viaTmux: viaTmux}
			var names []string
			want := struct {
				w, h int
				from string
			}{0, 0, fromUnknown}
			for i, s := range sizeSources {
				if mask&(1<<i) == 0 {
					continue
				}
				s.set(&a)
				names = append(names, s.from)
				outside := s.from == fromCSI14 || s.from == fromXTSMG
				if want.from == fromUnknown && !(viaTmux && outside) {
					want.w, want.h, want.from = s.w, s.h, s.from
				}
			}
			w, h, from := cellSize(a)
			if w != want.w || h != want.h || from != want.from {
				t.Errorf("answers [%s] tmux=%v: %dx%d from %q, want %dx%d from %q",
					strings.Join(names, ", "), viaTmux, w, h, from, want.w, want.h, want.from)
			}
		}
	}
}

// What stock xterm -ti vt340 answered (no CSI 16 t / 14 t without
// allowWindowOps): its XTSMGRAPHICS and pixel sizes give its 6x13 font.
// Implausible or partial answers are skipped, never taken.
func TestCellSizeAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    sizeAnswers
		w, h int
		from string
	}{
		{"xterm 80x24 XTSMGRAPHICS", sizeAnswers{cols: 80, rows: 24, gfx: [2]int{480, 312}}, 6, 13, fromXTSMG},
		{"xterm 80x24 TIOCGWINSZ", sizeAnswers{cols: 80, rows: 24, tty: PtySize{80, 24, 484, 316}, gfx: [2]int{480, 312}}, 6, 13, fromTTY},
		{"xterm 140x45 TIOCGWINSZ", sizeAnswers{cols: 140, rows: 45, tty: PtySize{140, 45, 844, 589}}, 6, 13, fromTTY},
		{"xterm 140x45 window ops", sizeAnswers{cols: 140, rows: 45, cell16: [2]int{6, 13}, area14: [2]int{840, 585}}, 6, 13, fromCSI16},
		// tmux 3.3 sets the pane's pixel size from the client's cell.
		{"tmux pane in xterm", sizeAnswers{cols: 100, rows: 29, viaTmux: true, tty: PtySize{100, 29, 600, 377}, gfx: [2]int{600, 390}}, 6, 13, fromTTY},
		{"tmux outside's window only", sizeAnswers{cols: 100, rows: 29, viaTmux: true, gfx: [2]int{600, 390}}, 0, 0, fromUnknown},
		// The pty knows its own grid, whatever the explorer was told.
		{"pty grid wins over the view's", sizeAnswers{cols: 80, rows: 24, ssh: PtySize{120, 40, 1200, 800}}, 10, 20, fromSSH},
		{"pixels unset", sizeAnswers{cols: 80, rows: 24, tty: PtySize{80, 24, 0, 0}}, 0, 0, fromUnknown},
		// A fixed maximum, not whole cells (xterm past its maxGraphicSize, or
		// a terminal that reports a constant): not taken.
		{"XTSMGRAPHICS a maximum", sizeAnswers{cols: 200, rows: 60, gfx: [2]int{1000, 1000}}, 0, 0, fromUnknown},
		{"XTSMGRAPHICS square cells", sizeAnswers{cols: 80, rows: 24, gfx: [2]int{8000, 2400}}, 0, 0, fromUnknown},
		{"XTSMGRAPHICS huge", sizeAnswers{cols: 80, rows: 24, gfx: [2]int{8000, 4800}}, 0, 0, fromUnknown},
		{"area wider than tall cells", sizeAnswers{cols: 80, rows: 24, area14: [2]int{1600, 240}}, 0, 0, fromUnknown},
		{"no grid", sizeAnswers{area14: [2]int{840, 585}}, 0, 0, fromUnknown},
		{"16 t zero", sizeAnswers{cols: 80, rows: 24, cell16: [2]int{0, 0}, area14: [2]int{800, 480}}, 10, 20, fromCSI14},
		{"16 t absurd", sizeAnswers{cols: 80, rows: 24, cell16: [2]int{1, 900}, tty: PtySize{80, 24, 800, 480}}, 10, 20, fromTTY},
	} {
		w, h, from := cellSize(tc.a)
		if w != tc.w || h != tc.h || from != tc.from {
			t.Errorf("%s: %dx%d from %q, want %dx%d from %q", tc.name, w, h, from, tc.w, tc.h, tc.from)
		}
	}
}

// The graphics mode for every combination of what the terminal said.
func TestDecideGraphics(t *testing.T) {
	type want struct {
		mode   gfxMode
		cw, ch int
		hint   string // a substring of the hint; "" = no hint
	}
	for _, tc := range []struct {
		name string
		f    termFacts
		want want
	}{
		{"auto: sixel and its size", termFacts{requested: "auto", answered: true, sixel: true, cellW: 6, cellH: 13}, want{gfxSixel, 6, 13, ""}},
		{"auto: sixel, no size", termFacts{requested: "auto", answered: true, sixel: true}, want{gfxHalfBlock, 0, 0, "did not say its cell size"}},
		{"auto: no sixel", termFacts{requested: "auto", answered: true, cellW: 6, cellH: 13}, want{gfxHalfBlock, 6, 13, ""}},
		{"auto: no answer", termFacts{requested: "auto"}, want{gfxHalfBlock, 0, 0, ""}},
		{"auto: tmux without passthrough", termFacts{requested: "auto", answered: true, inTmux: true, cellW: 6, cellH: 13}, want{gfxHalfBlock, 6, 13, ""}},
		{"auto: tmux passthrough works", termFacts{requested: "auto", answered: true, sixel: true, inTmux: true, pass: true, cellW: 6, cellH: 13}, want{gfxSixel, 6, 13, ""}},
		{"auto: tmux passthrough, outside has no sixel", termFacts{requested: "auto", answered: true, inTmux: true, pass: true, cellW: 6, cellH: 13}, want{gfxHalfBlock, 6, 13, ""}},
		{"auto: tmux says passthrough off", termFacts{requested: "auto", inTmux: true, pass: true, passOff: true}, want{gfxHalfBlock, 0, 0, "allow-passthrough is off"}},
		{"auto: no answer through passthrough", termFacts{requested: "auto", inTmux: true, pass: true}, want{gfxHalfBlock, 0, 0, "no answer through tmux passthrough"}},
		{"sixel: size known", termFacts{requested: "sixel", cellW: 9, cellH: 18}, want{gfxSixel, 9, 18, ""}},
		{"sixel: size unknown", termFacts{requested: "sixel"}, want{gfxSixel, assumedCellW, assumedCellH, "6x12"}},
		{"sixel: tmux without passthrough", termFacts{requested: "sixel", inTmux: true, cellW: 6, cellH: 13}, want{gfxSixel, 6, 13, "needs --tmux-passthrough"}},
		{"sixel: tmux passthrough off", termFacts{requested: "sixel", inTmux: true, pass: true, passOff: true, cellW: 6, cellH: 13}, want{gfxSixel, 6, 13, "passthrough is off"}},
		{"halfblock", termFacts{requested: "halfblock", answered: true, sixel: true, cellW: 6, cellH: 13}, want{gfxHalfBlock, 6, 13, ""}},
	} {
		d := decideGraphics(tc.f)
		got := want{d.mode, d.cellW, d.cellH, d.hint}
		if got.mode != tc.want.mode || got.cw != tc.want.cw || got.ch != tc.want.ch ||
			(tc.want.hint == "") != (d.hint == "") || !strings.Contains(d.hint, tc.want.hint) {
			t.Errorf("%s: %v %dx%d hint %q, want %v %dx%d hint with %q", tc.name, got.mode, got.cw, got.ch, d.hint,
				tc.want.mode, tc.want.cw, tc.want.ch, tc.want.hint)
		}
	}
}

// The model end to end on the replies xterm sends: stock (XTSMGRAPHICS and
// DA1 only) and with window ops, locally (TIOCGWINSZ) and over SSH (the pty
// request's pixels), and with nothing but DA1.
func TestDetectCellSize(t *testing.T) {
	model := loadFixture(t, fixtureNV32)
	const da1 = "\x1b[?63;1;2;4;6;9;15;16;22;28c"
	for _, tc := range []struct {
		name    string
		replies []string
		tty     PtySize
		ssh     PtySize
		mode    gfxMode
		w, h    int
		from    string
	}{
		{"stock xterm, no pty pixels", []string{"\x1b[?2;0;840;585S", da1}, PtySize{}, PtySize{}, gfxSixel, 6, 13, fromXTSMG},
		{"stock xterm, local", []string{"\x1b[?2;0;840;585S", da1}, PtySize{140, 45, 844, 589}, PtySize{}, gfxSixel, 6, 13, fromTTY},
		{"stock xterm, over SSH", []string{"\x1b[?2;0;840;585S", da1}, PtySize{}, PtySize{140, 45, 844, 589}, gfxSixel, 6, 13, fromSSH},
		{"xterm with window ops", []string{"\x1b[6;13;6t", "\x1b[4;585;840t", "\x1b[?2;0;840;585S", da1}, PtySize{}, PtySize{}, gfxSixel, 6, 13, fromCSI16},
		{"DA1 only", []string{da1}, PtySize{}, PtySize{}, gfxHalfBlock, defaultCellW, defaultCellH, fromUnknown},
	} {
		opts := Options{Model: model, Width: 140, Height: 45, Raw: &tape{}}
		if tc.tty != (PtySize{}) {
			tty := tc.tty
			opts.TTYSize = func() PtySize { return tty }
		}
		if tc.ssh != (PtySize{}) {
			ssh := tc.ssh
			opts.SSHPty = func() PtySize { return ssh }
		}
		m, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tc.replies {
			reply, ok := parseCSI(r)
			if !ok {
				t.Fatalf("%s: %q does not parse", tc.name, r)
			}
			m.reply(reply)
		}
		if m.term.detecting || m.term.mode != tc.mode || m.term.cellW != tc.w || m.term.cellH != tc.h || m.term.cellFrom != tc.from {
			t.Errorf("%s: %v %dx%d from %q (detecting %v), want %v %dx%d from %q", tc.name, m.term.mode, m.term.cellW, m.term.cellH, m.term.cellFrom, m.term.detecting,
				tc.mode, tc.w, tc.h, tc.from)
		}
		if tc.mode == gfxSixel {
			if st := m.statusLine(); !strings.Contains(st, fmt.Sprintf("sixel %dx%d", tc.w, tc.h)) {
				t.Errorf("%s: status %q", tc.name, st)
			}
		}
	}
}

// A text area or graphics size is divided by the grid it was measured on:
// after a resize (its cell unchanged) it gives the same cell, not its
// pixels over the new grid.
func TestCellSizeAfterResize(t *testing.T) {
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Width: 140, Height: 45, Raw: &tape{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"\x1b[4;585;840t", "\x1b[?63;1;2;4c"} {
		reply, _ := parseCSI(r)
		m.reply(reply)
	}
	if m.term.mode != gfxSixel || m.term.cellW != 6 || m.term.cellH != 13 {
		t.Fatalf("at 140x45: %v %dx%d, want sixel 6x13", m.term.mode, m.term.cellW, m.term.cellH)
	}
	resize(m, 100, 40) // 840x585 over 100x40 would be 8x14
	if m.term.mode != gfxSixel || m.term.cellW != 6 || m.term.cellH != 13 || m.screen.lay.cellW != 6 {
		t.Errorf("after resizing to 100x40: %v %dx%d (layout %dx%d), want sixel 6x13", m.term.mode, m.term.cellW, m.term.cellH, m.screen.lay.cellW, m.screen.lay.cellH)
	}
}
