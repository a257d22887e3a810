package tui

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
	"stylegan-tui/tui/lesson"
	"stylegan-tui/tui/pathlen"
)

const testLesson = "testdata/lesson_ros128.md"

func readLesson(t *testing.T, path string) *lesson.Lesson {
	t.Helper()
	l, err := lesson.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newLessonModel(t *testing.T, path string, l *lesson.Lesson) *Model {
	t.Helper()
	m, err := New(Options{Model: loadFixture(t, path), Graphics: "halfblock", Width: 100, Height: 30, RandSeed: 7, Lesson: l})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func stepState(t *testing.T, l *lesson.Lesson, i int) latent.State {
	t.Helper()
	if l.Steps[i].State == nil {
		t.Fatalf("step %d has no state", i)
	}
	return *l.Steps[i].State
}

// TestLessonKeys: n and p go to the next and previous step and reset the
// picture to the step's state whatever was done in between; a step for
// toyfaces models is skipped on others, saying so; a broken step shows
// its file and line and changes nothing; every other key still works, the
// walk and nudge on P and N.
func TestLessonKeys(t *testing.T) {
	l := readLesson(t, testLesson)
	m := newLessonModel(t, fixtureRos128, l)
	want0, want2 := stepState(t, l, 0), stepState(t, l, 2)
	if !m.State().Equal(want0) {
		t.Fatalf("opened at %v, want step 1's %v", m.State(), want0)
	}
	if m.keys.Nudge.Keys()[0] != "N" || m.keys.Play.Keys()[0] != "P" || !m.keys.NextStep.Enabled() {
		t.Fatalf("lesson keys: nudge %v play %v next %v", m.keys.Nudge.Keys(), m.keys.Play.Keys(), m.keys.NextStep.Enabled())
	}

	resize(m, 100, 40)
	press(m, "?")
	help := ansi.Strip(m.View())
	for _, want := range []string{"n/p next/previous step", "P   play/pause the walk", "N   nudge z of A", "tab more of the caption", "L   the lesson on/off"} {
		if !strings.Contains(help, want) {
			t.Errorf("the help in a lesson lacks %q:\n%s", want, help)
		}
	}
	press(m, "?")
	press(m, "a", "2") // the explorer is live in a step
	if m.State().Equal(want0) || m.State().A.Seed == 10 {
		t.Fatalf("keys in a step changed nothing: %v", m.State())
	}
	press(m, "n")
	if !m.State().Equal(want2) {
		t.Fatalf("n: state %v, want step 3's %v (step 2 needs toyfaces)", m.State(), want2)
	}
	if !strings.Contains(m.Explain(), "skipped step 2 (needs a toyfaces model)") {
		t.Errorf("n over a toyfaces step: explain %q", m.Explain())
	}
	press(m, "x", "N") // swap, nudge
	if len(m.State().A.Nudges) != 1 {
		t.Errorf("N did not nudge A in a lesson: %v", m.State())
	}
	press(m, "p")
	if !m.State().Equal(want0) {
		t.Fatalf("p: state %v, want step 1's %v", m.State(), want0)
	}
	// The broken step keeps the picture and names file, line and the fault.
	press(m, "n", "n")
	if m.teach.les.step != 3 {
		t.Fatalf("n n from step 1: at step %d, want 4", m.teach.les.step+1)
	}
	if !m.State().Equal(want2) {
		t.Errorf("a broken step changed the state to %v", m.State())
	}
	if !strings.Contains(m.Explain(), "step 4's state does not fit this model") {
		t.Errorf("broken step: explain %q", m.Explain())
	}
	resize(m, 100, 30)
	view := ansi.Strip(m.View())
	for _, want := range []string{"step 4/5 · Broken", "lesson_ros128.md:32: state block: latent: state has 18 style slots, model has 6"} {
		if !strings.Contains(view, want) {
			t.Errorf("broken step's view lacks %q:\n%s", want, view)
		}
	}
	// The walk step: on, at its t, still (no play).
	press(m, "n")
	st := m.State()
	if !st.Interp.On || st.Interp.T != 0.5 || st.Interp.Space != latent.SpaceW || m.anim.playing {
		t.Errorf("walk step: interp %+v, playing %v", st.Interp, m.anim.playing)
	}
	press(m, "P")
	if !m.anim.playing {
		t.Errorf("P did not play the walk in a lesson")
	}
	press(m, "n")
	if !strings.Contains(m.Explain(), "the last step") {
		t.Errorf("n at the end: %q", m.Explain())
	}
	// Undo goes back through the steps too.
	press(m, "u")
	if !m.State().Equal(want2) || m.anim.playing {
		t.Errorf("undo from the walk step: %v, want step 3's state", m.State())
	}

	// L closes the lesson: n and p are the nudge and the walk again.
	press(m, "L")
	if m.teach.les != nil || m.keys.NextStep.Enabled() || m.keys.Nudge.Keys()[0] != "n" {
		t.Fatalf("L did not close the lesson")
	}
	before := m.State()
	press(m, "n")
	if len(m.State().A.Nudges) != len(before.A.Nudges)+1 {
		t.Errorf("n outside a lesson did not nudge: %v", m.State().A)
	}
}

// TestBuiltInLessonKey: L opens the built-in lesson for the loaded model,
// whose steps all run (the toyfaces one skipped on another model).
func TestBuiltInLessonKey(t *testing.T) {
	m := newTestModel(t, fixtureNV32)
	press(m, "L")
	r := m.teach.les
	if r == nil || r.l.File != lesson.BuiltInName {
		t.Fatalf("L opened %v", r)
	}
	seen := 0
	for i := 0; i < 20; i++ {
		step := r.step
		if err := m.stepErr(step); err != nil {
			t.Fatalf("built-in step %d: %v", step+1, err)
		}
		if r.l.Steps[step].Toyfaces {
			t.Fatalf("the built-in lesson ran a toyfaces step on an NVlabs model")
		}
		if s := r.l.Steps[step]; s.State != nil && s.Quiz == nil {
			want := s.State.Clone()
			if s.Walk != nil {
				want.Interp.On, want.Interp.Space = true, s.Walk.Space
			}
			if !m.State().Equal(want) {
				t.Errorf("step %d: state %v, want %v", step+1, m.State(), want)
			}
		}
		seen++
		press(m, "n")
		if m.teach.quiz != nil {
			break
		}
	}
	if m.teach.quiz == nil || !m.teach.quiz.inLesson || len(m.teach.quiz.qs) != 3 {
		t.Fatalf("the built-in lesson did not end in its quiz (%d steps seen)", seen)
	}
}

// TestQuizKeys answers a quiz round: the panels show the question's
// states, the strip is hidden until the answer, the score counts, and Q
// puts back the picture from before.
func TestQuizKeys(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	press(m, "a")
	before := m.State()
	press(m, "Q")
	q := m.teach.quiz
	if q == nil || len(q.qs) != 6 || q.seed != before.A.Seed {
		t.Fatalf("Q: quiz %+v", q)
	}
	again := lesson.Quiz(m.cfg, lesson.QuizSpec{Seed: before.A.Seed, N: 6})
	for i := range again {
		if again[i].Prompt != q.qs[i].Prompt || !again[i].Panels[2].State.Equal(q.qs[i].Panels[2].State) {
			t.Fatalf("question %d differs from the seed's quiz", i)
		}
	}
	right := 0
	for i, qu := range q.qs {
		for j := range 3 {
			if got, want := m.panelState(j), qu.Panels[j].State; !got.Equal(want) && !qu.Panels[j].Walk {
				t.Fatalf("question %d: panel %d shows %v, want %v", i, j, got, want)
			}
			if l, _ := m.teachLabel(j); l != qu.Panels[j].Label {
				t.Errorf("question %d: label %q", i, l)
			}
		}
		if qu.Kind == lesson.KindWalk {
			// The walks play; their ticks say nothing of the spaces.
			explain, t0 := m.Explain(), m.lat.st.Interp.T
			if !m.anim.playing {
				t.Fatalf("question %d: the walks do not play", i)
			}
			m.Update(animTickMsg{m.anim.id})
			if m.lat.st.Interp.T == t0 || m.Explain() != explain {
				t.Errorf("question %d: a tick: t %v -> %v, explain %q -> %q", i, t0, m.lat.st.Interp.T, explain, m.Explain())
			}
			if a, b := m.panelState(imgA), m.panelState(imgB); a.Interp.T != m.lat.st.Interp.T || b.Interp.T != m.lat.st.Interp.T {
				t.Errorf("question %d: the walking panels are not at the clock's t", i)
			}
		}
		resize(m, 100, 30)
		view := ansi.Strip(m.View())
		if !strings.Contains(view, "the layer strip shows once you answer") || strings.Contains(view, "cutoff") {
			t.Errorf("question %d: the strip is not hidden:\n%s", i, view)
		}
		press(m, "2", "3", "1") // 2, then two keys after the answer
		if q.answers[i] != 1 {
			t.Fatalf("question %d: answer %d recorded, want choice 2", i, q.answers[i])
		}
		if qu.Answer == 1 {
			right++
		}
		if got, _ := q.score(); got != right {
			t.Errorf("question %d: score %d, want %d", i, got, right)
		}
		if !strings.Contains(m.Explain(), "already answered") {
			t.Errorf("a second answer: %q", m.Explain())
		}
		view = ansi.Strip(m.View())
		if !strings.Contains(view, qu.Explain[:30]) {
			t.Errorf("question %d: the view does not explain the answer", i)
		}
		press(m, "n")
	}
	if q.cur != len(q.qs) || !strings.Contains(m.Explain(), "quiz done") {
		t.Fatalf("after the last question: cur %d, explain %q", q.cur, m.Explain())
	}
	press(m, "n")
	if m.teach.quiz != nil || !m.State().Equal(before) {
		t.Fatalf("the quiz did not end with the picture from before: %v", m.State())
	}
	if m.keys.NextStep.Enabled() || m.keys.Answer.Enabled() {
		t.Errorf("quiz keys still on")
	}
	// Q ends a quiz midway, putting the picture back; the group keys are
	// the group keys again.
	press(m, "Q", "Q", "2")
	wantStyles(t, m, "AABBAA")
}

// TestLessonGolden: a lesson step and a quiz question at a fixed size
// (captions rendered by glamour in the tests' plain colour profile).
func TestLessonGolden(t *testing.T) {
	l := readLesson(t, testLesson)
	for _, tc := range []struct {
		name, path string
		les        *lesson.Lesson
		w, h       int
		keys       []string
	}{
		{"ros128_lesson_step3_100x30", fixtureRos128, l, 100, 30, []string{"n"}},
		{"nv32_quiz_80x24", fixtureNV32, nil, 80, 24, []string{"Q"}},
		{"nv32_quiz_answered_80x24", fixtureNV32, nil, 80, 24, []string{"Q", "1"}},
		{"nv32_builtin_step1_80x24", fixtureNV32, nil, 80, 24, []string{"L"}},
		{"nv32_builtin_step1_more_80x24", fixtureNV32, nil, 80, 24, []string{"L", "tab"}},
	} {
		m, err := New(Options{Model: loadFixture(t, tc.path), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, Lesson: tc.les})
		if err != nil {
			t.Fatal(err)
		}
		resize(m, tc.w, tc.h)
		pressTab(m, tc.keys...)
		got := ansi.Strip(m.View())
		if again := ansi.Strip(m.View()); again != got {
			t.Errorf("%s: the view changed when drawn again:\n%s\n--\n%s", tc.name, got, again)
		}
		for i, line := range strings.Split(got, "\n") {
			if w := ansi.StringWidth(line); w >= tc.w {
				t.Errorf("%s line %d is %d wide in a %d-column window", tc.name, i, w, tc.w)
			}
		}
		if n := strings.Count(got, "\n") + 1; n > tc.h {
			t.Errorf("%s: %d lines in a %d-row window", tc.name, n, tc.h)
		}
		compareGolden(t, tc.name, got)
	}
}

// pressTab is press, with "tab" the tab key (keyMsg would type t, a, b).
func pressTab(m *Model, keys ...string) {
	for _, k := range keys {
		if k == "tab" {
			m.Update(tea.KeyMsg{Type: tea.KeyTab})
			continue
		}
		press(m, k)
	}
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".txt")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run LessonGolden -update)", err)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s line %d:\n got %q\nwant %q", name, i, g, w)
		}
	}
}

