package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/latent"
	"stylegan-tui/tui/lesson"
	"stylegan-tui/tui/pathlen"
)

// A class: a teacher's explorer broadcasts what it shows (the state, the
// lesson step, the walk, the quiz question) and the students' explorers
// follow it, each drawing it for its own terminal. The explorer knows nothing
// of SSH (package serve runs the class): it talks to the class through the
// Class interface and takes the class's news as messages (FollowMsg,
// ClassMsg) like any other.

// ClassRole is an explorer's part in a class.
type ClassRole int

const (
	NoClass ClassRole = iota
	Teacher
	Student
)

// Class is the explorer's end of a class. Its methods are called from
// Update: they must return at once.
type Class interface {
	// Broadcast turns the teacher's broadcast on or off (the teacher's F).
	Broadcast(on bool)
	// Publish gives the class the teacher's screen, after every change
	// while the broadcast is on.
	Publish(b Broadcast)
	// Follow says whether the student follows the broadcast (F) or explores
	// on its own (B).
	Follow(on bool)
	// Answer reports a student's answer to a quiz's question (the quiz named
	// by QuizKey).
	Answer(quiz string, question, choice int)
}

// Broadcast is what a follower takes of the teacher's screen. A follower
// only reads it: several share one.
type Broadcast struct {
	State   latent.State // not set during a quiz (the question sets the pictures)
	Explain string
	Cursor  int
	Playing bool // the walk plays: its frames come as states, not undo steps
	Lesson  *lesson.Lesson
	Step    int
	// Walk is the walk's path length as the teacher's explorer measures it
	// (nil: not shown); followers show it rather than measure it again.
	Walk *pathlen.Track
	// Quiz is the quiz open (nil: none), and the question shown.
	Quiz         *lesson.QuizSpec
	QuizInLesson bool
	Question     int
}

// same reports whether a follower would show b and o alike.
func (b *Broadcast) same(o *Broadcast) bool {
	if b.Explain != o.Explain || b.Cursor != o.Cursor || b.Playing != o.Playing || b.Lesson != o.Lesson ||
		b.Step != o.Step || b.QuizInLesson != o.QuizInLesson || b.Question != o.Question {
		return false
	}
	if (b.Quiz == nil) != (o.Quiz == nil) || b.Quiz != nil && QuizKey(*b.Quiz) != QuizKey(*o.Quiz) {
		return false
	}
	if (b.Walk == nil) != (o.Walk == nil) || b.Walk != nil && *b.Walk != *o.Walk {
		return false
	}
	return b.State.Equal(o.State)
}

// QuizKey names a quiz: the same key, the same questions on one model.
func QuizKey(s lesson.QuizSpec) string {
	return fmt.Sprintf("%v n=%d seed=%d", s.Kinds, s.N, s.Seed)
}

// FollowMsg is the teacher's screen for a follower.
type FollowMsg struct{ Broadcast *Broadcast }

// ClassMsg is the class as one explorer sees it; the class sends a new one
// whenever it changes.
type ClassMsg struct {
	Broadcasting bool // a teacher broadcasts (for a teacher: this one)
	Following    bool // a student: follows the broadcast
	// The teacher's view: the students, those following, the names of
	// those exploring on their own.
	Students  int
	Followers int
	Branched  []string
	// Answers counts the students' answers to AnswersTo (QuizKey, "#",
	// question), per choice.
	AnswersTo string
	Answers   []int
	// Note is news worth a line (another teacher took over).
	Note string
}

// AnswersKey is ClassMsg.AnswersTo for a quiz's question.
func AnswersKey(quiz string, question int) string { return fmt.Sprintf("%s#%d", quiz, question) }

// classState is the explorer's part in a class.
type classState struct {
	role      ClassRole
	link      Class
	news      ClassMsg
	following bool       // a student: follows while the teacher broadcasts
	last      *Broadcast // a teacher: the last one published
	reported  map[string]bool
}

// initClass sets up the class role and the shared encodings (New).
func (m *Model) initClass() {
	if m.opts.Encodes != nil {
		m.pipe.palettes = m.opts.Encodes.palettes
	}
	c := &m.class
	c.role, c.link = m.opts.ClassRole, m.opts.Class
	if c.link == nil {
		c.role = NoClass
	}
	switch c.role {
	case Teacher:
		m.keys.Follow.SetEnabled(true)
		m.keys.Follow.SetHelp("F", "broadcast to the class on/off")
	case Student:
		// F and B come on with the teacher's broadcast (ClassMsg): before
		// it they would do nothing but take room in the short help.
		c.following = true
		c.reported = map[string]bool{}
	}
}

// following reports whether the explorer shows the teacher's screen now.
func (m *Model) following() bool {
	c := &m.class
	return c.role == Student && c.news.Broadcasting && c.following
}

