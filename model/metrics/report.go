package metrics

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"stylegan-tui/model"
	"stylegan-tui/model/toyfaces"
)

// The default model's quality bar (README, "Measuring a toyfaces model").
const (
	BarTV    = 0.15 // per factor, total variation of label distributions at most
	BarHole  = 0.03 // long hair + full beard in at most this share of images
	BarMix   = 0.60 // own and keep shares of style mixing at least
	BarNoise = 0.90 // share of latents keeping every label under new noise at least
)

// Check is one line of the bar: a measured value against its limit.
type Check struct {
	Name  string
	Value float64
	Pass  bool
}

// Checks lists the bar's checks for the report: TV per factor, the hole,
// own and keep per group present in the model, and the noise stay rate.
func (r *Report) Checks() []Check {
	var cs []Check
	for _, f := range r.Factors {
		cs = append(cs, Check{"tv " + f.Name, f.TV, f.TV <= BarTV})
	}
	cs = append(cs, Check{"hole", r.Hole, r.Hole <= BarHole})
	for _, m := range r.Mixing {
		if !m.Present {
			continue
		}
		cs = append(cs, Check{m.Group + " own", m.Own(), m.OwnCases > 0 && m.Own() >= BarMix},
			Check{m.Group + " keep", m.Keep(), m.KeepCases > 0 && m.Keep() >= BarMix})
	}
	cs = append(cs, Check{"noise stay", r.NoiseStay, r.NoiseStay >= BarNoise})
	return cs
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// slotRange describes style slots lo..hi with their resolutions.
func slotRange(cfg *model.Config, lo, hi int) string {
	rlo, rhi := cfg.SlotRes(lo), cfg.SlotRes(hi)
	px := fmt.Sprintf("%dpx", rlo)
	if rhi != rlo {
		px = fmt.Sprintf("%d-%dpx", rlo, rhi)
	}
	if lo == hi {
		return fmt.Sprintf("slot %d (%s)", lo, px)
	}
	return fmt.Sprintf("slots %d-%d (%s)", lo, hi, px)
}

// WriteText writes the report for people: every number of the bar with
// PASS or FAIL next to it. cfg is the evaluated model's config.
func (r *Report) WriteText(w io.Writer, cfg *model.Config) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if len(r.NoiseOff) > 0 {
		var s []string
		for _, j := range r.NoiseOff {
			s = append(s, strconv.Itoa(j))
		}
		p("Noise inputs %s off in every image (a diagnosis: the bar is measured with all of them on)\n", strings.Join(s, ", "))
	}
	p("Label distributions: %d generated images (psi 1) vs %d toyfaces at %d px, classifier labels\n", r.N, r.N, r.Resolution)
	p("  %-11s %-7s %-7s %-5s  %s\n", "factor", "group", "TV", "", "classifier accuracy on the real images")
	for _, f := range r.Factors {
		p("  %-11s %-7s %.3f   %s  %.3f\n", f.Name, f.Group, f.TV, verdict(f.TV <= BarTV), f.Accuracy)
	}
	p("  TV mean %.3f, max %.3f (bar <= %.2f per factor)\n", r.TVMean, r.TVMax, BarTV)
	p("Hole (long hair + full beard): %.1f%% of generated images   %s (bar <= %.0f%%; real images: %.1f%%, classifier error)\n",
		100*r.Hole, verdict(r.Hole <= BarHole), 100*BarHole, 100*r.HoleReal)
	p("Frechet distance of classifier features: %.3f generated vs real, %.3f real vs real (two disjoint sets of %d)\n", r.FDGen, r.FDReal, r.N)
	p("Style mixing: %d pairs (A, B) with the same noise; A with one group's styles from B (bar >= %.2f)\n", r.Pairs, BarMix)
	p("  own: the group's factors showing B's label; keep: other factors keeping A's; both where A and B differ\n")
	for _, m := range r.Mixing {
		if !m.Present {
			p("  %-7s —  (the model has no %s layers)\n", m.Group, m.Group)
			continue
		}
		p("  %-7s %-22s own %.3f (%d/%d) %s   keep %.3f (%d/%d) %s\n", m.Group, slotRange(cfg, m.Lo, m.Hi),
			m.Own(), m.OwnHits, m.OwnCases, verdict(m.OwnCases > 0 && m.Own() >= BarMix),
			m.Keep(), m.KeepHits, m.KeepCases, verdict(m.KeepCases > 0 && m.Keep() >= BarMix))
		if m.Lo == 0 && m.Hi == cfg.NumStyles()-1 {
			p("          (every style slot of this model: the mix is B, so keep is 0 by construction)\n")
		}
	}
	r.WriteSlots(w)
	p("Noise: %d latents, every noise map resampled: all labels stay in %.1f%%   %s (bar >= %.0f%%)\n",
		r.NoiseCases, 100*r.NoiseStay, verdict(r.NoiseStay >= BarNoise), 100*BarNoise)
	var per []string
	for f, s := range r.NoiseFactorStay {
		per = append(per, fmt.Sprintf("%s %.3f", toyfaces.Factors[f].Name, s))
	}
	p("  per factor: %s\n", strings.Join(per, ", "))
	if r.StdMean == 0 {
		p("  per-pixel std over %d noise draws of %d latents: no pixel varies\n", r.StdDraws, len(r.StdSeeds))
	} else {
		p("  per-pixel std over %d noise draws of %d latents: mean %.4f, max %.4f; the 20%% most variable pixels hold %.1f%% of the variance\n",
			r.StdDraws, len(r.StdSeeds), r.StdMean, r.StdScale, 100*r.StdTop20)
	}
	p("  noise share of the pixel variance: %s of the variance across generated images comes from noise alone (toyfaces' stochastic details: %s)\n",
		Percent(r.NoiseShare), Percent(r.NoiseShareReal))
	pass, n := 0, 0
	var failed []string
	for _, c := range r.Checks() {
		n++
		if c.Pass {
			pass++
		} else {
			failed = append(failed, c.Name)
		}
	}
	p("Bar: %d of %d checks pass", pass, n)
	if len(failed) > 0 {
		p("; failing: %s", strings.Join(failed, ", "))
	}
	p("\n")
}

