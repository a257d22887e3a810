package lesson

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/latent"
)

func TestParseGood(t *testing.T) {
	l, err := ReadFile(filepath.Join("testdata", "good.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Problems) != 0 {
		t.Fatalf("problems in a good lesson: %v", l.Problems)
	}
	if l.Title != "Two faces" {
		t.Errorf("title %q", l.Title)
	}
	if len(l.Steps) != 3 {
		t.Fatalf("%d steps, want 3 (the notes' state block is not a step)", len(l.Steps))
	}
	s0, s1, s2 := l.Steps[0], l.Steps[1], l.Steps[2]

	if s0.Title != "Start" || s0.Line != 9 || s0.Caption != "Every slot takes **w_A**." {
		t.Errorf("step 0: %q line %d caption %q", s0.Title, s0.Line, s0.Caption)
	}
	want, _ := latent.Decode("sg1:a=10:b=58:s=6A")
	if s0.State == nil || !s0.State.Equal(want) || s0.StateLine != 14 {
		t.Errorf("step 0 state %v at line %d, want %v at 14", s0.State, s0.StateLine, want)
	}
	if s0.Walk != nil || s0.Quiz != nil || s0.Toyfaces {
		t.Errorf("step 0 has blocks it does not have: %+v", s0)
	}

	// A closing run of #s is not part of the title; a bare fence is caption
	// code, and a ## inside it is no heading.
	if s1.Title != "A walk" {
		t.Errorf("step 1 title %q", s1.Title)
	}
	if !strings.Contains(s1.Caption, "```\na code block of the caption\n## not a heading\n```") {
		t.Errorf("step 1 caption lost its code block: %q", s1.Caption)
	}
	if strings.Contains(s1.Caption, "space=z") || strings.Contains(s1.Caption, "toyfaces") {
		t.Errorf("step 1 caption holds its blocks: %q", s1.Caption)
	}
	if w := s1.Walk; w == nil || !w.SpaceSet || w.Space != latent.SpaceZ || !w.TSet || w.T != 0.25 || w.Play || w.Line != 26 {
		t.Errorf("step 1 walk %+v", s1.Walk)
	}
	if !s1.Toyfaces || s1.State != nil {
		t.Errorf("step 1: toyfaces %v, state %v", s1.Toyfaces, s1.State)
	}

	if q := s2.Quiz; q == nil || len(q.Kinds) != 2 || q.Kinds[0] != KindMix || q.Kinds[1] != KindPsi || q.N != 4 || q.Seed != 7 {
		t.Errorf("step 2 quiz %+v (a ~~~~ fence)", s2.Quiz)
	}
	if s2.State != nil {
		t.Errorf("step 2 has a state")
	}
	// A keys block is Markdown of its own, out of the caption.
	if s2.Keys != "Press `n` for the next question:\nthe number keys answer." {
		t.Errorf("step 2 keys %q", s2.Keys)
	}
	if !strings.HasPrefix(s2.Caption, "No state block: the explorer keeps what it shows.\n\n") || !strings.HasSuffix(s2.Caption, "\n\nAfter the keys block, more caption.") || strings.Contains(s2.Caption, "Press") {
		t.Errorf("step 2 caption %q", s2.Caption)
	}
	if s0.Keys != "" || s1.Keys != "" {
		t.Errorf("keys in steps without a keys block: %q, %q", s0.Keys, s1.Keys)
	}
}

func TestParseBadSteps(t *testing.T) {
	l, err := ReadFile(filepath.Join("testdata", "bad.md"))
	if err != nil {
		t.Fatalf("broken steps failed the whole lesson: %v", err)
	}
	// Every step keeps its place, the broken ones with their error.
	want := []struct {
		title string
		line  int
		msg   []string // all in the message
	}{
		{"Unknown block", 5, []string{`unknown block "stat"`, "want one of state, walk, quiz, requires"}},
		{"Bad state", 12, []string{"state block", `"p"`, "want a state string"}},
		{"Fine", 0, nil},
		{"Two states", 27, []string{"a second state block", "first is at line 23"}},
		{"Bad walk", 34, []string{`"space=x"`, "want space=w, space=z"}},
		{"Never closed", 39, []string{"quiz block is never closed", "want a line of ```"}},
	}
	if len(l.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(l.Steps), len(want))
	}
	problems := 0
	for i, w := range want {
		s := l.Steps[i]
		if s.Title != w.title {
			t.Errorf("step %d title %q, want %q", i, s.Title, w.title)
		}
		if w.line == 0 {
			if s.Err != nil {
				t.Errorf("step %q: unexpected error %v", s.Title, s.Err)
			}
			if s.State == nil {
				t.Errorf("step %q lost its state", s.Title)
			}
			continue
		}
		problems++
		if s.Err == nil {
			t.Errorf("step %q: no error", s.Title)
			continue
		}
		e := s.Err.Error()
		prefix := filepath.Join("testdata", "bad.md") + ":" + strconv.Itoa(w.line) + ": "
		if !strings.HasPrefix(e, prefix) {
			t.Errorf("step %q: error %q, want it at %s", s.Title, e, prefix)
		}
		for _, m := range w.msg {
			if !strings.Contains(e, m) {
				t.Errorf("step %q: error %q does not say %q", s.Title, e, m)
			}
		}
		if s.State != nil && i != 3 {
			t.Errorf("step %q: broken, but has a state", s.Title)
		}
	}
	if len(l.Problems) != problems {
		t.Errorf("%d problems listed, want %d: %v", len(l.Problems), problems, l.Problems)
	}
}

