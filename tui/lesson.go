package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
	"stylegan-tui/tui/lesson"
)

// teaching is what a teacher adds to the explorer: a lesson (its steps over
// the explorer, which stays live), a quiz round on the three pictures, and
// the walk's path length under the strip. The zero value is none of them.
type teaching struct {
	les  *lessonRun
	quiz *quizRun
	wl   walkLen
	// pending holds the commands of a lesson opened by New (its first
	// step's walk), which Init runs.
	pending tea.Cmd
}

// lessonRun is an open lesson.
type lessonRun struct {
	l      *lesson.Lesson
	step   int
	toy    bool                  // the model is a toyfaces model
	errs   map[int]*lesson.Error // steps whose state does not fit the model
	scroll int                   // first caption line shown (tab)
	cache  captionCache
}

// captionCache holds the steps' captions as glamour rendered them for one
// width and background.
type captionCache struct {
	width int
	dark  bool
	lines [][]string // per step; nil: not rendered yet
}

// quizRun is a quiz round.
type quizRun struct {
	qs       []lesson.Question
	cur      int   // the question shown; len(qs) is the round's summary
	answers  []int // the choice given per question, -1 none yet
	before   latent.State
	inLesson bool // the lesson step's quiz block (n at its end: next step)
	seed     int64
	spec     lesson.QuizSpec // what made it (a class's followers make the same)
}

// teachingKeys rebinds the keys for a lesson or quiz: n and p move through
// it, the walk and the nudge stay on P and N, tab pages the caption, the
// digits answer.
func (m *Model) teachingKeys() {
	d := DefaultKeyMap()
	les, quiz := m.teach.les != nil, m.teach.quiz != nil
	k := &m.keys
	k.Play, k.Nudge = d.Play, d.Nudge
	k.NextStep, k.PrevStep, k.More, k.Answer = d.NextStep, d.PrevStep, d.More, d.Answer
	if !les && !quiz {
		return
	}
	k.Play = key.NewBinding(key.WithKeys("P"), key.WithHelp("P", d.Play.Help().Desc))
	k.Nudge = key.NewBinding(key.WithKeys("N"), key.WithHelp("N", d.Nudge.Help().Desc))
	k.NextStep.SetEnabled(true)
	k.PrevStep.SetEnabled(true)
	if quiz {
		k.NextStep.SetHelp("n", "next question")
		k.PrevStep.SetHelp("p", "previous question")
		k.Answer.SetEnabled(true)
		k.Answer.SetHelp(fmt.Sprintf("1-%d", len(m.teach.quiz.question().Choices)), "answer")
	} else {
		k.More.SetEnabled(true)
	}
}

// OpenLesson opens lesson l at its first step the model can run.
func (m *Model) openLesson(l *lesson.Lesson) tea.Cmd {
	m.endQuiz(false)
	m.teach.les = &lessonRun{l: l, toy: lesson.Toyfaces(m.cfg), errs: map[int]*lesson.Error{}}
	m.teachingKeys()
	for i := range l.Steps {
		if m.runnable(i) {
			return m.enterStep(i)
		}
	}
	m.teach.les.step = 0
	m.explain = "lesson: every step needs a toyfaces model; L closes the lesson"
	return nil
}

// lessonToOpen is what L opens: the lesson the explorer was started with
// (stylegan-tui lesson FILE), else the built-in one for the model.
func (m *Model) lessonToOpen() *lesson.Lesson {
	if m.opts.Lesson != nil {
		return m.opts.Lesson
	}
	return lesson.BuiltIn(m.cfg)
}

func (m *Model) closeLesson() {
	m.endQuiz(false)
	m.teach.les = nil
	m.teachingKeys()
	m.explain = "lesson closed; the explorer keeps the picture"
}

// runnable reports whether step i can run on this model.
func (m *Model) runnable(i int) bool {
	return !m.teach.les.l.Steps[i].Toyfaces || m.teach.les.toy
}