// classMsg takes the class's messages.
func (m *Model) classMsg(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case FollowMsg:
		if !m.following() || msg.Broadcast == nil {
			return nil, true // one sent before a B, or a broadcast just ended
		}
		return m.follow(msg.Broadcast), true
	case ClassMsg:
		c := &m.class
		was, wasFollowing := c.news.Broadcasting, m.following()
		c.news = msg
		switch c.role {
		case Teacher:
			if was && !msg.Broadcasting {
				c.last = nil
				m.explain = "broadcast off"
				if msg.Note != "" {
					m.explain += ": " + msg.Note
				}
			}
		case Student:
			c.following = msg.Following
			m.keys.Follow.SetEnabled(msg.Broadcasting)
			m.keys.Branch.SetEnabled(msg.Broadcasting)
			switch {
			case !was && msg.Broadcasting && m.following():
				m.pause()
				m.explain = "the teacher broadcasts: you follow (B explores on your own from the picture shown)"
			case was && !msg.Broadcasting && wasFollowing:
				m.explain = "the teacher stopped broadcasting: the explorer is yours again"
			}
		}
		return nil, true
	}
	return nil, false
}

// follow shows the teacher's screen: its lesson step, quiz question, walk
// and state (an undo step, unless the walk plays).
func (m *Model) follow(b *Broadcast) tea.Cmd {
	m.pause()
	m.prompt.kind, m.prompt.input = promptNone, nil
	var cmds []tea.Cmd
	switch {
	case b.Lesson == nil && m.teach.les != nil:
		m.teach.les = nil
		m.teachingKeys()
	case b.Lesson != nil && (m.teach.les == nil || m.teach.les.l != b.Lesson):
		m.teach.les = &lessonRun{l: b.Lesson, toy: lesson.Toyfaces(m.cfg), errs: map[int]*lesson.Error{}}
		m.teachingKeys()
	}
	if r := m.teach.les; r != nil && r.step != b.Step && b.Step >= 0 && b.Step < len(r.l.Steps) {
		r.step, r.scroll = b.Step, 0
	}
	if len(m.lat.st.Styles) > 0 {
		m.lat.cursor = max(0, min(len(m.lat.st.Styles)-1, b.Cursor))
	}
	if b.Quiz != nil {
		// The question sets the pictures; the walking ones play here.
		q := m.teach.quiz
		if q == nil || QuizKey(q.spec) != QuizKey(*b.Quiz) {
			m.endQuiz(false)
			cmds = append(cmds, m.startQuiz(*b.Quiz, b.QuizInLesson))
			q = m.teach.quiz
		}
		if q.cur != b.Question && b.Question >= 0 && b.Question <= len(q.qs) {
			cmds = append(cmds, m.showQuestion(b.Question))
		}
		return tea.Batch(cmds...)
	}
	if m.teach.quiz != nil {
		m.endQuiz(false)
	}
	wl := &m.teach.wl
	wl.on = b.Walk != nil
	if b.Walk != nil {
		wl.track = *b.Walk
	}
	explain := "teacher: " + b.Explain
	if !b.State.Equal(m.lat.st) {
		if b.Playing {
			m.lat.st = b.State.Clone()
			cmds = append(cmds, m.requestRender())
		} else {
			cmds = append(cmds, m.apply(b.State.Clone(), explain))
		}
	}
	m.explain = explain
	return tea.Batch(cmds...)
}

// classKey handles F and B, and keeps a follower's keys from changing what
// it follows: help, quit, copy, the save keys, the caption's tab and a
// quiz's answers work; the rest say how to explore on one's own.
func (m *Model) classKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	c := &m.class
	if c.role == NoClass || m.screen.showHelp {
		return nil, false
	}
	k := m.keys
	switch {
	case !msg.Paste && key.Matches(msg, k.Follow):
		return m.followKey(), true
	case !msg.Paste && key.Matches(msg, k.Branch):
		m.branch()
		return nil, true
	case !m.following():
		return nil, false
	case msg.Paste:
	case key.Matches(msg, k.Help), key.Matches(msg, k.Quit), key.Matches(msg, k.Copy),
		key.Matches(msg, k.Save), key.Matches(msg, k.Record), key.Matches(msg, k.SaveAnim),
		key.Matches(msg, k.More), key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		return nil, false
	case m.teach.quiz != nil && key.Matches(msg, k.Answer):
		return nil, false
	}
	m.explain = "following the teacher: B explores on your own from this picture, F follows again"
	return nil, true
}

// followKey is F: a teacher's broadcast on or off; a student follows again.
func (m *Model) followKey() tea.Cmd {
	c := &m.class
	if c.role == Teacher {
		on := !c.news.Broadcasting
		c.news.Broadcasting, c.last = on, nil
		c.link.Broadcast(on)
		if on {
			m.explain = "broadcasting: the students see what you see (F stops)"
		} else {
			m.explain = "broadcast off: the students' explorers are theirs"
		}
		return nil
	}
	// A student's F and B are on only while the teacher broadcasts.
	switch {
	case c.following:
		m.explain = "already following the teacher (B explores on your own)"
	default:
		m.pause()
		c.following = true
		c.link.Follow(true)
		m.explain = "following the teacher again"
	}
	return nil
}

