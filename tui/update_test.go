package tui

import (
	"bytes"
	"encoding/base64"
	"image"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
)

// Fixture models (random weights): per-block slots (rosinality, 128 px, 6
// slots) and per-layer slots (NVlabs, 32 px, 8 slots; 256 px, 14 slots),
// named relative to the repository's fixtures.
const (
	fixtureRos128 = "rosinality/tiny_s5.safetensors"
	fixtureNV32   = "nvlabs/tf_stylegan1_32.safetensors"
	fixtureNV256  = "nvlabs/tf_stylegan1_256.safetensors"
)

var (
	modelsMu sync.Mutex
	models   = map[string]*checkpoints.Checkpoint{}
)

func loadFixture(t testing.TB, path string) *checkpoints.Checkpoint {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[path]; ok {
		return m
	}
	m, err := checkpoints.Load(testfix.Path(t, path))
	if err != nil {
		t.Fatalf("loading fixture: %v", err)
	}
	models[path] = m
	return m
}

func newTestModel(t *testing.T, path string) *Model {
	t.Helper()
	m, err := New(Options{Model: loadFixture(t, path), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// keyMsg turns a key name as bubbletea prints it ("a", "left", "ctrl+r",
// "space") into a KeyMsg.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+r":
		return tea.KeyMsg{Type: tea.KeyCtrlR}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends keys through Update (commands are not run: no rendering;
// a screen clear asked for is taken as done, as the program would).
func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(keyMsg(k))
		if m.screen.clearing {
			m.Update(tea.ClearScreen())
		}
	}
}

// resize sends a window size, and the clear it asks for.
func resize(m *Model, w, h int) {
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if m.screen.clearing {
		m.Update(tea.ClearScreen())
	}
}

func styles(s string) []uint8 {
	out := make([]uint8, len(s))
	for i, c := range s {
		if c == 'B' {
			out[i] = latent.FromB
		}
	}
	return out
}

func wantStyles(t *testing.T, m *Model, want string) {
	t.Helper()
	var b strings.Builder
	for _, s := range m.State().Styles {
		b.WriteByte('A' + s)
	}
	if b.String() != want {
		t.Errorf("styles %s, want %s (explain %q)", b.String(), want, m.Explain())
	}
}

func TestGroupsFromB(t *testing.T) {
	for _, tc := range []struct {
		path, key, want, explain string
	}{
		{fixtureNV32, "1", "BBBBAAAA", "w[0:4] <- w_B (coarse, 4²-8²), other layers <- w_A"},
		{fixtureNV32, "2", "AAAABBBB", "w[4:8] <- w_B (middle, 16²-32²), other layers <- w_A"},
		{fixtureNV32, "3", "AAAAAAAA", "this 32px model has no fine layers"},
		{fixtureRos128, "1", "BBAAAA", "w[0:2] <- w_B (coarse, 4²-8²), other layers <- w_A"},
		{fixtureRos128, "2", "AABBAA", "w[2:4] <- w_B (middle, 16²-32²), other layers <- w_A"},
		{fixtureRos128, "3", "AAAABB", "w[4:6] <- w_B (fine, 64²-128²), other layers <- w_A"},
		{fixtureNV256, "2", "AAAABBBBAAAAAA", "w[4:8] <- w_B (middle, 16²-32²), other layers <- w_A"},
		{fixtureNV256, "3", "AAAAAAAABBBBBB", "w[8:14] <- w_B (fine, 64²-256²), other layers <- w_A"},
	} {
		m := newTestModel(t, tc.path)
		before := m.State()
		press(m, tc.key)
		wantStyles(t, m, tc.want)
		if m.Explain() != tc.explain {
			t.Errorf("%s key %s: explain %q, want %q", tc.path, tc.key, m.Explain(), tc.explain)
		}
		// Nothing but the styles changed.
		after := m.State()
		after.Styles = before.Styles
		if !after.Equal(before) {
			t.Errorf("%s key %s changed more than the styles: %s -> %s", tc.path, tc.key, before, m.State())
		}
	}
}

func TestGroupKeysReplaceTheMix(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "1", "2") // the paper's rows: one group from B, the rest from A
	wantStyles(t, m, "AAAABBBB")
	if !strings.HasPrefix(m.Explain(), "w[4:8] <- w_B (middle, 16²-32²), other layers <- w_A") {
		t.Errorf("explain %q", m.Explain())
	}
	press(m, "0")
	wantStyles(t, m, "AAAAAAAA")
}

func TestUndoRedo(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	start := m.State()
	press(m, "2")
	mid := m.State()
	press(m, "+", "x")
	press(m, "u", "u")
	if !m.State().Equal(mid) {
		t.Fatalf("two undos: %s, want %s", m.State(), mid)
	}
	press(m, "u")
	if !m.State().Equal(start) {
		t.Fatalf("three undos: %s, want the start %s", m.State(), start)
	}
	press(m, "u") // nothing left
	if !m.State().Equal(start) || m.Explain() != "undo: nothing to undo" {
		t.Fatalf("undo past the start: %s %q", m.State(), m.Explain())
	}
	press(m, "U", "ctrl+r")
	want := mid.Clone()
	want.Psi = 0.8
	if !m.State().Equal(want) {
		t.Fatalf("redo twice: %s, want %s", m.State(), want)
	}
	// A new edit drops the redo branch.
	press(m, "0", "U")
	if m.Explain() != "redo: nothing to redo" {
		t.Errorf("redo after an edit: %q", m.Explain())
	}
}

func TestPsiClampsAndRounds(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "+")
	if got := m.State().Psi; got != 0.8 {
		t.Fatalf("0.7 + 0.1 = %v, want exactly 0.8", got)
	}
	if e := m.Explain(); e != "psi 0.8 on layers 0-7: w' = w_avg + 0.8 (w - w_avg)" {
		t.Errorf("explain %q", e)
	}
	for range 30 {
		press(m, "+")
	}
	if got := m.State().Psi; got != 2 {
		t.Fatalf("psi up 31 times: %v, want 2", got)
	}
	for range 50 {
		press(m, "-")
	}
	if got := m.State().Psi; got != -1 {
		t.Fatalf("psi down 50 times: %v, want -1", got)
	}
	if e := m.Explain(); !strings.HasPrefix(e, "psi -1 on layers 0-7: w' = w_avg - 1 (w - w_avg)") {
		t.Errorf("explain %q", e)
	}
	for range 20 {
		press(m, "+")
	}
	if got := m.State().Psi; got != 1 || m.Explain() != "psi 1: truncation off, w' = w" {
		t.Fatalf("psi back up to %v (%q), want 1", got, m.Explain())
	}
}