// stepErr is step i's error: the file's, or its state not fitting the model.
func (m *Model) stepErr(i int) *lesson.Error {
	s := &m.teach.les.l.Steps[i]
	if s.Err != nil {
		return s.Err
	}
	return m.teach.les.errs[i]
}

// move goes to the next (d=1) or previous (d=-1) step the model can run,
// saying which it skipped.
func (m *Model) move(d int) tea.Cmd {
	r := m.teach.les
	var skipped []string
	for i := r.step + d; i >= 0 && i < len(r.l.Steps); i += d {
		if m.runnable(i) {
			cmd := m.enterStep(i)
			if len(skipped) > 0 {
				m.explain = fmt.Sprintf("skipped %s (needs a toyfaces model); %s", strings.Join(skipped, ", "), m.explain)
			}
			return cmd
		}
		skipped = append(skipped, fmt.Sprintf("step %d", i+1))
	}
	if d > 0 {
		m.explain = "the last step of the lesson: p goes back, L closes the lesson"
	} else {
		m.explain = "the first step of the lesson: n goes on"
	}
	return nil
}

// enterStep shows step i: its state (recorded for undo), its walk and its
// quiz. A broken step shows its error and changes nothing.
func (m *Model) enterStep(i int) tea.Cmd {
	r := m.teach.les
	r.step, r.scroll = i, 0
	m.endQuiz(false)
	m.pause()
	s := &r.l.Steps[i]
	if err := m.stepErr(i); err != nil {
		m.explain = fmt.Sprintf("step %d is broken (%s); n and p still move", i+1, err)
		return nil
	}
	st := m.lat.st.Clone()
	if s.State != nil {
		if err := s.State.Validate(m.cfg.NumStyles(), m.cfg.NumNoise()); err != nil {
			r.errs[i] = &lesson.Error{File: r.l.File, Line: s.StateLine,
				Msg: fmt.Sprintf("state block: %v: want a state string made on a model with %d style slots", err, m.cfg.NumStyles())}
			m.explain = fmt.Sprintf("step %d's state does not fit this model; n and p still move", i+1)
			return nil
		}
		st = s.State.Clone()
	}
	if w := s.Walk; w != nil {
		st.Interp.On = true
		if w.SpaceSet {
			st.Interp.Space = w.Space
		}
		if w.TSet {
			st.Interp.T = w.T
		}
	}
	cmd := m.apply(st, fmt.Sprintf("lesson step %d", i+1))
	m.explain = fmt.Sprintf("step %d/%d: %s", i+1, len(r.l.Steps), m.describeState(st))
	if s.Walk != nil && s.Walk.Play {
		cmd = tea.Batch(cmd, m.togglePlay())
	}
	if s.Quiz != nil {
		cmd = tea.Batch(cmd, m.startQuiz(*s.Quiz, true))
	}
	return cmd
}

// startQuiz opens a round of questions on the three pictures.
func (m *Model) startQuiz(spec lesson.QuizSpec, inLesson bool) tea.Cmd {
	m.pause()
	qs := lesson.Quiz(m.cfg, spec)
	q := &quizRun{qs: qs, answers: make([]int, len(qs)), before: m.lat.st.Clone(), inLesson: inLesson, seed: spec.Seed, spec: spec}
	for i := range q.answers {
		q.answers[i] = -1
	}
	m.teach.quiz = q
	return m.showQuestion(0)
}

func (q *quizRun) question() *lesson.Question { return &q.qs[min(q.cur, len(q.qs)-1)] }

func (q *quizRun) score() (right, answered int) {
	for i, a := range q.answers {
		if a >= 0 {
			answered++
			if a == q.qs[i].Answer {
				right++
			}
		}
	}
	return right, answered
}

