package figures

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// The paper's Figure 3 seeds (NVIDIA's generate_figures.py,
// draw_style_mixing_figure for FFHQ at 1024 px): src_seeds make the top row
// (the sources styles are copied from, source B) and dst_seeds the left
// column (source A); the rows copy coarse, coarse, coarse, middle, middle and
// fine styles.
var (
	PaperMixingA = []int64{888, 829, 1898, 1733, 1614, 845}
	PaperMixingB = []int64{639, 701, 687, 615, 2268}
)

// Default seeds for models other than NVlabs' 1024 px ones, where the paper's
// seeds mean nothing.
var (
	DefaultMixingA = []int64{11, 12, 13, 14, 15, 16}
	DefaultMixingB = []int64{21, 22, 23, 24, 25}
	DefaultSeeds   = []int64{0, 1, 2, 3, 4, 5, 6, 7}
)

// PaperTruncationPsis are the columns of the paper's Figure 8.
var PaperTruncationPsis = []float64{1, 0.7, 0.5, 0, -0.5, -1}

// seedSource is a latent source from a seed.
func seedSource(seed int64) latent.Source { return latent.Source{Seed: seed} }

// still returns base without a walk: every cell below sets styles itself.
func still(base latent.State) latent.State {
	st := base.Clone()
	st.Interp.On = false
	return st
}

// fromB returns base with A = a, B = b and style slots lo..hi from B (none
// when lo > hi).
func fromB(base latent.State, a, b latent.Source, lo, hi int) latent.State {
	st := still(base)
	st.A, st.B = a.Clone(), b.Clone()
	for i := range st.Styles {
		st.Styles[i] = latent.FromA
	}
	return st.WithStyles(lo, hi, latent.FromB)
}

// SlotRange describes style slots lo..hi with the resolutions they work at:
// "slots 0-3 (4-8 px)".
func SlotRange(cfg *model.Config, lo, hi int) string {
	if lo > hi {
		return "no slots"
	}
	slots := fmt.Sprintf("slot %d", lo)
	if hi > lo {
		slots = fmt.Sprintf("slots %d-%d", lo, hi)
	}
	return fmt.Sprintf("%s (%s)", slots, resRange(cfg.SlotRes(lo), cfg.SlotRes(hi), " "))
}

// resRange is "4-8 px", or "64 px" when r0 == r1 (never "64-64 px"); sep
// goes before "px".
func resRange(r0, r1 int, sep string) string {
	if r0 == r1 {
		return fmt.Sprintf("%d%spx", r0, sep)
	}
	return fmt.Sprintf("%d-%d%spx", r0, r1, sep)
}

// truncLabel is "psi 0.7, slots <8" (or "psi 1" when truncation is off).
func truncLabel(st latent.State) string {
	if st.Psi == 1 || st.Cutoff == 0 {
		return psiLabel(1)
	}
	if st.Cutoff >= len(st.Styles) {
		return psiLabel(st.Psi)
	}
	return fmt.Sprintf("%s, slots <%d", psiLabel(st.Psi), st.Cutoff)
}

func psiLabel(psi float64) string { return "psi " + strconv.FormatFloat(psi, 'g', -1, 64) }

func seedLabel(s latent.Source) string {
	switch {
	case s.W != nil:
		return "explicit w"
	case s.Z != nil:
		return "explicit z"
	case len(s.Nudges) > 0:
		return fmt.Sprintf("seed %d+%d", s.Seed, len(s.Nudges))
	}
	return fmt.Sprintf("seed %d", s.Seed)
}

// Uncurated is a grid of samples, one column per seed: the top row at psi 1
// (no truncation), the bottom at base's psi and cutoff (the model's
// defaults for g.NewState(); psi 0.7 when base has psi 1).
func Uncurated(cfg *model.Config, base latent.State, seeds []int64) *Figure {
	base = still(base)
	trunc := base.Clone()
	if trunc.Psi == 1 {
		trunc.Psi = 0.7
	}
	f := &Figure{Kind: "uncurated", RowLabels: []string{
		"psi 1",
		strings.Replace(truncLabel(trunc), ", ", "\n", 1),
	}}
	var plain, cut []*Cell
	for _, s := range seeds {
		f.ColLabels = append(f.ColLabels, fmt.Sprintf("seed %d", s))
		st := fromB(base, seedSource(s), base.B, 1, 0)
		st.Psi = 1
		plain = append(plain, &Cell{State: st})
		st = fromB(trunc, seedSource(s), base.B, 1, 0)
		cut = append(cut, &Cell{State: st})
	}
	f.Cells = [][]*Cell{plain, cut}
	return f
}

