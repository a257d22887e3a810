package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// action maps a key to a new state and the sentence that explains it in the
// paper's terms. ok is false for keys that change no state.
func (m *Model) action(msg tea.KeyMsg) (latent.State, string, bool) {
	k, st := m.keys, m.lat.st
	switch {
	case key.Matches(msg, k.NewSeedA):
		s, e := m.withSeed(imgA, m.randSeed())
		return s, e, true
	case key.Matches(msg, k.NewSeedB):
		s, e := m.withSeed(imgB, m.randSeed())
		return s, e, true
	case key.Matches(msg, k.PrevSeedA):
		s, e := m.withSeed(imgA, max(0, st.A.Seed-1))
		return s, e, true
	case key.Matches(msg, k.NextSeedA):
		s, e := m.withSeed(imgA, min(1<<32-1, st.A.Seed+1))
		return s, e, true
	case key.Matches(msg, k.PrevSeedB):
		s, e := m.withSeed(imgB, max(0, st.B.Seed-1))
		return s, e, true
	case key.Matches(msg, k.NextSeedB):
		s, e := m.withSeed(imgB, min(1<<32-1, st.B.Seed+1))
		return s, e, true

	case key.Matches(msg, k.Toggle):
		n := st.ToggleStyle(m.lat.cursor)
		src := "w_A"
		if n.Styles[m.lat.cursor] == latent.FromB {
			src = "w_B"
		}
		e := fmt.Sprintf("w[%d] <- %s (%s, %s)", m.lat.cursor, src, latent.GroupOf(m.cfg.SlotRes(m.lat.cursor)), sq(m.cfg.SlotRes(m.lat.cursor)))
		return n, e + m.interpNote(n), true
	case key.Matches(msg, k.Coarse):
		return m.groupFromB("coarse")
	case key.Matches(msg, k.Middle):
		return m.groupFromB("middle")
	case key.Matches(msg, k.Fine):
		return m.groupFromB("fine")
	case key.Matches(msg, k.ResetA):
		n := st.WithStyles(0, len(st.Styles)-1, latent.FromA)
		n.Interp.On = false
		return n, fmt.Sprintf("w[0:%d] <- w_A (every layer from A; no mixing)", len(st.Styles)), true
	case key.Matches(msg, k.Swap):
		n := st.Swap()
		return n, fmt.Sprintf("A <-> B: A is now %s, B is %s; each layer keeps its letter, so the mix shows its complement", srcLabel(n.A), srcLabel(n.B)), true

	case key.Matches(msg, k.PsiUp), key.Matches(msg, k.PsiDown):
		d := 0.1
		if key.Matches(msg, k.PsiDown) {
			d = -0.1
		}
		n := st.Clone()
		// Kept in psiMin..psiMax, but a psi from outside it (a state
		// string's) only moves the way the key says: + never lowers it.
		n.Psi = math.Round((st.Psi+d)*10) / 10
		if d > 0 {
			n.Psi = math.Min(n.Psi, math.Max(psiMax, st.Psi))
		} else {
			n.Psi = math.Max(n.Psi, math.Min(psiMin, st.Psi))
		}
		return n, m.describeTrunc(n), true
	case key.Matches(msg, k.CutoffUp), key.Matches(msg, k.CutoffDown):
		n := st.Clone()
		if key.Matches(msg, k.CutoffUp) {
			n.Cutoff = min(len(st.Styles), st.Cutoff+1)
		} else {
			n.Cutoff = max(0, st.Cutoff-1)
		}
		return n, fmt.Sprintf("cutoff %d: ", n.Cutoff) + m.describeTrunc(n), true

	case key.Matches(msg, k.NoiseResample):
		n := st.Clone()
		slots := m.noiseSlots(m.lat.cursor)
		seed := m.randSeed()
		for i, j := range slots {
			n.Noise[j] = latent.Noise{Mode: latent.NoiseRandom, Seed: seed + int64(i)}
		}
		if len(slots) == 0 {
			return st, "this layer has no noise input", true
		}
		return n, fmt.Sprintf("noise%s (%s) <- N(0,1) map drawn from seed %d; only the stochastic detail of these layers changes",
			slotList(slots), sq(m.cfg.NoiseRes(slots[0])), seed), true
	case key.Matches(msg, k.NoiseResampleAll):
		n := st.Clone()
		seed := m.randSeed() * 100
		for j := range n.Noise {
			n.Noise[j] = latent.Noise{Mode: latent.NoiseRandom, Seed: seed + int64(j)}
		}
		return n, fmt.Sprintf("noise[0:%d] <- fresh N(0,1) maps (seeds %d..%d): hair, pores, background detail change; identity stays",
			len(n.Noise), seed, seed+int64(len(n.Noise))-1), true
	case key.Matches(msg, k.NoiseMode):
		slots := m.noiseSlots(m.lat.cursor)
		if len(slots) == 0 {
			return st, "this layer has no noise input", true
		}
		mode := nextMode(st.Noise[slots[0]].Mode)
		n := st.WithNoise(slots[0], slots[len(slots)-1], mode)
		return n, fmt.Sprintf("noise%s (%s): %s", slotList(slots), sq(m.cfg.NoiseRes(slots[0])), m.modeExplain(mode, n.Noise[slots[0]].Seed)), true
	case key.Matches(msg, k.NoiseModeAll):
		if len(st.Noise) == 0 {
			return st, "this model has no noise inputs", true
		}
		mode := nextMode(st.Noise[min(len(st.Noise)-1, m.firstNoise())].Mode)
		n := st.WithNoise(0, len(st.Noise)-1, mode)
		return n, fmt.Sprintf("noise[0:%d]: %s", len(n.Noise), m.modeExplain(mode, -1)), true

	case key.Matches(msg, k.Interp):
		n := st.Clone()
		n.Interp.On = !st.Interp.On
		if !n.Interp.On {
			return n, "interpolation off: each layer takes w_A or w_B as the strip shows", true
		}
		return n, m.describeInterp(n), true
	case key.Matches(msg, k.InterpSpace):
		n := st.Clone()
		if st.Interp.Space == latent.SpaceW {
			n.Interp.Space = latent.SpaceZ
		} else {
			n.Interp.Space = latent.SpaceW
		}
		return n, m.describeInterp(n), true
	case key.Matches(msg, k.TBack), key.Matches(msg, k.TFwd):
		n := st.Clone()
		d := tStep
		if key.Matches(msg, k.TBack) {
			d = -tStep
		}
		n.Interp.On = true
		n.Interp.T = math.Max(0, math.Min(1, round2(st.Interp.T+d)))
		return n, m.describeInterp(n), true
	case key.Matches(msg, k.Nudge):
		seed := m.randSeed()
		n := st.Clone()
		if n.A.Z != nil || n.A.W != nil {
			return st, "A has an explicit z or w: nudges move seeds only", true
		}
		n.A = st.A.WithNudge(latent.Nudge{Seed: seed, Step: nudgeStep})
		return n, fmt.Sprintf("z_A += %g·√%d·unit(randn(seed %d)); w_A = mapping(z_A): a small step in Z", nudgeStep, m.cfg.ZDim, seed), true
	}
	return st, "", false
}