func TestCutoffClamps(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, ">", ">")
	if got := m.State().Cutoff; got != 8 {
		t.Fatalf("cutoff %d, want 8 (the number of slots)", got)
	}
	press(m, "<", "<", "<")
	if got := m.State().Cutoff; got != 5 {
		t.Fatalf("cutoff %d, want 5", got)
	}
	if e := m.Explain(); e != "cutoff 5: psi 0.7 on layers 0-4: w' = w_avg + 0.7 (w - w_avg)" {
		t.Errorf("explain %q", e)
	}
	for range 10 {
		press(m, "<")
	}
	if got := m.State().Cutoff; got != 0 {
		t.Fatalf("cutoff %d, want 0", got)
	}
}

func TestSwapAndSeeds(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "2", "x")
	st := m.State()
	if st.A.Seed != 1 || st.B.Seed != 0 {
		t.Fatalf("after swap A=%d B=%d, want 1 and 0", st.A.Seed, st.B.Seed)
	}
	wantStyles(t, m, "AAAABBBB")
	press(m, "]", "]", "[", "}")
	st = m.State()
	if st.A.Seed != 2 || st.B.Seed != 1 {
		t.Fatalf("seed steps: A=%d B=%d, want 2 and 1", st.A.Seed, st.B.Seed)
	}
	press(m, "{", "{", "{")
	if got := m.State().B.Seed; got != 0 {
		t.Fatalf("B seed below 0: %d", got)
	}
	press(m, "s", "4", "2", "x", "backspace", "enter")
	if got := m.State().A.Seed; got != 42 {
		t.Fatalf("typed seed: A=%d, want 42", got)
	}
	press(m, "S", "9", "9", "enter")
	if got := m.State().B.Seed; got != 99 {
		t.Fatalf("typed seed: B=%d, want 99", got)
	}
	before := m.State()
	press(m, "s", "x", "y", "enter")
	if !m.State().Equal(before) || !strings.Contains(m.info, "want a number") {
		t.Fatalf("bad seed changed the state or said nothing: %q", m.info)
	}
	press(m, "s", "1", "esc")
	if !m.State().Equal(before) {
		t.Fatal("esc did not cancel the prompt")
	}
	press(m, "a")
	if m.State().A.Seed == before.A.Seed {
		t.Fatal("a drew the same seed")
	}
	press(m, "n", "n")
	if got := len(m.State().A.Nudges); got != 2 {
		t.Fatalf("%d nudges, want 2", got)
	}
	press(m, "]")
	if got := m.State().A; len(got.Nudges) != 0 {
		t.Fatalf("a new seed kept the nudges: %+v", got)
	}
}