// showQuestion shows question i (len(qs): the summary, over the last
// question's pictures). The explorer's state is the result panel's, with
// the walk's t as the clock of the walking panels.
func (m *Model) showQuestion(i int) tea.Cmd {
	q := m.teach.quiz
	m.anim.playing = false
	m.anim.id++
	q.cur = i
	m.teachingKeys()
	if i >= len(q.qs) {
		right, answered := q.score()
		m.explain = fmt.Sprintf("quiz done: %d of %d right (%d answered); n goes on", right, len(q.qs), answered)
		return nil
	}
	qu := &q.qs[i]
	st := qu.Panels[imgR].State.Clone()
	st.Interp.T = 0
	m.lat.st = st
	m.explain = fmt.Sprintf("question %d of %d: answer with %s", i+1, len(q.qs), m.keys.Answer.Help().Key)
	cmd := m.requestRender()
	if qu.Kind == lesson.KindWalk {
		cmd = tea.Batch(cmd, m.playQuiz())
	}
	return cmd
}

// playQuiz starts or stops the walking panels (the explorer's animation
// without its undo steps).
func (m *Model) playQuiz() tea.Cmd {
	m.anim.id++
	if m.anim.playing {
		m.anim.playing = false
		return nil
	}
	m.anim.playing = true
	id := m.anim.id
	return tea.Tick(animEvery, func(time.Time) tea.Msg { return animTickMsg{id} })
}

// endQuiz closes the quiz; restore puts back the picture from before it.
func (m *Model) endQuiz(restore bool) tea.Cmd {
	q := m.teach.quiz
	if q == nil {
		return nil
	}
	m.anim.playing = false
	m.anim.id++
	m.teach.quiz = nil
	m.teachingKeys()
	if !restore {
		return nil
	}
	m.lat.st = q.before.Clone()
	return m.requestRender()
}

// panelState is the state image which shows: in a quiz the question's
// panel (a walking one at the clock's t), else source A or B alone, or the
// result.
func (m *Model) panelState(which int) latent.State {
	if q := m.teach.quiz; q != nil {
		p := q.question().Panels[which]
		st := p.State.Clone()
		if p.Walk {
			st.Interp.T = m.lat.st.Interp.T
		}
		return st
	}
	if which == imgR {
		return m.lat.st
	}
	return sourceState(m.lat.st, which)
}

// submitPanels asks for all three pictures of a quiz question at once.
func (m *Model) submitPanels() tea.Cmd {
	return tea.Batch(m.submit(imgR, m.panelState(imgR)), m.submit(imgA, m.panelState(imgA)), m.submit(imgB, m.panelState(imgB)))
}

// teachKey handles the lesson and quiz keys; ok is false for keys the
// explorer handles as usual.
func (m *Model) teachKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	if m.teach.quiz != nil {
		return m.quizKey(msg)
	}
	switch {
	case key.Matches(msg, k.Lesson):
		if m.teach.les != nil {
			m.closeLesson()
			return m.relayoutCmd(), true
		}
		return m.openLesson(m.lessonToOpen()), true
	case key.Matches(msg, k.Quiz):
		seed := m.lat.st.A.Seed
		cmd := m.startQuiz(lesson.QuizSpec{Seed: seed, N: 6}, false)
		m.explain = fmt.Sprintf("quiz from seed %d (A's seed: the same quiz for everyone on it); %s", seed, m.explain)
		return cmd, true
	case m.teach.les == nil:
		return nil, false
	case key.Matches(msg, k.NextStep):
		return m.move(1), true
	case key.Matches(msg, k.PrevStep):
		return m.move(-1), true
	case key.Matches(msg, k.More):
		m.teach.les.scroll += max(1, m.screen.lay.panelRows-2)
		return nil, true
	}
	return nil, false
}

