package lesson

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"stylegan-tui/latent"
)

// Limits of a lesson file: a lesson is a page of text, so a file larger
// than MaxBytes is a wrong file, not a long lesson.
const (
	MaxBytes = 1 << 20
	MaxSteps = 500
)

// Lesson is a parsed lesson.
type Lesson struct {
	File  string // the name errors give
	Title string // the "#" heading, if any
	Steps []Step
	// Problems lists every broken step's errors, in file order.
	Problems []*Error
}

// Step is one "##" section.
type Step struct {
	Title   string
	Line    int    // of the heading
	Caption string // Markdown, without the blocks below
	// Keys is the keys block: Markdown the explorer shows after the
	// caption ("press z to walk in W") and slides leave out, where no key
	// does anything.
	Keys string
	// State is the picture the step starts from (nil: keep the explorer's).
	State     *latent.State
	StateLine int
	Walk      *Walk
	Quiz      *QuizSpec
	Toyfaces  bool // needs a toyfaces model (a requires block)
	// Err is the step's first error; the step then shows it instead of
	// setting anything.
	Err *Error
}

// Walk is a step's walk block: the A→B interpolation on.
type Walk struct {
	Line     int
	Space    latent.Space
	SpaceSet bool    // space= given (else the state's)
	T        float64 // where the walk starts
	TSet     bool
	Play     bool
}

// Error is a problem at a line of a lesson file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadFile parses the lesson in file path.
func ReadFile(path string) (*Lesson, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // names the file
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a lesson from r; name is the file name its errors give. The
// error is non-nil only when nothing of the lesson can run (see the package
// doc); a broken step is in Lesson.Problems and its Step.Err.
func Parse(name string, r io.Reader) (*Lesson, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("lesson: %s: %w", name, err)
	}
	if len(data) > MaxBytes {
		line := bytes.Count(data[:MaxBytes], []byte("\n")) + 1
		return nil, &Error{name, line, fmt.Sprintf("the file goes on past %d KiB here, more than a lesson may have: want a Markdown file of at most %d KiB", MaxBytes>>10, MaxBytes>>10)}
	}
	p := parser{l: &Lesson{File: name}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxBytes+1)
	for sc.Scan() {
		p.n++
		raw := sc.Bytes()
		if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
			return nil, &Error{name, p.n, "not UTF-8 text: want a Markdown file"}
		}
		if err := p.line(strings.TrimSuffix(string(raw), "\r")); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lesson: %s: %w", name, err)
	}
	p.endStep()
	if len(p.l.Steps) == 0 {
		return nil, &Error{name, max(p.n, 1), "no steps: a lesson needs at least one \"## Title\" heading"}
	}
	return p.l, nil
}

// parser holds the state between lines.
type parser struct {
	l    *Lesson
	n    int   // current line
	step *Step // nil before the first "##"
	text []string

	fence     string // the open fence ("```", "~~~~"), "" outside one
	fenceLine int
	block     string // our block being read ("" for caption code)
	body      []bodyLine
	seen      map[string]int // block kind -> its line, in this step
}

type bodyLine struct {
	n    int
	text string
}

// blockKinds are the info strings a lesson block may have.
var blockKinds = []string{"state", "walk", "quiz", "requires", "keys"}

func (p *parser) fail(line int, format string, args ...any) {
	if p.step == nil || p.step.Err != nil {
		return
	}
	p.step.Err = &Error{p.l.File, line, fmt.Sprintf(format, args...)}
}

func (p *parser) line(s string) error {
	if p.fence != "" {
		if isFenceClose(s, p.fence) {
			p.closeBlock()
			return nil
		}
		switch {
		case p.block != "":
			p.body = append(p.body, bodyLine{p.n, s})
		case p.step != nil:
			p.text = append(p.text, s)
		}
		return nil
	}
	if f, info, ok := fenceOpen(s); ok {
		p.fence, p.fenceLine, p.body = f, p.n, nil
		word, _, _ := strings.Cut(info, " ")
		p.block = ""
		switch {
		case p.step == nil: // teacher's notes: only skipped over
		case word == "":
			p.text = append(p.text, s) // a code block of the caption
		case isBlockKind(word):
			p.block = word
		default:
			p.block = "?"
			p.fail(p.n, "unknown block %q: want one of %s (or a bare ``` for code in the caption)",
				clip(word), strings.Join(blockKinds, ", "))
		}
		return nil
	}
	if level, title, ok := heading(s); ok {
		switch {
		case level == 2:
			p.endStep()
			if len(p.l.Steps) >= MaxSteps {
				return &Error{p.l.File, p.n, fmt.Sprintf("step %d: a lesson may have at most %d steps", MaxSteps+1, MaxSteps)}
			}
			p.step = &Step{Title: title, Line: p.n}
			p.seen, p.text = map[string]int{}, nil
			if title == "" {
				p.fail(p.n, "a step's heading needs a title: want \"## Title\"")
			}
			return nil
		case level == 1 && p.step == nil && p.l.Title == "":
			p.l.Title = title
			return nil
		}
	}
	if p.step != nil {
		p.text = append(p.text, s)
	}
	return nil
}