// Keys that arrive together come as one message of several runes.
func TestRunesTogether(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2++u")})
	want := m.lat.hist[2].st
	if !m.State().Equal(want) || m.State().Psi != 0.8 {
		t.Fatalf("2++u as one message: %s", m.State())
	}
	wantStyles(t, m, "AAAABBBB")
	// In a prompt they are text.
	m.Update(keyMsg("s"))
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("123")})
	m.Update(keyMsg("enter"))
	if got := m.State().A.Seed; got != 123 {
		t.Fatalf("typed 123 as one message: seed %d", got)
	}
}

// Esc and a key read together arrive as alt+key: both are taken.
func TestEscThenKey(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "?")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2"), Alt: true})
	if m.screen.showHelp {
		t.Fatal("esc did not close the help")
	}
	wantStyles(t, m, "AAAABBBB")
}

func TestCursorToggle(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	press(m, "right", "right", "space", "l", "space", "h", "space")
	wantStyles(t, m, "AAABAA")
	if e := m.Explain(); e != "w[2] <- w_A (middle, 16²)" {
		t.Errorf("explain %q", e)
	}
	for range 10 {
		press(m, "right")
	}
	if m.lat.cursor != 5 {
		t.Fatalf("cursor %d, want 5", m.lat.cursor)
	}
	press(m, "left")
	for range 10 {
		press(m, "h")
	}
	if m.lat.cursor != 0 {
		t.Fatalf("cursor %d, want 0", m.lat.cursor)
	}
}

func TestNoise(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "right", "right", "m")
	st := m.State()
	if st.Noise[2].Mode != latent.NoiseConst || st.Noise[1].Mode != latent.NoiseRandom || st.Noise[3].Mode != latent.NoiseRandom {
		t.Fatalf("m on slot 2: %v", st.Noise)
	}
	press(m, "m")
	if m.State().Noise[2].Mode != latent.NoiseOff {
		t.Fatal("second m: want off")
	}
	press(m, "m")
	if m.State().Noise[2] != (latent.Noise{Mode: latent.NoiseRandom, Seed: 2}) {
		t.Fatalf("third m: %v, want random with its seed kept", m.State().Noise[2])
	}
	press(m, "r")
	n := m.State().Noise
	if n[2].Seed == 2 || n[1].Seed != 1 || n[3].Seed != 3 {
		t.Fatalf("r resampled the wrong slots: %v", n)
	}
	press(m, "M")
	for j, x := range m.State().Noise {
		if x.Mode != latent.NoiseConst {
			t.Fatalf("M: slot %d is %v", j, x.Mode)
		}
	}
	press(m, "R")
	for j, x := range m.State().Noise {
		if x.Mode != latent.NoiseRandom {
			t.Fatalf("R: slot %d is %v, want random", j, x.Mode)
		}
	}
	// Per-block noise: the selected block's one map.
	m = newTestModel(t, fixtureRos128)
	press(m, "right", "m")
	if got := m.State().Noise; got[1].Mode != latent.NoiseConst || got[0].Mode != latent.NoiseRandom {
		t.Fatalf("per-block m: %v", got)
	}
}

