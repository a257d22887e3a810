package tui

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The explorer in a real xterm (VT340 mode, sixel) under Xvfb, read back
// from screenshots: with xterm's default resources (no window ops, so no
// CSI 16 t / 14 t answers) and with allowWindowOps, at two window sizes,
// after a, 1, x and after a resize. From the pixels alone: the three
// pictures are three separate rectangles inside the window, nothing of them
// is on the layer strip's or the other text rows, and no fragment of an
// older picture is left anywhere.
//
// It needs Xvfb, xterm, xdotool and ImageMagick's import (.ci/run installs
// them) and skips, saying so, without them.
func TestXterm(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xterm", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed, so the real-terminal test cannot run (apt-get install xvfb xterm xdotool imagemagick)", tool)
		}
	}
	bin := buildBinary(t)
	// The two run at once, each on an X server of its own (keys go to the
	// focused window).
	for _, tc := range []struct {
		name string
		xrm  []string
	}{
		{"default resources", nil},
		{"allowWindowOps", []string{"XTerm*allowWindowOps: true"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			display := startXvfb(t)
			// Three pictures side by side; then keys; then a resize into the
			// narrow layout (the result large, A and B stacked beside it).
			x := startXterm(t, display, bin, 140, 45, tc.xrm)
			shot := x.settled("the start at 140x45", nil)
			x.keys("a", "1", "x")
			shot = x.settled("after a, 1, x", shot)
			x.resize(72, 50)
			x.settled("after resizing to 72x50", shot)
			x.quit()
			// Started narrow and tall.
			y := startXterm(t, display, bin, 70, 60, tc.xrm)
			y.settled("the start at 70x60", nil)
			y.quit()
		})
	}
}

// startXvfb starts a private X server on a free display (Xvfb -displayfd)
// and returns its name (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not start (display %q): %s", n, stderr.String())
		}
		// Xvfb names its display before every client can open it (seen
		// under load: xterm's "Can't open display"); wait until one can.
		deadline := time.Now().Add(15 * time.Second)
		for {
			q := exec.Command("xdotool", "getdisplaygeometry")
			q.Env = append(os.Environ(), "DISPLAY=:"+n)
			if q.Run() == nil {
				return ":" + n
			}
			if time.Now().After(deadline) {
				t.Fatalf("Xvfb display :%s accepts no client within 15 s: %s", n, stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Xvfb did not say its display within 15 s: %s", stderr.String())
	}
	return ""
}

// xtermRun is one xterm running the explorer.
type xtermRun struct {
	t          *testing.T
	display    string
	cmd        *exec.Cmd
	exited     chan struct{}
	stderr     *bytes.Buffer
	wid        string
	cols, rows int
	cw, ch     int // cell size, from the window's size in pixels
}

// xtermBorder is xterm's internalBorder default: the text area starts 2 px
// inside the window.
const xtermBorder = 2

// startXterm opens an xterm of cols x rows cells running bin.
func startXterm(t *testing.T, display, bin string, cols, rows int, xrm []string) *xtermRun {
	t.Helper()
	title := fmt.Sprintf("stylegan-tui-test-%d-%dx%d", time.Now().UnixNano(), cols, rows)
	args := []string{"-ti", "vt340", "-u8", "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256"}
	for _, x := range xrm {
		args = append(args, "-xrm", x)
	}
	args = append(args, "-geometry", fmt.Sprintf("%dx%d+0+0", cols, rows), "-T", title, "-e", bin)
	// The explorer must not think it runs inside the tmux the tests may run in.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX") && !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "LC_ALL=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DISPLAY="+display, "LC_ALL=C.UTF-8")
	x := &xtermRun{t: t, display: display, cols: cols, rows: rows}
	launch := func() {
		cmd := exec.Command("xterm", args...)
		cmd.Env = env
		x.cmd, x.exited, x.stderr = cmd, make(chan struct{}), &bytes.Buffer{}
		cmd.Stderr = x.stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("xterm: %v", err)
		}
		exited := x.exited
		go func() { cmd.Wait(); close(exited) }()
	}
	launch()
	t.Cleanup(func() {
		x.cmd.Process.Kill()
		<-x.exited
	})
	// The window with the title, once mapped at its size. Under a loaded
	// machine xterm has now and then failed to open a display other X
	// clients were using (CI saw it twice in full runs, never alone):
	// such an xterm is started again, twice at most.
	deadline := time.Now().Add(15 * time.Second)
	retries := 2
	for {
		select {
		case <-x.exited:
			if retries > 0 && strings.Contains(x.stderr.String(), "Can't open display") {
				retries--
				launch()
			}
		default:
		}
		out, err := x.run("xdotool", "search", "--onlyvisible", "--name", "^"+title+"$")
		for _, id := range strings.Fields(out) {
			if w, h, err := x.geometry(id); err == nil && w > cols && h > rows {
				x.wid = id
			}
		}
		if x.wid != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no xterm window within 15 s: %v; xterm: %s", err, x.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	x.measure()
	// Keys go to the focused window (xterm ignores synthetic key events).
	x.run("xdotool", "mousemove", "--window", x.wid, "20", "20")
	x.run("xdotool", "windowfocus", x.wid)
	return x
}

// run runs an X client on the test's display with a deadline.
func (x *xtermRun) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// geometry is a window's size in pixels.
func (x *xtermRun) geometry(id string) (w, h int, err error) {
	out, err := x.run("xdotool", "getwindowgeometry", "--shell", id)
	if err != nil {
		return 0, 0, err
	}
	geo := map[string]int{}
	for _, l := range strings.Fields(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			geo[k], _ = strconv.Atoi(v)
		}
	}
	return geo["WIDTH"], geo["HEIGHT"], nil
}