// TestSparkWalk feeds a playing walk's frames through the explorer: each
// space's series holds d/Δt² of consecutive frames, the shown space's from
// the frames shown, the other's from the companion's renders, both equal
// to the distance of independently rendered frames over Δt².
func TestSparkWalk(t *testing.T) {
	m := newTestModel(t, fixtureRos128)
	press(m, "i")
	m.anim.playing = true // as p does, without its ticks
	g, err := loadFixture(t, fixtureRos128).Generator()
	if err != nil {
		t.Fatal(err)
	}
	frame := func(sp latent.Space, tt float64) (latent.State, *image.RGBA) {
		st := m.State()
		st.Interp.Space, st.Interp.T = sp, tt
		img, _, err := g.Render(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st, img
	}
	ts := []float64{0.2, 0.22, 0.26}
	var imgs [2][]*image.RGBA
	for _, tt := range ts {
		for _, sp := range []latent.Space{latent.SpaceW, latent.SpaceZ} {
			_, img := frame(sp, tt)
			imgs[sp] = append(imgs[sp], img)
		}
		st, img := frame(latent.SpaceW, tt)
		m.pipe.next()
		run(t, m, m.walkFrame(renderedMsg{which: imgR, gen: m.pipe.gen, st: st, img: img}))
	}
	if d := m.distance(); d.Name() != "pixel MSE" {
		t.Errorf("a rosinality model's path length uses %q, want the pixel distance", d.Name())
	}
	for _, sp := range []latent.Space{latent.SpaceW, latent.SpaceZ} {
		s := &m.teach.wl.track.Series[sp]
		for k := 1; k < len(ts); k++ {
			dt := ts[k] - ts[k-1]
			want := mse(imgs[sp][k-1], imgs[sp][k]) / (dt * dt)
			bin := int((ts[k] + ts[k-1]) / 2 * pathlen.Bins)
			if !s.Have[bin] || relDiff(s.V[bin], want) > 1e-9 {
				t.Errorf("%v: bin %d = %v (have %v), want %v", sp, bin, s.V[bin], s.Have[bin], want)
			}
		}
		if _, n := s.Mean(); n != len(ts)-1 {
			t.Errorf("%v: %d bins measured, want %d", sp, n, len(ts)-1)
		}
	}
	resize(m, 100, 30)
	row := ""
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		if strings.HasPrefix(l, "path ") {
			row = l
		}
	}
	if !strings.Contains(row, "W ") || !strings.Contains(row, "│ Z ") || !strings.Contains(row, "d/Δt², pixel MSE") || strings.Count(row, "·") < 10 {
		t.Errorf("path length row %q", row)
	}
	// The walk off: the row goes, and the pictures get it back.
	press(m, "i")
	if m.screen.lay.sparkRows != 0 {
		t.Errorf("walk off, path length row still on")
	}
}

