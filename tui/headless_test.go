package tui

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sixel"

	"stylegan-tui/internal/termimage"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// tape is the program's output: every write, with its time.
type tape struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes []tapeWrite
}

type tapeWrite struct {
	at  time.Time
	off int // offset of the write's end in buf
}

func (t *tape) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	t.writes = append(t.writes, tapeWrite{time.Now(), t.buf.Len()})
	return len(p), nil
}

func (t *tape) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// firstWriteAfter returns when the first write at or after since whose
// bytes contain sub ended.
func (t *tape) firstWriteAfter(since time.Time, from int, subs ...string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf.Bytes()
	start := from
	for _, w := range t.writes {
		if w.off <= from {
			continue
		}
		if w.at.Before(since) {
			start = w.off
			continue
		}
		ok := true
		for _, sub := range subs {
			ok = ok && bytes.Contains(b[start:w.off], []byte(sub))
		}
		if ok {
			return w.at, true
		}
		start = w.off
	}
	return time.Time{}, false
}

// session is the real program running on a pipe and a tape.
type session struct {
	t        *testing.T
	in       *io.PipeWriter
	out      *tape
	done     chan error
	w, h     int
	cw       int
	ch       int
	finished bool // Run has returned
	vt       *vt  // the screen so far
	fed      int  // bytes of out fed to vt
	total    int
}

func startSession(t *testing.T, path, graphics string, w, h int) *session {
	t.Helper()
	return startSessionOpts(t, Options{Model: loadFixture(t, path), Graphics: graphics, Width: w, Height: h, RandSeed: 3})
}

func startSessionOpts(t *testing.T, opts Options) *session {
	t.Helper()
	pr, pw := io.Pipe()
	s := &session{t: t, in: pw, out: &tape{}, done: make(chan error, 1), w: opts.Width, h: opts.Height, cw: 10, ch: 20}
	go func() { s.done <- Run(opts, pr, s.out) }()
	t.Cleanup(func() {
		pw.Close()
		if s.finished {
			return
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	})
	return s
}

// send writes keys to the program's input. A pipe write waits for the
// program to read it: one that has stopped reading fails the test rather
// than hanging it (the write ends when the clean-up closes the pipe).
func (s *session) send(keys string) {
	s.t.Helper()
	wrote := make(chan error, 1)
	go func() {
		_, err := s.in.Write([]byte(keys))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			s.t.Fatalf("writing keys: %v", err)
		}
	case err := <-s.done:
		s.done <- err // for quit
		select {
		case werr := <-wrote: // read just before it ended ("q")
			if werr == nil {
				return
			}
		case <-time.After(time.Second):
		}
		s.t.Fatalf("the program ended without reading %q: %v", keys, err)
	case <-time.After(10 * time.Second):
		s.t.Fatalf("the program did not read %q within 10 s", keys)
	}
}

// screen feeds the output written since the last call to the session's
// terminal (whole writes: bubbletea writes each frame in one).
func (s *session) screen() (*vt, int) {
	s.out.mu.Lock()
	b := s.out.buf.Bytes()
	chunk := string(b[s.fed:])
	s.fed = len(b)
	s.out.mu.Unlock()
	if s.vt == nil {
		s.vt = newVT(s.w, s.h, s.cw, s.ch)
	}
	s.vt.write(chunk)
	s.total += len(chunk)
	return s.vt, s.total
}

// waitFor polls the screen until cond holds and the output has been quiet
// for a moment (no sleeping blindly: it returns as soon as both hold).
func (s *session) waitFor(what string, timeout time.Duration, cond func(v *vt) bool) *vt {
	s.t.Helper()
	return s.waitQuiet(what, timeout, 150*time.Millisecond, cond)
}

