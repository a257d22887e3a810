package tui

import (
	"fmt"
	"image"
	"image/color"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
)

// fakeClass is a class in one goroutine, as package serve runs it: it
// queues its messages and the test delivers them (never inside an Update).
type fakeClass struct {
	t        *testing.T
	teacher  *Model
	students map[*Model]string
	follow   map[*Model]bool
	on       bool
	last     *Broadcast
	answers  map[string]map[*Model]int
	queue    []delivery
}

type delivery struct {
	to  *Model
	msg tea.Msg
}

type classLink struct {
	c *fakeClass
	m **Model
}

func (l classLink) Broadcast(on bool) {
	c := l.c
	c.on, c.last = on, nil
	for s := range c.students {
		c.follow[s] = true
	}
	c.news()
}

func (l classLink) Publish(b Broadcast) {
	c := l.c
	if *l.m != c.teacher {
		c.t.Errorf("a student published")
		return
	}
	c.last = &b
	for s := range c.students {
		if c.follow[s] {
			c.queue = append(c.queue, delivery{s, FollowMsg{&b}})
		}
	}
	c.news()
}

func (l classLink) Follow(on bool) {
	c := l.c
	c.follow[*l.m] = on
	if on && c.last != nil {
		c.queue = append(c.queue, delivery{*l.m, FollowMsg{c.last}})
	}
	c.news()
}

func (l classLink) Answer(quiz string, q, choice int) {
	c := l.c
	k := AnswersKey(quiz, q)
	if c.answers[k] == nil {
		c.answers[k] = map[*Model]int{}
	}
	c.answers[k][*l.m] = choice
	c.news()
}

// news sends everyone their ClassMsg.
func (c *fakeClass) news() {
	tm := ClassMsg{Broadcasting: c.on, Students: len(c.students)}
	for s, name := range c.students {
		if c.follow[s] {
			tm.Followers++
		} else {
			tm.Branched = append(tm.Branched, name)
		}
		c.queue = append(c.queue, delivery{s, ClassMsg{Broadcasting: c.on, Following: c.follow[s]}})
	}
	slices.Sort(tm.Branched)
	if b := c.last; b != nil && b.Quiz != nil {
		tm.AnswersTo = AnswersKey(QuizKey(*b.Quiz), b.Question)
		for _, a := range c.answers[tm.AnswersTo] {
			for len(tm.Answers) <= a {
				tm.Answers = append(tm.Answers, 0)
			}
			tm.Answers[a]++
		}
	}
	c.queue = append(c.queue, delivery{c.teacher, tm})
}

func (c *fakeClass) flush() {
	for len(c.queue) > 0 {
		d := c.queue[0]
		c.queue = c.queue[1:]
		d.to.Update(d.msg)
		if d.to.screen.clearing {
			d.to.Update(tea.ClearScreen())
		}
	}
}

// newClass makes a teacher and students (fixture models, 120x40
// half-blocks) in a fake class.
func newClass(t *testing.T, names ...string) (*fakeClass, *Model, []*Model) {
	c := &fakeClass{t: t, students: map[*Model]string{}, follow: map[*Model]bool{}, answers: map[string]map[*Model]int{}}
	mk := func(role ClassRole) *Model {
		var self *Model
		m, err := New(Options{Model: loadFixture(t, fixtureRos128), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: uint64(len(c.students) + 3),
			Class: classLink{c, &self}, ClassRole: role})
		if err != nil {
			t.Fatal(err)
		}
		self = m
		return m
	}
	c.teacher = mk(Teacher)
	var students []*Model
	for _, n := range names {
		s := mk(Student)
		c.students[s] = n
		c.follow[s] = true
		students = append(students, s)
	}
	c.news()
	c.flush()
	return c, c.teacher, students
}

// classPress presses keys in one explorer, then delivers the class's news.
func classPress(c *fakeClass, m *Model, keys ...string) {
	for _, k := range keys {
		press(m, k)
		c.flush()
	}
}

func screen(m *Model) string { return ansi.Strip(m.View()) }

