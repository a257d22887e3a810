package lesson

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// Kind is a kind of quiz question.
type Kind string

// The question kinds.
const (
	// KindMix shows A, B and a mix: which group of styles came from B?
	KindMix Kind = "mix"
	// KindPsi shows one face at three truncation psi: which is psi 0.5?
	KindPsi Kind = "psi"
	// KindWalk shows two walks from A to B: which is the lerp in W, which
	// the slerp in Z?
	KindWalk Kind = "walk"
)

// Kinds lists the question kinds in their default order.
var Kinds = []Kind{KindMix, KindPsi, KindWalk}

// MaxQuestions bounds a quiz block's n.
const MaxQuestions = 30

// seedRange is where quiz seeds come from (the explorer's a and b keys
// draw from the same range).
const seedRange = 100000

func isKind(w string) bool {
	for _, k := range Kinds {
		if Kind(w) == k {
			return true
		}
	}
	return false
}

// QuizSpec is a quiz block, or what the explorer's quiz key asks for.
type QuizSpec struct {
	Line  int
	Kinds []Kind // nil = all, in Kinds' order
	N     int    // questions; 0 = one per kind
	Seed  int64
}

// Panel is one of the three pictures a question shows, in the explorer's
// order: source A's box, source B's box, the result's box.
type Panel struct {
	State latent.State
	Label string
	// Walk marks a panel that plays its walk: its t follows the
	// explorer's animation.
	Walk bool
}

// Question is one quiz question. The answer to choice i is the key i+1.
type Question struct {
	Kind    Kind
	Prompt  string
	Choices []string
	Answer  int // index into Choices
	Explain string
	Panels  [3]Panel
}

// Quiz makes the questions of spec for a model with cfg's slots. The same
// spec gives the same questions on the same model (a class with one seed
// gets one quiz); kinds take turns in spec's order.
func Quiz(cfg *model.Config, spec QuizSpec) []Question {
	kinds := spec.Kinds
	if len(kinds) == 0 {
		kinds = Kinds
	}
	n := spec.N
	if n <= 0 {
		n = len(kinds)
	}
	n = min(n, MaxQuestions)
	q := quizzer{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(spec.Seed), 0x7175697a))} // "quiz"
	out := make([]Question, 0, n)
	for i := 0; i < n; i++ {
		switch kinds[i%len(kinds)] {
		case KindMix:
			out = append(out, q.mix())
		case KindPsi:
			out = append(out, q.psi())
		default:
			out = append(out, q.walk())
		}
	}
	return out
}

type quizzer struct {
	cfg *model.Config
	rng *rand.Rand
}

// pair draws two different seeds.
func (q *quizzer) pair() (int64, int64) {
	a := q.rng.Int64N(seedRange)
	b := q.rng.Int64N(seedRange - 1)
	if b >= a {
		b++
	}
	return a, b
}

func (q *quizzer) base(a, b int64) latent.State {
	c := q.cfg
	st := latent.New(c.NumStyles(), c.NumNoise(), c.TruncPsi, c.TruncCutoff)
	st.A, st.B = latent.Source{Seed: a}, latent.Source{Seed: b}
	return st
}

// paperGroups is what the paper's Fig. 3 finds each group brings from B.
var paperGroups = map[string]string{
	"coarse": "pose, general hair style, face shape, eyeglasses",
	"middle": "smaller facial features, hair style, eyes open or closed",
	"fine":   "mainly the colour scheme and microstructure",
}

func (q *quizzer) mix() Question {
	c := q.cfg
	type group struct {
		name   string
		lo, hi int
	}
	var groups []group
	for _, g := range []string{"coarse", "middle", "fine"} {
		if lo, hi, ok := c.GroupSlots(g); ok {
			groups = append(groups, group{g, lo, hi})
		}
	}
	a, b := q.pair()
	pick := q.rng.IntN(len(groups))
	g := groups[pick]
	st := q.base(a, b)
	mix := st.WithStyles(g.lo, g.hi, latent.FromB)
	var choices []string
	for _, o := range groups {
		choices = append(choices, fmt.Sprintf("%s (%s)", o.name, ResRange(c, o.lo, o.hi)))
	}
	explain := fmt.Sprintf("%s: w[%d:%d] <- w_B (%s), the rest <- w_A. In the paper's Fig. 3 the %s styles bring %s from B",
		g.name, g.lo, g.hi+1, ResRange(c, g.lo, g.hi), g.name, paperGroups[g.name])
	return Question{
		Kind:    KindMix,
		Prompt:  "Which group of styles did the result take from B? (the other layers: A's)",
		Choices: choices,
		Answer:  pick,
		Explain: explain,
		Panels: [3]Panel{
			{State: st.WithStyles(0, len(st.Styles)-1, latent.FromA), Label: fmt.Sprintf("A · seed %d", a)},
			{State: st.WithStyles(0, len(st.Styles)-1, latent.FromB), Label: fmt.Sprintf("B · seed %d", b)},
			{State: mix, Label: "result · A + ? from B"},
		},
	}
}