func TestInterpolation(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "i")
	st := m.State()
	if !st.Interp.On || st.Interp.T != 0 || st.Interp.Space != latent.SpaceW {
		t.Fatalf("i: %+v", st.Interp)
	}
	press(m, ".", ".", ".")
	if got := m.State().Interp.T; got != 0.15 {
		t.Fatalf("t after 3 steps: %v, want 0.15", got)
	}
	if e := m.Explain(); e != "walk t=0.15, lerp in W: w = (1-0.15)·w_A + 0.15·w_B on every layer" {
		t.Errorf("explain %q", e)
	}
	press(m, "z")
	if m.State().Interp.Space != latent.SpaceZ || !strings.Contains(m.Explain(), "slerp(z_A, z_B, 0.15)") {
		t.Fatalf("z: %+v %q", m.State().Interp, m.Explain())
	}
	for range 30 {
		press(m, ".")
	}
	if got := m.State().Interp.T; got != 1 {
		t.Fatalf("t clamps at %v, want 1", got)
	}
	for range 30 {
		press(m, ",")
	}
	if got := m.State().Interp.T; got != 0 {
		t.Fatalf("t clamps at %v, want 0", got)
	}
	press(m, "i")
	if m.State().Interp.On {
		t.Fatal("i did not turn the walk off")
	}
	// Play advances t on ticks; an edit pauses it and the reached t is one undo step.
	press(m, "p")
	if !m.anim.playing || !m.State().Interp.On {
		t.Fatal("p did not start the walk")
	}
	for range 5 {
		m.Update(animTickMsg{id: m.anim.id})
	}
	if got := m.State().Interp.T; got != 0.1 {
		t.Fatalf("5 ticks: t=%v, want 0.1", got)
	}
	m.Update(animTickMsg{id: m.anim.id - 1}) // a stale tick loop
	if got := m.State().Interp.T; got != 0.1 {
		t.Fatalf("stale tick moved t to %v", got)
	}
	press(m, "p")
	if m.anim.playing {
		t.Fatal("p did not pause")
	}
	m.Update(animTickMsg{id: m.anim.id})
	if got := m.State().Interp.T; got != 0.1 {
		t.Fatalf("tick after pause moved t to %v", got)
	}
	press(m, "u")
	if got := m.State().Interp; !got.On || got.T != 0 {
		t.Fatalf("undo after play: %+v, want the walk at t=0", got)
	}
}

func TestCopyPaste(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	var raw bytes.Buffer
	m.raw = &rawWriter{w: &raw}
	press(m, "2", "+")
	want := m.State()
	_, cmd := m.Update(keyMsg("c"))
	if cmd == nil {
		t.Fatal("c returned no command")
	}
	cmd()
	s := want.Encode()
	if !strings.Contains(m.info, s) {
		t.Errorf("state string not shown: %q", m.info)
	}
	if got := raw.String(); got != "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(s))+"\a" {
		t.Errorf("OSC 52: %q", got)
	}
	press(m, "0", "-", "-", "v")
	for _, r := range s {
		press(m, string(r))
	}
	press(m, "enter")
	if !m.State().Equal(want) {
		t.Fatalf("pasted %s, state %s", s, m.State())
	}
	// A pasted (bracketed) string arrives as one KeyMsg.
	press(m, "0", "v")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
	press(m, "enter")
	if !m.State().Equal(want) {
		t.Fatalf("bracketed paste: state %s", m.State())
	}
	// Pasted without v: loaded too.
	press(m, "0")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
	if !m.State().Equal(want) {
		t.Fatalf("paste without v: state %s", m.State())
	}
	before := m.State()
	press(m, "v", "s", "g", "1", ":", "x", "enter")
	if !m.State().Equal(before) || !strings.HasPrefix(m.info, "state string:") {
		t.Fatalf("bad string: %q", m.info)
	}
	// A string for another model is refused.
	press(m, "v")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("sg1:a=0:b=1:s=14A"), Paste: true})
	press(m, "enter")
	if !m.State().Equal(before) || !strings.Contains(m.info, "style slots") {
		t.Fatalf("14-slot string on an 8-slot model: %q", m.info)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m := newTestModel(t, fixtureNV32)
		_, cmd := m.Update(keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s: not quit", k)
		}
	}
	// Ctrl-C quits from a prompt too.
	m := newTestModel(t, fixtureNV32)
	press(m, "v")
	if _, cmd := m.Update(keyMsg("ctrl+c")); cmd == nil {
		t.Fatal("ctrl+c in a prompt did nothing")
	}
}