// branch is a student's B: a private copy from the picture shown.
func (m *Model) branch() {
	c := &m.class
	switch {
	case !c.following:
		m.explain = "on your own already (F follows the teacher again)"
	default:
		c.following = false
		c.link.Follow(false)
		m.explain = "on your own from this picture: every key is yours (F follows the teacher again)"
	}
}

// classSync runs after every message: a broadcasting teacher publishes its
// screen when it changed; a student reports new answers.
func (m *Model) classSync() {
	c := &m.class
	switch c.role {
	case Teacher:
		if !c.news.Broadcasting {
			return
		}
		b := m.broadcast()
		if c.last != nil && c.last.same(&b) {
			return
		}
		c.last = &b
		c.link.Publish(b)
	case Student:
		q := m.teach.quiz
		if q == nil {
			return
		}
		quiz := QuizKey(q.spec)
		for i, a := range q.answers {
			if k := AnswersKey(quiz, i); a >= 0 && !c.reported[k] {
				c.reported[k] = true
				c.link.Answer(quiz, i, a)
			}
		}
	}
}

// broadcast is the teacher's screen as followers take it.
func (m *Model) broadcast() Broadcast {
	b := Broadcast{Explain: m.explain, Cursor: m.lat.cursor, Playing: m.anim.playing}
	if r := m.teach.les; r != nil {
		b.Lesson, b.Step = r.l, r.step
	}
	if q := m.teach.quiz; q != nil {
		spec := q.spec
		b.Quiz, b.QuizInLesson, b.Question = &spec, q.inLesson, q.cur
		// The explain line may give the answer away, and the state is the
		// question's (its walk's ticks are no news).
		b.Explain, b.Playing = "", false
		return b
	}
	if c := &m.class; c.last != nil && c.last.State.Equal(m.lat.st) {
		b.State = c.last.State // nothing to copy
	} else {
		b.State = m.lat.st.Clone()
	}
	if m.showsWalkLen() {
		tr := m.teach.wl.track
		b.Walk = &tr
	}
	return b
}

// classLines are the class's rows above the pictures: who follows, and for
// a teacher in a quiz the students' answers to the question shown.
func (m *Model) classLines() []string {
	c := &m.class
	dim := func(s string) string { return m.style(styleDim).Render(s) }
	bold := func(s string) string { return m.style(styleTitle).Render(s) }
	n := c.news
	switch c.role {
	case Teacher:
		if !n.Broadcasting {
			return []string{bold("○ class") + fmt.Sprintf(" · %s", plural(n.Students, "student")) + dim(" · F broadcasts your screen")}
		}
		line := bold("● broadcasting") + fmt.Sprintf(" · %d following · %d on their own", n.Followers, len(n.Branched))
		if len(n.Branched) > 0 {
			line += ": " + strings.Join(n.Branched, ", ")
		}
		lines := []string{m.titleRow(line, "F stops")}
		if q := m.teach.quiz; q != nil && q.cur < len(q.qs) {
			lines = append(lines, m.answersLine(q))
		}
		return lines
	case Student:
		switch {
		case !n.Broadcasting:
			return []string{bold("○ class") + dim(" · the teacher is not broadcasting: the explorer is yours")}
		case c.following:
			return []string{m.titleRow(bold("● following the teacher"), "B explores on your own")}
		default:
			return []string{m.titleRow(bold("○ on your own"), "F follows the teacher again")}
		}
	}
	return nil
}

// answersLine is the histogram of the students' answers to the question
// shown (counts only).
func (m *Model) answersLine(q *quizRun) string {
	counts := make([]int, len(q.question().Choices))
	if n := m.class.news; n.AnswersTo == AnswersKey(QuizKey(q.spec), q.cur) {
		for i, v := range n.Answers {
			if i < len(counts) {
				counts[i] = v
			}
		}
	}
	total, top := 0, 0
	for _, v := range counts {
		total += v
		top = max(top, v)
	}
	parts := make([]string, len(counts))
	for i, v := range counts {
		bar := ""
		if top > 0 {
			bar = strings.Repeat("█", (v*8+top-1)/top)
		}
		parts[i] = fmt.Sprintf("%d) %s %d", i+1, m.style(styleExpl).Render(bar), v)
	}
	line := fmt.Sprintf("answers to question %d · %s   %s", q.cur+1, plural(total, "answer"), strings.Join(parts, "   "))
	return ansi.Truncate(line, max(m.screen.width-1, 0), "…")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
