package tui

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/internal/termimage"
)

// runs returns the messages a command produces, batches flattened.
func runs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runs(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func hasClear(msgs []tea.Msg) bool {
	for _, m := range msgs {
		if isClearScreen(m) {
			return true
		}
	}
	return false
}

// A resize re-lays out and clears the screen (old sixel pixels would stay
// otherwise); the same size again does neither.
func TestResizeClears(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	id := m.screen.layoutID
	_, cmd := m.Update(tea.WindowSizeMsg{Width: 100, Height: 50})
	if m.screen.layoutID == id || !hasClear(runs(cmd)) {
		t.Fatalf("resize: layout %d -> %d, clear %v", id, m.screen.layoutID, hasClear(runs(cmd)))
	}
	m.Update(tea.ClearScreen()) // as bubbletea does after clearing
	id = m.screen.layoutID
	_, cmd = m.Update(tea.WindowSizeMsg{Width: 100, Height: 50})
	if m.screen.layoutID != id || hasClear(runs(cmd)) {
		t.Fatal("the same size re-laid out")
	}
	// The help overlay covers the images: it clears too; until the clear is
	// done the old layout stays (nothing is printed over the old images).
	before := m.view(true)
	_, cmd = m.Update(keyMsg("?"))
	if !hasClear(runs(cmd)) {
		t.Fatal("help did not clear the screen")
	}
	if m.View() != before {
		t.Fatal("the view changed before the screen was cleared")
	}
	m.Update(tea.ClearScreen())
	if !strings.HasPrefix(m.View(), "keys") {
		t.Fatal("no help after the clear")
	}
}

// Auto mode: sixel when DA1 lists 4, half-blocks when it does not or when
// nothing answers; tmux without passthrough gets half-blocks.
func TestDetect(t *testing.T) {
	model := loadFixture(t, fixtureNV32)
	for _, tc := range []struct {
		name  string
		tmux  string
		pass  bool
		reply *termReply
		want  gfxMode
	}{
		{"DA1 with 4", "", false, &termReply{kind: 'c', sixel: true}, gfxSixel},
		{"DA1 without 4", "", false, &termReply{kind: 'c'}, gfxHalfBlock},
		{"no answer", "", false, nil, gfxHalfBlock},
		{"tmux", "/tmp/tmux-0/default,1,0", false, &termReply{kind: 'c'}, gfxHalfBlock},
		// With passthrough, DA1 is the outside terminal's: its 4 decides.
		{"tmux passthrough", "/tmp/tmux-0/default,1,0", true, &termReply{kind: 'c', sixel: true}, gfxSixel},
		{"tmux passthrough, no sixel outside", "/tmp/tmux-0/default,1,0", true, &termReply{kind: 'c'}, gfxHalfBlock},
		{"tmux passthrough, no answer", "/tmp/tmux-0/default,1,0", true, nil, gfxHalfBlock},
		{"passthrough outside tmux", "", true, &termReply{kind: 'c'}, gfxHalfBlock},
	} {
		m, err := New(Options{Model: model, Width: 120, Height: 40, Raw: io.Discard, TmuxPassthrough: tc.pass,
			Env: func(k string) string {
				if k == "TMUX" {
					return tc.tmux
				}
				return ""
			}})
		if err != nil {
			t.Fatal(err)
		}
		if m.term.mode != gfxUnknown {
			t.Fatalf("%s: decided before asking", tc.name)
		}
		if tc.reply != nil {
			m.reply(termReply{kind: 't', cellW: 9, cellH: 18})
			m.reply(*tc.reply)
		} else {
			m.Update(detectTimeoutMsg{})
		}
		if m.term.mode != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.name, m.term.mode, tc.want)
		}
		if tc.reply != nil && (m.term.cellW != 9 || m.term.cellH != 18) {
			t.Errorf("%s: cell %dx%d, want 9x18", tc.name, m.term.cellW, m.term.cellH)
		}
	}
}

// A panic in Update restores the terminal and Run returns it as an error.
func TestPanicRestoresTerminal(t *testing.T) {
	// Loaded here: a failure inside the goroutine below could not end the
	// test, and the write to the pipe would then wait for a reader forever.
	model := loadFixture(t, fixtureNV32)
	pr, pw := io.Pipe()
	defer pw.Close() // also ends a write still waiting for a reader
	out := &tape{}
	done := make(chan error, 1)
	m, err := New(Options{Model: model, Graphics: "halfblock", Width: 80, Height: 24, Raw: out})
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- runProgram(panicOn{m, "!"}, pr, out) }()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(out.String(), "group") {
		select {
		case err := <-done:
			t.Fatalf("Run ended before its first frame: %v", err)
		case <-deadline:
			s := out.String()
			t.Fatalf("no first frame within 20 s: output ends %q", s[max(0, len(s)-200):])
		case <-time.After(20 * time.Millisecond):
		}
	}
	go pw.Write([]byte("!"))
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "crashed") {
			t.Fatalf("Run after a panic: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the panic did not end the program")
	}
	s := out.String()
	if !strings.Contains(s, "\x1b[?1049l") || !strings.Contains(s, "\x1b[?25h") {
		t.Errorf("terminal not restored after the panic: ends %q", s[max(0, len(s)-200):])
	}
}

