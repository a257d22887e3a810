package tui

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
	"stylegan-tui/render"
)

// Rows of text outside the image block: the layer strip (groups,
// resolutions, sources, truncation, noise, cursor), the explain line, the
// status line, the info/prompt line and the key help line.
const (
	stripRows = 6
	textRows  = stripRows + 4
	gap       = 2 // columns between images
	minWidth  = 30
	minHeight = textRows + 4
	maxInfo   = 4 // rows the info line may wrap onto (a long state string)
)

// box is where an image goes: rows relative to the image block, columns
// absolute.
type box struct {
	col, row, cols, rows int
}

// layout places the images and labels in the window.
type layout struct {
	width, height int
	infoRows      int  // rows of the info/prompt text
	panelRows     int  // rows of the lesson or quiz panel above the pictures
	sparkRows     int  // rows of the walk's path length under the strip
	small         bool // window too small for anything but a note
	help          bool
	side          bool // A, B and result side by side (else result + thumbnails)
	blockRows     int  // rows of the image block, labels included
	boxes         [numImages]box
	labels        [numImages]box // one row each
	mode          gfxMode
	cellW, cellH  int
}

func (l layout) equal(o layout) bool { return l == o }

// computeLayout fits everything into the window: three images side by side
// when each still gets at least 60% of the size the result alone would,
// else the result large with A and B as thumbnails stacked beside it.
func (m *Model) computeLayout() layout {
	l := layout{width: m.screen.width, height: m.screen.height, help: m.screen.showHelp, mode: m.term.mode, cellW: m.term.cellW, cellH: m.term.cellH}
	if m.screen.width < minWidth || m.screen.height < minHeight {
		l.small = true
		return l
	}
	l.infoRows = len(m.infoLines())
	avail := m.screen.height - textRows - (l.infoRows - 1)
	l.panelRows, l.sparkRows = m.teachRows(avail)
	l.blockRows = avail - l.panelRows - l.sparkRows
	if l.help {
		return l
	}
	cw, ch := 1, 2
	if m.term.mode != gfxHalfBlock {
		cw, ch = m.term.cellW, m.term.cellH
	}
	res := m.cfg.Resolution()
	W := m.screen.width - 1 // never print into the last column: no auto-wrap surprises
	imgRows := l.blockRows - 1
	each := (W - 2*gap) / 3
	s3, _, _, _ := fitPx(res, each, imgRows, cw, ch)
	s1, _, _, _ := fitPx(res, W, imgRows, cw, ch)
	if s3*10 >= s1*6 && each >= 8 {
		l.side = true
		for i, j := range []int{imgA, imgB, imgR} {
			l.boxes[j] = box{col: i * (each + gap), row: 1, cols: each, rows: imgRows}
			l.labels[j] = box{col: i * (each + gap), row: 0, cols: each, rows: 1}
		}
		return l
	}
	// Result as large as the rows allow (at most 3/4 of the width), thumbnails
	// in the rest.
	_, _, rc, _ := fitPx(res, W*3/4, imgRows, cw, ch)
	tw := W - rc - gap
	l.boxes[imgR] = box{col: 0, row: 1, cols: rc, rows: imgRows}
	l.labels[imgR] = box{col: 0, row: 0, cols: rc, rows: 1}
	aRows := (l.blockRows - 2) / 2
	l.labels[imgA] = box{col: rc + gap, row: 0, cols: tw, rows: 1}
	l.boxes[imgA] = box{col: rc + gap, row: 1, cols: tw, rows: aRows}
	l.labels[imgB] = box{col: rc + gap, row: 1 + aRows, cols: tw, rows: 1}
	l.boxes[imgB] = box{col: rc + gap, row: 2 + aRows, cols: tw, rows: l.blockRows - 2 - aRows}
	return l
}

func fitPx(res, cols, rows, cw, ch int) (pxW, pxH, usedCols, usedRows int) {
	if cols <= 0 || rows <= 0 {
		return 0, 0, 0, 0
	}
	maxW, maxH := cols*cw, rows*ch
	// At most 4x the model's resolution: the result of the thumbnail layout
	// stays that size (leaving A and B room), and the side-by-side choice
	// compares these sizes. Side by side, the boxes are the whole thirds and
	// the pictures fill them: in a big window large pictures are the point
	// (a screenshot with them capped at 4x was mostly empty window).
	s := min(maxW, maxH, 4*res)
	return s, s, (s + cw - 1) / cw, (s + ch - 1) / ch
}