// withSeed sets the seed of source A or B (dropping its nudges and explicit
// vectors).
func (m *Model) withSeed(which int, seed int64) (latent.State, string) {
	n := m.lat.st.Clone()
	name := "A"
	if which == imgA {
		n.A = latent.Source{Seed: seed}
	} else {
		n.B = latent.Source{Seed: seed}
		name = "B"
	}
	return n, fmt.Sprintf("z_%s <- randn(%d) from seed %d (numpy RandomState); w_%s = mapping(z_%s)", name, m.cfg.ZDim, seed, name, name)
}

// groupFromB is one row of the paper's figure 3: the styles of one group
// from B, every other layer from A.
func (m *Model) groupFromB(group string) (latent.State, string, bool) {
	lo, hi, ok := m.cfg.GroupSlots(group)
	if !ok {
		return m.lat.st, fmt.Sprintf("this %dpx model has no %s layers", m.cfg.Resolution(), group), true
	}
	n := m.lat.st.WithStyles(0, len(m.lat.st.Styles)-1, latent.FromA).WithStyles(lo, hi, latent.FromB)
	n.Interp.On = false
	// Every group key sets the whole mix (the paper's figure 3 rows), so
	// the explanation always says what the other layers take.
	e := fmt.Sprintf("w[%d:%d] <- w_B (%s, %s), other layers <- w_A", lo, hi+1, group, resRange(m.cfg, lo, hi))
	return n, e, true
}

func (m *Model) interpNote(st latent.State) string {
	if st.Interp.On {
		return " (not shown while interpolating: press i)"
	}
	return ""
}

// noiseSlots lists the noise slots read by the layers of style slot s.
func (m *Model) noiseSlots(s int) []int {
	var out []int
	for l := 0; l < m.cfg.NumLayers(); l++ {
		if m.cfg.StyleSlot(l) != s {
			continue
		}
		j := m.cfg.NoiseSlot(l)
		if j < len(m.lat.st.Noise) && (len(out) == 0 || out[len(out)-1] != j) {
			out = append(out, j)
		}
	}
	return out
}

func (m *Model) firstNoise() int {
	if s := m.noiseSlots(m.lat.cursor); len(s) > 0 {
		return s[0]
	}
	return 0
}

func nextMode(mode latent.NoiseMode) latent.NoiseMode {
	switch mode {
	case latent.NoiseRandom:
		return latent.NoiseConst
	case latent.NoiseConst:
		return latent.NoiseOff
	}
	return latent.NoiseRandom
}

