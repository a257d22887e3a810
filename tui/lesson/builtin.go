package lesson

import (
	"fmt"
	"strings"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// BuiltInName is the name the built-in lesson's errors and title give.
const BuiltInName = "built-in lesson"

// The built-in lesson's faces. On the embedded toyfaces model the toyfaces
// classifier labels seed 10 short hair with a full beard and seed 58 long
// hair without one (both with p > 0.99): the two sides of the dataset's
// hole.
const (
	builtInA = 10
	builtInB = 58
)

// BuiltIn returns the built-in lesson for a model: the paper's argument in
// the order of a typical walkthrough of it, with every slot range taken
// from cfg's resolutions (a group the model lacks has no step). Steps that
// need a toyfaces model are marked so and skipped on other models.
func BuiltIn(cfg *model.Config) *Lesson {
	l, err := Parse(BuiltInName, strings.NewReader(BuiltInMarkdown(cfg)))
	if err != nil {
		// The text is made here from the model's own slots: a failure is a
		// bug, and TestBuiltIn parses it for every fixture model.
		panic(err)
	}
	return l
}

// BuiltInMarkdown is the built-in lesson's Markdown for a model.
func BuiltInMarkdown(cfg *model.Config) string {
	ns, nn := cfg.NumStyles(), cfg.NumNoise()
	base := latent.New(ns, nn, cfg.TruncPsi, cfg.TruncCutoff)
	base.A, base.B = latent.Source{Seed: builtInA}, latent.Source{Seed: builtInB}
	per := "one per layer, as in NVIDIA's code"
	if cfg.StylePerBlock {
		per = "one per block of two layers, as in rosinality's port"
	}
	var b strings.Builder
	// keys is a keys block: what the explorer's keys do here, which slides
	// leave out.
	keys := func(text string) string { return "```keys\n" + strings.TrimSpace(text) + "\n```\n" }
	step := func(title, caption string, st latent.State, blocks ...string) {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n```state\n%s\n```\n", title, strings.TrimSpace(caption), st.Encode())
		for _, bl := range blocks {
			b.WriteString(bl)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "# The style-based generator, step by step\n\n")
	fmt.Fprintf(&b, "Made for a %d px model with %d style slots.\n\n", cfg.Resolution(), ns)

	step("The mapping network: z to w", fmt.Sprintf(`
StyleGAN does not feed its latent code to the convolutions. A seed gives
*z* (%d numbers from a standard normal, as numpy draws them); an 8-layer MLP,
the **mapping network** f, turns it into *w* = f(z). The synthesis network
starts from a learnt 4×4 constant and takes *w* as a **style** at each of
its %d style slots (%s).

Here every slot takes w_A: the result is A.`,
		cfg.ZDim, ns, per), base, keys(`
Try `+"`a`"+` / `+"`b`"+` for new seeds and `+"`[`"+` `+"`]`"+` to step through
them; `+"`n`"+` goes on.`))

	hole := base.Clone()
	hole.Psi = 1
	hole.Interp = latent.Interp{On: true, Space: latent.SpaceZ}
	step("The warped Z: the toyfaces hole", `
toyfaces never draws **long hair with a full beard**: its training data has
a hole. Z is a fixed Gaussian with no hole, so the mapping network has to
*warp* Z to leave it out, while W is learnt and free to follow the data
(the paper's Fig. 6): the paper's argument that W is less entangled.

This walk goes from A to B by slerp in Z. Watch where the beard and the
hair change. On the embedded model seed 10 has short hair and a full beard
and seed 58 long hair and none (the toyfaces classifier's labels).`, hole,
		"```walk\nspace=z play\n```\n\n```requires\ntoyfaces\n```\n", keys(`
`+"`z`"+` switches to the lerp in W. The path length is under the strip:
where a path jumps, it is long. On another toyfaces model find such a pair
with `+"`a`"+` and `+"`b`"+`.`))

	if lo, _, ok := cfg.GroupSlots("middle"); ok {
		one := base.WithStyles(lo, lo, latent.FromB)
		step("One style slot: AdaIN", fmt.Sprintf(`
Each style slot drives **AdaIN** in its layers: the feature maps are
normalised per channel, then scaled and shifted by a style y = (y_s, y_b),
an affine transform of that slot's w:

AdaIN(x_i, y) = y_s,i · (x_i − μ(x_i)) / σ(x_i) + y_b,i

So a style sets the *statistics* of one resolution's features and nothing
else. Here slot %d (%s) takes w_B, every other slot w_A: a slot changes
what its resolution draws, the rest stays A's.`, lo, ResRange(cfg, lo, lo)), one, keys(`
Move the cursor with ← → and press space to flip one slot at a time.`))
	}

	notes := map[string]string{
		"coarse": "pose, the general hair style, the face shape, eyeglasses",
		"middle": "smaller facial features, hair style, eyes open or closed",
		"fine":   "mainly the colour scheme and the microstructure",
	}
	toyNotes := map[string]string{
		"coarse": "yaw, roll, head shape and hair style",
		"middle": "eyes, mouth, glasses and beard",
		"fine":   "skin, hair colour and background",
	}
	for i, g := range []string{"coarse", "middle", "fine"} {
		lo, hi, ok := cfg.GroupSlots(g)
		if !ok {
			continue
		}
		st := base.WithStyles(lo, hi, latent.FromB)
		step(fmt.Sprintf("Style mixing: the %s styles from B", g), fmt.Sprintf(`
The paper's Fig. 3: slots %d–%d (%s) take w_B, every other slot w_A. In
the paper, copying the %s styles brings %s from B. toyfaces puts %s in
this group by design; `+"`stylegan-tui eval`"+` measures how well a model
keeps them apart.`, lo, hi, ResRange(cfg, lo, hi), g, notes[g], toyNotes[g]), st, keys(fmt.Sprintf(`
`+"`%d`"+` sets this mix from anywhere; `+"`0`"+` takes everything from A again.`, i+1)))
	}

	step("Noise: stochastic variation", `
Every layer also adds **per-pixel noise**, one Gaussian map per layer
scaled per channel, after its convolution. It is not a style: it draws
what is random in a photo (hair strands, freckles, skin pores) without
changing who it is (the paper's Fig. 4).

`+"`stylegan-tui figure noise`"+` shows the per-pixel standard deviation
over 100 noise draws.`, base, keys(`
Press `+"`R`"+` for new noise everywhere and watch only the detail move;
`+"`r`"+` does the layer under the cursor.`))

	off := base.WithNoise(0, nn-1, latent.NoiseOff)
	if nn == 0 {
		off = base
	}
	step("Noise off", `
The same face with **no noise** in any layer (the paper's Fig. 5b):
without its random input the generator paints smooth, featureless
surfaces. Noise in the coarse layers only gives large-scale curls, in the
fine layers only the fine grain (Fig. 5c, d).`, off, keys(`
`+"`m`"+` cycles the layer under the cursor through random, the fixed stored
map and off; `+"`M`"+` does every layer.`))

	tr := base.Clone()
	tr.Psi, tr.Cutoff = 0.5, ns
	step("Truncation: quality for variety", fmt.Sprintf(`
The **truncation trick** pulls w towards the average w_avg:

w' = w_avg + ψ (w − w_avg)

Here ψ = 0.5 on all %d slots. Low ψ trades variety for typical, clean
faces: at ψ = 0 every seed gives the same average face, and a negative ψ
goes past it to the "anti-face" (the paper's Fig. 8). The cost: the
faces' labels crowd into the common classes, which `+"`eval`"+` measures
against the data at ψ = 1.`, ns), tr, keys(`
`+"`+`"+` / `+"`-`"+` move ψ, `+"`>`"+` / `+"`<`"+` the cutoff (truncate only the first
slots, as the paper does for the coarse ones).`))

	walk := base.Clone()
	walk.Psi = 1
	walk.Interp = latent.Interp{On: true, Space: latent.SpaceW}
	step("Interpolation and the perceptual path length", `
A walk from A to B in **W** lerps w; in **Z** it slerps z and maps each
point. The paper's **perceptual path length** measures how much the
picture changes per step: E[ d(G(t), G(t+ε)) / ε² ], d a perceptual
distance, ε = 1e-4. A short path changes smoothly, a long one jumps.
`+"`stylegan-tui ppl`"+` measures the paper's number for a toyfaces model
(the paper finds W's paths the shorter, Table 3).`, walk,
		"```walk\nspace=w play\n```\n", keys(`
The sparkline under the strip shows d/Δt² between the walk's frames
(Δt ≈ 0.02), lerp in W and slerp in Z side by side; `+"`z`"+` switches the
walk shown.`))

	step("Quiz", `
Three questions from this model: which group came from B, which face is
ψ = 0.5, which walk is the lerp in W. Everyone with this lesson gets the
same ones.`, base, "```quiz\nmix psi walk seed=1\n```\n", keys(`
Answer with the number keys; `+"`n`"+` goes to the next question.`))
	return b.String()
}

// Toyfaces reports whether a model was trained on toyfaces (this project's
// trainer names its models so) at a size the toyfaces classifier measures:
// the built-in lesson's toyfaces steps and the classifier's path length
// need one.
func Toyfaces(cfg *model.Config) bool {
	switch cfg.Resolution() {
	case 8, 16, 32, 64:
		return strings.Contains(cfg.Name, "toyfaces")
	}
	return false
}