// quizKey handles keys during a quiz: answers, moving between questions,
// the walking panels' play and t; help, quit, copy and the save keys work
// as usual; the rest would change pictures the question depends on.
func (m *Model) quizKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k, q := m.keys, m.teach.quiz
	qu := q.question()
	switch {
	case key.Matches(msg, k.Copy) && q.cur < len(q.qs) && q.answers[q.cur] < 0:
		// The state string names the slots from B, psi and the walk's
		// space: the answer.
		m.explain = "c copies the state once you have answered (its string gives the answer away)"
		return nil, true
	case key.Matches(msg, k.Help), key.Matches(msg, k.Quit), key.Matches(msg, k.Copy),
		key.Matches(msg, k.Save), key.Matches(msg, k.Record), key.Matches(msg, k.SaveAnim):
		return nil, false
	case key.Matches(msg, k.Lesson):
		if m.teach.les != nil {
			cmd := m.endQuiz(true)
			m.closeLesson()
			return tea.Batch(cmd, m.relayoutCmd()), true
		}
		cmd := m.endQuiz(true)
		return tea.Batch(cmd, m.openLesson(m.lessonToOpen())), true
	case key.Matches(msg, k.Quiz):
		right, _ := q.score()
		cmd := m.endQuiz(true)
		m.explain = fmt.Sprintf("quiz ended: %d of %d right", right, len(q.qs))
		return cmd, true
	case key.Matches(msg, k.NextStep):
		if q.cur < len(q.qs) {
			return m.showQuestion(q.cur + 1), true
		}
		if q.inLesson {
			m.endQuiz(false)
			return m.move(1), true
		}
		right, _ := q.score()
		cmd := m.endQuiz(true)
		m.explain = fmt.Sprintf("quiz done: %d of %d right", right, len(q.qs))
		return cmd, true
	case key.Matches(msg, k.PrevStep):
		if q.cur > 0 {
			return m.showQuestion(min(q.cur, len(q.qs)) - 1), true
		}
		if q.inLesson {
			m.endQuiz(false)
			return m.move(-1), true
		}
		m.explain = "the first question: n goes on, Q ends the quiz"
		return nil, true
	case q.cur < len(q.qs) && key.Matches(msg, k.Answer):
		return m.answer(msg.String()), true
	case q.cur < len(q.qs) && qu.Kind == lesson.KindWalk && key.Matches(msg, k.Play):
		return m.playQuiz(), true
	case q.cur < len(q.qs) && qu.Kind == lesson.KindWalk && (key.Matches(msg, k.TBack) || key.Matches(msg, k.TFwd)):
		m.anim.playing = false
		m.anim.id++
		d := tStep
		if key.Matches(msg, k.TBack) {
			d = -tStep
		}
		m.lat.st.Interp.T = max(0, min(1, round2(m.lat.st.Interp.T+d)))
		return m.requestRender(), true
	}
	if q.cur >= len(q.qs) {
		m.explain = "the quiz is over: n goes on, Q ends it"
	} else {
		m.explain = fmt.Sprintf("in a quiz: answer with %s; n next, p previous question, Q ends the quiz", k.Answer.Help().Key)
	}
	return nil, true
}

// answer takes choice key d ("1".."9") for the question shown.
func (m *Model) answer(d string) tea.Cmd {
	q := m.teach.quiz
	qu := q.question()
	c := int(d[0] - '1')
	switch {
	case c < 0 || c >= len(qu.Choices):
		m.explain = fmt.Sprintf("%s is not a choice here: answer with %s", d, m.keys.Answer.Help().Key)
		return nil
	case q.answers[q.cur] >= 0:
		m.explain = "already answered: n for the next question"
		return nil
	}
	q.answers[q.cur] = c
	right, answered := q.score()
	verdict := fmt.Sprintf("right: %d, %s", qu.Answer+1, qu.Choices[qu.Answer])
	if c != qu.Answer {
		verdict = fmt.Sprintf("not %d: it is %d, %s", c+1, qu.Answer+1, qu.Choices[qu.Answer])
	}
	m.explain = fmt.Sprintf("%s (score %d of %d); n next question", verdict, right, answered)
	return nil
}

// teachMsg handles the teaching messages, and the walk's ticks during a
// quiz (whose explain line would otherwise name the clock's space).
func (m *Model) teachMsg(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case walkLenMsg:
		m.walkLenDone(msg)
		return nil, true
	case animTickMsg:
		if m.teach.quiz == nil {
			return nil, false
		}
		explain := m.explain
		cmd := m.animTick(msg)
		m.explain = explain
		return cmd, true
	}
	return nil, false
}