// modeExplain says what a noise mode feeds the layers. Const is the
// checkpoint's stored maps when it has them (NVlabs pickles), else the fixed
// N(0,1) maps of seed 0 (model.Generator's noiseMap).
func (m *Model) modeExplain(mode latent.NoiseMode, seed int64) string {
	switch mode {
	case latent.NoiseConst:
		if m.opts.Model.W != nil && m.opts.Model.W.NoiseConst != nil {
			return "const, the checkpoint's stored noise map (randomize_noise=False)"
		}
		return "const, a fixed N(0,1) map (seed 0's: this model stores none); the same detail for every face"
	case latent.NoiseOff:
		return "off, no per-pixel noise added (the paper's figure 5: painterly, detail-less)"
	}
	if seed >= 0 {
		return fmt.Sprintf("random, N(0,1) map from seed %d", seed)
	}
	return "random, N(0,1) maps from each layer's seed"
}

func slotList(s []int) string {
	if len(s) == 1 {
		return fmt.Sprintf("[%d]", s[0])
	}
	return fmt.Sprintf("[%d:%d]", s[0], s[len(s)-1]+1)
}

// sq writes a resolution as the paper does: 16².
func sq(res int) string { return fmt.Sprintf("%d²", res) }

func resRange(c *model.Config, lo, hi int) string {
	a, b := c.SlotRes(lo), c.SlotRes(hi)
	if a == b {
		return sq(a)
	}
	return sq(a) + "-" + sq(b)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// describeTrunc explains the truncation trick at the current psi and cutoff.
func (m *Model) describeTrunc(st latent.State) string {
	psi := fmt.Sprintf("%g", st.Psi)
	switch {
	case st.Psi == 1:
		return "psi 1: truncation off, w' = w"
	case st.Cutoff <= 0:
		return fmt.Sprintf("psi %s on no layers (cutoff 0): w' = w", psi)
	}
	op := "+ " + psi
	if st.Psi < 0 {
		op = "- " + fmt.Sprintf("%g", -st.Psi)
	}
	e := fmt.Sprintf("psi %s on layers 0-%d: w' = w_avg %s (w - w_avg)", psi, st.Cutoff-1, op)
	if st.Psi < 0 {
		e += " (negative: the anti-face across w_avg)"
	} else if st.Psi > 1 {
		e += " (extrapolated away from w_avg)"
	}
	return e
}

func (m *Model) describeInterp(st latent.State) string {
	t := fmt.Sprintf("%.2f", st.Interp.T)
	if st.Interp.Space == latent.SpaceZ && st.A.W == nil && st.B.W == nil {
		return fmt.Sprintf("walk t=%s, slerp in Z: z = slerp(z_A, z_B, %s), w = mapping(z) on every layer", t, t)
	}
	return fmt.Sprintf("walk t=%s, lerp in W: w = (1-%s)·w_A + %s·w_B on every layer", t, t, t)
}

func (m *Model) describeSlot(s int) string {
	res := m.cfg.SlotRes(s)
	src := "w_A"
	if m.lat.st.Styles[s] == latent.FromB {
		src = "w_B"
	}
	e := fmt.Sprintf("layer %d: %s, %s styles, takes %s", s, sq(res), latent.GroupOf(res), src)
	if s < m.lat.st.Cutoff && m.lat.st.Psi != 1 {
		e += fmt.Sprintf(", truncated with psi %g", m.lat.st.Psi)
	}
	if ns := m.noiseSlots(s); len(ns) > 0 {
		e += ", noise " + m.lat.st.Noise[ns[0]].Mode.String()
	}
	return e
}

func (m *Model) describeStart() string {
	if m.opts.State != nil {
		// A state string (--state) may mix, walk or nudge: say what it holds.
		return fmt.Sprintf("from the state string: %s (%s)", m.mixLabel(), m.describeState(m.lat.st))
	}
	return fmt.Sprintf("%s: every layer takes w_A = mapping(z_A); %s", srcLabel(m.lat.st.A), m.describeTrunc(m.lat.st))
}

func (m *Model) describeState(st latent.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "A %s, B %s", srcLabel(st.A), srcLabel(st.B))
	if st.Interp.On {
		fmt.Fprintf(&b, ", walk t=%.2f in %v", st.Interp.T, st.Interp.Space)
	}
	fmt.Fprintf(&b, ", psi %g cutoff %d", st.Psi, st.Cutoff)
	return b.String()
}

// srcLabel names a source: "seed 12", "seed 12+2 nudges", "explicit z".
func srcLabel(s latent.Source) string {
	switch {
	case s.W != nil:
		return "explicit w"
	case s.Z != nil:
		return "explicit z"
	case len(s.Nudges) == 1:
		return fmt.Sprintf("seed %d+1 nudge", s.Seed)
	case len(s.Nudges) > 1:
		return fmt.Sprintf("seed %d+%d nudges", s.Seed, len(s.Nudges))
	}
	return fmt.Sprintf("seed %d", s.Seed)
}
