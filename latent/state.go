package latent

import (
	"fmt"
	"math"
	"slices"
)

// Limits on a State. Decode enforces them before allocating, so a hostile
// string cannot make it allocate much more than its own length; Validate
// enforces them too, so every valid State encodes to a string that decodes.
const (
	MaxSlots     = 64   // style or noise slots (an NVlabs 1024 px model has 18)
	MaxVectorLen = 4096 // components of an explicit z or w (StyleGAN uses 512)
	MaxNudges    = 1024 // nudges per source
	// MaxPsi bounds |psi|: the paper uses -1..1; far beyond, psi·(w - w_avg)
	// overflows the engine's float32 (at about 1e36 the image is all NaN).
	MaxPsi = 1e6
)

// Style sources: the values of State.Styles.
const (
	FromA uint8 = 0
	FromB uint8 = 1
)

// NoiseMode says where the per-pixel noise of one noise slot comes from.
type NoiseMode uint8

const (
	// NoiseRandom uses NoiseMap(seed, slot, h, w): fresh noise, reproducible
	// from the seed.
	NoiseRandom NoiseMode = iota
	// NoiseConst uses the noise map stored in the checkpoint (NVlabs
	// randomize_noise=False).
	NoiseConst
	// NoiseOff adds no noise.
	NoiseOff
)

func (m NoiseMode) String() string {
	switch m {
	case NoiseRandom:
		return "random"
	case NoiseConst:
		return "const"
	case NoiseOff:
		return "off"
	}
	return fmt.Sprintf("NoiseMode(%d)", uint8(m))
}

// Space is a latent space: W (after the mapping network) or Z (its input).
type Space uint8

const (
	SpaceW Space = iota
	SpaceZ
)

func (s Space) String() string {
	switch s {
	case SpaceW:
		return "W"
	case SpaceZ:
		return "Z"
	}
	return fmt.Sprintf("Space(%d)", uint8(s))
}

// Nudge moves a seed's z a fixed distance in a random direction:
//
//	z += Step · unit(randn(Seed)) · sqrt(dim)
//
// where randn(Seed) is SeedZ64(Seed, dim) and unit divides by its L2 norm.
// The sqrt(dim) makes Step a fraction of z's typical length, whatever dim is.
type Nudge struct {
	Seed int64
	Step float64
}

// Source is one latent: a seed (with nudges), an explicit z, or an explicit w.
type Source struct {
	Seed   int64
	Nudges []Nudge
	Z      []float32 // explicit z; when non-nil it overrides Seed and Nudges
	W      []float32 // explicit w; when non-nil the mapping network is skipped (overrides Z)
}

// ZVec returns this source's z: a copy of the explicit Z if there is one
// (whatever its length: the model checks it against its latent size), else
// SeedZ(Seed, dim) moved by each nudge in turn. The sum is made in float64
// and rounded once, so a source without nudges gives exactly SeedZ.
func (s Source) ZVec(dim int) []float32 {
	if s.Z != nil {
		return slices.Clone(s.Z)
	}
	z := SeedZ64(s.Seed, dim)
	scale := math.Sqrt(float64(len(z)))
	for _, n := range s.Nudges {
		d := SeedZ64(n.Seed, dim)
		nd := norm64(d)
		if nd == 0 {
			continue
		}
		k := n.Step * scale / nd
		for i := range z {
			z[i] += k * d[i]
		}
	}
	return to32(z)
}

// MappingFunc is the mapping network z → w, passed in as a function so this
// package stays free of the model.
type MappingFunc func(z []float32) ([]float32, error)

// WVec returns this source's w: a copy of the explicit W, else mapping of
// ZVec(zDim).
func (s Source) WVec(zDim int, mapping MappingFunc) ([]float32, error) {
	if s.W != nil {
		return slices.Clone(s.W), nil
	}
	return mapping(s.ZVec(zDim))
}