// teachRows is the rows the lesson or quiz panel (above the pictures) and
// the path length (under the strip) take when avail rows are left for the
// picture block: the pictures keep at least 4 rows, the panel gets at most
// 2/5 of the rest (a quiz, whose pictures matter less than its words, 1/2).
func (m *Model) teachRows(avail int) (panel, spark int) {
	if m.showsWalkLen() && avail >= 6 {
		spark = 1
	}
	want := m.panelWant()
	if want == 0 {
		return 0, spark
	}
	room := avail - spark - 4
	if room < 1 {
		return 0, spark
	}
	share := (avail - spark) * 2 / 5
	if m.teach.quiz != nil {
		share = (avail - spark) / 2
	}
	return min(want, max(1, share), room), spark
}

// teachChanged reports whether the teaching rows differ from the layout's.
func (m *Model) teachChanged() bool {
	l := m.screen.lay
	avail := l.blockRows + l.panelRows + l.sparkRows
	p, s := m.teachRows(avail)
	return p != l.panelRows || s != l.sparkRows
}

// panelWant is the rows the panel would take with room for all of it (a
// class's rows first).
func (m *Model) panelWant() int {
	return len(m.classLines()) + m.teachWant()
}

func (m *Model) teachWant() int {
	switch {
	case m.teach.quiz != nil:
		// With the answer shown: the pictures stay put when it comes.
		return len(m.quizLines(true))
	case m.teach.les != nil:
		// The longest caption's: the pictures keep their place from step
		// to step.
		r, most := m.teach.les, 0
		for i := range r.l.Steps {
			most = max(most, len(m.captionOf(i)))
		}
		return 1 + most
	}
	return 0
}

var styleTitle = lipgloss.NewStyle().Bold(true)

// panelLines draws the lesson or quiz panel in the layout's rows.
func (m *Model) panelLines() []string {
	cl := m.classLines()
	n := m.screen.lay.panelRows - len(cl)
	if m.screen.lay.panelRows == 0 {
		return nil
	}
	var lines []string
	switch {
	case m.teach.quiz != nil:
		lines = m.quizLines(false)
	case m.teach.les != nil:
		r := m.teach.les
		s := &r.l.Steps[r.step]
		title := fmt.Sprintf("step %d/%d · %s", r.step+1, len(r.l.Steps), s.Title)
		hint := "n next · p back · L closes"
		if m.following() {
			hint = "the teacher leads"
		}
		caption := m.captionLines()
		if r.scroll >= len(caption) {
			r.scroll = 0
		}
		// A copy: the cached caption stays as it is.
		caption = append([]string(nil), caption[r.scroll:]...)
		if len(caption) > n-1 {
			caption = caption[:max(n-1, 0)]
			if n > 1 {
				caption[n-2] = ansi.Truncate(caption[n-2], max(m.screen.width-18, 0), "") + m.style(styleDim).Render(" … tab: more")
			}
		}
		lines = append([]string{m.titleRow(title, hint)}, caption...)
	}
	// (Neither, while the layout still has the rows: they stay blank.)
	lines = append(cl, lines...)
	out := make([]string, m.screen.lay.panelRows)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], m.screen.width)
		}
	}
	return out
}

// titleRow is a bold title and a dim hint at the right when both fit.
func (m *Model) titleRow(title, hint string) string {
	t := m.style(styleTitle).Render(title)
	w := m.screen.width - 1
	if gap := w - ansi.StringWidth(title) - ansi.StringWidth(hint); gap >= 2 {
		return t + strings.Repeat(" ", gap) + m.style(styleDim).Render(hint)
	}
	return t
}

// captionLines is the current step's caption rendered for the window.
func (m *Model) captionLines() []string { return m.captionOf(m.teach.les.step) }

