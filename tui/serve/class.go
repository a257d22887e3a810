package serve

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/tui"
)

// A class: with --teacher-keys, the sessions of one model are a class. A
// teacher's F broadcasts: every student's explorer follows the teacher's
// screen (package tui, follow.go) until the student branches with B. The
// class passes messages only: each explorer draws for its own terminal, its
// renders through the class's render cache (one render per state for all)
// and its encodings through the class's shared encodings (one per box size
// and graphics mode). A student's keys reach its own explorer only: the
// class takes a student's follow, branch and answers, never a state.

// class is the class of one model's sessions.
type class struct {
	model   string
	log     *logger
	cache   *renderCache
	encodes *tui.Encodes

	mu      sync.Mutex
	members map[*member]struct{}
	caster  *member        // the teacher broadcasting (nil: none)
	last    *tui.Broadcast // the caster's screen
	asked   string         // the question on the caster's screen (tui.AnswersKey), "" none
	answers map[string]map[*member]int
}

func newClass(model string, log *logger) *class {
	return &class{model: model, log: log, cache: newRenderCache(), encodes: tui.NewEncodes(),
		members: map[*member]struct{}{}, answers: map[string]map[*member]int{}}
}

// member is one session in a class. It is the session explorer's tui.Class.
type member struct {
	cls       *class
	id        uint64
	name      string
	teacher   bool
	following bool   // a student: follows while a teacher broadcasts
	note      string // a teacher: why its last broadcast ended, if not by its F

	// The newest class message and broadcast not yet delivered: a slow
	// explorer gets the latest, never a queue (deliver).
	boxMu  sync.Mutex
	status *tui.ClassMsg
	follow *tui.Broadcast
	wake   chan struct{}
}

// classMember makes the class member of a session on model (nil: the model
// has no class).
func (s *Server) classMember(model string, id uint64, sess ssh.Session) *member {
	cls := s.classes[model]
	if cls == nil {
		return nil
	}
	name := sess.User()
	if _, isModel := s.pools[name]; isModel || !goodName(name) {
		name = keyID(sess.PublicKey())
	}
	return &member{cls: cls, id: id, name: name, teacher: s.teachers.has(sess.PublicKey()), wake: make(chan struct{}, 1)}
}

// goodName is a user name fit to show on the teacher's screen.
func goodName(n string) bool {
	if n == "" || len(n) > 16 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// classShares: a class's explorers share renders and encodings (false:
// each makes its own, the baseline of BenchmarkClassBroadcast).
var classShares = true

// The nil-safe views of a member for the explorer's options.

func (m *member) link() tui.Class {
	if m == nil {
		return nil
	}
	return m
}

func (m *member) role() tui.ClassRole {
	switch {
	case m == nil:
		return tui.NoClass
	case m.teacher:
		return tui.Teacher
	}
	return tui.Student
}

func (m *member) sharedEncodes() *tui.Encodes {
	if m == nil || !classShares {
		return nil
	}
	return m.cls.encodes
}

func (m *member) who() string {
	if m.teacher {
		return m.name + ", teacher"
	}
	return m.name
}

// start joins the class and delivers its messages to the session's
// program until ctx ends.
func (m *member) start(ctx context.Context, send func(tea.Msg)) {
	if m == nil {
		return
	}
	c := m.cls
	c.mu.Lock()
	c.members[m] = struct{}{}
	if !m.teacher {
		m.following = true
		if c.last != nil {
			m.post(nil, c.last)
		}
	}
	c.news()
	c.mu.Unlock()
	go m.deliver(ctx, send)
}

// leave takes the member out of the class.
func (m *member) leave() {
	if m == nil {
		return
	}
	c := m.cls
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.members, m)
	if c.caster == m {
		c.stopBroadcast("the teacher left")
	}
	c.news()
}

// deliver sends the member's messages to its program: the class's news
// first, then the newest broadcast. send blocks while the program is busy
// (a client that does not read holds its event loop): only this member
// waits, and it skips to the newest.
func (m *member) deliver(ctx context.Context, send func(tea.Msg)) {
	for {
		select {
		case <-m.wake:
		case <-ctx.Done():
			return
		}
		m.boxMu.Lock()
		st, b := m.status, m.follow
		m.status, m.follow = nil, nil
		m.boxMu.Unlock()
		if st != nil {
			send(*st)
		}
		if b != nil {
			send(tui.FollowMsg{Broadcast: b})
		}
	}
}

