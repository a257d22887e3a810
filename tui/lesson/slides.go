package lesson

import (
	"fmt"
	"math"
	"strings"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render/figures"
)

// Check lists what keeps the lesson's steps from running on a model: the
// file's problems, and state strings made for another slot count. Steps
// that need toyfaces on another model are not problems: they are skipped.
func (l *Lesson) Check(cfg *model.Config) []*Error {
	var out []*Error
	for i := range l.Steps {
		s := &l.Steps[i]
		switch {
		case s.Err != nil:
			out = append(out, s.Err)
		case s.State != nil:
			if err := s.State.Validate(cfg.NumStyles(), cfg.NumNoise()); err != nil {
				out = append(out, &Error{l.File, s.StateLine,
					fmt.Sprintf("state block: %v: want a state string made on a model with %d style slots", err, cfg.NumStyles())})
			}
		}
	}
	return out
}

// Slide timing, in GIF delays (1/100 s).
const (
	walkFrames = 24 // a walk's frames, A → B → A
	walkDelay  = 8  // 12.5 frames a second
	minHold    = 200
	maxHold    = 1500
	holdPerRun = 25 // per word: about 240 words a minute
)

// hold is how long a caption stays up: long enough to read it.
func hold(text string) int {
	return min(maxHold, minHold+holdPerRun*len(strings.Fields(text)))
}

// Slides turns a lesson into the frames of an animated GIF, for slides:
// every step the model can run as the explorer shows it (A, B and the
// result) with its title and caption burnt in, held long enough to read;
// a walk then plays A → B → A; a quiz shows each question, then its
// answer. A step without a state keeps the one before it. Problems (Check)
// are an error: slides are made before the class, not during it.
func Slides(l *Lesson, cfg *model.Config) ([]figures.Frame, []int, error) {
	if errs := l.Check(cfg); len(errs) > 0 {
		return nil, nil, errs[0]
	}
	toy := Toyfaces(cfg)
	var steps []int
	for i, s := range l.Steps {
		if !s.Toyfaces || toy {
			steps = append(steps, i)
		}
	}
	if len(steps) == 0 {
		return nil, nil, &Error{l.File, l.Steps[0].Line, "every step needs a toyfaces model: want one, or steps without a requires block"}
	}
	var frames []figures.Frame
	var delays []int
	add := func(states [3]latent.State, caption string, delay int) {
		frames = append(frames, figures.Frame{States: states[:], Caption: caption})
		delays = append(delays, delay)
	}
	st := latent.New(cfg.NumStyles(), cfg.NumNoise(), cfg.TruncPsi, cfg.TruncCutoff)
	for k, i := range steps {
		s := &l.Steps[i]
		if s.State != nil {
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
		caption := fmt.Sprintf("Step %d/%d: %s", k+1, len(steps), s.Title)
		if text := Plain(s.Caption); text != "" {
			caption += "\n" + text
		}
		caption = ascii.Replace(caption)
		panels := [3]latent.State{alone(st, latent.FromA), alone(st, latent.FromB), st}
		add(panels, caption, hold(caption))
		if s.Walk != nil && s.Walk.Play {
			for f := 1; f < walkFrames; f++ {
				panels[2] = st.Clone()
				panels[2].Interp.T = walkT(f)
				add(panels, caption, walkDelay)
			}
		}
		if s.Quiz == nil {
			continue
		}
		qs := Quiz(cfg, *s.Quiz)
		for j, q := range qs {
			text := ascii.Replace(fmt.Sprintf("Quiz %d/%d: %s\n%s", j+1, len(qs), q.Prompt, choiceLine(q)))
			var ps [3]latent.State
			for p := range ps {
				ps[p] = q.Panels[p].State
			}
			add(ps, text, hold(text))
			if q.Kind == KindWalk {
				for f := 1; f < walkFrames; f++ {
					for p := range ps {
						if q.Panels[p].Walk {
							ps[p] = q.Panels[p].State.Clone()
							ps[p].Interp.T = walkT(f)
						}
					}
					add(ps, text, walkDelay)
				}
			}
			answer := ascii.Replace(fmt.Sprintf("Quiz %d/%d, the answer: %d, %s.\n%s", j+1, len(qs), q.Answer+1, q.Choices[q.Answer], q.Explain))
			add(ps, answer, hold(answer))
		}
	}
	return frames, delays, nil
}

// walkT is frame f's t of a walk A → B → A, eased at both ends.
func walkT(f int) float64 {
	u := 2 * float64(f) / walkFrames
	if u > 1 {
		u = 2 - u
	}
	return math.Round(figures.Ease(u)*1e4) / 1e4
}

func choiceLine(q Question) string {
	var parts []string
	for i, c := range q.Choices {
		parts = append(parts, fmt.Sprintf("%d: %s", i+1, c))
	}
	return strings.Join(parts, "   ")
}

// alone is the picture of one source with every slot (the explorer's A
// and B pictures).
func alone(st latent.State, src uint8) latent.State {
	c := st.WithStyles(0, len(st.Styles)-1, src)
	c.Interp.On = false
	return c
}
