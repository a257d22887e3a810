package tui

import (
	"math/bits"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
)

// Defects a new user met driving the explorer in tmux: each test fails
// without its fix.

// c during a quiz question not yet answered would print the state string,
// whose style slots, psi and walk space are the answer; once answered it
// copies as usual.
func TestQuizCopyKeepsAnswer(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	press(m, "Q", "c")
	if strings.Contains(m.info, latent.Version+":") || !strings.Contains(m.Explain(), "once you have answered") {
		t.Fatalf("c before the answer: info %q, explain %q", m.info, m.Explain())
	}
	if v := screen(m); strings.Contains(v, latent.Version+":") {
		t.Fatalf("the state string is on screen before the answer:\n%s", v)
	}
	press(m, "1", "c")
	if !strings.Contains(m.info, "copied (OSC 52): "+latent.Version+":") {
		t.Fatalf("c after the answer: info %q", m.info)
	}
}

// Started with --state, the explain line says what the state holds, not
// that every layer takes w_A.
func TestStartStateExplain(t *testing.T) {
	st, err := latent.Decode("sg1:a=29237:b=32131:s=2B4A:p=0.5:c=3")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Model: loadFixture(t, fixtureRos128), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, State: &st})
	if err != nil {
		t.Fatal(err)
	}
	e := m.Explain()
	if strings.Contains(e, "every layer takes w_A") || !strings.Contains(e, "coarse from B") || !strings.Contains(e, "seed 32131") {
		t.Fatalf("explain at the start from %s: %q", st.Encode(), e)
	}
	if e := newTestModel(t, fixtureRos128).Explain(); !strings.Contains(e, "every layer takes w_A") {
		t.Errorf("explain at a plain start: %q", e)
	}
}

// The strip's resolution row never shows a cut number (16 as "1", 256 as
// "25"): where the numbers do not fit their columns it gives the powers of
// two, and says so.
func TestStripResolutionsWhole(t *testing.T) {
	for _, path := range []string{fixtureNV32, fixtureRos128, fixtureNV256} {
		for _, w := range []int{40, 60, 80, 120} {
			m := newTestModel(t, path)
			resize(m, w, 40)
			row := stripRowsText(m)[1]
			fields := strings.Fields(row)
			exp := strings.HasPrefix(row, "res 2^")
			if exp {
				fields = fields[2:]
			} else if fields[0] == "res" {
				fields = fields[1:]
			} else {
				t.Fatalf("%s %d cols: resolution row %q", path, w, row)
			}
			n := m.cfg.NumStyles()
			if len(fields) < n {
				t.Fatalf("%s %d cols: %d resolutions in %q, want %d", path, w, len(fields), row, n)
			}
			for s := 0; s < n; s++ {
				r := m.cfg.SlotRes(s)
				want := strconv.Itoa(r)
				if exp {
					want = strconv.Itoa(bits.Len(uint(r)) - 1)
				}
				if fields[s] != want {
					t.Errorf("%s %d cols: slot %d (%d²) shows %q, want %q: %q", path, w, s, r, fields[s], want, row)
				}
			}
		}
	}
}

// L closes the lesson the explorer was started with, and opens that one
// again, not the built-in one.
func TestLessonKeyReopens(t *testing.T) {
	l := readLesson(t, testLesson)
	m := newLessonModel(t, fixtureRos128, l)
	press(m, "n", "L")
	if m.teach.les != nil {
		t.Fatalf("L did not close the lesson")
	}
	press(m, "L")
	if m.teach.les == nil || m.teach.les.l != l {
		t.Fatalf("L opened %v, want the lesson given (%s)", m.teach.les, l.File)
	}
	// In a quiz too.
	press(m, "L", "Q", "L")
	if m.teach.quiz != nil || m.teach.les == nil || m.teach.les.l != l {
		t.Fatalf("L in a quiz opened %v, want %s", m.teach.les, l.File)
	}
}