// captionOf is step i's caption rendered for the window (or its error).
func (m *Model) captionOf(i int) []string {
	r := m.teach.les
	if err := m.stepErr(i); err != nil {
		return wrapText(m.style(styleErr).Render(err.Error()), m.screen.width-1)
	}
	dark := m.renderer().HasDarkBackground()
	c := &r.cache
	if c.width != m.screen.width || c.dark != dark || len(c.lines) != len(r.l.Steps) {
		*c = captionCache{width: m.screen.width, dark: dark, lines: make([][]string, len(r.l.Steps))}
	}
	if c.lines[i] == nil {
		s := &r.l.Steps[i]
		text := s.Caption
		if s.Keys != "" {
			text += "\n\n" + s.Keys
		}
		if s.Toyfaces {
			text += "\n\n*(this step needs a toyfaces model)*"
		}
		c.lines[i] = lesson.Render(text, m.screen.width-1, m.renderer().ColorProfile(), dark)
	}
	return c.lines[i]
}

var styleErr = lipgloss.NewStyle().Foreground(adaptive([3]string{"#af0000", "124", "1"}, [3]string{"#ff8787", "210", "9"}))

// quizLines is the quiz panel: the question and its choices, then the
// verdict and why once answered (or, for reveal, as if answered); the
// round's score at the end.
func (m *Model) quizLines(reveal bool) []string {
	q := m.teach.quiz
	w := m.screen.width - 1
	right, answered := q.score()
	if q.cur >= len(q.qs) {
		return []string{
			m.titleRow(fmt.Sprintf("quiz done · %d of %d right", right, len(q.qs)), "n goes on · Q ends"),
			fmt.Sprintf("seed %d: the same questions for everyone on this model with this seed", q.seed),
		}
	}
	qu := q.question()
	hint := fmt.Sprintf("%s answer · n next · Q ends", m.keys.Answer.Help().Key)
	if m.following() {
		hint = fmt.Sprintf("%s answer · the teacher moves on", m.keys.Answer.Help().Key)
	}
	out := []string{m.titleRow(fmt.Sprintf("quiz %d/%d · score %d of %d", q.cur+1, len(q.qs), right, answered), hint)}
	out = append(out, wrapText(qu.Prompt, w)...)
	choices := make([]string, len(qu.Choices))
	for i, c := range qu.Choices {
		choices[i] = fmt.Sprintf("%d) %s", i+1, c)
	}
	if one := strings.Join(choices, "    "); ansi.StringWidth(one) <= w {
		out = append(out, one)
	} else {
		out = append(out, choices...)
	}
	if a := q.answers[q.cur]; a >= 0 || reveal {
		verdict := fmt.Sprintf("✓ right: %d", qu.Answer+1)
		if a != qu.Answer {
			verdict = fmt.Sprintf("✗ not %d: it is %d", a+1, qu.Answer+1)
		}
		out = append(out, wrapText(m.style(styleExpl).Render(verdict+". "+qu.Explain), w)...)
	}
	return out
}

// wrapText wraps s at spaces to w columns.
func wrapText(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, max(w, 10), ""), "\n")
}

// teachLabel is a quiz panel's label.
func (m *Model) teachLabel(j int) (string, bool) {
	if q := m.teach.quiz; q != nil {
		return q.question().Panels[j].Label, true
	}
	return "", false
}

// teachStrip replaces the layer strip while a question is not answered
// (it would give the answer away).
func (m *Model) teachStrip() []string {
	q := m.teach.quiz
	if q == nil || q.cur >= len(q.qs) || q.answers[q.cur] >= 0 {
		return m.strip()
	}
	out := make([]string, stripRows)
	out[0] = fit(m.style(styleDim).Render("(the layer strip shows once you answer)"), m.screen.width)
	return out
}

// teachStatus is the status line; while a question is not answered, without
// the psi and noise that would give the answer away.
func (m *Model) teachStatus() string {
	q := m.teach.quiz
	if q == nil || q.cur >= len(q.qs) || q.answers[q.cur] >= 0 {
		return m.statusLine()
	}
	right, answered := q.score()
	return fmt.Sprintf("%s %dpx · quiz %d/%d · score %d of %d", m.name, m.cfg.Resolution(), q.cur+1, len(q.qs), right, answered)
}