// Every colour adapts to the terminal's background (dark unless the
// terminal answers OSC 11 with a light one) and names its pick for each
// colour profile, so a 16-colour terminal gets a readable one too: text
// keeps a contrast of at least 4.5:1 (WCAG AA) on both backgrounds
// (TestColoursReadable). No faint text: on a light background it is the
// palest grey.
func adaptive(light, dark [3]string) lipgloss.CompleteAdaptiveColor {
	return lipgloss.CompleteAdaptiveColor{
		Light: lipgloss.CompleteColor{TrueColor: light[0], ANSI256: light[1], ANSI: light[2]},
		Dark:  lipgloss.CompleteColor{TrueColor: dark[0], ANSI256: dark[1], ANSI: dark[2]},
	}
}

var (
	// The A/B cells of the strip carry their own background.
	colA    = adaptive([3]string{"#2f5fb3", "25", "4"}, [3]string{"#2f5fb3", "25", "4"})
	colOnA  = adaptive([3]string{"#ffffff", "231", "15"}, [3]string{"#ffffff", "231", "15"})
	colB    = adaptive([3]string{"#d9822b", "172", "3"}, [3]string{"#d9822b", "172", "3"})
	colOnB  = adaptive([3]string{"#000000", "16", "0"}, [3]string{"#000000", "16", "0"})
	colExpl = adaptive([3]string{"#005f5f", "23", "4"}, [3]string{"#7fd1b9", "115", "6"})
	colDim  = adaptive([3]string{"#626262", "241", "8"}, [3]string{"#8a8a8a", "245", "8"})
	colKey  = adaptive([3]string{"#303030", "236", "0"}, [3]string{"#bcbcbc", "250", "7"})
	colDesc = adaptive([3]string{"#585858", "240", "8"}, [3]string{"#949494", "246", "7"})

	styleA    = lipgloss.NewStyle().Background(colA).Foreground(colOnA)
	styleB    = lipgloss.NewStyle().Background(colB).Foreground(colOnB)
	styleCur  = lipgloss.NewStyle().Bold(true).Underline(true)
	styleDim  = lipgloss.NewStyle().Foreground(colDim)
	styleExpl = lipgloss.NewStyle().Foreground(colExpl)
	styleKey  = lipgloss.NewStyle().Foreground(colKey)
	styleDesc = lipgloss.NewStyle().Foreground(colDesc)
)

// helpStyles are the key help's styles on the explorer's renderer (bubbles'
// defaults are bound to lipgloss's global renderer, and their light-background
// descriptions are #B2B2B2 on white).
func (m *Model) helpStyles() help.Styles {
	key, desc := m.style(styleKey), m.style(styleDesc)
	return help.Styles{
		Ellipsis: desc, ShortKey: key, ShortDesc: desc, ShortSeparator: desc,
		FullKey: key, FullDesc: desc, FullSeparator: desc,
	}
}

// View draws the screen. It never returns more lines than the window has,
// nor a line wider than it.
func (m *Model) View() string {
	if m.screen.quitting {
		return ""
	}
	if m.screen.clearing {
		return m.screen.frozen
	}
	return m.view(false)
}

// view draws the screen for the current layout; noImages leaves the sixel
// images out (their cells are only skipped over).
func (m *Model) view(noImages bool) string {
	l := m.screen.lay
	if l.small {
		return fit(fmt.Sprintf("window too small (%dx%d): the explorer needs %dx%d", m.screen.width, m.screen.height, minWidth, minHeight), m.screen.width)
	}
	lines := make([]string, 0, m.screen.height)
	if l.help {
		// The help takes the whole window.
		help := m.helpScreen(m.screen.width-1, m.screen.height)
		for i := 0; i < min(len(help), m.screen.height); i++ {
			lines = append(lines, fit(help[i], m.screen.width))
		}
		return strings.Join(lines, "\n")
	}
	lines = append(lines, m.panelLines()...)
	lines = append(lines, m.imageBlock(noImages)...)
	lines = append(lines, m.teachStrip()...)
	lines = append(lines, m.walkLenLines()...)
	lines = append(lines, fit(m.style(styleExpl).Render("» "+m.explain), m.screen.width))
	lines = append(lines, fit(m.teachStatus(), m.screen.width))
	// As many info rows as the layout has room for (the text may have grown
	// since: a relayout follows).
	info := m.infoLines()
	for i := 0; i < max(l.infoRows, 1); i++ {
		s := ""
		if i < len(info) {
			s = info[i]
		}
		lines = append(lines, fit(s, m.screen.width))
	}
	lines = append(lines, fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.screen.width))
	return strings.Join(lines, "\n")
}