// WithNudge returns a copy of s with n appended to its nudges. Use it rather
// than append, whose result may share memory with s.
func (s Source) WithNudge(n Nudge) Source {
	c := s.Clone()
	c.Nudges = append(c.Nudges, n)
	return c
}

// Clone returns a deep copy of s. Nil slices stay nil: a nil Z means "no
// explicit z", which an empty one does not.
func (s Source) Clone() Source {
	return Source{
		Seed:   s.Seed,
		Nudges: slices.Clone(s.Nudges),
		Z:      slices.Clone(s.Z),
		W:      slices.Clone(s.W),
	}
}

// Equal reports whether s and o are the same source field by field,
// including fields another field overrides (a Seed under an explicit Z): the
// state string keeps them, so a round trip keeps them too. Nil and empty
// Nudges are equal; a nil Z or W differs from a non-nil one.
func (s Source) Equal(o Source) bool {
	return s.Seed == o.Seed &&
		slices.Equal(s.Nudges, o.Nudges) &&
		(s.Z == nil) == (o.Z == nil) && slices.Equal(s.Z, o.Z) &&
		(s.W == nil) == (o.W == nil) && slices.Equal(s.W, o.W)
}

// Noise is the noise of one noise slot. Seed is kept whatever the Mode, so
// switching a slot to const and back restores its random noise.
type Noise struct {
	Mode NoiseMode
	Seed int64
}

// Interp is a walk from A (T=0) to B (T=1): a lerp of the two w in W, or a
// slerp of the two z in Z (SlerpZ) followed by the mapping network. T outside
// [0, 1] extrapolates. While On, every style slot takes the walk's w (Styles
// is ignored); T and Space are kept while off.
type Interp struct {
	On    bool
	T     float64
	Space Space
}

// State is everything that decides a picture besides the model.
type State struct {
	A, B   Source
	Styles []uint8 // one entry per style slot of the model: FromA (0) or FromB (1)
	Psi    float64 // truncation psi; 1 = off
	Cutoff int     // truncation applies to style slots < Cutoff
	Noise  []Noise // one entry per noise slot of the model
	Interp Interp
}

// New returns the starting state for a model with numStyles style slots and
// numNoise noise slots: A is seed 0, B is seed 1, every style slot takes A,
// and noise slot i is random with seed i.
func New(numStyles, numNoise int, psi float64, cutoff int) State {
	s := State{
		A:      Source{Seed: 0},
		B:      Source{Seed: 1},
		Styles: make([]uint8, max(numStyles, 0)),
		Psi:    psi,
		Cutoff: cutoff,
		Noise:  make([]Noise, max(numNoise, 0)),
	}
	for i := range s.Noise {
		s.Noise[i] = Noise{Mode: NoiseRandom, Seed: int64(i)}
	}
	return s
}

// Clone returns a deep copy of s: no slice is shared with s.
func (s State) Clone() State {
	c := s
	c.A = s.A.Clone()
	c.B = s.B.Clone()
	c.Styles = slices.Clone(s.Styles)
	c.Noise = slices.Clone(s.Noise)
	return c
}

// Equal reports whether s and o are the same state (see Source.Equal). Floats
// compare with ==, so 0 equals -0.
func (s State) Equal(o State) bool {
	return s.A.Equal(o.A) && s.B.Equal(o.B) &&
		slices.Equal(s.Styles, o.Styles) &&
		s.Psi == o.Psi && s.Cutoff == o.Cutoff &&
		slices.Equal(s.Noise, o.Noise) &&
		s.Interp == o.Interp
}