// Groups returns the paper's style groups the model has, coarse to fine,
// with their slot ranges (following the model's own slots: a 32 px model
// has no fine group).
func Groups(cfg *model.Config) (names []string, lo, hi []int) {
	for _, g := range []string{"coarse", "middle", "fine"} {
		if l, h, ok := cfg.GroupSlots(g); ok {
			names, lo, hi = append(names, g), append(lo, l), append(hi, h)
		}
	}
	return
}

// rowGroups assigns n rows to k groups, coarse first: the paper's 3/2/1 for
// six rows and three groups, else as evenly as possible (extra rows go to
// coarser groups).
func rowGroups(n, k int) []int {
	if k == 0 {
		return nil
	}
	if n == 6 && k == 3 {
		return []int{0, 0, 0, 1, 1, 2}
	}
	out := make([]int, 0, n)
	for g := 0; g < k; g++ {
		cnt := n / k
		if g < n%k {
			cnt++
		}
		for range cnt {
			out = append(out, g)
		}
	}
	return out
}

// Mixing is the paper's Figure 3: the top row shows source B (one column per
// seed of bSeeds), the left column source A (one row per seed of aSeeds), and
// each other cell is its row's A with one group of style slots (coarse 4-8
// px, middle 16-32 px, fine 64 px and up, in the model's own slots) copied
// from its column's B. Rows go coarse, middle, fine (Figure 3 has 3, 2 and 1
// rows). Noise, psi and cutoff come from base.
func Mixing(cfg *model.Config, base latent.State, aSeeds, bSeeds []int64) *Figure {
	base = still(base)
	names, lo, hi := Groups(cfg)
	f := &Figure{Kind: "mixing", RowLabels: []string{"source B\n" + truncLabel(base)}, ColLabels: []string{"source A"}}
	top := []*Cell{nil}
	for _, b := range bSeeds {
		f.ColLabels = append(f.ColLabels, fmt.Sprintf("B %d", b))
		top = append(top, &Cell{State: fromB(base, base.A, seedSource(b), 0, len(base.Styles)-1)})
	}
	f.Cells = append(f.Cells, top)
	groups := rowGroups(len(aSeeds), len(names))
	for i, a := range aSeeds {
		gi := groups[i]
		row := []*Cell{{State: fromB(base, seedSource(a), base.B, 1, 0)}}
		for _, b := range bSeeds {
			row = append(row, &Cell{State: fromB(base, seedSource(a), seedSource(b), lo[gi], hi[gi])})
		}
		f.Cells = append(f.Cells, row)
		f.RowLabels = append(f.RowLabels, fmt.Sprintf("A %d\n%s from B\n%s", a, names[gi], SlotRange(cfg, lo[gi], hi[gi])))
	}
	return f
}

// Noise is the paper's Figure 4, one row per seed: the picture with noise
// draw 0, draws 1-3 (only the stochastic detail changes), and the per-pixel
// standard deviation over draws noise draws (x4, Figure 4c uses 100).
func Noise(cfg *model.Config, base latent.State, seeds []int64, draws int) *Figure {
	base = still(base)
	f := &Figure{Kind: "noise", ColLabels: []string{"draw 0", "draw 1", "draw 2", "draw 3", fmt.Sprintf("std x4\n%d draws", draws)}}
	for _, s := range seeds {
		st := fromB(base, seedSource(s), base.B, 1, 0)
		var row []*Cell
		for k := 0; k < 4; k++ {
			row = append(row, &Cell{State: NoiseDraw(st, k)})
		}
		row = append(row, &Cell{State: st, StdDraws: draws})
		f.Cells = append(f.Cells, row)
		f.RowLabels = append(f.RowLabels, fmt.Sprintf("seed %d\n%s", s, truncLabel(st)))
	}
	return f
}