// helpScreen is the help overlay: a title over the key groups, or, when
// their bands are too tall for the window (a lesson's or a class's keys at
// 80x24), every key in as few rows as the width allows, so none is cut off.
func (m *Model) helpScreen(width, height int) []string {
	const title = "keys (any key closes this help)"
	lines := m.helpLines(width)
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines)+2 <= height {
		return append([]string{title, ""}, lines...)
	}
	var all []key.Binding
	for _, g := range m.keys.FullHelp() {
		for _, b := range g {
			if b.Enabled() {
				all = append(all, b)
			}
		}
	}
	// The fewest rows whose columns fit the width.
	var best []string
	h := m.help
	h.Width, h.FullSeparator = 0, "    "
	for rows := len(all); rows >= 1; rows-- {
		var cols [][]key.Binding
		for i := 0; i < len(all); i += rows {
			cols = append(cols, all[i:min(i+rows, len(all))])
		}
		view := h.FullHelpView(cols)
		if best != nil && lipgloss.Width(view) > width {
			break
		}
		best = strings.Split(view, "\n")
	}
	return append([]string{title}, best...)
}

// helpLines lays the key groups out in as many columns as the width takes,
// starting a new band of columns below when they do not fit.
func (m *Model) helpLines(width int) []string {
	var out, band []string
	bandW := 0
	flush := func() {
		out = append(out, band...)
		if len(band) > 0 {
			out = append(out, "")
		}
		band, bandW = nil, 0
	}
	for _, g := range m.keys.FullHelp() {
		h := m.help
		h.Width = 0
		col := h.FullHelpView([][]key.Binding{g})
		w := lipgloss.Width(col)
		if bandW > 0 && bandW+4+w > width {
			flush()
		}
		if bandW == 0 {
			band = strings.Split(col, "\n")
			bandW = w
			continue
		}
		band = strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(band, "\n"), "    ", col), "\n")
		bandW += 4 + w
	}
	flush()
	return out
}

// fit cuts a line to the window width (one column spare).
func fit(s string, width int) string {
	return ansi.Truncate(s, max(width-1, 0), "…")
}

// segment is one piece of an image-block line at a column.
type segment struct {
	col   int
	width int    // columns it takes on screen
	text  string // bytes to write
}

// imageBlock draws the labels and images. Sixel images are written on one
// line each (their emit row), moved up onto their first row when needed.
func (m *Model) imageBlock(noImages bool) []string {
	l := m.screen.lay
	rowsSegs := make([][]segment, l.blockRows)
	for j := 0; j < numImages; j++ {
		lb := l.labels[j]
		if lb.cols > 0 && lb.row < l.blockRows {
			rowsSegs[lb.row] = append(rowsSegs[lb.row], segment{lb.col, lb.cols, padText(m.label(j), lb.cols)})
		}
	}
	emit := m.emitRows()
	for j := 0; j < numImages; j++ {
		b := l.boxes[j]
		enc, ok := m.pipe.shown(j, m.screen.layoutID)
		for r := 0; r < b.rows && b.row+r < l.blockRows; r++ {
			var text string
			switch {
			case !ok && r == 0:
				text = padText(m.placeholder(j), b.cols)
			case !ok || r >= enc.rows:
				text = strings.Repeat(" ", b.cols)
			case enc.lines != nil:
				text = enc.lines[r] + strings.Repeat(" ", max(0, b.cols-enc.cols))
			default:
				var sb strings.Builder
				if r == emit[j] && !noImages {
					seq := "\x1b7"
					if r > 0 {
						seq += "\x1b[" + strconv.Itoa(r) + "A"
					}
					seq += enc.sixel + "\x1b8"
					if m.term.tmux {
						seq = render.TmuxPassthrough(seq)
					}
					sb.WriteString(seq)
				}
				sb.WriteString("\x1b[" + strconv.Itoa(enc.cols) + "C")
				sb.WriteString(strings.Repeat(" ", max(0, b.cols-enc.cols)))
				text = sb.String()
			}
			rowsSegs[b.row+r] = append(rowsSegs[b.row+r], segment{b.col, b.cols, text})
		}
	}
	out := make([]string, l.blockRows)
	for r, segs := range rowsSegs {
		sortSegs(segs)
		var sb strings.Builder
		col := 0
		for _, s := range segs {
			if s.col > col {
				sb.WriteString(strings.Repeat(" ", s.col-col))
				col = s.col
			}
			sb.WriteString(s.text)
			col += s.width
		}
		out[r] = sb.String()
	}
	return out
}