// Validate checks s against a model with numStyles style slots and numNoise
// noise slots: slice lengths, psi and every other float finite, 0 <= Cutoff <=
// numStyles, known styles, modes and spaces, and the package limits. A state
// that passes encodes to a string that Decode turns back into an Equal state.
func (s State) Validate(numStyles, numNoise int) error {
	if numStyles < 1 || numStyles > MaxSlots {
		return fmt.Errorf("latent: %d style slots is outside 1..%d", numStyles, MaxSlots)
	}
	if numNoise < 0 || numNoise > MaxSlots {
		return fmt.Errorf("latent: %d noise slots is outside 0..%d", numNoise, MaxSlots)
	}
	if len(s.Styles) != numStyles {
		return fmt.Errorf("latent: state has %d style slots, model has %d", len(s.Styles), numStyles)
	}
	if len(s.Noise) != numNoise {
		return fmt.Errorf("latent: state has %d noise slots, model has %d", len(s.Noise), numNoise)
	}
	for i, v := range s.Styles {
		if v != FromA && v != FromB {
			return fmt.Errorf("latent: style slot %d takes source %d, want 0 (A) or 1 (B)", i, v)
		}
	}
	if !finite(s.Psi) {
		return fmt.Errorf("latent: truncation psi %v is not finite", s.Psi)
	}
	if math.Abs(s.Psi) > MaxPsi {
		return fmt.Errorf("latent: truncation psi %v is outside -%g..%g", s.Psi, MaxPsi, MaxPsi)
	}
	if s.Cutoff < 0 || s.Cutoff > numStyles {
		return fmt.Errorf("latent: truncation cutoff %d is outside 0..%d", s.Cutoff, numStyles)
	}
	for i, n := range s.Noise {
		if n.Mode > NoiseOff {
			return fmt.Errorf("latent: noise slot %d has unknown mode %v", i, n.Mode)
		}
	}
	if !finite(s.Interp.T) {
		return fmt.Errorf("latent: interpolation t %v is not finite", s.Interp.T)
	}
	if s.Interp.Space > SpaceZ {
		return fmt.Errorf("latent: interpolation space %v is unknown", s.Interp.Space)
	}
	if err := s.A.validate("A"); err != nil {
		return err
	}
	return s.B.validate("B")
}

func (s Source) validate(name string) error {
	if len(s.Nudges) > MaxNudges {
		return fmt.Errorf("latent: source %s has %d nudges, at most %d allowed", name, len(s.Nudges), MaxNudges)
	}
	for i, n := range s.Nudges {
		if !finite(n.Step) {
			return fmt.Errorf("latent: source %s nudge %d: step %v is not finite", name, i, n.Step)
		}
	}
	if err := validateVec(s.Z); err != nil {
		return fmt.Errorf("latent: source %s explicit z: %w", name, err)
	}
	if err := validateVec(s.W); err != nil {
		return fmt.Errorf("latent: source %s explicit w: %w", name, err)
	}
	return nil
}