// The help overlay lists every key that works, in a lesson, a lesson's
// quiz and a class too, at 80x24 (the bands of key groups are too tall
// there).
func TestHelpListsEveryKey(t *testing.T) {
	lessonModel := func(t *testing.T) *Model {
		m := newLessonModel(t, fixtureRos128, readLesson(t, testLesson))
		return m
	}
	for _, tc := range []struct {
		name string
		m    func(t *testing.T) *Model
		keys []string
	}{
		{"explorer", func(t *testing.T) *Model { return newTestModel(t, fixtureRos128) }, nil},
		{"lesson", lessonModel, nil},
		{"lesson quiz", lessonModel, []string{"Q"}},
		{"student", func(t *testing.T) *Model { _, _, s := newClass(t, "ann"); return s[0] }, []string{"L"}},
		{"student quiz", func(t *testing.T) *Model { _, _, s := newClass(t, "ann"); return s[0] }, []string{"L", "Q"}},
	} {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			m := tc.m(t)
			resize(m, size[0], size[1])
			press(m, tc.keys...)
			press(m, "?")
			v := screen(m)
			lines := strings.Split(v, "\n")
			if len(lines) > size[1] {
				t.Errorf("%s %dx%d: %d lines", tc.name, size[0], size[1], len(lines))
			}
			for _, g := range m.keys.FullHelp() {
				for _, b := range g {
					if b.Enabled() && !strings.Contains(v, b.Help().Desc) {
						t.Errorf("%s %dx%d: the help lacks %q (%s):\n%s", tc.name, size[0], size[1], b.Help().Key, b.Help().Desc, v)
					}
				}
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w >= size[0] {
					t.Errorf("%s %dx%d: line %d is %d wide", tc.name, size[0], size[1], i, w)
				}
			}
		}
	}
}

// A seed that could not be read leaves its error on the info line only
// until a seed is set.
func TestSeedPromptErrorClears(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	press(m, "s", "x", "enter")
	if !strings.Contains(m.info, `seed "x"`) {
		t.Fatalf("info after a bad seed: %q", m.info)
	}
	press(m, "s", "5", "enter")
	if m.lat.st.A.Seed != 5 || m.info != "" {
		t.Fatalf("after seed 5: A's seed %d, info %q", m.lat.st.A.Seed, m.info)
	}
	// Other news on the info line stays.
	press(m, "c", "s", "6", "enter")
	if !strings.HasPrefix(m.info, "copied") {
		t.Fatalf("a seed took away the copied state: %q", m.info)
	}
}

// A psi from outside the keys' range (a state string's) moves the way the
// key says: + does not pull psi 5 down to 2, nor - pull -3 up to -1.
func TestPsiKeysOutsideRange(t *testing.T) {
	for _, tc := range []struct {
		psi  float64
		key  string
		want float64
	}{
		{5, "+", 5}, {5, "-", 4.9}, {-3, "-", -3}, {-3, "+", -2.9},
		{0.7, "+", 0.8}, {2, "+", 2}, {1.95, "+", 2}, {-1, "-", -1}, {-0.95, "-", -1},
	} {
		m := newTestModel(t, fixtureRos128)
		m.lat.st.Psi = tc.psi
		press(m, tc.key)
		if got := m.lat.st.Psi; got != tc.want {
			t.Errorf("psi %g, %s: psi %g, want %g", tc.psi, tc.key, got, tc.want)
		}
	}
}

// q while recording writes the GIF, and says where once the screen is
// restored (the info line that said it is gone with the screen).
func TestQuitSaysRecording(t *testing.T) {
	dir := t.TempDir()
	s := startSessionOpts(t, Options{Model: loadFixture(t, fixtureNV32), Graphics: "halfblock", Width: 100, Height: 30, RandSeed: 3, SaveDir: dir})
	s.waitFor("the first picture", 30*time.Second, all(idle, screenHas("frame ")))
	s.send("g")
	s.waitFor("recording", 10*time.Second, screenHas("● recording"))
	s.send("a")
	s.waitFor("the new seed", 30*time.Second, all(idle, screenHas("z_A <-")))
	s.quit()
	out := s.out.String()
	after := out[strings.LastIndex(out, "\x1b[?1049l"):]
	files, _ := filepath.Glob(filepath.Join(dir, "*.gif"))
	if len(files) != 1 {
		t.Fatalf("GIFs written: %v", files)
	}
	if !strings.Contains(after, "stylegan-tui: recorded "+filepath.Base(files[0])) {
		t.Fatalf("after the screen is restored: %q, want where %s went", after, files[0])
	}
}

// TestResLabels: the strip's resolution row of an 18-slot 1024 px model
// in decimal when its columns hold "1024", as powers of two when not, and
// a dot where even the exponent does not fit (1024's 10 in one character
// read as 2 px when cut).
func TestResLabels(t *testing.T) {
	var res []int
	for r := 4; r <= 1024; r *= 2 {
		res = append(res, r, r)
	}
	for _, c := range []struct {
		width int
		name  string
		want  string // the labels, space-separated
	}{
		{4, "res", "4 4 8 8 16 16 32 32 64 64 128 128 256 256 512 512 1024 1024"},
		{3, "res 2^", "2 2 3 3 4 4 5 5 6 6 7 7 8 8 9 9 10 10"},
		{1, "res 2^", "2 2 3 3 4 4 5 5 6 6 7 7 8 8 9 9 · ·"},
	} {
		name, labels := resLabels(res, c.width)
		if got := strings.Join(labels, " "); name != c.name || got != c.want {
			t.Errorf("width %d: %q %q, want %q %q", c.width, name, got, c.name, c.want)
		}
	}
}