// run runs a command and feeds its messages back, like the program does
// (batches included; no ticks or renders are in what it is given).
func run(t *testing.T, m *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a command did not return in 30 s")
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			run(t, m, c)
		}
		return
	}
	if msg != nil {
		m.Update(msg)
	}
}

// mse is the mean squared difference of two pictures' RGB in [-1, 1].
func mse(a, b *image.RGBA) float64 {
	var s float64
	n := 0
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
			p, q := a.RGBAAt(x, y), b.RGBAAt(x, y)
			for _, d := range []float64{float64(p.R) - float64(q.R), float64(p.G) - float64(q.G), float64(p.B) - float64(q.B)} {
				s += (d / 127.5) * (d / 127.5)
				n++
			}
		}
	}
	return s / float64(n)
}

func relDiff(a, b float64) float64 {
	if b == 0 {
		return a
	}
	d := (a - b) / b
	if d < 0 {
		d = -d
	}
	return d
}

// TestHeadlessLesson runs a lesson in the real program: n and p bring back
// each step's picture (decoded from the half-blocks on screen and compared
// with the generator's), whatever keys were pressed in between.
func TestHeadlessLesson(t *testing.T) {
	const path = fixtureRos128
	l := readLesson(t, testLesson)
	s := startSessionOpts(t, Options{Model: loadFixture(t, path), Graphics: "halfblock", Width: 100, Height: 30, RandSeed: 3, Lesson: l})
	check := func(st latent.State, what string, conds ...func(v *vt) bool) {
		t.Helper()
		v := s.waitFor(what, 60*time.Second, all(append(conds, idle, screenHas("render "))...))
		got := halfBlockUnder(t, v, "result · ")
		b := got.Bounds()
		if p := psnr(got, reference(t, path, st, b.Dx(), b.Dy())); p < 28 {
			t.Errorf("%s: the result on screen is not the step's picture: PSNR %.1f dB, want >= 28", what, p)
		}
	}
	step1, step3 := stepState(t, l, 0), stepState(t, l, 2)
	check(step1, "step 1", screenHas("step 1/5 · Two faces"), screenHas("A · seed 10"), screenHas("result · A "))
	s.send("b2")
	s.waitFor("B changed", 60*time.Second, all(idle, screenHas("result · A + middle from B"), func(v *vt) bool { _, _, ok := v.find("B · seed 58"); return !ok }))
	s.send("n")
	check(step3, "step 3", screenHas("step 3/5 · The middle styles from B"), screenHas("B · seed 58"), screenHas("skipped step 2"))
	s.send("a")
	s.waitFor("A changed", 60*time.Second, all(idle, func(v *vt) bool { _, _, ok := v.find("A · seed 10"); return !ok }))
	s.send("p")
	check(step1, "step 1 again", screenHas("step 1/5 · Two faces"), screenHas("A · seed 10"), screenHas("result · A "))
	s.quit()
}