// WriteSlots writes the per-slot mixing table (Options.PerSlot): for each
// style slot, the share of each factor's pairs that show B's label when
// only that slot is B's. Nothing without it.
func (r *Report) WriteSlots(w io.Writer) {
	if len(r.Slots) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("Style mixing one slot at a time: the share of each factor's pairs (A and B differ) showing B's label with only that slot from B\n")
	p("  %-12s", "slot (res)")
	for _, f := range toyfaces.Factors {
		p(" %*s", max(5, len(f.Name)), f.Name)
	}
	p("\n")
	for _, s := range r.Slots {
		p("  %-12s", fmt.Sprintf("%d (%dpx)", s.Slot, s.Res))
		for f, fac := range toyfaces.Factors {
			p(" %*.2f", max(5, len(fac.Name)), s.Own(f))
		}
		p("\n")
	}
	p("  groups:     ")
	for _, f := range toyfaces.Factors {
		p(" %*s", max(5, len(f.Name)), f.Group)
	}
	p("\n")
}

// CurvePoint is one row of a learning curve: a snapshot's images seen and
// its report.
type CurvePoint struct {
	Images int64   `json:"images"`
	File   string  `json:"file"`
	Report *Report `json:"report"`
}

// short formats a share like TRAINING.md's table: .35 (1.0 as 1.00).
func short(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	return strings.TrimPrefix(s, "0")
}

// WriteCurve writes a learning curve as a markdown table.
func WriteCurve(w io.Writer, pts []CurvePoint) {
	fmt.Fprintln(w, "| images | res | TV mean / max | hole | FD gen / real | coarse own/keep | middle own/keep | fine own/keep | noise stay | noise share gen / real |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, pt := range pts {
		r := pt.Report
		fmt.Fprintf(w, "| %s | %d | %s / %s | %s | %.2f / %.2f |", images(pt.Images), r.Resolution,
			short(r.TVMean), short(r.TVMax), strings.TrimPrefix(fmt.Sprintf("%.3f", r.Hole), "0"), r.FDGen, r.FDReal)
		for _, m := range r.Mixing {
			if m.Present {
				fmt.Fprintf(w, " %s/%s |", short(m.Own()), short(m.Keep()))
			} else {
				fmt.Fprint(w, " — |")
			}
		}
		fmt.Fprintf(w, " %s | %s / %s |\n", short(r.NoiseStay), Percent(r.NoiseShare), Percent(r.NoiseShareReal))
	}
	for _, pt := range pts {
		if len(pt.Report.Slots) > 0 {
			fmt.Fprintf(w, "\n%s images (%d px). ", images(pt.Images), pt.Report.Resolution)
			pt.Report.WriteSlots(w)
		}
	}
}

// Percent formats a share as a percentage: one decimal from 1% up (0.074
// as 7.4%), two significant digits below (0.00071 as 0.071%).
func Percent(v float64) string {
	if v < 0.01 {
		return fmt.Sprintf("%.2g%%", 100*v)
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func images(n int64) string {
	switch {
	case n >= 1e6 && n%1e4 == 0:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return fmt.Sprint(n)
}
