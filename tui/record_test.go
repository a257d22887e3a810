package tui

import (
	"context"
	"image"
	"image/draw"
	"image/gif"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
	"stylegan-tui/render/figures"
)

// driver runs a Model as a program would: commands run on goroutines and
// their messages come back to Update, one at a time.
type driver struct {
	t     *testing.T
	m     *Model
	msgs  chan tea.Msg
	quit  bool
	shown []shownAt // final results taken while recording
	rec   *recordedMsg
	anim  *animSavedMsg
}

type shownAt struct {
	st latent.State
	at time.Time
}

func newDriver(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 256)}
	t.Cleanup(m.Close)
	d.run(m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd != nil {
		go func() { d.msgs <- cmd() }()
	}
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

func (d *driver) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil, closedMsg:
		return
	case tea.QuitMsg:
		d.quit = true
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	case recordedMsg:
		d.rec = &msg
	case animSavedMsg:
		d.anim = &msg
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		// tea.Sequence: in order, each message delivered before the next runs.
		cmds := make([]tea.Cmd, v.Len())
		for i := range cmds {
			cmds[i] = v.Index(i).Interface().(tea.Cmd)
		}
		go func() {
			for _, c := range cmds {
				if c != nil {
					d.msgs <- c()
				}
			}
		}()
		return
	}
	key := d.m.pipe.imgs[imgR].rawKey
	_, cmd := d.m.Update(msg)
	if r, ok := msg.(renderedMsg); ok && d.m.gifs.rec != nil && r.which == imgR && !r.preview && r.err == nil &&
		d.m.pipe.imgs[imgR].rawKey != key {
		d.shown = append(d.shown, shownAt{r.st, time.Now()})
	}
	d.run(cmd)
}

// until handles messages until cond holds.
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(60 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.handle(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// idle handles messages for dur.
func (d *driver) idle(dur time.Duration) {
	end := time.After(dur)
	for {
		select {
		case msg := <-d.msgs:
			d.handle(msg)
		case <-end:
			return
		}
	}
}

// key presses k and returns how long Update took.
func (d *driver) key(k string) time.Duration {
	start := time.Now()
	_, cmd := d.m.Update(keyMsg(k))
	took := time.Since(start)
	d.run(cmd)
	return took
}

// current reports whether the final result of the current state is shown.
func (d *driver) current() bool {
	s := &d.m.pipe.imgs[imgR]
	return s.rendered && s.rawKey.final() && s.st.Equal(d.m.lat.st)
}

func readGIF(t *testing.T, path string) *gif.GIF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func rgba(img image.Image) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, img.Bounds().Min, draw.Src)
	return out
}

// recorderScaled is img as the recorder keeps it: shrunk to 256 px on its
// larger side (figures.RecorderOptions.MaxSide's default).
func recorderScaled(img image.Image) *image.RGBA {
	sz := img.Bounds().Size()
	if m := max(sz.X, sz.Y); m > 256 {
		sz = image.Pt(max(1, sz.X*256/m), max(1, sz.Y*256/m))
	}
	return render.Resize(img, sz.X, sz.Y)
}

// g, a few edits and a short walk, g: the GIF has a frame per state shown,
// delays that follow the timing, and frames that are the generator's images.
func TestRecordGIF(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{Model: loadFixture(t, fixtureRos128), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, m)
	d.until("the first picture", d.current)

	held, stopAt := recordEdits(t, d)
	rec := recordedIn(t, d, dir)
	long := checkShownRecorded(t, d, rec, stopAt)
	gen := checkRecordedFrames(t, d, rec, held, long)
	checkMixSweep(t, d, dir, gen)
}

// recordEdits records g, a few edits and a short walk, g. It returns the
// state held for 300 ms and when the recording stopped.
func recordEdits(t *testing.T, d *driver) (held latent.State, stopAt time.Time) {
	t.Helper()
	m := d.m
	if took := d.key("g"); took > 50*time.Millisecond {
		t.Errorf("g took %v", took)
	}
	if m.gifs.rec == nil || !strings.Contains(m.Explain(), "recording") || !strings.Contains(m.statusLine(), "recording") {
		t.Fatalf("g did not start recording: explain %q, status %q", m.Explain(), m.statusLine())
	}
	d.shown = append(d.shown, shownAt{m.pipe.imgs[imgR].st, time.Now()})
	for i, k := range []string{"]", "2", "+"} {
		if took := d.key(k); took > 50*time.Millisecond {
			t.Errorf("%s while recording took %v", k, took)
		}
		d.until("the picture after "+k, d.current)
		if i == 2 {
			held = m.State()
			d.idle(300 * time.Millisecond)
		} else {
			d.idle(60 * time.Millisecond)
		}
	}
	d.key("p")
	d.idle(400 * time.Millisecond)
	d.key("p")
	d.until("the paused walk", func() bool { return d.current() && !m.busy() })
	d.idle(60 * time.Millisecond)
	stopAt = time.Now()
	if took := d.key("g"); took > 50*time.Millisecond {
		t.Errorf("stopping took %v", took)
	}
	if m.gifs.rec != nil {
		t.Fatal("g did not stop recording")
	}
	return held, stopAt
}