// psiDistractors are psi values clearly unlike 0.5 in kind: untruncated,
// the average face, and halfway to the anti-face.
var psiDistractors = []float64{1, 0, -0.5}

func (q *quizzer) psi() Question {
	a, _ := q.pair()
	st := q.base(a, a)
	st.Cutoff = len(st.Styles)
	d := psiDistractors[q.rng.IntN(len(psiDistractors))]
	e := psiDistractors[q.rng.IntN(len(psiDistractors)-1)]
	if e == d {
		e = psiDistractors[len(psiDistractors)-1]
	}
	psis := []float64{0.5, d, e}
	q.rng.Shuffle(len(psis), func(i, j int) { psis[i], psis[j] = psis[j], psis[i] })
	var p [3]Panel
	answer := 0
	what := ""
	for i, psi := range psis {
		s := st.Clone()
		s.Psi = psi
		p[i] = Panel{State: s, Label: strconv.Itoa(i + 1)}
		if psi == 0.5 {
			answer = i
		}
		if psi != 0.5 {
			what += fmt.Sprintf("; %d is psi %g%s", i+1, psi, psiNote(psi))
		}
	}
	return Question{
		Kind:    KindPsi,
		Prompt:  fmt.Sprintf("One face (seed %d) at three truncation psi on every layer. Which is psi 0.5?", a),
		Choices: []string{"picture 1", "picture 2", "picture 3"},
		Answer:  answer,
		Explain: fmt.Sprintf("%d: w' = w_avg + 0.5 (w - w_avg), halfway to the average face (Fig. 8)%s", answer+1, what),
		Panels:  p,
	}
}

func psiNote(psi float64) string {
	switch {
	case psi == 1:
		return " (no truncation)"
	case psi == 0:
		return " (w_avg, the same face for every seed)"
	case psi < 0:
		return " (past w_avg: the anti-face)"
	}
	return ""
}

func (q *quizzer) walk() Question {
	a, b := q.pair()
	st := q.base(a, b)
	st.Psi = 1 // as the perceptual path length is measured
	wFirst := q.rng.IntN(2) == 0
	spaces := [2]latent.Space{latent.SpaceW, latent.SpaceZ}
	if !wFirst {
		spaces = [2]latent.Space{latent.SpaceZ, latent.SpaceW}
	}
	var p [3]Panel
	for i, sp := range spaces {
		s := st.Clone()
		s.Interp = latent.Interp{On: true, Space: sp}
		p[i] = Panel{State: s, Label: fmt.Sprintf("%d · walk", i+1), Walk: true}
	}
	p[2] = Panel{State: st.Clone(), Label: fmt.Sprintf("start · seed %d (both walk to seed %d)", a, b)}
	answer, w, z := 0, 1, 2
	if !wFirst {
		answer, w, z = 1, 2, 1
	}
	// (The choices name the walks, not the keys, so "1) walk 2 ..." reads.)
	return Question{
		Kind:   KindWalk,
		Prompt: fmt.Sprintf("Two walks from seed %d to seed %d: which is the lerp in W, which the slerp in Z?", a, b),
		Choices: []string{
			"walk 1 lerps in W, walk 2 slerps in Z",
			"walk 2 lerps in W, walk 1 slerps in Z",
		},
		Answer: answer,
		Explain: fmt.Sprintf("walk %d: w = (1-t)·w_A + t·w_B; walk %d maps z = slerp(z_A, z_B, t), a path bent by the mapping "+
			"network's warp of Z, which the paper measures as longer (path length, Table 3)", w, z),
		Panels: p,
	}
}

// ResRange writes the resolutions of slots lo..hi as the paper does:
// 4²–8².
func ResRange(c *model.Config, lo, hi int) string {
	a, b := c.SlotRes(lo), c.SlotRes(hi)
	if a == b {
		return fmt.Sprintf("%d²", a)
	}
	return fmt.Sprintf("%d²–%d²", a, b)
}