// A teacher and two students: F broadcasts, the students follow the state,
// the lesson step and the quiz question; B branches, the branch's keys are
// its own, F follows again; a follower's keys change nothing; the teacher
// sees who follows and the histogram of the answers.
func TestClassFollow(t *testing.T) {
	c, tm, ss := newClass(t, "ann", "ben")
	k := classOf{c: c, tm: tm, ss: ss, ann: ss[0], ben: ss[1]}
	k.beforeBroadcast(t)
	k.broadcast(t)
	before := k.followerKeysRefused(t)
	k.branch(t, before)
	k.lessonFollowed(t)
	k.quizFollowed(t)
	k.broadcastOff(t)
}

// classOf is TestClassFollow's class: a teacher, ann and ben.
type classOf struct {
	c        *fakeClass
	tm       *Model
	ss       []*Model
	ann, ben *Model
}

// beforeBroadcast: a student's explorer is hers until the teacher's F.
func (k classOf) beforeBroadcast(t *testing.T) {
	t.Helper()
	c, tm, ann := k.c, k.tm, k.ann
	if v := screen(ann); !strings.Contains(v, "the teacher is not broadcasting") {
		t.Fatalf("student before a broadcast:\n%s", v)
	}
	classPress(c, ann, "2") // not broadcasting: the explorer is hers
	wantStyles(t, ann, "AABBAA")
	classPress(c, tm, "3")
	if v := screen(tm); !strings.Contains(v, "○ class · 2 students") {
		t.Errorf("teacher before the broadcast:\n%s", v)
	}
}

// broadcast: F; the students show the teacher's state and cursor.
func (k classOf) broadcast(t *testing.T) {
	t.Helper()
	c, tm, ss := k.c, k.tm, k.ss
	classPress(c, tm, "F")
	for _, s := range ss {
		if !s.State().Equal(tm.State()) || !s.following() {
			t.Fatalf("after F: a student shows %v (following %v), the teacher %v", s.State(), s.following(), tm.State())
		}
		if v := screen(s); !strings.Contains(v, "● following the teacher") {
			t.Errorf("student's class row:\n%s", v)
		}
	}
	if v := screen(tm); !strings.Contains(v, "● broadcasting · 2 following · 0 on their own") {
		t.Errorf("teacher's class row:\n%s", v)
	}
	classPress(c, tm, "right", "right", "space")
	for _, s := range ss {
		if !s.State().Equal(tm.State()) || s.lat.cursor != 2 || !strings.HasPrefix(s.Explain(), "teacher: w[2]") {
			t.Errorf("a student: cursor %d, explain %q, styles equal %v", s.lat.cursor, s.Explain(), s.State().Equal(tm.State()))
		}
	}
}

// followerKeysRefused: a follower's keys change nothing, anywhere. It
// returns the state they left alone.
func (k classOf) followerKeysRefused(t *testing.T) latent.State {
	t.Helper()
	c, tm, ann, ben := k.c, k.tm, k.ann, k.ben
	before := tm.State()
	classPress(c, ben, "a", "x", "u", "0", "L", "Q", "n", "+")
	if !ben.State().Equal(before) || !tm.State().Equal(before) || !ann.State().Equal(before) || ben.teach.les != nil || ben.teach.quiz != nil {
		t.Fatalf("a follower's keys changed something: ben %v, teacher %v", ben.State(), tm.State())
	}
	if !strings.Contains(ben.Explain(), "B explores on your own") {
		t.Errorf("a refused key: %q", ben.Explain())
	}
	return before
}

// branch: B gives ann her own copy; her keys reach nobody else, the
// teacher's reach her no more, and F follows again.
func (k classOf) branch(t *testing.T, before latent.State) {
	t.Helper()
	c, tm, ann, ben := k.c, k.tm, k.ann, k.ben
	classPress(c, ann, "B", "a", "1")
	if ann.State().Equal(before) || !tm.State().Equal(before) || !ben.State().Equal(before) {
		t.Fatalf("after ann's B and keys: ann %v, teacher %v, ben %v", ann.State(), tm.State(), ben.State())
	}
	if v := screen(tm); !strings.Contains(v, "1 following · 1 on their own: ann") {
		t.Errorf("teacher after ann's B:\n%s", v)
	}
	if v := screen(ann); !strings.Contains(v, "○ on your own") {
		t.Errorf("ann's class row:\n%s", v)
	}
	mine := ann.State()
	classPress(c, tm, "0")
	if !ben.State().Equal(tm.State()) || !ann.State().Equal(mine) {
		t.Fatalf("teacher's 0: ben follows %v; ann keeps hers %v", ben.State().Equal(tm.State()), ann.State().Equal(mine))
	}
	classPress(c, ann, "F")
	if !ann.State().Equal(tm.State()) || !ann.following() {
		t.Fatalf("ann's F: she shows %v, the teacher %v", ann.State(), tm.State())
	}
}

