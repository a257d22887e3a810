package tui

// Cell size and graphics mode: what the explorer decides from the
// terminal's answers to its start-up queries. Both decisions are pure
// functions of what was learnt, so every combination is unit-tested.
//
// Why the cell size matters: a sixel image is sized in pixels, the layout in
// cells. An image made for cells larger than the terminal's spills into the
// next panel and the layer strip (stock xterm: 6x13 cells, drawn as if 10x20,
// 1.7x too big); one made for smaller cells only leaves a margin. So every
// estimate below errs small, and with no estimate at all the explorer does
// not guess: it draws half-blocks, which are laid out in cells and cannot
// overlap.

// PtySize is a window's size as a pseudo-terminal knows it: in cells and, when
// the terminal emulator sets them, in pixels (0 when unset).
type PtySize struct{ Cols, Rows, Width, Height int }

// sizeAnswers is everything learnt about the size of a cell in pixels.
type sizeAnswers struct {
	cell16 [2]int // CSI 16 t reply: the cell (w, h)
	area14 [2]int // CSI 14 t reply: the text area (w, h)
	gfx    [2]int // XTSMGRAPHICS reply (CSI ? 2 ; 1 S): the largest sixel image (w, h)
	// cols, rows: the grid the text area and XTSMGRAPHICS are divided by.
	cols, rows int
	tty        PtySize // TIOCGWINSZ of the local terminal
	ssh        PtySize // the SSH client's pty request (or its last window change)
	// viaTmux: the answers came from the terminal outside tmux through
	// passthrough; its text area and graphics size are its whole window,
	// not the pane, so they say nothing about the pane's cells.
	viaTmux bool
}

// Where a cell size came from (the status line names it).
const (
	fromCSI16   = "CSI 16 t"
	fromCSI14   = "CSI 14 t"
	fromTTY     = "TIOCGWINSZ"
	fromSSH     = "SSH pty"
	fromXTSMG   = "XTSMGRAPHICS"
	fromUnknown = ""
)

// cellSize picks the cell size from the answers, in this order:
//
//  1. CSI 16 t: the terminal states its cell size. Exact.
//  2. CSI 14 t: the text area, divided by the grid. Exact where the area is
//     whole cells (xterm: 840x585 at 140x45).
//  3. The pty's pixel size, TIOCGWINSZ locally or what the SSH client sent in
//     its pty request (OpenSSH forwards its own TIOCGWINSZ). The emulator
//     sets it for the whole window, padding included (xterm: 844x589 at
//     140x45, a 2 px border on each side), so dividing rounds down to the
//     cell or below it: never too large. Many emulators leave it 0.
//  4. XTSMGRAPHICS: the largest sixel image the terminal shows. xterm
//     reports its text area there unless that exceeds its maxGraphicSize;
//     other terminals report a fixed maximum that has nothing to do with the
//     window, so it is taken only when it divides into whole cells, as a
//     text area does (480x312 at 80x24), and last.
//
// Sizes the window's own terminal gives (1, 2, 4) come before the pty's (3)
// where they are exact; the pty's come before a maximum that is only
// sometimes the window (4). It returns from == fromUnknown when nothing
// usable was answered.
func cellSize(a sizeAnswers) (w, h int, from string) {
	if cw, ch := a.cell16[0], a.cell16[1]; cw >= 2 && ch >= 2 && cw <= 200 && ch <= 400 {
		return cw, ch, fromCSI16
	}
	if !a.viaTmux {
		if cw, ch, ok := divide(a.area14, a.cols, a.rows, false); ok {
			return cw, ch, fromCSI14
		}
	}
	for _, p := range []struct {
		s    PtySize
		from string
	}{{a.tty, fromTTY}, {a.ssh, fromSSH}} {
		if cw, ch, ok := divide([2]int{p.s.Width, p.s.Height}, p.s.Cols, p.s.Rows, false); ok {
			return cw, ch, p.from
		}
	}
	if !a.viaTmux {
		if cw, ch, ok := divide(a.gfx, a.cols, a.rows, true); ok {
			return cw, ch, fromXTSMG
		}
	}
	return 0, 0, fromUnknown
}

// divide turns a size in pixels over a grid into a cell size, rounding
// down; whole demands that the pixels be whole cells. The result must be a
// plausible cell: 3-64 px wide, 6-160 px high, taller than wide (a text
// cell always is).
func divide(px [2]int, cols, rows int, whole bool) (cw, ch int, ok bool) {
	if px[0] <= 0 || px[1] <= 0 || cols <= 0 || rows <= 0 {
		return 0, 0, false
	}
	cw, ch = px[0]/cols, px[1]/rows
	if whole && (px[0]%cols != 0 || px[1]%rows != 0) {
		return 0, 0, false
	}
	if cw < 3 || ch < 6 || cw > 64 || ch > 160 || ch <= cw {
		return 0, 0, false
	}
	return cw, ch, true
}

// assumedCellW, assumedCellH: the cell sixel is drawn for when the user asks
// for sixel and the terminal says nothing of its size. Small (xterm's
// default font is 6x13), so that the images come out small rather than
// overlapping.
const assumedCellW, assumedCellH = 6, 12

// termFacts is what the start-up queries found out, for decideGraphics.
type termFacts struct {
	requested string // "auto", "sixel" or "halfblock"
	answered  bool   // a DA1 reply came (from the terminal outside tmux, with passthrough)
	sixel     bool   // ... and listed 4 (sixel graphics)
	inTmux    bool   // $TMUX is set
	pass      bool   // --tmux-passthrough (and inside tmux)
	passOff   bool   // tmux said allow-passthrough is off
	cellW     int    // cellSize's answer (0 = unknown)
	cellH     int
}

// gfxDecision is the graphics mode, the cell size it is laid out with, and a
// one-line hint for the info line ("" = none).
type gfxDecision struct {
	mode         gfxMode
	cellW, cellH int
	hint         string
}

// decideGraphics picks the graphics mode. Auto mode draws sixel only when the
// terminal lists it and said how big its cells are; it never guesses a
// cell size (a wrong guess makes the images overlap).
func decideGraphics(f termFacts) gfxDecision {
	d := gfxDecision{mode: gfxHalfBlock, cellW: f.cellW, cellH: f.cellH}
	known := f.cellW > 0 && f.cellH > 0
	switch f.requested {
	case "halfblock":
		return d
	case "sixel":
		d.mode = gfxSixel
		switch {
		case f.inTmux && !f.pass:
			d.hint = "inside tmux, sixel needs --tmux-passthrough (and allow-passthrough on); or use --graphics halfblock"
		case f.pass && (f.passOff || !f.answered):
			d.hint = "tmux passthrough is off (tmux set -g allow-passthrough on): sixel will not show; or use --graphics halfblock"
		}
		if !known {
			d.cellW, d.cellH = assumedCellW, assumedCellH
			if d.hint == "" {
				d.hint = "the terminal did not say its cell size: sixel drawn for 6x12 px cells"
			}
		}
		return d
	}
	switch {
	case f.pass && f.passOff:
		d.hint = "tmux's allow-passthrough is off: half-blocks (for sixel: tmux set -g allow-passthrough on)"
	case f.pass && !f.answered:
		d.hint = "no answer through tmux passthrough (is allow-passthrough on, a sixel terminal outside?): half-blocks"
	case !f.answered || !f.sixel:
		// A terminal without sixel: half-blocks are all it can show.
	case !known:
		d.hint = "the terminal did not say its cell size in pixels: half-blocks (--graphics sixel draws sixel for 6x12 px cells)"
	default:
		d.mode = gfxSixel
	}
	return d
}