func sortSegs(s []segment) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].col < s[j-1].col; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// emitRows picks, per image, the image row on which its sixel is written: the
// result on its first row, the others on the first row no other image writes
// on, so a new result never re-sends A or B (the renderer re-writes whole
// lines).
func (m *Model) emitRows() [numImages]int {
	var e [numImages]int
	used := map[int]bool{}
	for _, j := range []int{imgR, imgA, imgB} {
		b := m.screen.lay.boxes[j]
		rows := m.pipe.imgs[j].enc.rows
		e[j] = 0
		for r := 0; r < rows; r++ {
			if !used[b.row+r] {
				e[j] = r
				break
			}
		}
		used[b.row+e[j]] = true
	}
	return e
}

// padText fits plain text to exactly n columns.
func padText(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = ansi.Truncate(s, n, "…")
	if w := ansi.StringWidth(s); w < n {
		s += strings.Repeat(" ", n-w)
	}
	return s
}

func (m *Model) label(j int) string {
	if s, ok := m.teachLabel(j); ok {
		return s
	}
	switch j {
	case imgA:
		return "A · " + srcLabel(m.lat.st.A)
	case imgB:
		return "B · " + srcLabel(m.lat.st.B)
	}
	return "result · " + m.mixLabel()
}

func (m *Model) mixLabel() string {
	st := m.lat.st
	if st.Interp.On {
		return fmt.Sprintf("walk t=%.2f (%s)", st.Interp.T, map[latent.Space]string{latent.SpaceW: "lerp W", latent.SpaceZ: "slerp Z"}[st.Interp.Space])
	}
	nb := 0
	for _, s := range st.Styles {
		if s == latent.FromB {
			nb++
		}
	}
	if nb == 0 {
		return "A"
	}
	if nb == len(st.Styles) {
		return "B's styles"
	}
	for _, g := range []string{"coarse", "middle", "fine"} {
		lo, hi, ok := m.cfg.GroupSlots(g)
		if !ok || hi-lo+1 != nb {
			continue
		}
		all := true
		for i := lo; i <= hi; i++ {
			all = all && st.Styles[i] == latent.FromB
		}
		if all {
			return "A + " + g + " from B"
		}
	}
	return fmt.Sprintf("A + %d layers from B", nb)
}

func (m *Model) placeholder(j int) string {
	s := &m.pipe.imgs[j]
	switch {
	case s.err != nil:
		return "error: " + s.err.Error()
	case m.term.mode == gfxUnknown:
		return "asking the terminal…"
	}
	return "rendering…"
}

// resLabels are the strip's resolution row: its name and a label of at
// most width characters per slot. Resolutions too wide for their column go
// as powers of two ("res 2^": 16 as 4); what does not fit even so (1024's
// 10 in one character) is a dot, never a cut number (16 cut reads "1").
func resLabels(res []int, width int) (string, []string) {
	name, text := "res", func(r int) string { return strconv.Itoa(r) }
	for _, r := range res {
		if len(strconv.Itoa(r)) > width && r&(r-1) == 0 {
			name, text = "res 2^", func(r int) string { return strconv.Itoa(bits.Len(uint(r)) - 1) }
		}
	}
	labels := make([]string, len(res))
	for i, r := range res {
		if labels[i] = text(r); len(labels[i]) > width {
			labels[i] = strings.Repeat("·", width)
		}
	}
	return name, labels
}