// closeBlock ends the open fence.
func (p *parser) closeBlock() {
	kind, fence := p.block, p.fence
	p.fence = ""
	if p.step == nil {
		return
	}
	switch kind {
	case "":
		p.text = append(p.text, fence)
		return
	case "?":
		return
	}
	if first, ok := p.seen[kind]; ok {
		p.fail(p.fenceLine, "a second %s block in step %q (the first is at line %d): a step has at most one", kind, p.step.Title, first)
		return
	}
	p.seen[kind] = p.fenceLine
	var words []bodyLine // non-blank lines
	for _, b := range p.body {
		if t := strings.TrimSpace(b.text); t != "" {
			words = append(words, bodyLine{b.n, t})
		}
	}
	switch kind {
	case "state":
		p.stateBlock(words)
	case "walk":
		w := &Walk{Line: p.fenceLine, Play: true}
		p.words(words, func(n int, word string) bool {
			k, v, _ := strings.Cut(word, "=")
			switch {
			case word == "play":
				w.Play = true
			case word == "still":
				w.Play = false
			case k == "space" && (v == "w" || v == "W"):
				w.Space, w.SpaceSet = latent.SpaceW, true
			case k == "space" && (v == "z" || v == "Z"):
				w.Space, w.SpaceSet = latent.SpaceZ, true
			case k == "t":
				t, err := strconv.ParseFloat(v, 64)
				if err != nil || !(t >= 0 && t <= 1) {
					p.fail(n, "walk block: %q: want t= a number from 0 to 1", clip(word))
					return false
				}
				w.T, w.TSet = t, true
			default:
				p.fail(n, "walk block: %q: want space=w, space=z, t=0..1, play or still", clip(word))
				return false
			}
			return true
		})
		p.step.Walk = w
	case "quiz":
		q := &QuizSpec{Line: p.fenceLine, Seed: 1}
		p.words(words, func(n int, word string) bool {
			k, v, _ := strings.Cut(word, "=")
			switch {
			case isKind(word):
				q.Kinds = append(q.Kinds, Kind(word))
			case k == "n":
				c, err := strconv.Atoi(v)
				if err != nil || c < 1 || c > MaxQuestions {
					p.fail(n, "quiz block: %q: want n= a count from 1 to %d", clip(word), MaxQuestions)
					return false
				}
				q.N = c
			case k == "seed":
				s, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					p.fail(n, "quiz block: %q: want seed= a number from 0 to %d", clip(word), uint32(1<<32-1))
					return false
				}
				q.Seed = int64(s)
			default:
				p.fail(n, "quiz block: %q: want mix, psi, walk, n=COUNT or seed=N", clip(word))
				return false
			}
			return true
		})
		p.step.Quiz = q
	case "keys":
		text := make([]string, len(p.body))
		for i, b := range p.body {
			text[i] = b.text
		}
		p.step.Keys = strings.TrimSpace(strings.Join(text, "\n"))
	case "requires":
		p.words(words, func(n int, word string) bool {
			if word != "toyfaces" {
				p.fail(n, "requires block: %q: want toyfaces (the only model a step can require)", clip(word))
				return false
			}
			p.step.Toyfaces = true
			return true
		})
	}
}

func (p *parser) stateBlock(lines []bodyLine) {
	switch len(lines) {
	case 0:
		p.fail(p.fenceLine, "state block is empty: want one state string (the c key copies one)")
		return
	case 1:
	default:
		p.fail(lines[1].n, "state block: a second line: want one state string on one line")
		return
	}
	st, err := latent.Decode(lines[0].text)
	if err != nil {
		p.fail(lines[0].n, "state block: %v: want a state string as the c key copies it", err)
		return
	}
	p.step.State, p.step.StateLine = &st, lines[0].n
}

// words calls fn on every space-separated word of lines, until it returns
// false.
func (p *parser) words(lines []bodyLine, fn func(line int, word string) bool) {
	for _, l := range lines {
		for _, w := range strings.Fields(l.text) {
			if !fn(l.n, w) {
				return
			}
		}
	}
}

// endStep closes the step being read.
func (p *parser) endStep() {
	if p.fence != "" && p.step != nil {
		p.fail(p.fenceLine, "this %s block is never closed: want a line of %s after it", blockName(p.block), p.fence)
	}
	p.fence = ""
	if p.step == nil {
		return
	}
	p.step.Caption = strings.TrimSpace(strings.Join(p.text, "\n"))
	p.l.Steps = append(p.l.Steps, *p.step)
	if p.step.Err != nil {
		p.l.Problems = append(p.l.Problems, p.step.Err)
	}
	p.step, p.text = nil, nil
}

func blockName(kind string) string {
	switch kind {
	case "", "?":
		return "fenced"
	}
	return kind
}

func isBlockKind(w string) bool {
	for _, k := range blockKinds {
		if w == k {
			return true
		}
	}
	return false
}

// fenceOpen reports whether s opens a fenced block (CommonMark: up to three
// spaces, then three or more ` or ~), with its fence and info string.
func fenceOpen(s string) (fence, info string, ok bool) {
	t := strings.TrimLeft(s, " ")
	if len(s)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", "", false
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return "", "", false
	}
	info = strings.TrimSpace(t[n:])
	if t[0] == '`' && strings.Contains(info, "`") {
		return "", "", false // inline code, not a fence
	}
	return t[:n], info, true
}

// isFenceClose reports whether s closes fence: the same character, at
// least as many, nothing after.
func isFenceClose(s, fence string) bool {
	t := strings.TrimSpace(s)
	if len(t) < len(fence) || len(s)-len(strings.TrimLeft(s, " ")) > 3 {
		return false
	}
	return strings.Trim(t, fence[:1]) == ""
}

// heading parses an ATX heading: "## Title".
func heading(s string) (level int, title string, ok bool) {
	t := strings.TrimLeft(s, " ")
	if len(s)-len(t) > 3 {
		return 0, "", false
	}
	for level < len(t) && t[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(t) && t[level] != ' ' && t[level] != '\t') {
		return 0, "", false
	}
	title = strings.TrimSpace(t[level:])
	// A closing run of #s is not part of the title.
	if c := strings.TrimRight(title, "#"); c != title && (c == "" || strings.HasSuffix(c, " ")) {
		title = strings.TrimSpace(c)
	}
	return level, title, true
}

// clip shortens what an error quotes.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
