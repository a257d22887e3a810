package lesson

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"stylegan-tui/latent"
)

// TestBuiltIn parses the built-in lesson for each slot layout: every step
// fits the model, the mixing steps take exactly their group's slots from B,
// and a group the model lacks has no step.
func TestBuiltIn(t *testing.T) {
	for name, cfg := range configs() {
		l := BuiltIn(cfg)
		if len(l.Problems) > 0 {
			t.Fatalf("%s: %v", name, l.Problems)
		}
		groups := map[string]bool{}
		toy := 0
		for _, s := range l.Steps {
			if s.State == nil {
				t.Fatalf("%s: step %q sets no state", name, s.Title)
			}
			if err := s.State.Validate(cfg.NumStyles(), cfg.NumNoise()); err != nil {
				t.Fatalf("%s: step %q: %v", name, s.Title, err)
			}
			if s.Toyfaces {
				toy++
				if !strings.Contains(s.Caption, "toyfaces") {
					t.Errorf("%s: step %q needs toyfaces without saying so", name, s.Title)
				}
			}
			g, ok := strings.CutPrefix(s.Title, "Style mixing: the ")
			if !ok {
				continue
			}
			g, _, _ = strings.Cut(g, " ")
			groups[g] = true
			lo, hi, _ := cfg.GroupSlots(g)
			for i, src := range s.State.Styles {
				if (src == latent.FromB) != (i >= lo && i <= hi) {
					t.Errorf("%s: step %q: styles %v, want slots %d-%d from B", name, s.Title, s.State.Styles, lo, hi)
					break
				}
			}
			if !strings.Contains(s.Caption, ResRange(cfg, lo, hi)) {
				t.Errorf("%s: step %q does not name its resolutions %s", name, s.Title, ResRange(cfg, lo, hi))
			}
		}
		for _, g := range []string{"coarse", "middle", "fine"} {
			if _, _, ok := cfg.GroupSlots(g); ok != groups[g] {
				t.Errorf("%s: model has %s slots: %v, lesson has a step for them: %v", name, g, ok, groups[g])
			}
		}
		if toy != 1 {
			t.Errorf("%s: %d toyfaces steps, want the hole's", name, toy)
		}
		last := l.Steps[len(l.Steps)-1]
		if last.Quiz == nil || len(last.Quiz.Kinds) != 3 {
			t.Errorf("%s: the lesson does not end with a quiz round: %+v", name, last.Quiz)
		}
		if Toyfaces(cfg) != strings.HasPrefix(name, "toyfaces") {
			t.Errorf("%s: Toyfaces %v", name, Toyfaces(cfg))
		}
	}
}

func TestRenderCaption(t *testing.T) {
	md := "The **mapping network** turns `z` into *w*, for all 18 slots of a 1024 px model, which is a long sentence that wraps.\n\n- coarse: 4²–8²\n- fine: 64²+\n\n```\ncode stays\n```"
	plain := Render(md, 40, termenv.Ascii, true)
	text := strings.Join(plain, "\n")
	if strings.Contains(text, "\x1b") {
		t.Errorf("Ascii profile wrote escape sequences: %q", text)
	}
	for _, want := range []string{"mapping network", "4²–8²", "code stays"} {
		if !strings.Contains(text, want) {
			t.Errorf("caption lost %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "**") {
		t.Errorf("bold marks shown:\n%s", text)
	}
	if plain[0] == "" || plain[len(plain)-1] == "" {
		t.Errorf("blank first or last line: %q", plain)
	}
	for _, l := range plain {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %q is %d wide, want at most 40", l, w)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %q ends in blanks", l)
		}
	}
	for _, dark := range []bool{true, false} {
		col := Render(md, 40, termenv.TrueColor, dark)
		if !strings.Contains(strings.Join(col, "\n"), "\x1b[") {
			t.Errorf("dark %v: TrueColor profile wrote no colour", dark)
		}
		for i := range col {
			col[i] = ansi.Strip(col[i])
		}
		if strings.Join(col, "\n") != text {
			t.Errorf("dark %v: coloured text differs from the plain one:\n%s\n--\n%s", dark, strings.Join(col, "\n"), text)
		}
	}
}