// recordedIn waits for the recording and checks it is written in dir.
func recordedIn(t *testing.T, d *driver, dir string) figures.Recording {
	t.Helper()
	d.until("the GIF", func() bool { return d.rec != nil })
	if d.rec.err != nil {
		t.Fatal(d.rec.err)
	}
	rec := d.rec.rec
	// The file is named relative to the save directory (a server's
	// client never sees the server's paths).
	if !strings.HasPrefix(d.m.info, "recorded "+filepath.Base(rec.Path)+" (") || filepath.Dir(rec.Path) != dir {
		t.Fatalf("info %q, path %s", d.m.info, rec.Path)
	}
	return rec
}

// checkShownRecorded: every state shown long enough to be a GIF frame
// (2/100 s, with room for rounding) is one. It returns those states.
func checkShownRecorded(t *testing.T, d *driver, rec figures.Recording, stopAt time.Time) map[string]bool {
	t.Helper()
	recorded := map[string]bool{}
	for _, s := range rec.States {
		recorded[s] = true
	}
	long := map[string]bool{}
	walk := 0
	for i, s := range d.shown {
		end := stopAt
		if i+1 < len(d.shown) {
			end = d.shown[i+1].at
		}
		if end.Sub(s.at) >= 40*time.Millisecond {
			long[s.st.Encode()] = true
			if s.st.Interp.On {
				walk++
			}
		}
	}
	for s := range long {
		if !recorded[s] {
			t.Errorf("state %s was shown but is not in the GIF", s)
		}
	}
	if walk < 3 {
		t.Errorf("%d walk frames shown while playing, want several", walk)
	}
	return long
}

// checkRecordedFrames: the GIF has a frame per state, each the generator's
// image, with delays that follow the timing. It returns the generator.
func checkRecordedFrames(t *testing.T, d *driver, rec figures.Recording, held latent.State, long map[string]bool) *model.Generator {
	t.Helper()
	g := readGIF(t, rec.Path)
	if len(g.Image) != rec.Frames || len(g.Image) < len(long) || len(g.Image) != len(rec.States) {
		t.Fatalf("%d frames (recording says %d, %d states), %d distinct states shown", len(g.Image), rec.Frames, len(rec.States), len(long))
	}
	t.Logf("%d frames, %d shown, delays %v", len(g.Image), len(d.shown), g.Delay)
	gen, err := loadFixture(t, fixtureRos128).Generator()
	if err != nil {
		t.Fatal(err)
	}
	heldAt := checkFrameImages(t, g, rec, gen, held)
	if heldAt < 0 {
		t.Fatalf("the state held for 300 ms is not in the GIF")
	}
	if dl := g.Delay[heldAt]; dl < 25 || dl > 100 {
		t.Errorf("the frame shown for 300 ms lasts %d/100 s", dl)
	}
	var total int
	for _, dl := range g.Delay {
		total += dl
	}
	if got := time.Duration(total) * 10 * time.Millisecond; got < rec.Duration-30*time.Millisecond || got > rec.Duration+time.Duration(len(g.Delay))*20*time.Millisecond {
		t.Errorf("delays add up to %v, the recording lasted %v", got, rec.Duration)
	}
	return gen
}