// validateVec checks an optional explicit vector (nil is fine).
func validateVec(v []float32) error {
	if v == nil {
		return nil
	}
	if len(v) == 0 || len(v) > MaxVectorLen {
		return fmt.Errorf("%d components is outside 1..%d", len(v), MaxVectorLen)
	}
	for i, x := range v {
		if !finite(float64(x)) {
			return fmt.Errorf("component %d is %v", i, x)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// WithStyles returns a copy of s in which style slots lo..hi (inclusive,
// clamped to the slots that exist) take source src (FromA or FromB; any other
// value is stored as FromB). An empty range changes nothing.
func (s State) WithStyles(lo, hi int, src uint8) State {
	c := s.Clone()
	if src != FromA {
		src = FromB
	}
	lo = max(lo, 0)
	hi = min(hi, len(c.Styles)-1)
	for i := lo; i <= hi; i++ {
		c.Styles[i] = src
	}
	return c
}

// ToggleStyle returns a copy of s in which style slot i takes the other
// source. An i outside the slots changes nothing.
func (s State) ToggleStyle(i int) State {
	c := s.Clone()
	if i >= 0 && i < len(c.Styles) {
		if c.Styles[i] == FromA {
			c.Styles[i] = FromB
		} else {
			c.Styles[i] = FromA
		}
	}
	return c
}

// Swap returns a copy of s with sources A and B exchanged. Styles, Interp and
// everything else stay as they are, so the picture changes: slots that took A
// now take what was B (a mixed picture becomes its complement, and a walk at T
// shows what was at 1-T).
func (s State) Swap() State {
	c := s.Clone()
	c.A, c.B = c.B, c.A
	return c
}

// WithNoise returns a copy of s in which noise slots lo..hi (inclusive,
// clamped) use mode; their seeds are kept.
func (s State) WithNoise(lo, hi int, mode NoiseMode) State {
	c := s.Clone()
	lo = max(lo, 0)
	hi = min(hi, len(c.Noise)-1)
	for i := lo; i <= hi; i++ {
		c.Noise[i].Mode = mode
	}
	return c
}

// Source returns source A for FromA and B otherwise.
func (s State) Source(src uint8) Source {
	if src == FromA {
		return s.A
	}
	return s.B
}

// SlotPsi returns the truncation psi style slot i gets: Psi below the
// cutoff, 1 (no truncation) from it on.
func (s State) SlotPsi(i int) float64 {
	if i < s.Cutoff {
		return s.Psi
	}
	return 1
}

// WPlus resolves s into one w per style slot (the paper's w+), the input of
// the synthesis network:
//
//  1. w of A and of B: explicit W, else mapping(z) (Source.WVec);
//  2. if Interp is on, every slot takes the walk: Lerp(wA, wB, T) in W, or
//     mapping(SlerpZ(zA, zB, T)) in Z (in W instead when A or B has an
//     explicit W, since it has no z); else slot i takes A's or B's w as
//     Styles[i] says;
//  3. slots below Cutoff are truncated towards avg with Psi.
//
// avg (dlatent_avg) is only read when truncation is on (Psi != 1 and
// Cutoff > 0), and may be nil otherwise. Every returned slice is fresh.
func (s State) WPlus(zDim int, mapping MappingFunc, avg []float32) ([][]float32, error) {
	wa, err := s.A.WVec(zDim, mapping)
	if err != nil {
		return nil, fmt.Errorf("latent: mapping source A: %w", err)
	}
	wb, err := s.B.WVec(zDim, mapping)
	if err != nil {
		return nil, fmt.Errorf("latent: mapping source B: %w", err)
	}
	if len(wa) != len(wb) {
		return nil, fmt.Errorf("latent: w of A has %d components, w of B has %d", len(wa), len(wb))
	}
	var walk []float32
	if s.Interp.On {
		if s.Interp.Space == SpaceZ && s.A.W == nil && s.B.W == nil {
			za, zb := s.A.ZVec(zDim), s.B.ZVec(zDim)
			if len(za) != len(zb) {
				return nil, fmt.Errorf("latent: z of A has %d components, z of B has %d", len(za), len(zb))
			}
			if walk, err = mapping(SlerpZ(za, zb, s.Interp.T)); err != nil {
				return nil, fmt.Errorf("latent: mapping the Z walk: %w", err)
			}
			if len(walk) != len(wa) {
				return nil, fmt.Errorf("latent: mapping gave %d components for the walk, %d for A", len(walk), len(wa))
			}
		} else {
			walk = Lerp(wa, wb, s.Interp.T)
		}
	}
	truncating := s.Psi != 1 && s.Cutoff > 0
	if truncating && len(avg) != len(wa) {
		return nil, fmt.Errorf("latent: truncation needs w_avg with %d components, got %d", len(wa), len(avg))
	}
	out := make([][]float32, len(s.Styles))
	for i, src := range s.Styles {
		w := walk
		if w == nil {
			w = wa
			if src != FromA {
				w = wb
			}
		}
		if psi := s.SlotPsi(i); psi != 1 {
			out[i] = Truncate(w, avg, psi)
		} else {
			out[i] = slices.Clone(w)
		}
	}
	return out, nil
}

// GroupOf names the paper's group of style slots for a resolution: "coarse"
// for 4²–8², "middle" for 16²–32², "fine" for 64² and up; "" below 4.
func GroupOf(res int) string {
	switch {
	case res < 4:
		return ""
	case res < 16:
		return "coarse"
	case res < 64:
		return "middle"
	}
	return "fine"
}