// lessonFollowed: the lesson, opened and stepped by the teacher, followed
// step by step.
func (k classOf) lessonFollowed(t *testing.T) {
	t.Helper()
	c, tm, ss := k.c, k.tm, k.ss
	classPress(c, tm, "L", "n")
	for _, s := range ss {
		if s.teach.les == nil || s.teach.les.l != tm.teach.les.l || s.teach.les.step != tm.teach.les.step || !s.State().Equal(tm.State()) {
			t.Fatalf("lesson: a student at %+v, the teacher at step %d", s.teach.les, tm.teach.les.step)
		}
		if v := screen(s); !strings.Contains(v, fmt.Sprintf("step %d/", tm.teach.les.step+1)) || !strings.Contains(v, "the teacher leads") {
			t.Errorf("a student's lesson panel:\n%s", v)
		}
	}
	classPress(c, tm, "L")
	if k.ann.teach.les != nil {
		t.Error("the teacher closed the lesson; a student still has it")
	}
}

// quizFollowed: a quiz, the same questions; the students' answers on the
// teacher's screen, counts only.
func (k classOf) quizFollowed(t *testing.T) {
	t.Helper()
	c, tm, ss, ann := k.c, k.tm, k.ss, k.ann
	classPress(c, tm, "Q")
	q := tm.teach.quiz
	for _, s := range ss {
		if s.teach.quiz == nil || QuizKey(s.teach.quiz.spec) != QuizKey(q.spec) || s.teach.quiz.cur != 0 {
			t.Fatalf("quiz: a student has %+v", s.teach.quiz)
		}
	}
	if v := screen(ann); !strings.Contains(v, "answer · the teacher moves on") {
		t.Errorf("a follower's quiz panel:\n%s", v)
	}
	if v := screen(tm); !strings.Contains(v, "answers to question 1 · 0 answers") {
		t.Errorf("teacher's quiz before answers:\n%s", v)
	}
	k.quizAnswered(t)
	classPress(c, tm, "Q")
	if ann.teach.quiz != nil || !ann.State().Equal(tm.State()) {
		t.Errorf("after the quiz: ann's quiz %v, state equal %v", ann.teach.quiz != nil, ann.State().Equal(tm.State()))
	}
}

// quizAnswered: ann's and ben's answers make the teacher's histogram; n
// moves everyone on.
func (k classOf) quizAnswered(t *testing.T) {
	t.Helper()
	c, tm := k.c, k.tm
	classPress(c, k.ann, "1")
	classPress(c, k.ben, "2")
	v := screen(tm)
	if !strings.Contains(v, "answers to question 1 · 2 answers") || !strings.Contains(v, "1) █") || !regexpCount(v, `2\) █+ 1`) || !strings.Contains(v, "3)  0") {
		t.Errorf("teacher's histogram after two answers:\n%s", v)
	}
	classPress(c, tm, "n")
	for _, s := range k.ss {
		if s.teach.quiz.cur != 1 {
			t.Errorf("a student on question %d, the teacher on 2", s.teach.quiz.cur+1)
		}
	}
	if v := screen(tm); !strings.Contains(v, "answers to question 2 · 0 answers") {
		t.Errorf("teacher's next question:\n%s", v)
	}
}

// broadcastOff: the picture stays, the keys are the students' again.
func (k classOf) broadcastOff(t *testing.T) {
	t.Helper()
	classPress(k.c, k.tm, "F")
	classPress(k.c, k.ben, "]")
	if k.ben.State().Equal(k.tm.State()) || k.ben.following() {
		t.Errorf("after the broadcast: ben's ] did nothing")
	}
}

func regexpCount(s, re string) bool { return regexp.MustCompile(re).MatchString(s) }