func TestParseFails(t *testing.T) {
	// 10 MB of a plausible lesson: refused where it passes the limit,
	// without reading the rest.
	big := &countingReader{r: io.MultiReader(strings.NewReader("## Step\n\n"), &repeat{line: []byte("A caption line that goes on and on.\n"), n: 10 << 20})}
	_, err := Parse("big.md", big)
	var le *Error
	if !errors.As(err, &le) {
		t.Fatalf("10 MB lesson: %v, want a *lesson.Error", err)
	}
	// The limit falls on line 2 + 1 MiB / 36 bytes a line.
	wantLine := 2 + (MaxBytes-9)/36 + 1
	if le.File != "big.md" || le.Line != wantLine || !strings.Contains(le.Msg, "at most 1024 KiB") {
		t.Errorf("10 MB lesson: %v, want big.md:%d and the limit", err, wantLine)
	}
	if big.n > MaxBytes+1 {
		t.Errorf("read %d bytes of a 10 MB lesson, want at most %d", big.n, MaxBytes+1)
	}

	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty.md", "", "empty.md:1: no steps"},
		{"notes.md", "# Title\n\nnotes\n", "notes.md:3: no steps: a lesson needs at least one \"## Title\" heading"},
		{"binary.md", "## Step\n\x00\x01\x02\n", "binary.md:2: not UTF-8 text"},
		{"latin1.md", "## Step\n\ncaf\xe9\n", "latin1.md:3: not UTF-8 text"},
	} {
		_, err := Parse(tc.name, strings.NewReader(tc.text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	_, err = ReadFile(filepath.Join("testdata", "empty.md"))
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join("testdata", "empty.md")+":3: no steps") {
		t.Errorf("empty.md: %v", err)
	}
	_, err = ReadFile(filepath.Join("testdata", "missing.md"))
	if err == nil || !strings.Contains(err.Error(), "missing.md") {
		t.Errorf("a missing file: %v", err)
	}

	var many bytes.Buffer
	for i := 0; i <= MaxSteps; i++ {
		many.WriteString("## s\n")
	}
	_, err = Parse("many.md", &many)
	if err == nil || !strings.HasPrefix(err.Error(), "many.md:501: step 501") {
		t.Errorf("501 steps: %v", err)
	}
}

func TestParseBlockErrors(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"## s\n```state\n```\n", "x.md:2: state block is empty"},
		{"## s\n```state\nsg1:s=2A\nsg1:s=2A\n```\n", "x.md:4: state block: a second line"},
		{"## s\n```state\nsg2:s=2A\n```\n", `x.md:3: state block: latent: unknown version "sg2"`},
		{"## s\n```walk\nt=2\n```\n", `x.md:3: walk block: "t=2": want t= a number from 0 to 1`},
		{"## s\n```quiz\nn=0\n```\n", `x.md:3: quiz block: "n=0": want n= a count from 1 to 30`},
		{"## s\n```quiz\nseed=-1\n```\n", `x.md:3: quiz block: "seed=-1": want seed= a number`},
		{"## s\n```quiz\nmixes\n```\n", `x.md:3: quiz block: "mixes": want mix, psi, walk`},
		{"## s\n```requires\nnvlabs\n```\n", `x.md:3: requires block: "nvlabs": want toyfaces`},
		{"##\ntext\n", `x.md:1: a step's heading needs a title`},
		{"## s\n```python\nprint(1)\n```\n", `x.md:2: unknown block "python"`},
	} {
		l, err := Parse("x.md", strings.NewReader(tc.text))
		if err != nil {
			t.Errorf("%q: failed the lesson: %v", tc.text, err)
			continue
		}
		if len(l.Problems) == 0 || !strings.HasPrefix(l.Problems[0].Error(), tc.want) {
			t.Errorf("%q: problems %v, want %q", tc.text, l.Problems, tc.want)
		}
	}
}

// repeat yields line until n bytes are out.
type repeat struct {
	line []byte
	n    int
	off  int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		p[k] = r.line[r.off]
		r.off = (r.off + 1) % len(r.line)
		k++
		r.n--
	}
	return k, nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