// strip draws the layer strip: one column of cw cells per style slot, its
// content centred in the first cw-1 and a separator after it, the same on
// every row (so the slots' columns line up), and each row's note after the
// last slot at the same column.
func (m *Model) strip() []string {
	c := m.cfg
	n := c.NumStyles()
	const prefix = 7
	cw := max(2, min(6, (m.screen.width-1-prefix-16)/n))
	rows := make([]strings.Builder, stripRows)
	res := make([]int, n)
	for s := range res {
		res[s] = c.SlotRes(s)
	}
	resName, resText := resLabels(res, cw-1)
	for i, name := range []string{"group", resName, "style", "psi", "noise", ""} {
		rows[i].WriteString(fmt.Sprintf("%-*s", prefix, name))
	}
	// Groups, bracketed over their slots' columns.
	for s := 0; s < n; {
		g := latent.GroupOf(c.SlotRes(s))
		e := s
		for e+1 < n && latent.GroupOf(c.SlotRes(e+1)) == g {
			e++
		}
		rows[0].WriteString(bracket(g, (e-s+1)*cw))
		s = e + 1
	}
	truncated := m.lat.st.Psi != 1
	for s := 0; s < n; s++ {
		rows[1].WriteString(center(resText[s], cw-1) + " ")
		letter := "A"
		st := m.style(styleA)
		if m.lat.st.Styles[s] == latent.FromB {
			letter, st = "B", m.style(styleB)
		}
		if m.lat.st.Interp.On {
			letter = "t"
		}
		cell := center(letter, cw-1)
		if s == m.lat.cursor {
			if cw-1 >= 3 {
				cell = center("["+letter+"]", cw-1)
			}
			st = st.Inherit(styleCur)
		}
		rows[2].WriteString(st.Render(cell) + " ")
		mark := " "
		if s < m.lat.st.Cutoff && truncated {
			mark = "ψ"
		}
		sep := " "
		if s+1 == m.lat.st.Cutoff {
			sep = "┃" // the cutoff: layers left of it are truncated
		}
		rows[3].WriteString(center(mark, cw-1) + sep)
		nm := "-"
		if ns := m.noiseSlots(s); len(ns) > 0 {
			nm = modeLetter(m.lat.st.Noise[ns[0]].Mode)
		}
		rows[4].WriteString(center(nm, cw-1) + " ")
		cur := " "
		if s == m.lat.cursor {
			cur = "^"
		}
		rows[5].WriteString(center(cur, cw-1) + " ")
	}
	if m.lat.st.Interp.On {
		rows[0].WriteString(" " + slider(m.lat.st.Interp.T, 16) + fmt.Sprintf(" t=%.2f %s", m.lat.st.Interp.T,
			map[latent.Space]string{latent.SpaceW: "lerp W", latent.SpaceZ: "slerp Z"}[m.lat.st.Interp.Space]))
	} else {
		rows[0].WriteString(" " + m.style(styleDim).Render("brackets: the paper's groups"))
	}
	rows[2].WriteString(" " + m.style(styleA).Render("A") + "/" + m.style(styleB).Render("B") + " = source of w")
	rows[3].WriteString(fmt.Sprintf(" psi %g, cutoff %d", m.lat.st.Psi, m.lat.st.Cutoff))
	rows[4].WriteString(" r random  c const  · off")
	rows[5].WriteString(fmt.Sprintf(" cursor: layer %d (%s²)", m.lat.cursor, strconv.Itoa(c.SlotRes(m.lat.cursor))))
	out := make([]string, stripRows)
	for i := range rows {
		out[i] = fit(rows[i].String(), m.screen.width)
	}
	return out
}

// slider draws the walk's t: A ━━━●──── B in w columns of track.
func slider(t float64, w int) string {
	pos := int(math.Round(math.Max(0, math.Min(1, t)) * float64(w-1)))
	return "A " + strings.Repeat("━", pos) + "●" + strings.Repeat("─", w-1-pos) + " B"
}

func modeLetter(mode latent.NoiseMode) string {
	switch mode {
	case latent.NoiseConst:
		return "c"
	case latent.NoiseOff:
		return "·"
	}
	return "r"
}

// bracket draws ├─name─┤ in w columns.
func bracket(name string, w int) string {
	switch {
	case w <= 0:
		return ""
	case w == 1:
		return "│"
	case w == 2:
		return "├┤"
	}
	inner := w - 2
	if len(name) > inner {
		name = name[:inner]
	}
	left := (inner - len(name)) / 2
	return "├" + strings.Repeat("─", left) + name + strings.Repeat("─", inner-len(name)-left) + "┤"
}

