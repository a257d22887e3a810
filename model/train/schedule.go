package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Phase is one resolution of progressive growing: Fade images while the
// new block fades in (alpha 0 -> 1), then Stable images at alpha 1.
// Stable < 0 means the phase never ends.
type Phase struct {
	Res    int
	Fade   int64
	Stable int64
	Batch  int
}

// Len is the number of images of the phase (MaxInt64 when endless).
func (p Phase) Len() int64 {
	if p.Stable < 0 {
		return math.MaxInt64
	}
	return p.Fade + p.Stable
}

// Schedule is the progressive-growing schedule, phases in order of
// resolution.
type Schedule []Phase

// DefaultSchedule is TRAINING.md's run 2 stretched for a long CPU run:
// most images at 8–32 px, where a step is cheap and pose and shape are
// learned; the last phase runs until stopped. (The default model's run began
// with 400k stable images at 32 px and was cut to 200k at 621k images, inside
// that phase's fade-in, to leave hours for 64 px.)
const DefaultSchedule = "8:0+300k@32,16:50k+250k@32,32:50k+200k@16,64:50k+inf@16"

// ParseSchedule reads "RES:FADE+STABLE@BATCH,..." with counts in images
// (k and M suffixes allowed, "inf" for an endless last phase), e.g.
// "8:0+100k@32,16:30k+30k@32,32:30k+30k@16,64:30k+inf@16". Resolutions
// must double from one phase to the next; the first phase has no fade.
func ParseSchedule(s string) (Schedule, error) {
	var sc Schedule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		bad := func(why string) (Schedule, error) {
			return nil, fmt.Errorf("train: schedule phase %q: %s (want RES:FADE+STABLE@BATCH like 16:30k+30k@32)", part, why)
		}
		res, rest, ok := strings.Cut(part, ":")
		if !ok {
			return bad("no ':'")
		}
		counts, batch, ok := strings.Cut(rest, "@")
		if !ok {
			return bad("no '@'")
		}
		fade, stable, ok := strings.Cut(counts, "+")
		if !ok {
			return bad("no '+'")
		}
		var p Phase
		var err error
		if p.Res, err = strconv.Atoi(res); err != nil || p.Res < 8 || p.Res&(p.Res-1) != 0 {
			return bad("resolution must be a power of two >= 8")
		}
		if p.Fade, err = parseCount(fade); err != nil || p.Fade < 0 {
			return bad("bad fade count")
		}
		if stable == "inf" {
			p.Stable = -1
		} else if p.Stable, err = parseCount(stable); err != nil || p.Stable < 0 {
			return bad("bad stable count")
		}
		if p.Batch, err = strconv.Atoi(batch); err != nil || p.Batch < 1 {
			return bad("bad batch size")
		}
		if p.Batch > mbstdGroup && p.Batch%mbstdGroup != 0 {
			return bad(fmt.Sprintf("batch must be a multiple of the minibatch-stddev group %d", mbstdGroup))
		}
		if n := len(sc); n > 0 {
			if p.Res != 2*sc[n-1].Res {
				return bad("resolution must double the previous phase's")
			}
			if sc[n-1].Stable < 0 {
				return bad("follows an endless phase")
			}
		} else if p.Fade != 0 {
			return bad("the first phase cannot fade in")
		}
		sc = append(sc, p)
	}
	return sc, nil
}

func parseCount(s string) (int64, error) {
	mul := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mul, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	return int64(math.Round(f * mul)), err
}

func (s Schedule) String() string {
	var parts []string
	for _, p := range s {
		st := "inf"
		if p.Stable >= 0 {
			st = fmtCount(p.Stable)
		}
		parts = append(parts, fmt.Sprintf("%d:%s+%s@%d", p.Res, fmtCount(p.Fade), st, p.Batch))
	}
	return strings.Join(parts, ",")
}

func fmtCount(n int64) string {
	if n != 0 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.FormatInt(n, 10)
}

// At locates image count n: the phase index, whether it is fading in, the
// fade alpha (1 when stable), and the images seen within the phase.
// ok is false after the last phase.
func (s Schedule) At(n int64) (idx int, fade bool, alpha float64, in int64, ok bool) {
	start := int64(0)
	for i, p := range s {
		if p.Stable < 0 || n < start+p.Len() {
			in = n - start
			if in < p.Fade {
				return i, true, float64(in) / float64(p.Fade), in, true
			}
			return i, false, 1, in, true
		}
		start += p.Len()
	}
	return len(s) - 1, false, 1, 0, false
}

// Start is the image count at which phase i begins.
func (s Schedule) Start(i int) int64 {
	var n int64
	for _, p := range s[:i] {
		n += p.Len()
	}
	return n
}

// step is the block index of a resolution (8 px -> 1).
func stepOf(res int) int {
	s := 0
	for r := 4; r < res; r *= 2 {
		s++
	}
	return s
}

// SetLR changes the learning rate of a run, e.g. a resumed one: every
// optimizer (G, D and the feature D's heads) takes it from the next step,
// and the options saved with the state record it. The Adam moments carry
// on; they are scale-free in the learning rate.
func (t *Trainer) SetLR(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("train: learning rate %v: want a positive number", lr)
	}
	t.Opt.LR = lr
	t.GAdam.LR, t.DAdam.LR, t.FAdam.LR = lr, lr, lr
	return nil
}

// SetSchedule replaces the schedule of a resumed run. The run must be at
// the same place in both: same phase, resolution, batch, fade state and
// images into the phase; later phases may change.
func (t *Trainer) SetSchedule(s string) error {
	sc, err := ParseSchedule(s)
	if err != nil {
		return err
	}
	i0, f0, _, in0, ok0 := t.Sched.At(t.Images)
	i1, f1, _, in1, ok1 := sc.At(t.Images)
	if i0 != i1 || f0 != f1 || in0 != in1 || ok0 != ok1 || t.Sched[i0].Res != sc[i1].Res || t.Sched[i0].Batch != sc[i1].Batch {
		return fmt.Errorf("train: schedule %s does not agree with %s at the run's %d images (same phase, fade, batch and position needed)", sc, t.Sched, t.Images)
	}
	if last := sc[len(sc)-1].Res; last > t.Cfg.Resolution() {
		return fmt.Errorf("train: schedule reaches %dpx, the architecture only %dpx", last, t.Cfg.Resolution())
	}
	t.Sched = sc
	t.Opt.Schedule = sc.String()
	return nil
}