// The walk: the teacher's frames come as states (no undo steps), and the
// path length row is the teacher's.
func TestClassFollowWalk(t *testing.T) {
	c, tm, ss := newClass(t, "ann")
	classPress(c, tm, "F", "i", ".", ".")
	ann := ss[0]
	if !ann.State().Equal(tm.State()) || !ann.State().Interp.On {
		t.Fatalf("walk: ann %v, teacher %v", ann.State(), tm.State())
	}
	h := len(ann.lat.hist)
	// Frames of a playing walk (the teacher's ticks).
	tm.anim.playing = true
	tm.teach.wl.on = true
	tm.teach.wl.track.Key = "k"
	tm.teach.wl.track.Series[0].Add(0.1, 0.12, 3)
	for i := 0; i < 5; i++ {
		tm.Update(animTickMsg{tm.anim.id})
		c.flush()
	}
	if !ann.State().Equal(tm.State()) || len(ann.lat.hist) != h {
		t.Errorf("playing: ann at t=%v (teacher %v), %d undo steps added", ann.State().Interp.T, tm.State().Interp.T, len(ann.lat.hist)-h)
	}
	if !ann.showsWalkLen() || ann.teach.wl.track != tm.teach.wl.track {
		t.Errorf("ann does not show the teacher's path length")
	}
}

// F and B are bound to nothing else, and are off outside a class.
func TestClassKeys(t *testing.T) {
	km := DefaultKeyMap()
	v := reflect.ValueOf(km)
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		b := v.Field(i).Interface().(key.Binding)
		if name == "Follow" || name == "Branch" {
			if b.Enabled() {
				t.Errorf("%s is on outside a class", name)
			}
			continue
		}
		for _, k := range b.Keys() {
			if k == "F" || k == "B" {
				t.Errorf("%s is bound to %s too", name, k)
			}
		}
	}
	c, tm, ss := newClass(t, "ann")
	if !tm.keys.Follow.Enabled() || tm.keys.Branch.Enabled() {
		t.Error("a teacher's F is off or its B on")
	}
	// A student's F and B come and go with the teacher's broadcast.
	studentKeys := func(when string, on bool) {
		t.Helper()
		if ss[0].keys.Follow.Enabled() != on || ss[0].keys.Branch.Enabled() != on {
			t.Errorf("%s: a student's F on %v, B on %v; want %v", when, ss[0].keys.Follow.Enabled(), ss[0].keys.Branch.Enabled(), on)
		}
		help := strings.Join(ss[0].helpLines(119), "\n")
		if shown := strings.Contains(help, "follow the teacher") && strings.Contains(help, "explore on your own"); shown != on {
			t.Errorf("%s: the help shows the class keys %v, want %v:\n%s", when, shown, on, help)
		}
	}
	studentKeys("before a broadcast", false)
	classPress(c, tm, "F")
	studentKeys("while the teacher broadcasts", true)
	classPress(c, tm, "F")
	studentKeys("after the broadcast", false)
}

// Explorers sharing an Encodes encode one picture once per box: the same
// bytes, one encoding.
func TestEncodesShared(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	e := NewEncodes()
	req := encodeReq{which: imgR, gen: 1, img: img, cols: 20, rows: 10, mode: gfxSixel, cellW: 10, cellH: 20, family: "R 0 1 alone", palettes: e.palettes}
	a := e.encode(req)
	req2 := req
	req2.gen, req2.layout = 9, 3
	b := e.encode(req2)
	if e.Count() != 1 || a.enc.sixel != b.enc.sixel || b.gen != 9 || b.layout != 3 || a.enc.sixel == "" {
		t.Fatalf("two asks of one encoding: %d encodings, same bytes %v, gen %d layout %d", e.Count(), a.enc.sixel == b.enc.sixel, b.gen, b.layout)
	}
	req3 := req
	req3.cols = 12
	if c := e.encode(req3); e.Count() != 2 || c.enc.sixel == a.enc.sixel {
		t.Errorf("another box: %d encodings", e.Count())
	}
	hb := req
	hb.mode = gfxHalfBlock
	e.encode(hb)
	hb.cellW, hb.family = 6, "other" // not part of a half-block encoding
	e.encode(hb)
	if e.Count() != 3 {
		t.Errorf("half-blocks of one box: %d encodings in all, want 3", e.Count())
	}
}