func TestPlain(t *testing.T) {
	got := Plain("The **truncation** trick: `w' = w_avg + ψ (w − w_avg)`\non 4²–8² → fine.\n\n- one\n- two\n\n```\nx := 1\n```")
	want := "The truncation trick: w' = w_avg + psi (w - w_avg) on 4^2-8^2 -> fine.\n- one\n- two\n  x := 1"
	if got != want {
		t.Errorf("Plain:\n got %q\nwant %q", got, want)
	}
	for _, r := range Plain(BuiltInMarkdown(configs()["toyfaces-64"])) {
		if r > 0x7e || (r < 0x20 && r != '\n') {
			t.Fatalf("the built-in lesson's plain text has %q, which the caption font lacks", r)
		}
	}
}

func TestCheckAndSlides(t *testing.T) {
	cfgs := configs()
	l, err := Parse("x.md", strings.NewReader("## a\n\n```state\nsg1:a=1:s=6A\n```\n\n## b\n\n```requires\ntoyfaces\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if errs := l.Check(cfgs["ros-128"]); len(errs) != 0 {
		t.Errorf("ros-128: %v", errs)
	}
	errs := l.Check(cfgs["nvlabs-32"])
	if len(errs) != 1 || errs[0].Error() != "x.md:4: state block: latent: state has 6 style slots, model has 8: want a state string made on a model with 8 style slots" {
		t.Errorf("nvlabs-32: %v", errs)
	}
	if _, _, err := Slides(l, cfgs["nvlabs-32"]); err == nil || !strings.HasPrefix(err.Error(), "x.md:4:") {
		t.Errorf("Slides of a misfit: %v", err)
	}
	frames, delays, err := Slides(l, cfgs["ros-128"])
	if err != nil || len(frames) != 1 || len(delays) != 1 || !strings.HasPrefix(frames[0].Caption, "Step 1/1: a") {
		t.Errorf("Slides on ros-128 (step b skipped): %d frames, %v", len(frames), err)
	}
	only, _ := Parse("y.md", strings.NewReader("## b\n\n```requires\ntoyfaces\n```\n"))
	if _, _, err := Slides(only, cfgs["ros-128"]); err == nil || !strings.Contains(err.Error(), "y.md:1: every step needs a toyfaces model") {
		t.Errorf("Slides with nothing to show: %v", err)
	}
	// The built-in lesson's slides on a toyfaces model hold every step.
	frames, _, err = Slides(BuiltIn(cfgs["toyfaces-64"]), cfgs["toyfaces-64"])
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]bool{}
	for _, f := range frames {
		if first, _, _ := strings.Cut(f.Caption, ":"); strings.HasPrefix(first, "Step ") && len(f.States) == 3 {
			steps[first] = true
		}
	}
	if len(steps) != 11 || !steps["Step 11/11"] {
		t.Errorf("steps in the built-in slides: %v, want all 11", steps)
	}
	// Slides have no keys to press: the keys blocks stay out of them.
	for _, f := range frames {
		for _, key := range []string{"switches", "cursor", "press", "Press", "goes on", "number keys"} {
			if strings.Contains(f.Caption, key) {
				t.Errorf("a slide's caption tells a key (%q):\n%s", key, f.Caption)
				break
			}
		}
	}
}

// BenchmarkRenderCaptions renders every caption of the built-in lesson at
// 100 columns, as the explorer does once per width when a lesson opens.
func BenchmarkRenderCaptions(b *testing.B) {
	l := BuiltIn(configs()["toyfaces-64"])
	for b.Loop() {
		for _, s := range l.Steps {
			Render(s.Caption, 99, termenv.TrueColor, true)
		}
	}
}