// measure reads the window's size: the cell size is what the grid leaves
// of it inside the border (a font other than xterm's 6x13 is fine).
func (x *xtermRun) measure() {
	x.t.Helper()
	W, H, err := x.geometry(x.wid)
	if err != nil {
		x.t.Fatal(err)
	}
	w, h := W-2*xtermBorder, H-2*xtermBorder
	if w <= 0 || h <= 0 || w%x.cols != 0 || h%x.rows != 0 {
		x.t.Fatalf("window %dx%d px is not %dx%d whole cells inside a %d px border", W, H, x.cols, x.rows, xtermBorder)
	}
	x.cw, x.ch = w/x.cols, h/x.rows
}

// screenshot grabs the window.
func (x *xtermRun) screenshot() ([]byte, image.Image) {
	x.t.Helper()
	out, err := x.run("import", "-silent", "-window", x.wid, "png:-")
	if err != nil {
		x.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader([]byte(out)))
	if err != nil {
		x.t.Fatalf("screenshot: %v", err)
	}
	return []byte(out), img
}

// settled waits until the window has changed from prev (nil: any first
// picture), then stays the same for a while, and checks that picture: it
// keeps looking until the check passes or the deadline, so a slow render
// is waited for and a fragment that stays is reported. It returns the
// screenshot.
func (x *xtermRun) settled(what string, prev []byte) []byte {
	x.t.Helper()
	const quiet = 900 * time.Millisecond // unchanged this long = drawn
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	var last []byte
	var lastImg image.Image
	var rep screenReport
	same := time.Now()
	changed := prev == nil
	for time.Now().Before(deadline) {
		select {
		case <-x.exited:
			x.t.Fatalf("%s: xterm exited: %s", what, x.stderr.String())
		default:
		}
		b, img := x.screenshot()
		if !changed && !bytes.Equal(b, prev) {
			changed = true
		}
		if !bytes.Equal(b, last) {
			last, lastImg, same = b, img, time.Now()
		} else if changed && time.Since(same) >= quiet {
			rep = analyzeScreen(lastImg, x.cols, x.rows, x.cw, x.ch)
			if len(rep.problems) == 0 {
				x.t.Logf("%s (%.1f s): %s", what, time.Since(start).Seconds(), rep)
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !changed {
		x.t.Fatalf("%s: the window did not change in 30 s (keys not delivered?)", what)
	}
	if lastImg != nil && rep.problems == nil {
		rep = analyzeScreen(lastImg, x.cols, x.rows, x.cw, x.ch)
	}
	file := filepath.Join(os.TempDir(), fmt.Sprintf("stylegan-tui-xterm-%d.png", time.Now().UnixNano()))
	os.WriteFile(file, last, 0o644)
	x.t.Fatalf("%s: %s\n%s\n(screenshot: %s)", what, rep, strings.Join(rep.problems, "\n"), file)
	return nil
}

func (x *xtermRun) keys(keys ...string) {
	x.t.Helper()
	for _, k := range keys {
		if _, err := x.run("xdotool", "key", "--clearmodifiers", k); err != nil {
			x.t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// resize makes the window cols x rows cells of the size it has.
func (x *xtermRun) resize(cols, rows int) {
	x.t.Helper()
	w, h := cols*x.cw+2*xtermBorder, rows*x.ch+2*xtermBorder
	if _, err := x.run("xdotool", "windowsize", x.wid, strconv.Itoa(w), strconv.Itoa(h)); err != nil {
		x.t.Fatal(err)
	}
	x.cols, x.rows = cols, rows
	deadline := time.Now().Add(10 * time.Second)
	for {
		gw, gh, err := x.geometry(x.wid)
		if err == nil && gw == w && gh == h {
			break
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("the window did not become %dx%d px: %dx%d %v", w, h, gw, gh, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	x.measure()
}

// quit presses q and waits for xterm to close with the explorer.
func (x *xtermRun) quit() {
	x.t.Helper()
	x.keys("q")
	select {
	case <-x.exited:
	case <-time.After(10 * time.Second):
		x.t.Fatal("q did not end the explorer (xterm is still open)")
	}
}

// screenReport is what a screenshot shows, in cells.
type screenReport struct {
	cols, rows int
	panels     []cellRect
	problems   []string
}

// cellRect is rows [r0, r1) x columns [c0, c1).
type cellRect struct{ r0, c0, r1, c1 int }

func (r cellRect) String() string {
	return fmt.Sprintf("%dx%d cells at row %d col %d", r.c1-r.c0, r.r1-r.r0, r.r0, r.c0)
}

func (r screenReport) String() string {
	var p []string
	for _, b := range r.panels {
		p = append(p, b.String())
	}
	return fmt.Sprintf("%dx%d window, %d pictures: %s", r.cols, r.rows, len(r.panels), strings.Join(p, "; "))
}

// analyzeScreen finds the pictures in a screenshot of the window. A cell is
// picture if most of its pixels differ from the background (text glyphs
// cover well under half of a cell; the strip's coloured A/B cells are on
// its style row, which is not looked at). The explorer's layout: the text
// rows are the bottom ten (strip, explain, status, one info row, keys),
// the pictures and their labels are above.
func analyzeScreen(img image.Image, cols, rows, cw, ch int) screenReport {
	rep := screenReport{cols: cols, rows: rows}
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y) // the border: background
	br, bgg, bb, _ := bg.RGBA()
	pic := make([][]bool, rows)
	for r := range pic {
		pic[r] = make([]bool, cols)
		for c := range pic[r] {
			ink := 0
			for y := 0; y < ch; y++ {
				for x := 0; x < cw; x++ {
					pr, pg, pb, _ := img.At(b.Min.X+xtermBorder+c*cw+x, b.Min.Y+xtermBorder+r*ch+y).RGBA()
					if pr != br || pg != bgg || pb != bb {
						ink++
					}
				}
			}
			pic[r][c] = ink*10 >= cw*ch*6
		}
	}
	block := rows - textRows
	styleRow := block + 2
	for r := block; r < rows; r++ {
		if r == styleRow {
			continue
		}
		for c := 0; c < cols; c++ {
			if pic[r][c] {
				rep.problems = append(rep.problems, fmt.Sprintf("picture on text row %d (%s) at column %d", r, rowName(r-block), c))
				break
			}
		}
	}
	// The pictures: 4-connected groups of picture cells above the text.
	seen := make([][]bool, block)
	for r := range seen {
		seen[r] = make([]bool, cols)
	}
	for r := 0; r < block; r++ {
		for c := 0; c < cols; c++ {
			if !pic[r][c] || seen[r][c] {
				continue
			}
			box, n := cellRect{r, c, r + 1, c + 1}, 0
			stack := [][2]int{{r, c}}
			seen[r][c] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				n++
				box.r0, box.c0 = min(box.r0, p[0]), min(box.c0, p[1])
				box.r1, box.c1 = max(box.r1, p[0]+1), max(box.c1, p[1]+1)
				for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					q := [2]int{p[0] + d[0], p[1] + d[1]}
					if q[0] >= 0 && q[0] < block && q[1] >= 0 && q[1] < cols && pic[q[0]][q[1]] && !seen[q[0]][q[1]] {
						seen[q[0]][q[1]] = true
						stack = append(stack, q)
					}
				}
			}
			area := (box.r1 - box.r0) * (box.c1 - box.c0)
			switch {
			case n < 6:
				rep.problems = append(rep.problems, fmt.Sprintf("a fragment of %d picture cells at row %d col %d", n, r, c))
				continue
			case n*100 < area*97: // a picture is a filled rectangle
				rep.problems = append(rep.problems, fmt.Sprintf("pictures overlap or a fragment is left: %s, only %d%% of it picture", box, 100*n/area))
			}
			if box.c1 >= cols {
				rep.problems = append(rep.problems, fmt.Sprintf("a picture reaches the window's right edge (cut off): %s", box))
			}
			rep.panels = append(rep.panels, box)
		}
	}
	if len(rep.panels) != 3 {
		rep.problems = append(rep.problems, fmt.Sprintf("%d pictures, want 3 (A, B and the result)", len(rep.panels)))
	}
	for i, a := range rep.panels {
		for _, o := range rep.panels[i+1:] {
			if a.r0 < o.r1 && o.r0 < a.r1 && a.c0 < o.c1 && o.c0 < a.c1 {
				rep.problems = append(rep.problems, fmt.Sprintf("pictures overlap: %s and %s", a, o))
			}
		}
	}
	return rep
}

func rowName(i int) string {
	names := []string{"strip: group", "strip: res", "strip: style", "strip: psi", "strip: noise", "strip: cursor", "explain", "status", "info", "keys"}
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return "?"
}

// The screenshot reading on drawn screens: three pictures pass; two that
// overlap, a picture on the strip, a fragment left over, a picture cut at
// the right edge or a missing one are each reported.
func TestAnalyzeScreen(t *testing.T) {
	const cols, rows, cw, ch = 60, 30, 6, 13
	white := color.RGBA{255, 255, 255, 255}
	draw := func(rects ...cellRect) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, cols*cw+2*xtermBorder, rows*ch+2*xtermBorder))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for i, r := range rects {
			c := color.RGBA{uint8(200 - 40*i), 180, uint8(40 * i), 255}
			for y := r.r0 * ch; y < r.r1*ch; y++ {
				for x := r.c0 * cw; x < r.c1*cw; x++ {
					img.Set(xtermBorder+x, xtermBorder+y, c)
				}
			}
		}
		// Text: a glyph's worth of ink in every cell of the text rows.
		for r := rows - textRows; r < rows; r++ {
			for c := 0; c < cols; c += 2 {
				for y := 3; y < 10; y++ {
					img.Set(xtermBorder+c*cw+2, xtermBorder+r*ch+y, color.Black)
				}
			}
		}
		img.Set(0, 0, white)
		return img
	}
	a, b, r := cellRect{1, 0, 15, 19}, cellRect{1, 20, 15, 39}, cellRect{1, 40, 15, 59}
	for _, tc := range []struct {
		name  string
		rects []cellRect
		want  string // a substring of a problem; "" = none
	}{
		{"three pictures", []cellRect{a, b, r}, ""},
		{"A over B", []cellRect{{1, 0, 15, 25}, b, r}, "2 pictures"},
		{"A over B, taller", []cellRect{{1, 0, 17, 25}, b, r}, "overlap or a fragment"},
		{"on the strip", []cellRect{a, b, {1, 40, 22, 59}}, "text row 20 (strip: group)"},
		{"a fragment left", []cellRect{a, b, r, {16, 5, 17, 9}}, "a fragment of 4"},
		{"a piece left", []cellRect{a, b, r, {16, 5, 18, 9}}, "4 pictures"},
		{"a stale corner", []cellRect{a, b, r, {15, 0, 17, 10}}, "only"},
		{"cut at the edge", []cellRect{a, b, {1, 40, 15, 60}}, "right edge"},
		{"two pictures", []cellRect{a, b}, "2 pictures"},
	} {
		rep := analyzeScreen(draw(tc.rects...), cols, rows, cw, ch)
		got := strings.Join(rep.problems, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.want)
		}
	}
}
