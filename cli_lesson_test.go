package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/latent"
	"stylegan-tui/render/figures"
)

// A lesson for the 128 px rosinality fixture (6 style and noise slots).
const cliLesson = `# Slides

## Two faces

Every slot takes **w_A**.

` + "```state\nsg1:a=3:b=4:s=6A:p=1:c=6\n```" + `

## Only on toyfaces

` + "```requires\ntoyfaces\n```" + `

## A walk

From A to B.

` + "```walk\nspace=z\n```" + `

## A question

` + "```quiz\npsi n=1 seed=3\n```\n"

func lessonCmd(args []string, out, errb *bytes.Buffer) error { return runLesson(args, out, errb) }

// TestGIFLesson renders a lesson as slides: the toyfaces step left out on
// another model, a still frame per step held to be read, the walk's frames,
// the quiz's question and answer; every panel is the generator's picture
// of its state.
func TestGIFLesson(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "slides.md")
	if err := os.WriteFile(file, []byte(cliLesson), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lesson.gif")
	const size = 32
	out := runCmd(t, gifCmd, "lesson", file, "--checkpoint", figFixture(t), "--size", "32", "-v", "-o", path)
	if !strings.Contains(out, "wrote "+path) || !strings.Contains(out, "28 frames") {
		t.Errorf("output %q", out)
	}
	an := readGIF(t, path)
	// Step 1, the walk's step and 23 more frames of it, the quiz's step,
	// its question and its answer.
	if len(an.Image) != 1+24+1+2 {
		t.Fatalf("%d frames, want 28", len(an.Image))
	}
	for i, d := range an.Delay {
		walk := i >= 2 && i <= 24
		if walk != (d == 8) || d < 8 {
			t.Errorf("frame %d: delay %d/100 s (walk frame: %v)", i, d, walk)
		}
	}
	g := figGenerator(t)
	states := map[int]string{}
	checked := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var i, p int
		var st string
		if _, err := fmt.Sscanf(sc.Text(), "frame %d %d %s", &i, &p, &st); err != nil {
			continue
		}
		got := cropRGBA(an.Image[i], figures.PanelRect(p, size))
		if db := psnrRGB(stateOf(t, g, st, size), got); db < 28 {
			t.Errorf("frame %d panel %d: PSNR %.1f dB against %s, want >= 28", i, p, db, st)
		}
		if p == 2 {
			states[i] = st
		}
		checked++
	}
	if checked != 3*len(an.Image) {
		t.Errorf("checked %d panels, want %d", checked, 3*len(an.Image))
	}
	if st, err := latent.Decode(states[0]); err != nil || st.A.Seed != 3 || st.B.Seed != 4 || st.Interp.On || st.Psi != 1 {
		t.Errorf("step 1's result is %s", states[0])
	}
	ts := map[float64]bool{}
	for i := 1; i <= 24; i++ {
		st, err := latent.Decode(states[i])
		if err != nil || !st.Interp.On || st.Interp.Space != latent.SpaceZ || st.A.Seed != 3 {
			t.Fatalf("walk frame %d: %s", i, states[i])
		}
		ts[st.Interp.T] = true
	}
	if len(ts) < 12 || !ts[0] || !ts[1] {
		t.Errorf("the walk's t: %v, want 0 to 1 and back", ts)
	}
	// Every frame has its caption burnt in under the pictures: white text.
	for i, m := range an.Image {
		white := 0
		b := m.Bounds()
		for y := size; y < b.Max.Y; y++ {
			for x := 0; x < b.Max.X; x++ {
				if r, g, bb, _ := m.At(x, y).RGBA(); r > 0xe000 && g > 0xe000 && bb > 0xe000 {
					white++
				}
			}
		}
		if white < 50 {
			t.Errorf("frame %d: %d white pixels under the pictures, want a caption", i, white)
		}
	}
}

func TestLessonCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.md")
	os.WriteFile(bad, []byte("## One\n\n```state\nsg1:s=6A:p=x\n```\n\n## Two\n\n```stat\n```\n"), 0o644)
	empty := filepath.Join(dir, "empty.md")
	os.WriteFile(empty, []byte("# no steps\n"), 0o644)
	ok := filepath.Join(dir, "ok.md")
	os.WriteFile(ok, []byte(cliLesson), 0o644)
	fix := figFixture(t)
	checkBadInput(t, runGIF, []badInput{
		{[]string{"lesson", bad, "--checkpoint", fix, "-o", filepath.Join(dir, "x.gif")}, []string{bad + ":4: state block", `"p"`}},
		{[]string{"lesson", empty, "--checkpoint", fix, "-o", filepath.Join(dir, "x.gif")}, []string{empty + ":1: no steps"}},
		{[]string{"lesson", filepath.Join(dir, "missing.md"), "--checkpoint", fix, "-o", filepath.Join(dir, "x.gif")}, []string{"missing.md"}},
		{[]string{"lesson", ok, "--checkpoint", fix}, []string{"-o is required"}},
		{[]string{"lesson", ok, "--checkpoint", fix, "-o", filepath.Join(dir, "x.png")}, []string{"x.png: want a .gif file name"}},
		{[]string{"lesson", ok, "--checkpoint", fix, "-o", filepath.Join(dir, "no", "x.gif")}, []string{"no directory"}},
	})
	checkBadInput(t, runLesson, []badInput{
		{[]string{empty, "--checkpoint", fix}, []string{empty + ":1: no steps"}},
		{[]string{ok, "--graphics", "kitty"}, []string{"--graphics kitty"}},
	})
	// --check lists every problem at its line; a good lesson passes.
	var out, errb bytes.Buffer
	err := runLesson([]string{bad, "--check", "--checkpoint", fix}, &out, &errb)
	if err == nil || err.Error() != bad+": 2 steps would show their error instead of their picture" {
		t.Errorf("--check of a bad lesson: %v", err)
	}
	for _, want := range []string{bad + ":4: state block", bad + `:9: unknown block "stat"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("--check stderr %q lacks %q", errb.String(), want)
		}
	}
	got := runCmd(t, lessonCmd, ok, "--check", "--checkpoint", fix)
	if want := ok + ": 4 steps, 0 with problems, 1 skipped on rosinality"; !strings.HasPrefix(got, want) || !strings.Contains(got, "(they need a toyfaces model)") {
		t.Errorf("--check: %q, want %q", got, want)
	}
	got = runCmd(t, lessonCmd, "--check", "--checkpoint", "default")
	if !strings.HasPrefix(got, "built-in lesson: 11 steps, 0 with problems, 0 skipped") || strings.Contains(got, "need a toyfaces") {
		t.Errorf("--check of the built-in lesson on the default model: %q", got)
	}
}