// panicOn is the explorer with a key that makes Update panic.
type panicOn struct {
	*Model
	key string
}

func (p panicOn) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == p.key {
		panic("tui: test panic")
	}
	_, cmd := p.Model.Update(msg)
	return p, cmd // stays wrapped
}

// Sixel through tmux passthrough: the image is wrapped whole, and unwraps
// to an image.
func TestTmuxPassthroughSixel(t *testing.T) {
	s := startSessionOpts(t, Options{Model: loadFixture(t, fixtureNV32), Graphics: "auto", Width: 120, Height: 40,
		TmuxPassthrough: true, Env: func(k string) string {
			if k == "TMUX" {
				return "/tmp/tmux-0/default,1,0"
			}
			return ""
		}})
	// The terminal outside answers through passthrough (tmux itself is not
	// asked DA1, which it would answer without 4).
	s.send("\x1b[6;20;10t\x1b[?63;1;2;4c")
	// The start-up queries go through too; then the images, each wrapped
	// whole (ESC 7, cursor moves, sixel, ESC 8).
	const wrapped = "\x1bPtmux;\x1b\x1b7"
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(s.out.String(), wrapped) {
		time.Sleep(20 * time.Millisecond)
	}
	o := s.out.String()
	i := strings.Index(o, wrapped)
	if i < 0 {
		t.Fatal("no image in tmux passthrough in the output")
	}
	if j := strings.Index(o[i:], "\x1b\x1b8\x1b\\"); j < 0 {
		t.Error("the passthrough does not end with ESC 8 and ST")
	}
	img, err := termimage.DecodeSixel([]byte(o[i:]))
	if err != nil || img.Bounds().Dx() == 0 {
		t.Fatalf("decoding the passthrough sixel: %v", err)
	}
	s.quit()
}

// In a tall window the result is large with A and B as thumbnails beside it;
// all three are drawn and nothing is printed over them.
func TestHeadlessThumbnails(t *testing.T) {
	const path = fixtureNV256
	s := startSession(t, path, "sixel", 90, 70)
	s.send("\x1b[6;20;10t\x1b[?62;4c")
	v := s.waitQuiet("three images", 30*time.Second, 800*time.Millisecond, all(idle, screenHas("frame"), func(v *vt) bool { return len(v.images) >= 3 }))
	ra, ca, _ := v.find("A · ")
	rr, cr, _ := v.find("result · ")
	rb, cb, _ := v.find("B · ")
	if !(ra == rr && ca > cr && cb == ca && rb > ra) {
		t.Errorf("labels: result (%d,%d) A (%d,%d) B (%d,%d): want A and B stacked right of the result", rr, cr, ra, ca, rb, cb)
	}
	cfg := loadFixture(t, path).Cfg
	checkSixelScreen(t, v, path, fromCfg(cfg), "thumbnails")
	s.quit()
}

var _ = os.Getpid

// Auto mode end to end: the DA1 reply comes back through bubbletea's input
// as an unknown CSI sequence and decides the mode; no reply falls back to
// half-blocks after the time-out.
func TestAutoDetectEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		reply, want string
	}{
		{"\x1b[6;18;9t\x1b[?63;1;2;4;6;9;15;16;22;28c", "sixel 9x18"},
		{"\x1b[?62;1;6c", "half-blocks"},
		{"", "half-blocks"},
	} {
		s := startSessionOpts(t, Options{Model: loadFixture(t, fixtureNV32), Graphics: "auto", Width: 120, Height: 40})
		if tc.reply != "" {
			s.send(tc.reply)
		}
		s.waitFor(tc.want, 20*time.Second, all(idle, screenHas(tc.want), screenHas("frame")))
		s.quit()
	}
}

// Ctrl-C (byte 3 on a raw terminal) quits and restores the terminal too.
func TestCtrlCRestoresTerminal(t *testing.T) {
	s := startSession(t, fixtureNV32, "halfblock", 80, 24)
	s.waitFor("start", 20*time.Second, all(idle, screenHas("render ")))
	s.send("\x03")
	select {
	case err := <-s.done:
		s.finished = true
		if err != nil {
			t.Fatalf("Run after ctrl+c: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ctrl+c did not end the program")
	}
	out := s.out.String()
	if i := strings.LastIndex(out, "\x1b[?1049l"); i < 0 || !strings.Contains(out[i:], "\x1b[?25h") {
		t.Errorf("terminal not restored: ends %q", out[max(0, len(out)-80):])
	}
}
