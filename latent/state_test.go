package latent

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	s := New(18, 18, 0.7, 8)
	if s.A.Seed != 0 || s.B.Seed != 1 || s.Psi != 0.7 || s.Cutoff != 8 || s.Interp != (Interp{}) {
		t.Fatalf("New = %#v", s)
	}
	if len(s.Styles) != 18 || slices.ContainsFunc(s.Styles, func(v uint8) bool { return v != FromA }) {
		t.Fatalf("Styles = %v, want 18 × A", s.Styles)
	}
	for i, n := range s.Noise {
		if n != (Noise{NoiseRandom, int64(i)}) {
			t.Fatalf("Noise[%d] = %+v", i, n)
		}
	}
	if err := s.Validate(18, 18); err != nil {
		t.Fatal(err)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{NoiseRandom.String(), "random"},
		{NoiseConst.String(), "const"},
		{NoiseOff.String(), "off"},
		{NoiseMode(9).String(), "NoiseMode(9)"},
		{SpaceW.String(), "W"},
		{SpaceZ.String(), "Z"},
		{GroupOf(4), "coarse"},
		{GroupOf(8), "coarse"},
		{GroupOf(16), "middle"},
		{GroupOf(32), "middle"},
		{GroupOf(64), "fine"},
		{GroupOf(1024), "fine"},
		{GroupOf(2), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func styleString(s []uint8) string {
	var b strings.Builder
	for _, v := range s {
		b.WriteByte("AB"[v])
	}
	return b.String()
}

func TestWithStyles(t *testing.T) {
	base := New(8, 8, 1, 8)
	for _, c := range []struct {
		lo, hi int
		src    uint8
		from   string
		want   string
	}{
		{0, 3, FromB, "AAAAAAAA", "BBBBAAAA"},
		{4, 7, FromB, "AAAAAAAA", "AAAABBBB"},
		{2, 2, FromB, "AAAAAAAA", "AABAAAAA"},
		{-5, 1, FromB, "AAAAAAAA", "BBAAAAAA"},  // lo clamped
		{6, 100, FromB, "AAAAAAAA", "AAAAAABB"}, // hi clamped
		{5, 2, FromB, "AAAAAAAA", "AAAAAAAA"},   // empty range
		{9, 12, FromB, "AAAAAAAA", "AAAAAAAA"},  // wholly outside
		{1, 6, FromA, "BBBBBBBB", "BAAAAAAB"},   // back to A
		{0, 7, 7, "AAAAAAAA", "BBBBBBBB"},       // other values mean B
		{-3, -1, FromB, "AAAAAAAA", "AAAAAAAA"}, // wholly below
	} {
		from := base.WithStyles(0, 7, FromA)
		for i := range from.Styles {
			if c.from[i] == 'B' {
				from = from.ToggleStyle(i)
			}
		}
		before := styleString(from.Styles)
		got := from.WithStyles(c.lo, c.hi, c.src)
		if g := styleString(got.Styles); g != c.want {
			t.Errorf("%s.WithStyles(%d, %d, %d) = %s, want %s", c.from, c.lo, c.hi, c.src, g, c.want)
		}
		if styleString(from.Styles) != before {
			t.Errorf("WithStyles changed its receiver")
		}
	}
}

func TestToggleStyle(t *testing.T) {
	s := New(4, 4, 1, 4)
	u := s.ToggleStyle(1).ToggleStyle(3)
	if g := styleString(u.Styles); g != "ABAB" {
		t.Fatalf("got %s", g)
	}
	if g := styleString(u.ToggleStyle(1).Styles); g != "AAAB" {
		t.Fatalf("toggling back: got %s", g)
	}
	if g := styleString(s.Styles); g != "AAAA" {
		t.Fatalf("receiver changed to %s", g)
	}
	if !u.ToggleStyle(-1).Equal(u) || !u.ToggleStyle(4).Equal(u) {
		t.Fatal("out-of-range toggle changed the state")
	}
}

func richState() State {
	s := New(6, 5, 0.7, 4)
	s.A = Source{Seed: 888, Nudges: []Nudge{{5, 0.3}}, Z: []float32{1, 2}}
	s.B = Source{Seed: 1733, W: []float32{3, 4, 5}}
	s.Styles[0] = FromB
	s.Interp = Interp{On: true, T: 0.25, Space: SpaceZ}
	return s
}

func TestCloneIndependent(t *testing.T) {
	s := richState()
	c := s.Clone()
	if !c.Equal(s) {
		t.Fatal("clone is not Equal")
	}
	c.Styles[1] = FromB
	c.Noise[0].Seed = 99
	c.A.Nudges[0].Step = 9
	c.A.Z[0] = 42
	c.B.W[0] = 42
	if s.Styles[1] != FromA || s.Noise[0].Seed != 0 || s.A.Nudges[0].Step != 0.3 || s.A.Z[0] != 1 || s.B.W[0] != 3 {
		t.Fatalf("writing the clone changed the original: %#v", s)
	}
	if c.Equal(s) {
		t.Fatal("changed clone still Equal")
	}
	// Nil stays nil: a nil Z means "no explicit z".
	if n := New(2, 2, 1, 2).Clone(); n.A.Z != nil || n.A.W != nil || n.A.Nudges != nil {
		t.Fatal("Clone turned nil slices into empty ones")
	}
}

func TestEqual(t *testing.T) {
	s := richState()
	for name, f := range map[string]func(*State){
		"seed":        func(s *State) { s.A.Seed++ },
		"nudge":       func(s *State) { s.A.Nudges[0].Seed++ },
		"more nudges": func(s *State) { s.B.Nudges = []Nudge{{1, 1}} },
		"z":           func(s *State) { s.A.Z[1] = 7 },
		"z nil":       func(s *State) { s.A.Z = nil },
		"w empty":     func(s *State) { s.A.W = []float32{} },
		"styles":      func(s *State) { s.Styles[5] = FromB },
		"psi":         func(s *State) { s.Psi = 0.5 },
		"cutoff":      func(s *State) { s.Cutoff = 3 },
		"noise mode":  func(s *State) { s.Noise[2].Mode = NoiseOff },
		"noise len":   func(s *State) { s.Noise = s.Noise[:4] },
		"interp":      func(s *State) { s.Interp.On = false },
	} {
		c := s.Clone()
		f(&c)
		if c.Equal(s) || s.Equal(c) {
			t.Errorf("%s: changed state is Equal", name)
		}
	}
	c := s.Clone()
	c.B.Nudges = []Nudge{} // empty and nil nudges mean the same
	if !c.Equal(s) {
		t.Error("empty and nil nudges differ")
	}
}

func TestSwap(t *testing.T) {
	s := richState()
	w := s.Swap()
	if !w.A.Equal(s.B) || !w.B.Equal(s.A) {
		t.Fatal("sources not swapped")
	}
	if !slices.Equal(w.Styles, s.Styles) || w.Interp != s.Interp {
		t.Fatal("Swap changed Styles or Interp")
	}
	if !w.Swap().Equal(s) {
		t.Fatal("Swap twice is not the identity")
	}
	w.A.W[0] = 99
	if s.B.W[0] == 99 {
		t.Fatal("Swap shares slices with its receiver")
	}
}

func TestWithNoiseAndNudge(t *testing.T) {
	s := New(4, 4, 1, 4)
	u := s.WithNoise(1, 2, NoiseConst)
	want := []Noise{{NoiseRandom, 0}, {NoiseConst, 1}, {NoiseConst, 2}, {NoiseRandom, 3}}
	if !slices.Equal(u.Noise, want) {
		t.Fatalf("WithNoise = %v", u.Noise)
	}
	if s.Noise[1].Mode != NoiseRandom {
		t.Fatal("WithNoise changed its receiver")
	}
	// Two nudges from one base must not overwrite each other's backing array.
	base := Source{Seed: 3}.WithNudge(Nudge{1, 0.1})
	x, y := base.WithNudge(Nudge{2, 0.2}), base.WithNudge(Nudge{3, 0.3})
	if len(base.Nudges) != 1 || x.Nudges[1].Seed != 2 || y.Nudges[1].Seed != 3 {
		t.Fatalf("WithNudge shares memory: base %v x %v y %v", base.Nudges, x.Nudges, y.Nudges)
	}
}

func TestZVec(t *testing.T) {
	const dim = 512
	if !equal32(Source{Seed: 888}.ZVec(dim), SeedZ(888, dim)) {
		t.Fatal("a plain seed is not SeedZ")
	}
	explicit := []float32{1, 2, 3}
	z := Source{Seed: 888, Nudges: []Nudge{{1, 1}}, Z: explicit}.ZVec(dim)
	if !equal32(z, explicit) {
		t.Fatal("explicit Z does not override the seed")
	}
	z[0] = 9
	if explicit[0] != 1 {
		t.Fatal("ZVec returned the explicit Z itself, not a copy")
	}
	// One nudge moves z by Step·sqrt(dim) along randn(nudge seed).
	base := SeedZ64(888, dim)
	dir := SeedZ64(5, dim)
	nd := norm64(dir)
	got := Source{Seed: 888, Nudges: []Nudge{{5, 0.3}}}.ZVec(dim)
	dist := 0.0
	for i := range got {
		want := base[i] + 0.3*math.Sqrt(dim)*dir[i]/nd
		if math.Abs(float64(got[i])-want) > 1e-6 {
			t.Fatalf("nudged z[%d] = %v, want %v", i, got[i], want)
		}
		dist += (float64(got[i]) - base[i]) * (float64(got[i]) - base[i])
	}
	if d := math.Sqrt(dist); math.Abs(d-0.3*math.Sqrt(dim)) > 1e-4 {
		t.Fatalf("nudge moved z by %v, want %v", d, 0.3*math.Sqrt(dim))
	}
	// Nudges add up: two opposite nudges with the same seed cancel.
	back := Source{Seed: 888, Nudges: []Nudge{{5, 0.3}, {5, -0.3}}}.ZVec(dim)
	if d := maxAbsDiff(back, SeedZ(888, dim)); d > 1e-6 {
		t.Fatalf("opposite nudges leave z off by %g", d)
	}
}

func TestValidate(t *testing.T) {
	ok := richState()
	if err := ok.Validate(6, 5); err != nil {
		t.Fatalf("valid state: %v", err)
	}
	for _, c := range []struct {
		name string
		f    func(*State)
		ns   int
		want string
	}{
		{"styles len", func(s *State) {}, 7, "state has 6 style slots, model has 7"},
		{"noise len", func(s *State) { s.Noise = s.Noise[:2] }, 6, "state has 2 noise slots, model has 5"},
		{"style value", func(s *State) { s.Styles[2] = 2 }, 6, "style slot 2 takes source 2"},
		{"psi nan", func(s *State) { s.Psi = math.NaN() }, 6, "psi NaN is not finite"},
		{"psi inf", func(s *State) { s.Psi = math.Inf(-1) }, 6, "psi -Inf is not finite"},
		{"psi huge", func(s *State) { s.Psi = 1e300 }, 6, "psi 1e+300 is outside -1e+06..1e+06"},
		{"cutoff high", func(s *State) { s.Cutoff = 7 }, 6, "cutoff 7 is outside 0..6"},
		{"cutoff neg", func(s *State) { s.Cutoff = -1 }, 6, "cutoff -1 is outside 0..6"},
		{"mode", func(s *State) { s.Noise[4].Mode = 3 }, 6, "noise slot 4 has unknown mode NoiseMode(3)"},
		{"t", func(s *State) { s.Interp.T = math.Inf(1) }, 6, "interpolation t +Inf is not finite"},
		{"space", func(s *State) { s.Interp.Space = 2 }, 6, "interpolation space Space(2) is unknown"},
		{"step", func(s *State) { s.A.Nudges[0].Step = math.NaN() }, 6, "source A nudge 0: step NaN is not finite"},
		{"empty z", func(s *State) { s.A.Z = []float32{} }, 6, "source A explicit z: 0 components is outside 1..4096"},
		{"nan w", func(s *State) { s.B.W[1] = float32(math.NaN()) }, 6, "source B explicit w: component 1 is NaN"},
		{"nudges", func(s *State) { s.B.Nudges = make([]Nudge, MaxNudges+1) }, 6, "source B has 1025 nudges"},
		{"too many slots", func(s *State) {}, 65, "65 style slots is outside 1..64"},
	} {
		s := ok.Clone()
		c.f(&s)
		err := s.Validate(c.ns, 5)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "latent: ") {
			t.Errorf("%s: Validate = %v, want %q", c.name, err, c.want)
		}
	}
}

// fakeMapping is a stand-in mapping network that is easy to check by hand:
// w = 2z, truncated to wDim components.
func fakeMapping(wDim int) MappingFunc {
	return func(z []float32) ([]float32, error) {
		w := make([]float32, wDim)
		for i := range w {
			w[i] = 2 * z[i%len(z)]
		}
		return w, nil
	}
}

func TestWPlus(t *testing.T) {
	const zDim, wDim = 16, 8
	m := fakeMapping(wDim)
	avg := make([]float32, wDim)
	for i := range avg {
		avg[i] = float32(i)
	}
	s := New(6, 6, 0.5, 2)
	s.A.Seed, s.B.Seed = 888, 1733
	s = s.WithStyles(3, 5, FromB)
	wa, _ := m(SeedZ(888, zDim))
	wb, _ := m(SeedZ(1733, zDim))

	got, err := s.WPlus(zDim, m, avg)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{
		Truncate(wa, avg, 0.5), Truncate(wa, avg, 0.5), // below the cutoff
		wa, wb, wb, wb,
	}
	for i := range want {
		if !equal32(got[i], want[i]) {
			t.Errorf("mixing: slot %d = %v, want %v", i, got[i], want[i])
		}
	}
	got[2][0] = 1234 // fresh slices: writing one changes no other
	if got[1][0] == 1234 || got[3][0] == 1234 {
		t.Error("WPlus slots share memory")
	}

	// A walk in W takes over every slot.
	s.Interp = Interp{On: true, T: 0.25, Space: SpaceW}
	s.Psi = 1
	got, err = s.WPlus(zDim, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !equal32(got[i], Lerp(wa, wb, 0.25)) {
			t.Errorf("W walk: slot %d is not the lerp", i)
		}
	}
	// A walk in Z maps the slerp of the two z.
	s.Interp.Space = SpaceZ
	got, _ = s.WPlus(zDim, m, nil)
	wz, _ := m(SlerpZ(SeedZ(888, zDim), SeedZ(1733, zDim), 0.25))
	if !equal32(got[4], wz) {
		t.Error("Z walk: slot 4 is not mapping(SlerpZ)")
	}
	// An explicit w has no z: the walk falls back to W.
	s.B.W = wb
	got, _ = s.WPlus(zDim, m, nil)
	if !equal32(got[0], Lerp(wa, wb, 0.25)) {
		t.Error("Z walk with an explicit w does not fall back to a W lerp")
	}

	// Errors name the step.
	s = New(4, 4, 0.7, 4)
	if _, err := s.WPlus(zDim, m, nil); err == nil || !strings.Contains(err.Error(), "w_avg") {
		t.Errorf("truncation without avg: %v", err)
	}
	bad := errors.New("boom")
	failing := func([]float32) ([]float32, error) { return nil, bad }
	if _, err := s.WPlus(zDim, failing, avg); !errors.Is(err, bad) || !strings.Contains(err.Error(), "source A") {
		t.Errorf("mapping error: %v", err)
	}
	s.B.W = []float32{1, 2, 3}
	if _, err := s.WPlus(zDim, m, avg); err == nil || !strings.Contains(err.Error(), "w of B has 3") {
		t.Errorf("length mismatch: %v", err)
	}
}

func TestSlotPsi(t *testing.T) {
	s := New(18, 18, 0.7, 8)
	if s.SlotPsi(7) != 0.7 || s.SlotPsi(8) != 1 {
		t.Fatalf("SlotPsi(7), SlotPsi(8) = %v, %v", s.SlotPsi(7), s.SlotPsi(8))
	}
}
