package lesson

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// configs are the slot layouts the explorer meets: per-layer NVlabs models
// at 32 px (no fine group) and 1024 px, a per-block rosinality model, and
// a toyfaces model like the embedded one.
func configs() map[string]*model.Config {
	ch := func(n int) []int { return make([]int, n) }
	return map[string]*model.Config{
		"nvlabs-32":   {Channels: ch(4), TruncPsi: 0.7, TruncCutoff: 8},
		"nvlabs-1024": {Channels: ch(9), TruncPsi: 0.7, TruncCutoff: 8},
		"ros-128":     {Channels: ch(6), StylePerBlock: true, NoisePerBlock: true, TruncPsi: 1, TruncCutoff: 6},
		"toyfaces-64": {Name: "stylegan-tui toyfaces", Channels: ch(5), TruncPsi: 0.7, TruncCutoff: 8},
	}
}

func TestQuizDeterministic(t *testing.T) {
	for name, cfg := range configs() {
		spec := QuizSpec{Seed: 42, N: 9}
		a, b := Quiz(cfg, spec), Quiz(cfg, spec)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the same seed gave two quizzes", name)
		}
		if len(a) != 9 {
			t.Errorf("%s: %d questions, want 9", name, len(a))
		}
		for i, q := range a {
			if want := Kinds[i%3]; q.Kind != want {
				t.Errorf("%s: question %d is %s, want %s (kinds take turns)", name, i, q.Kind, want)
			}
		}
		if c := Quiz(cfg, QuizSpec{Seed: 43, N: 9}); reflect.DeepEqual(a, c) {
			t.Errorf("%s: seeds 42 and 43 gave the same quiz", name)
		}
		only := Quiz(cfg, QuizSpec{Seed: 42, Kinds: []Kind{KindPsi}})
		if len(only) != 1 || only[0].Kind != KindPsi {
			t.Errorf("%s: a psi-only quiz gave %d questions, first %s", name, len(only), only[0].Kind)
		}
	}
}

// TestQuizAnswers checks every answer key against the panels' states, over
// many seeds, and that the right answer is not always in the same place.
func TestQuizAnswers(t *testing.T) {
	for name, cfg := range configs() {
		ns, nn := cfg.NumStyles(), cfg.NumNoise()
		answers := map[Kind]map[int]int{KindMix: {}, KindPsi: {}, KindWalk: {}}
		for seed := int64(0); seed < 200; seed++ {
			for _, q := range Quiz(cfg, QuizSpec{Seed: seed}) {
				answers[q.Kind][q.Answer]++
				for i, p := range q.Panels {
					if err := p.State.Validate(ns, nn); err != nil {
						t.Fatalf("%s seed %d %s panel %d: %v", name, seed, q.Kind, i, err)
					}
				}
				if q.Answer < 0 || q.Answer >= len(q.Choices) || q.Explain == "" || q.Prompt == "" {
					t.Fatalf("%s seed %d %s: answer %d of %d choices, explain %q", name, seed, q.Kind, q.Answer, len(q.Choices), q.Explain)
				}
				switch q.Kind {
				case KindMix:
					checkMix(t, name, cfg, q)
				case KindPsi:
					checkPsi(t, name, q)
				case KindWalk:
					checkWalk(t, name, q)
				}
			}
		}
		groups := 0
		for _, g := range []string{"coarse", "middle", "fine"} {
			if _, _, ok := cfg.GroupSlots(g); ok {
				groups++
			}
		}
		for kind, want := range map[Kind]int{KindMix: groups, KindPsi: 3, KindWalk: 2} {
			if len(answers[kind]) != want {
				t.Errorf("%s: %s answers fell on %v, want all %d places", name, kind, answers[kind], want)
			}
		}
	}
}

func checkMix(t *testing.T, name string, cfg *model.Config, q Question) {
	t.Helper()
	group, _, _ := strings.Cut(q.Choices[q.Answer], " ")
	lo, hi, ok := cfg.GroupSlots(group)
	if !ok {
		t.Fatalf("%s: mix answer %q is no group of this model", name, q.Choices[q.Answer])
	}
	a, b, mix := q.Panels[0].State, q.Panels[1].State, q.Panels[2].State
	for s, src := range mix.Styles {
		want := uint8(latent.FromA)
		if s >= lo && s <= hi {
			want = latent.FromB
		}
		if src != want {
			t.Fatalf("%s: mix answer %s, but slot %d takes %d (styles %v)", name, group, s, src, mix.Styles)
		}
		if a.Styles[s] != latent.FromA || b.Styles[s] != latent.FromB {
			t.Fatalf("%s: panels A and B do not show A and B alone", name)
		}
	}
	if !a.A.Equal(mix.A) || !b.B.Equal(mix.B) || mix.A.Equal(mix.B) {
		t.Fatalf("%s: the mix is not of the A and B shown (A %v, B %v)", name, mix.A, mix.B)
	}
	if !strings.HasPrefix(q.Explain, group+": w[") {
		t.Errorf("%s: explain %q does not start with the answer", name, q.Explain)
	}
}

func checkPsi(t *testing.T, name string, q Question) {
	t.Helper()
	seen := map[float64]bool{}
	for i, p := range q.Panels {
		st := p.State
		if (st.Psi == 0.5) != (i == q.Answer) {
			t.Fatalf("%s: psi answer %d, panel %d has psi %g", name, q.Answer+1, i+1, st.Psi)
		}
		seen[st.Psi] = true
		if st.Cutoff != len(st.Styles) || !st.A.Equal(q.Panels[0].State.A) || st.Interp.On {
			t.Fatalf("%s: psi panels differ in more than psi: %v", name, st)
		}
		for _, s := range st.Styles {
			if s != latent.FromA {
				t.Fatalf("%s: a psi panel mixes", name)
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("%s: psi panels %v are not three values", name, seen)
	}
	if !strings.HasPrefix(q.Explain, strconv.Itoa(q.Answer+1)+": w' = w_avg + 0.5") {
		t.Errorf("%s: explain %q", name, q.Explain)
	}
}

func checkWalk(t *testing.T, name string, q Question) {
	t.Helper()
	// The answer's text names the panel that lerps in W.
	var n int
	if _, err := fmt.Sscanf(q.Choices[q.Answer], "walk %d lerps in W", &n); err != nil || n < 1 || n > 2 {
		t.Fatalf("%s: walk answer %q", name, q.Choices[q.Answer])
	}
	w, z := q.Panels[n-1].State, q.Panels[2-n].State
	if !w.Interp.On || w.Interp.Space != latent.SpaceW || !z.Interp.On || z.Interp.Space != latent.SpaceZ {
		t.Fatalf("%s: walk answer %d, panels' walks %+v and %+v", name, n, q.Panels[0].State.Interp, q.Panels[1].State.Interp)
	}
	if !q.Panels[0].Walk || !q.Panels[1].Walk || q.Panels[2].Walk || q.Panels[2].State.Interp.On {
		t.Fatalf("%s: walk panels: %v %v %v", name, q.Panels[0].Walk, q.Panels[1].Walk, q.Panels[2].Walk)
	}
	if !w.A.Equal(z.A) || !w.B.Equal(z.B) || w.Psi != 1 {
		t.Fatalf("%s: the two walks go between different faces, or at psi %g", name, w.Psi)
	}
}