// NoiseLayers is the paper's Figure 5, one column per seed: noise in all
// layers, in none, in the fine layers only (64 px and up) and in the coarse
// layers only (4-32 px; the paper's split for this figure). Noise slots
// whose group has no noise are off; the others keep base's noise, random
// where base had it off (a row's label says the noise is there).
func NoiseLayers(cfg *model.Config, base latent.State, seeds []int64) *Figure {
	base = still(base)
	f := &Figure{Kind: "noise-layers"}
	type variant struct {
		label string
		keep  func(res int) bool
	}
	top := cfg.Resolution()
	fineLabel := fmt.Sprintf("fine layers only\n(%s)", resRange(64, top, " "))
	if top < 64 {
		fineLabel = "fine layers only\n(none: no 64 px layers)"
	}
	variants := []variant{
		{"noise in all layers", func(int) bool { return true }},
		{"no noise", func(int) bool { return false }},
		{fineLabel, func(r int) bool { return r >= 64 }},
		{fmt.Sprintf("coarse layers only\n(%s)", resRange(4, min(32, top), " ")), func(r int) bool { return r <= 32 }},
	}
	for _, s := range seeds {
		// The truncation with its cutoff, one part a line: a column is
		// about 18 characters wide at scale 1.
		f.ColLabels = append(f.ColLabels, fmt.Sprintf("seed %d\n%s", s, strings.Replace(truncLabel(base), ", ", "\n", 1)))
	}
	for _, v := range variants {
		var row []*Cell
		for _, s := range seeds {
			st := fromB(base, seedSource(s), base.B, 1, 0)
			for j := range st.Noise {
				switch keep := v.keep(cfg.NoiseRes(j)); {
				case !keep:
					st.Noise[j].Mode = latent.NoiseOff
				case st.Noise[j].Mode == latent.NoiseOff:
					st.Noise[j].Mode = latent.NoiseRandom
				}
			}
			row = append(row, &Cell{State: st})
		}
		f.Cells = append(f.Cells, row)
		f.RowLabels = append(f.RowLabels, v.label)
	}
	return f
}

// Truncation is the paper's Figure 8: one row per seed, one column per psi,
// truncation applied to every style slot (NVIDIA's figure script truncates
// all dlatents).
func Truncation(cfg *model.Config, base latent.State, seeds []int64, psis []float64) *Figure {
	base = still(base)
	f := &Figure{Kind: "truncation"}
	for _, p := range psis {
		f.ColLabels = append(f.ColLabels, psiLabel(p))
	}
	for _, s := range seeds {
		var row []*Cell
		for _, p := range psis {
			st := fromB(base, seedSource(s), base.B, 1, 0)
			st.Psi, st.Cutoff = p, len(st.Styles)
			row = append(row, &Cell{State: st})
		}
		f.Cells = append(f.Cells, row)
		f.RowLabels = append(f.RowLabels, fmt.Sprintf("seed %d\nall %d slots", s, len(base.Styles)))
	}
	return f
}

// Interpolation is a strip from base's A to B in steps columns: lerp in W
// on top, slerp in Z below (the paper's perceptual path length
// interpolations), psi and noise from base.
func Interpolation(cfg *model.Config, base latent.State, steps int) *Figure {
	steps = max(steps, 2)
	f := &Figure{Kind: "interpolation", RowLabels: []string{
		fmt.Sprintf("lerp in W\n%s to\n%s\n%s", seedLabel(base.A), seedLabel(base.B), truncLabel(base)),
		fmt.Sprintf("slerp in Z\n%s to\n%s\n%s", seedLabel(base.A), seedLabel(base.B), truncLabel(base)),
	}}
	rows := [][]*Cell{nil, nil}
	for i := 0; i < steps; i++ {
		t := round4(float64(i) / float64(steps-1))
		f.ColLabels = append(f.ColLabels, "t="+strconv.FormatFloat(t, 'g', 3, 64))
		for r, sp := range []latent.Space{latent.SpaceW, latent.SpaceZ} {
			st := base.Clone()
			st.Interp = latent.Interp{On: true, T: t, Space: sp}
			rows[r] = append(rows[r], &Cell{State: st})
		}
	}
	f.Cells = rows
	return f
}

// round4 rounds to 4 decimals, so state strings stay short.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