// waitQuiet is waitFor with the quiet time given.
func (s *session) waitQuiet(what string, timeout, quiet time.Duration, cond func(v *vt) bool) *vt {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	lastLen, quietSince := -1, time.Now()
	for time.Now().Before(deadline) {
		v, out := s.screen()
		if out != lastLen {
			lastLen, quietSince = out, time.Now()
		}
		if cond(v) && time.Since(quietSince) > quiet {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, _ := s.screen()
	var rows []string
	for r := 0; r < s.h; r++ {
		rows = append(rows, v.text(r))
	}
	s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, strings.Join(rows, "\n"))
	return nil
}

func (s *session) quit() {
	s.t.Helper()
	s.send("q")
	select {
	case err := <-s.done:
		s.finished = true
		if err != nil {
			s.t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("q did not end the program")
	}
	out := s.out.String()
	// The terminal is restored: the alternate screen left and the cursor shown.
	if !strings.Contains(out, "\x1b[?1049l") || !strings.Contains(out[strings.LastIndex(out, "\x1b[?1049l"):], "\x1b[?25h") {
		s.t.Errorf("terminal not restored: output ends %q", out[max(0, len(out)-80):])
	}
}

// idle holds when no result render is in flight (the status line says
// "rendering…" while one is).
func idle(v *vt) bool {
	_, _, busy := v.find("rendering…")
	return !busy
}

func screenHas(sub string) func(v *vt) bool {
	return func(v *vt) bool { _, _, ok := v.find(sub); return ok }
}

func all(conds ...func(v *vt) bool) func(v *vt) bool {
	return func(v *vt) bool {
		for _, c := range conds {
			if !c(v) {
				return false
			}
		}
		return true
	}
}

// fromCfg is the model's start state.
func fromCfg(c *model.Config) latent.State {
	return latent.New(c.NumStyles(), c.NumNoise(), c.TruncPsi, c.TruncCutoff)
}

// psnr compares two images of the same size in RGB.
func psnr(a, b image.Image) float64 {
	ra, rb := render.Resize(a, a.Bounds().Dx(), a.Bounds().Dy()), render.Resize(b, b.Bounds().Dx(), b.Bounds().Dy())
	if ra.Rect.Size() != rb.Rect.Size() {
		return 0
	}
	var se float64
	n := 0
	for i := 0; i < len(ra.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := float64(ra.Pix[i+c]) - float64(rb.Pix[i+c])
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// reference renders a state with a fresh generator and scales it to w x h
// the way the explorer does.
func reference(t *testing.T, path string, st latent.State, w, h int) *image.RGBA {
	t.Helper()
	g, err := loadFixture(t, path).Generator()
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := g.Render(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return render.Resize(img, w, h)
}

// resultSixel returns the sixel drawn under the "result" label.
func resultSixel(t *testing.T, v *vt) vtImage {
	t.Helper()
	r, c, ok := v.find("result ·")
	if !ok {
		t.Fatal("no result label on screen")
	}
	im, ok := v.imageAt(r+1, c)
	if !ok {
		t.Fatalf("no image under the result label at (%d,%d); images %d", r+1, c, len(v.images))
	}
	return im
}

func decodeMattn(t *testing.T, data string) image.Image {
	t.Helper()
	var img image.Image
	if err := sixel.NewDecoder(strings.NewReader(data)).Decode(&img); err != nil {
		t.Fatalf("mattn decoder: %v", err)
	}
	return img
}

func checkSixelScreen(t *testing.T, v *vt, path string, st latent.State, label string) {
	t.Helper()
	if len(v.violations) > 0 {
		t.Errorf("%s: printed over images: %s", label, strings.Join(v.violations[:min(5, len(v.violations))], "; "))
	}
	if v.unwrapped > 0 {
		t.Errorf("%s: %d sixel images not wrapped in ESC 7 ... ESC 8", label, v.unwrapped)
	}
	im := resultSixel(t, v)
	got := decodeMattn(t, im.data)
	b := got.Bounds()
	// The decoder may round the height up to a sixel band: compare the raster.
	rw, rh := rasterSize(im.data)
	if b.Dx() < rw || b.Dy() < rh || rw == 0 {
		t.Fatalf("%s: decoded %v, raster %dx%d", label, b, rw, rh)
	}
	got = got.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, rw, rh))
	want := reference(t, path, st, rw, rh)
	if p := psnr(got, want); p < 28 {
		for _, o := range []string{"sg1:a=0:b=1:s=6A:p=0.7", "sg1:a=0:b=1:s=2A2B2A:p=0.7", "sg1:a=1:b=1:s=6A:p=0.7", "sg1:a=0:b=0:s=6A:p=0.7"} {
			ost, _ := latent.Decode(o)
			t.Logf("vs %s: %.1f", o, psnr(got, reference(t, path, ost, rw, rh)))
		}
		t.Logf("state %s, images %d", st, len(v.images))
		t.Errorf("%s: result sixel %dx%d vs the generator: PSNR %.1f dB, want >= 28", label, rw, rh, p)
	} else {
		t.Logf("%s: result sixel %dx%d px in %dx%d cells, PSNR %.1f dB", label, rw, rh, im.cols, im.rows, p)
	}
	// Also A and B.
	for _, src := range []struct {
		label string
		which int
	}{{"A · ", imgA}, {"B · ", imgB}} {
		r, c, ok := v.find(src.label)
		if !ok {
			t.Fatalf("no %q label", src.label)
		}
		im, ok := v.imageAt(r+1, c)
		if !ok {
			t.Fatalf("no image under %q", src.label)
		}
		rw, rh := rasterSize(im.data)
		got := decodeMattn(t, im.data).(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(0, 0, rw, rh))
		if p := psnr(got, reference(t, path, sourceState(st, src.which), rw, rh)); p < 28 {
			t.Errorf("%s: image %q: PSNR %.1f dB", label, src.label, p)
		}
	}
}

// The real program, sixel mode: the images it writes decode to the
// generator's pictures, each wrapped in ESC 7 / ESC 8, and nothing is ever
// printed over them; a middle-layer edit re-sends only the result.
func TestHeadlessSixel(t *testing.T) {
	const path = fixtureRos128
	s := startSession(t, path, "sixel", 120, 40)
	// The terminal's answers to the start-up queries: 10x20 cells, DA1 with sixel.
	s.send("\x1b[6;20;10t\x1b[?62;4;22c")
	start := fromCfg(loadFixture(t, path).Cfg)
	// Quiet for longer: an image first shown with the colour cube is
	// replaced with its family's palette a few tens of ms later.
	v := s.waitQuiet("three images", 20*time.Second, 800*time.Millisecond, all(idle, screenHas("sixel 10x20"), screenHas("frame"), func(v *vt) bool { return len(v.images) >= 3 }))
	checkSixelScreen(t, v, path, start, "start")

	before := len(s.out.String())
	s.send("2")
	v = s.waitQuiet("the middle mix", 20*time.Second, 800*time.Millisecond, all(idle, screenHas("w[2:4] <- w_B (middle, 16²-32²)"), screenHas("render"), screenHas("incremental from layer 4"), screenHas("A + middle from B")))
	mid := start.WithStyles(2, 3, latent.FromB)
	checkSixelScreen(t, v, path, mid, "middle from B")
	if n := strings.Count(s.out.String()[before:], "\x1bP"); n != 1 {
		t.Errorf("the middle edit wrote %d sixel images, want 1 (only the result)", n)
	}
	if l, _, _ := v.find("style"); !strings.Contains(v.text(l), "A     A     B     B     A     A") &&
		!strings.Contains(v.text(l), "[A]    A     B     B     A     A") {
		t.Errorf("style row: %q", v.text(l))
	}
	s.quit()
}

// Half-block mode: the cells under the result label decode (colours back to
// pixels) to the generator's picture.
func TestHeadlessHalfBlock(t *testing.T) {
	const path = fixtureNV256
	s := startSession(t, path, "halfblock", 100, 30)
	cfg := loadFixture(t, path).Cfg
	start := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	check := func(st latent.State, label string) {
		v := s.waitFor(label, 60*time.Second, all(idle, screenHas("half-blocks"), screenHas("render "), screenHas("result · "+label)))
		r, c, _ := v.find("result · ")
		var lines []string
		for row := r + 1; row < v.h && v.cells[row][c].ch == "▀"; row++ {
			var b strings.Builder
			for col := c; col < v.w && v.cells[row][col].ch == "▀"; col++ {
				b.WriteString("\x1b[0m" + v.cells[row][col].sgr + "▀")
			}
			lines = append(lines, b.String())
		}
		if len(lines) == 0 {
			t.Fatalf("%s: no half-blocks under the result label", label)
		}
		got, err := termimage.DecodeHalfBlock(lines)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		b := got.Bounds()
		want := reference(t, path, st, b.Dx(), b.Dy())
		p := psnr(got, want)
		if p < 28 {
			t.Errorf("%s: half-block image %v: PSNR %.1f dB, want >= 28", label, b, p)
		}
		t.Logf("%s: half-block image %dx%d px, PSNR %.1f dB", label, b.Dx(), b.Dy(), p)
		if len(v.violations) > 0 {
			t.Errorf("%s: %v", label, v.violations[0])
		}
	}
	check(start, "A")
	s.send("3")
	check(start.WithStyles(8, 13, latent.FromB), "A + fine from B")
	s.quit()
}

// Frame time: a state change (a key on the input) to the bytes of the new
// result image written, for a full and a fine-layer render, sixel mode.
func TestFrameTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	for _, path := range []string{fixtureRos128, fixtureNV256} {
		loadFixture(t, path)
		start := time.Now()
		s := startSession(t, path, "sixel", 120, 40)
		s.send("\x1b[6;20;10t\x1b[?62;4c")
		v := s.waitFor("three images", 60*time.Second, all(idle, screenHas("frame"), func(v *vt) bool { return len(v.images) >= 3 }))
		s.out.mu.Lock()
		first := s.out.writes[0].at.Sub(start)
		s.out.mu.Unlock()
		img, _ := s.out.firstWriteAfter(start, 0, resultSixel(t, v).data)
		t.Logf("%s: start-up: first frame %v, result image %v", path, first, img.Sub(start))
		// The frame: from the key to the write that carried the result's
		// first final image. That write also carries the status line's new
		// "frame N ms" (the in-app measure, state change to image encoded),
		// while a preview or the later re-encode with the pair's palette
		// leaves the status alone.
		var inApp []string
		frameMs := func(v *vt) int {
			r, c, _ := v.find("frame ")
			n := -1
			fmt.Sscanf(string([]rune(v.text(r))[c:]), "frame %d ms", &n)
			return n
		}
		// The status line's figure on the screen before each key (the settled
		// screen of the last step).
		prev := -1
		measure := func(keys string, wantExplain string) time.Duration {
			from := len(s.out.String())
			at := time.Now()
			s.send(keys)
			v := s.waitFor(wantExplain, 60*time.Second, all(screenHas(wantExplain), screenHas("frame"), idle))
			n := frameMs(v)
			inApp = append(inApp, fmt.Sprintf("%dms", n))
			subs := []string{"\x1bP", fmt.Sprintf("frame %d ms", n)}
			if n == prev {
				// The same figure as on the screen before the key: the renderer does
				// not rewrite an unchanged status line, so only the image marks the
				// write (a preview's write may stand in for it, which only shortens
				// this logged figure).
				subs = subs[:1]
			}
			end, ok := s.out.firstWriteAfter(at, from, subs...)
			if !ok {
				t.Fatalf("%s: no write with the result image and \"frame %d ms\" after %q", path, n, keys)
			}
			return end.Sub(at)
		}
		// Let the source images settle too, so each measure starts idle.
		settle := func(what string, cond func(v *vt) bool) {
			prev = frameMs(s.waitQuiet(what, 60*time.Second, 700*time.Millisecond, all(idle, cond)))
		}
		settle("start", screenHas("frame"))
		var full, fine []time.Duration
		for i := 0; i < 4; i++ {
			full = append(full, measure(fmt.Sprintf("s%d\r", 10+i), fmt.Sprintf("z_A <- randn(%d) from seed %d ", loadFixture(t, path).Cfg.ZDim, 10+i)))
			settle("seed", screenHas("frame"))
		}
		for i := 0; i < 4; i++ {
			fine = append(fine, measure("3", "w_B (fine"))
			settle("fine", screenHas("frame"))
			fine = append(fine, measure("0", "» w[0:"))
			settle("reset", screenHas("frame"))
		}
		t.Logf("%s: in-app frame times (state change to image encoded): %v", path, inApp)
		t.Logf("%s: frame time, full render: %v (median %v)", path, full, median(full))
		t.Logf("%s: frame time, fine layers: %v (median %v)", path, fine, median(fine))
		s.quit()
	}
}

func median(d []time.Duration) time.Duration {
	c := append([]time.Duration(nil), d...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c[len(c)/2]
}

var _ = fmt.Sprint

// A burst of random edits through the real program: once it is idle, the
// three pictures on screen are those of the final state (read back from the
// screen with c), so no stale render was left showing.
func TestSoakLatestWins(t *testing.T) {
	soak(t, "halfblock", "abx123012+-<>rRmMnhl ][}{iz.,ui.u")
}

// The same in sixel mode (with the help overlay in the mix): nothing is
// ever printed over an image, every image is wrapped, and the images left
// on screen are the final state's.
func TestSoakSixel(t *testing.T) {
	soak(t, "sixel", "abx123012+-<>rRmMnhl ][}{iz.,ui.u?")
}

func soak(t *testing.T, graphics, keys string) {
	const path = fixtureNV256
	s := startSession(t, path, graphics, 120, 40)
	s.send("\x1b[6;20;10t\x1b[?62;4c")
	s.waitFor("start", 60*time.Second, all(idle, screenHas("frame")))
	rng := rand.New(rand.NewPCG(1, 2))
	for burst := 0; burst < 3; burst++ {
		var b []byte
		for range 40 {
			b = append(b, keys[rng.IntN(len(keys))])
		}
		// Half the burst key by key as typed, half in one write (one
		// message of many runes: many commands at once).
		for _, k := range b[:20] {
			s.send(string(k))
		}
		s.send(string(b[20:]))
		s.send("\x1b") // close the help if the burst left it open
		s.waitQuiet("help closed", 60*time.Second, 300*time.Millisecond, all(idle, screenHas("group")))
		s.send("c")
		v := s.waitQuiet("idle after the burst", 60*time.Second, 800*time.Millisecond, all(idle, screenHas("copied (OSC 52): ")))
		// The state string, wrapped over the info rows up to the help line.
		r, c, _ := v.find("copied (OSC 52): ")
		line := string([]rune(v.text(r))[c+len([]rune("copied (OSC 52): ")):])
		for row := r + 1; row < v.h && !strings.HasPrefix(v.text(row), "? help"); row++ {
			line = strings.TrimRight(line, " ") + strings.TrimRight(v.text(row), " ")
		}
		str := strings.Fields(line)[0]
		st, err := latent.Decode(str)
		if err != nil {
			t.Fatalf("state on screen %q: %v", str, err)
		}
		if len(v.violations) > 0 {
			o := s.out.String()
			t.Logf("first violation at byte %d: before %q", v.firstBad, strip(o[max(0, v.firstBad-1500):v.firstBad]))
		}
		if len(v.violations) > 0 || v.unwrapped > 0 {
			t.Fatalf("burst %d: %d sixels unwrapped; printed over images: %v", burst, v.unwrapped, v.violations[:min(3, len(v.violations))])
		}
		for _, im := range []struct {
			label string
			st    latent.State
		}{{"result · ", st}, {"A · ", sourceState(st, imgA)}, {"B · ", sourceState(st, imgB)}} {
			var got image.Image
			if graphics == "sixel" {
				got = sixelUnder(t, v, im.label)
			} else {
				got = halfBlockUnder(t, v, im.label)
			}
			b := got.Bounds()
			if p := psnr(got, reference(t, path, im.st, b.Dx(), b.Dy())); p < 28 {
				t.Errorf("burst %d (%s): %q image is not the final state's: PSNR %.1f dB", burst, b2s(b), im.label, p)
			}
		}
	}
	s.quit()
}

func b2s(b image.Rectangle) string { return fmt.Sprintf("%dx%d", b.Dx(), b.Dy()) }

// sixelUnder decodes the sixel image under a label.
func sixelUnder(t *testing.T, v *vt, label string) image.Image {
	t.Helper()
	r, c, ok := v.find(label)
	if !ok {
		t.Fatalf("no %q on screen", label)
	}
	im, ok := v.imageAt(r+1, c)
	if !ok {
		t.Fatalf("no image under %q", label)
	}
	rw, rh := rasterSize(im.data)
	return decodeMattn(t, im.data).(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, rw, rh))
}

// halfBlockUnder decodes the half-block image under a label.
func halfBlockUnder(t *testing.T, v *vt, label string) image.Image {
	t.Helper()
	r, c, ok := v.find(label)
	if !ok {
		t.Fatalf("no %q on screen", label)
	}
	var lines []string
	for row := r + 1; row < v.h && v.cells[row][c].ch == "▀"; row++ {
		var b strings.Builder
		for col := c; col < v.w && v.cells[row][col].ch == "▀"; col++ {
			b.WriteString("\x1b[0m" + v.cells[row][col].sgr + "▀")
		}
		lines = append(lines, b.String())
	}
	img, err := termimage.DecodeHalfBlock(lines)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	return img
}

// strip shortens sixel data for logs.
func strip(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1bP")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i] + "<SIXEL>")
		j := strings.Index(s[i:], "\x1b\\")
		if j < 0 {
			return b.String()
		}
		s = s[i+j+2:]
	}
}