func center(s string, w int) string {
	n := ansi.StringWidth(s)
	if n >= w {
		return s
	}
	l := (w - n) / 2
	return strings.Repeat(" ", l) + s + strings.Repeat(" ", w-n-l)
}

// statusLine joins the status parts that fit the window (one column
// spare), dropping the least needed first (psi and noise before the
// timings: the strip shows them too), so it is never cut mid-word nor
// wider than the window.
func (m *Model) statusLine() string {
	c := m.cfg
	g := m.term.mode.String()
	if m.term.mode == gfxSixel {
		g = fmt.Sprintf("sixel %dx%d", m.term.cellW, m.term.cellH)
		if m.term.tmux {
			g += " via tmux"
		}
	}
	type part struct {
		text string
		keep int // higher stays longer
	}
	parts := []part{{fmt.Sprintf("%s %dpx", m.name, c.Resolution()), 9}, {g, 8}}
	if m.busy() {
		parts = append(parts, part{"rendering…", 7})
	}
	switch {
	case m.lat.st.Psi == 1 || m.lat.st.Cutoff == 0:
		parts = append(parts, part{fmt.Sprintf("psi %g (off)", m.lat.st.Psi), 2})
	default:
		parts = append(parts, part{fmt.Sprintf("psi %g on 0-%d", m.lat.st.Psi, m.lat.st.Cutoff-1), 2})
	}
	parts = append(parts, part{"noise " + m.noiseSummary(), 1})
	if m.pipe.imgs[imgR].rendered {
		inc := "full"
		switch fl := m.pipe.status.fromLayer; {
		case fl >= c.NumLayers():
			inc = "cached"
		case fl > 0:
			inc = fmt.Sprintf("incremental from layer %d", fl)
		}
		parts = append(parts, part{fmt.Sprintf("render %s %s", ms(m.pipe.status.render), inc), 4})
		if m.pipe.status.frame > 0 {
			parts = append(parts, part{"frame " + ms(m.pipe.status.frame), 3})
		}
	}
	if m.anim.playing {
		parts = append(parts, part{"▶ playing", 6})
	}
	if m.gifs.rec != nil {
		parts = append(parts, part{"● recording", 6})
	}
	if m.gifs.saving {
		parts = append(parts, part{"saving GIF…", 5})
	}
	const sep = " · "
	width := 0
	for _, p := range parts {
		width += ansi.StringWidth(p.text) + len([]rune(sep))
	}
	width -= len([]rune(sep))
	for keep := 1; keep < 8 && width > m.screen.width-1; keep++ { // never the name nor the mode
		for i := 0; i < len(parts); i++ {
			if parts[i].keep == keep && width > m.screen.width-1 {
				width -= ansi.StringWidth(parts[i].text) + len([]rune(sep))
				parts = append(parts[:i], parts[i+1:]...)
				i--
			}
		}
	}
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.text
	}
	return strings.Join(texts, sep)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func (m *Model) noiseSummary() string {
	if len(m.lat.st.Noise) == 0 {
		return "none"
	}
	first := m.lat.st.Noise[0].Mode
	for _, n := range m.lat.st.Noise {
		if n.Mode != first {
			return "mixed"
		}
	}
	return first.String()
}

// infoLines wraps the info or prompt text onto at most maxInfo rows (and
// at most a quarter of the window), so a long state string shows whole:
// at a space where there is one (no word, nor a lone ")", on a row of its
// own), else mid-word (a state string has no spaces).
func (m *Model) infoLines() []string {
	text := []rune(m.infoLine())
	w := max(m.screen.width-1, 1)
	n := min(maxInfo, max(1, m.screen.height/4))
	var out []string
	for len(text) > w && len(out) < n-1 {
		cut, next := w, w
		for i := w; i > w/2; i-- {
			if text[i] == ' ' {
				cut, next = i, i+1
				break
			}
		}
		out = append(out, string(text[:cut]))
		text = text[next:]
	}
	return append(out, string(text))
}

func (m *Model) infoLine() string {
	switch m.prompt.kind {
	case promptSeedA:
		return "seed for A (enter to set, esc to cancel): " + string(m.prompt.input) + "█"
	case promptSeedB:
		return "seed for B (enter to set, esc to cancel): " + string(m.prompt.input) + "█"
	case promptState:
		return "paste a state string (enter to load, esc to cancel): " + string(m.prompt.input) + "█"
	}
	return m.info
}