// checkFrameImages compares each frame with the generator's image of its
// state; it returns the frame of held, -1 if none.
func checkFrameImages(t *testing.T, g *gif.GIF, rec figures.Recording, gen *model.Generator, held latent.State) (heldAt int) {
	t.Helper()
	heldAt = -1
	for i, s := range rec.States {
		if g.Delay[i] <= 0 {
			t.Errorf("frame %d: delay %d", i, g.Delay[i])
		}
		st, err := latent.Decode(s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Equal(held) {
			heldAt = i
		}
		img, _, err := gen.Render(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := recorderScaled(img)
		got := rgba(g.Image[i])
		if got.Rect.Size() != want.Rect.Size() {
			t.Fatalf("frame %d: %v, want %v", i, got.Rect.Size(), want.Rect.Size())
		}
		if p := psnr(got, want); p < 28 {
			t.Errorf("frame %d (%s): PSNR %.1f dB vs the generator", i, s, p)
		}
	}
	return heldAt
}

// checkMixSweep: G saves the mix sweep of A/B (the walk is off) in dir.
func checkMixSweep(t *testing.T, d *driver, dir string, gen *model.Generator) {
	t.Helper()
	m := d.m
	d.key("i")
	d.until("the walk off", d.current)
	st := m.State()
	if d.key("G"); !m.gifs.saving || !strings.Contains(m.Explain(), "mix-sweep") {
		t.Fatalf("G: explain %q", m.Explain())
	}
	d.until("the animation", func() bool { return d.anim != nil })
	if d.anim.err != nil {
		t.Fatal(d.anim.err)
	}
	if m.info != "saved "+filepath.Base(d.anim.path) || filepath.Dir(d.anim.path) != dir || !strings.Contains(d.anim.path, "-mix-sweep-") {
		t.Fatalf("info %q", m.info)
	}
	a, err := figures.Preset("mix-sweep", m.cfg, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPreset(t, d.anim.path, a, gen, 128, 1)
}

// checkPreset decodes a preset GIF and compares a frame's panels with the
// generator.
func checkPreset(t *testing.T, path string, a *figures.Animation, gen *model.Generator, size, panels int) {
	t.Helper()
	g := readGIF(t, path)
	if len(g.Image) != len(a.Frames) {
		t.Fatalf("%s: %d frames, want %d", path, len(g.Image), len(a.Frames))
	}
	if w := panels*size + (panels-1)*4; g.Config.Width != w || g.Config.Height < size {
		t.Fatalf("%s: %dx%d, want %d wide", path, g.Config.Width, g.Config.Height, w)
	}
	for _, dl := range g.Delay {
		if dl != figures.Delay(figures.DefaultFPS(a.Kind)) {
			t.Fatalf("delays %v", g.Delay)
		}
	}
	i := len(a.Frames) / 3
	frame := rgba(g.Image[i])
	for p, st := range a.Frames[i].States {
		img, _, err := gen.Render(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := figures.PanelRect(p, size)
		if q := psnr(frame.SubImage(r), render.Resize(img, size, size)); q < 28 {
			t.Errorf("%s frame %d panel %d: PSNR %.1f dB", path, i, p, q)
		}
	}
}

// With a render hook (a server), G renders the preset through it.
func TestSaveAnimRenderHook(t *testing.T) {
	dir := t.TempDir()
	gen, err := loadFixture(t, fixtureNV32).Generator()
	if err != nil {
		t.Fatal(err)
	}
	hook, err := loadFixture(t, fixtureNV32).Generator()
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 1024)
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir,
		Render: func(_ context.Context, st latent.State, _ func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
			select {
			case calls <- struct{}{}:
			default:
			}
			return hook.Render(st, nil)
		}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, m)
	d.until("the first picture", d.current)
	d.key("i")
	d.until("the walk", d.current)
	st := m.State()
	before := len(calls)
	d.key("G")
	if reflect.ValueOf(m.gifs.preset).Pointer() != reflect.ValueOf(m.opts.Render).Pointer() {
		t.Fatal("G renders apart from the render hook")
	}
	d.until("the animation", func() bool { return d.anim != nil })
	if d.anim.err != nil || !strings.Contains(d.anim.path, "-walk-") {
		t.Fatalf("%+v", d.anim)
	}
	if n := len(calls) - before; n < 120 {
		t.Errorf("%d renders through the hook, want 120", n)
	}
	a, err := figures.Preset("walk", m.cfg, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPreset(t, d.anim.path, a, gen, 32, 2)
}

// Quitting while recording writes the recording first.
func TestQuitWritesRecording(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, m)
	d.until("the first picture", d.current)
	d.key("g")
	d.idle(50 * time.Millisecond) // frames under 2/100 s apart merge
	d.key("a")
	d.until("the new seed", d.current)
	d.idle(50 * time.Millisecond)
	d.key("q")
	d.until("quit", func() bool { return d.quit })
	if d.rec == nil || d.rec.err != nil || d.rec.rec.Frames != 2 {
		t.Fatalf("quit while recording: %+v", d.rec)
	}
	if g := readGIF(t, d.rec.rec.Path); len(g.Image) != 2 {
		t.Fatalf("%d frames", len(g.Image))
	}
}

// NoSave: g and G say so and write nothing.
func TestRecordNoSave(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir, NoSave: true})
	if err != nil {
		t.Fatal(err)
	}
	m.pipe.imgs[imgR].raw, m.pipe.imgs[imgR].rendered = image.NewRGBA(image.Rect(0, 0, 32, 32)), true
	for _, k := range []string{"g", "G"} {
		_, cmd := m.Update(keyMsg(k))
		if cmd != nil || m.gifs.rec != nil || m.gifs.saving || m.gifs.preset != nil || !strings.Contains(m.Explain(), "disabled") {
			t.Errorf("%s with NoSave: recording %v, explain %q", k, m.gifs.rec != nil, m.Explain())
		}
	}
	if _, cmd := m.Update(keyMsg("q")); !reflect.DeepEqual(runs(cmd), []tea.Msg{tea.Quit()}) {
		t.Error("q did not just quit")
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}

// A program that ends without q (a server session cut off) leaves its
// recording to Close, which writes it.
func TestCloseWritesRecording(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, m)
	d.until("the first picture", d.current)
	d.key("g")
	d.idle(30 * time.Millisecond)
	m.Close()
	if m.gifs.rec != nil {
		t.Fatal("Close kept the recorder")
	}
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.gif"))
		if len(files) == 1 {
			if g := readGIF(t, files[0]); len(g.Image) != 1 {
				t.Fatalf("%d frames", len(g.Image))
			}
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no GIF after Close: %v", files)
		}
	}
}