// post leaves a message for deliver (nil: none of that kind).
func (m *member) post(st *tui.ClassMsg, b *tui.Broadcast) {
	m.boxMu.Lock()
	if st != nil {
		m.status = st
	}
	if b != nil {
		m.follow = b
	}
	m.boxMu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Broadcast is a teacher's F. A second teacher's broadcast takes over.
func (m *member) Broadcast(on bool) {
	c := m.cls
	if !m.teacher {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case on && c.caster != m:
		if prev := c.caster; prev != nil {
			c.stopBroadcast(m.name + " took over the broadcast")
		}
		c.caster, c.last, c.asked, m.note = m, nil, "", ""
		n := 0
		for s := range c.members {
			if !s.teacher {
				s.following = true
				n++
			}
		}
		c.log.printf("class %s: session %d (%s) broadcasts to %d students", c.model, m.id, m.who(), n)
	case !on && c.caster == m:
		c.stopBroadcast("")
	}
	c.news()
}

// stopBroadcast ends the broadcast, with a note for its teacher. c.mu is held.
func (c *class) stopBroadcast(note string) {
	prev := c.caster
	c.caster, c.last, c.asked = nil, nil, ""
	c.log.printf("class %s: session %d (%s) stopped broadcasting%s", c.model, prev.id, prev.who(), noteSuffix(note))
	prev.note = note
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

// Publish takes the broadcasting teacher's screen to the followers.
func (m *member) Publish(b tui.Broadcast) {
	c := m.cls
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caster != m {
		return
	}
	c.last = &b
	for s := range c.members {
		if !s.teacher && s.following {
			s.post(nil, c.last)
		}
	}
	asked := ""
	if b.Quiz != nil {
		asked = tui.AnswersKey(tui.QuizKey(*b.Quiz), b.Question)
	}
	if asked != c.asked {
		c.asked = asked
		st := c.statusOf(m)
		m.post(&st, nil)
	}
}

// Follow is a student's F (on) and B (off).
func (m *member) Follow(on bool) {
	c := m.cls
	if m.teacher {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caster == nil || m.following == on {
		return
	}
	m.following = on
	if on && c.last != nil {
		m.post(nil, c.last)
	}
	verb := "branched"
	if on {
		verb = "follows again"
	}
	c.log.printf("class %s: session %d (%s) %s", c.model, m.id, m.who(), verb)
	c.news()
}

// Answer records a student's answer; the teacher who asks sees the counts.
func (m *member) Answer(quiz string, question, choice int) {
	c := m.cls
	if m.teacher || choice < 0 || choice > 99 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := tui.AnswersKey(quiz, question)
	if c.answers[k] == nil {
		if len(c.answers) > 1000 { // a long class: forget old quizzes
			clear(c.answers)
		}
		c.answers[k] = map[*member]int{}
	}
	c.answers[k][m] = choice
	if c.caster != nil && c.asked == k {
		st := c.statusOf(c.caster)
		c.caster.post(&st, nil)
	}
}

// news sends every member the class as it is now. c.mu is held.
func (c *class) news() {
	for m := range c.members {
		st := c.statusOf(m)
		m.post(&st, nil)
	}
}

// statusOf is the class as member m sees it. c.mu is held.
func (c *class) statusOf(m *member) tui.ClassMsg {
	if !m.teacher {
		return tui.ClassMsg{Broadcasting: c.caster != nil, Following: m.following}
	}
	st := tui.ClassMsg{Broadcasting: c.caster == m, Note: m.note}
	for s := range c.members {
		if s.teacher {
			continue
		}
		st.Students++
		if s.following {
			st.Followers++
		} else {
			st.Branched = append(st.Branched, s.name)
		}
	}
	slices.Sort(st.Branched)
	if c.caster == m && c.asked != "" {
		st.AnswersTo = c.asked
		for _, a := range c.answers[c.asked] {
			for len(st.Answers) <= a {
				st.Answers = append(st.Answers, 0)
			}
			st.Answers[a]++
		}
	}
	return st
}

// keyFile is an authorized_keys file read again when it changes.
type keyFile struct {
	path string
	log  *logger
	mu   sync.Mutex
	keys []gossh.PublicKey
	mod  time.Time
}

func newKeyFile(path, what string, log *logger) (*keyFile, error) {
	keys, err := readAuthorizedKeys(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %s", what, strings.TrimPrefix(strings.TrimPrefix(err.Error(), "serve: "), "authorized keys: "))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("serve: %s lists no keys (%s)", path, what)
	}
	f := &keyFile{path: path, log: log, keys: keys}
	if fi, err := os.Stat(path); err == nil {
		f.mod = fi.ModTime()
	}
	return f, nil
}

// has reports whether k is listed (nil: never).
func (f *keyFile) has(k ssh.PublicKey) bool {
	if f == nil || k == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(f.path); err == nil && !fi.ModTime().Equal(f.mod) {
		if keys, err := readAuthorizedKeys(f.path); err == nil {
			f.keys, f.mod = keys, fi.ModTime()
		} else {
			f.log.printf("%s: %v (keeping the previous list)", f.path, strings.TrimPrefix(err.Error(), "serve: "))
		}
	}
	for _, l := range f.keys {
		if ssh.KeysEqual(l, k) {
			return true
		}
	}
	return false
}