// Results older than what is shown are dropped, also when they arrive late.
func TestStaleRendersDropped(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	newer := image.NewRGBA(image.Rect(0, 0, 32, 32))
	older := image.NewRGBA(image.Rect(0, 0, 32, 32))
	m.Update(renderedMsg{which: imgR, gen: 5, img: newer})
	m.Update(renderedMsg{which: imgR, gen: 4, img: older})
	m.Update(renderedMsg{which: imgR, gen: 5, img: older, preview: true})
	if m.pipe.imgs[imgR].raw != newer {
		t.Fatal("an older render replaced a newer one")
	}
	// Encodings: an older one arriving after a newer one is dropped.
	m.Update(encodedMsg{which: imgR, gen: 5, layout: m.screen.layoutID, enc: encoded{rows: 1, lines: []string{"new"}}})
	m.Update(encodedMsg{which: imgR, gen: 4, layout: m.screen.layoutID, enc: encoded{rows: 1, lines: []string{"old"}}})
	m.Update(encodedMsg{which: imgR, gen: 6, layout: m.screen.layoutID - 1, enc: encoded{rows: 1, lines: []string{"old layout"}}})
	if got := m.pipe.imgs[imgR].enc.lines[0]; got != "new" {
		t.Fatalf("shown encoding %q, want new", got)
	}
}

func TestParseReplies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want termReply
		ok   bool
	}{
		{"\x1b[?63;1;2;4;6;9;15;16;22;28c", termReply{kind: 'c', sixel: true}, true},
		{"\x1b[?62;1;6c", termReply{kind: 'c'}, true},
		{"\x1b[?1;2c", termReply{kind: 'c'}, true},
		{"\x1b[6;20;10t", termReply{kind: 't', cellW: 10, cellH: 20}, true},
		{"\x1b[4;800;1200t", termReply{kind: 'T', areaW: 1200, areaH: 800}, true},
		{"\x1b[8;40;120t", termReply{}, false},
		{"\x1b[1;5A", termReply{}, false},
	} {
		got, ok := parseCSI(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseCSI(%q) = %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The view never has more lines than the window nor a line wider than it,
// whatever the size.
func TestViewFits(t *testing.T) {
	for _, path := range []string{fixtureNV32, fixtureRos128, fixtureNV256} {
		m := newTestModel(t, path)
		for _, sz := range [][2]int{{120, 40}, {80, 24}, {200, 60}, {60, 80}, {40, 15}, {20, 5}, {300, 20}} {
			resize(m, sz[0], sz[1])
			for _, help := range []bool{false, true} {
				if help {
					press(m, "?")
				}
				v := m.View()
				lines := strings.Split(v, "\n")
				if len(lines) > sz[1] {
					t.Errorf("%s %v help=%v: %d lines", path, sz, help, len(lines))
				}
				for i, l := range lines {
					if w := visibleWidth(l); w >= sz[0] {
						t.Errorf("%s %v help=%v: line %d is %d wide", path, sz, help, i, w)
					}
				}
				if help {
					press(m, "esc")
				}
			}
		}
	}
}
