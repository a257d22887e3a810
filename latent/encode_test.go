package latent

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// safe is the alphabet the state string promises: nothing a shell or a URL
// query treats specially.
var safe = regexp.MustCompile(`^[A-Za-z0-9_.,:=@-]+$`)

func TestEncodeGolden(t *testing.T) {
	s := New(18, 18, 0.7, 8)
	s.A.Seed, s.B.Seed = 888, 1733
	if got, want := s.Encode(), "sg1:a=888:b=1733:s=18A:p=0.7:c=8"; got != want {
		t.Errorf("New state: %s, want %s", got, want)
	}
	s = s.WithStyles(0, 3, FromB)
	s.A = s.A.WithNudge(Nudge{5, 0.3}).WithNudge(Nudge{9, -0.3})
	s = s.WithNoise(4, 5, NoiseConst).WithNoise(7, 17, NoiseOff)
	s.Noise[6].Seed = 42
	s.Interp = Interp{On: true, T: 0.25, Space: SpaceZ}
	want := "sg1:a=888,5@0.3,9@-0.3:b=1733:s=4B14A:p=0.7:c=8:n=4r,2c,r42,11o:i=0.25Z"
	if got := s.Encode(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Defaults are omitted: psi 1, cutoff = all slots, default noise, no walk.
	if got := New(9, 9, 1, 9).Encode(); got != "sg1:a=0:b=1:s=9A" {
		t.Errorf("defaults: %s", got)
	}
	// The number of noise slots survives when it differs from the style slots.
	if got := New(9, 0, 1, 9).Encode(); got != "sg1:a=0:b=1:s=9A:n=" {
		t.Errorf("no noise slots: %s", got)
	}
	// Interp kept while off; exponents lose their '+'.
	s = New(2, 2, 1e-7, 2)
	s.Interp = Interp{T: 1e21, Space: SpaceZ}
	if got := s.Encode(); got != "sg1:a=0:b=1:s=2A:p=1e-07:i=1e21Z,off" {
		t.Errorf("floats: %s", got)
	}
	// Explicit vectors: base64url of little-endian float32 (1.0 = 0x3f800000).
	s = New(1, 1, 1, 1)
	s.A.W = []float32{1, -2}
	if got := s.Encode(); got != "sg1:a=0:aw=AACAPwAAAMA:b=1:s=A" {
		t.Errorf("explicit w: %s", got)
	}
}

// randomState makes a valid state exercising every feature of the format.
func randomState(r *rand.Rand) State {
	pick := func(xs ...float64) float64 { return xs[r.IntN(len(xs))] }
	float := func() float64 {
		switch r.IntN(4) {
		case 0:
			return pick(0, 1, -1, 0.5, 0.7, math.Copysign(0, -1), 1e-300, -1e300, 5e-324, math.MaxFloat64)
		case 1:
			return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		return math.Round(r.NormFloat64()*1000) / 1000
	}
	seed := func() int64 {
		switch r.IntN(4) {
		case 0:
			return int64(r.Uint64())
		case 1:
			return -r.Int64N(1000)
		}
		return r.Int64N(100000)
	}
	vec := func() []float32 {
		v := make([]float32, 1+r.IntN(20))
		for i := range v {
			x := float()
			if math.Abs(x) > math.MaxFloat32 {
				x = math.MaxFloat32
			}
			v[i] = float32(x)
		}
		return v
	}
	source := func() Source {
		s := Source{Seed: seed()}
		for range r.IntN(4) {
			s.Nudges = append(s.Nudges, Nudge{Seed: seed(), Step: float()})
		}
		if r.IntN(4) == 0 {
			s.Z = vec()
		}
		if r.IntN(4) == 0 {
			s.W = vec()
		}
		return s
	}
	ns := 1 + r.IntN(MaxSlots)
	nn := ns
	if r.IntN(3) == 0 {
		nn = r.IntN(MaxSlots + 1)
	}
	psi := 1.0
	if r.IntN(4) != 0 {
		psi = float() // Validate bounds it; t keeps the extreme floats
		if math.Abs(psi) > MaxPsi {
			psi = math.Copysign(MaxPsi, psi)
		}
	}
	cutoff := ns
	if r.IntN(2) == 0 {
		cutoff = r.IntN(ns + 1)
	}
	s := New(ns, nn, psi, cutoff)
	s.A, s.B = source(), source()
	for i := range s.Styles {
		if r.IntN(3) == 0 {
			s.Styles[i] = FromB
		}
	}
	for i := range s.Noise {
		if r.IntN(2) == 0 {
			s.Noise[i].Mode = NoiseMode(r.IntN(3))
		}
		if r.IntN(4) == 0 {
			s.Noise[i].Seed = seed()
		}
	}
	if r.IntN(2) == 0 {
		s.Interp = Interp{On: r.IntN(2) == 0, T: float(), Space: Space(r.IntN(2))}
	}
	return s
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 5000; trial++ {
		s := randomState(r)
		if err := s.Validate(len(s.Styles), len(s.Noise)); err != nil {
			t.Fatalf("generator made an invalid state: %v", err)
		}
		enc := s.Encode()
		if !safe.MatchString(enc) {
			t.Fatalf("unsafe characters in %s", enc)
		}
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(%s): %v", enc, err)
		}
		if !got.Equal(s) {
			t.Fatalf("round trip changed the state:\n%s\n%#v\n%#v", enc, s, got)
		}
		if re := got.Encode(); re != enc {
			t.Fatalf("re-encoding differs:\n%s\n%s", enc, re)
		}
		if err := got.Validate(len(s.Styles), len(s.Noise)); err != nil {
			t.Fatalf("decoded state is invalid: %v", err)
		}
	}
}

func TestDecodeLenient(t *testing.T) {
	want := New(4, 4, 0.5, 2)
	want.A.Seed = 7
	for _, in := range []string{
		"sg1:a=7:b=1:s=4A:p=0.5:c=2",
		"  sg1:a=7:b=1:s=4A:p=0.5:c=2\n", // pasted with white space
		"sg1:c=2:p=0.5:s=4A:a=7",         // any order; b defaults to 1
		"sg1:a=7:s=AAAA:p=5e-1:c=2",      // runs need not be merged
		"sg1:a=7:s=4A:p=0.5:c=2:n=r,r,r,r",
		"sg1:a=7:s=4A:p=0.5:c=2:n=r0,r1,r2,r3", // explicit index seeds
	} {
		got, err := Decode(in)
		if err != nil {
			t.Errorf("Decode(%q): %v", in, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("Decode(%q) = %#v, want %#v", in, got, want)
		}
	}
	// Bare noise seeds are the slot index even after other runs.
	got, err := Decode("sg1:s=A:n=2c7,2r,o")
	if err != nil {
		t.Fatal(err)
	}
	wantNoise := []Noise{{NoiseConst, 7}, {NoiseConst, 7}, {NoiseRandom, 2}, {NoiseRandom, 3}, {NoiseOff, 4}}
	if len(got.Noise) != len(wantNoise) {
		t.Fatalf("noise = %v", got.Noise)
	}
	for i := range wantNoise {
		if got.Noise[i] != wantNoise[i] {
			t.Fatalf("noise = %v, want %v", got.Noise, wantNoise)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	long := strings.Repeat("A", 30000)
	for _, c := range []struct{ in, want string }{
		{"", "latent: empty state string"},
		{"   ", "latent: empty state string"},
		{"sg9:s=A", `latent: unknown version "sg9" (want "sg1")`},
		{"s=A", `latent: unknown version "s=A" (want "sg1")`},
		{"sg1", `latent: state string has no "s" field (the style slots)`},
		{"sg1:a=888:b=1", `no "s" field`},
		{"sg1:s=A:", "empty field"},
		{"sg1:", "empty field"},
		{"sg1::s=A", "empty field"},
		{"sg1:s=A:p", `latent: state field "p" has no "="`},
		{"sg1:s=A:q=1", `latent: unknown state field "q"`},
		{"sg1:s=A:s=B", `latent: state field "s": given twice`},
		{"sg1:s=A:p=abc", `latent: state field "p": psi "abc" is not a number`},
		{"sg1:s=A:p=", `latent: state field "p": psi "" is not a number`},
		{"sg1:s=A:p=NaN", `latent: state field "p": psi "NaN" is not a finite number`},
		{"sg1:s=A:p=1e999", `latent: state field "p": psi "1e999" is not a finite number`},
		{"sg1:s=A:p=-Inf", `psi "-Inf" is not a finite number`},
		{"sg1:s=A:c=x", `latent: state field "c": "x" is not an integer`},
		{"sg1:s=4A:c=5", `latent: state field "c": cutoff 5 is outside 0..4 (the style slots)`},
		{"sg1:s=4A:c=-1", `cutoff -1 is outside 0..4`},
		{"sg1:s=", `latent: state field "s": no style slots`},
		{"sg1:s=4C", `latent: state field "s": "C" is not a source (want A or B`},
		{"sg1:s=a", `"a" is not a source`},
		{"sg1:s=4", `latent: state field "s": ends with a count and no A or B`},
		{"sg1:s=0A", `latent: state field "s": run count 0`},
		{"sg1:s=65A", `run count "65" is more than 64 slots`},
		{"sg1:s=99999999999999999999999A", `run count "99" is more than 64 slots`},
		{"sg1:s=40A30B", `latent: state field "s": more than 64 style slots`},
		{"sg1:s=A:a=x", `latent: state field "a": seed "x" is not an integer`},
		{"sg1:s=A:a=", `latent: state field "a": seed "" is not an integer`},
		{"sg1:s=A:b=99999999999999999999", `latent: state field "b": seed "99999999999999999999" is out of the int64 range`},
		{"sg1:s=A:a=1,5", `latent: state field "a": nudge "5" is not seed@step`},
		{"sg1:s=A:a=1,5@x", `latent: state field "a": nudge step "x" is not a number`},
		{"sg1:s=A:a=1,y@0.1", `latent: state field "a": seed "y" is not an integer`},
		{"sg1:s=A:a=1,", `latent: state field "a": ends with ','`},
		{"sg1:s=A:a=1" + strings.Repeat(",1@1", MaxNudges+1), `latent: state field "a": 1025 nudges, at most 1024 allowed`},
		{"sg1:s=A:az=", `latent: state field "az": empty vector`},
		{"sg1:s=A:az=AAA", `latent: state field "az": 2 bytes is not a whole number of float32`},
		{"sg1:s=A:bw=AA*A", `latent: state field "bw": not unpadded base64url`},
		{"sg1:s=A:bw=AACAPw==", `latent: state field "bw": not unpadded base64url`},
		{"sg1:s=A:aw=AADAfw", `latent: state field "aw": component 0 is NaN`},
		{"sg1:s=A:aw=AACAfw", `latent: state field "aw": component 0 is +Inf`},
		{"sg1:s=A:az=" + long, `latent: state field "az": vector longer than 4096 components`},
		{"sg1:s=A:n=x", `latent: state field "n": item "x": "x" is not a mode (want r, c or o)`},
		{"sg1:s=A:n=3", `latent: state field "n": item "3" has no mode`},
		{"sg1:s=A:n=r,,c", `latent: state field "n": empty item`},
		{"sg1:s=A:n=r,", `latent: state field "n": ends with ','`},
		{"sg1:s=A:n=rx", `latent: state field "n": seed "x" is not an integer`},
		{"sg1:s=A:n=0r", `latent: state field "n": run count 0`},
		{"sg1:s=A:n=64r,o", `latent: state field "n": more than 64 noise slots`},
		{"sg1:s=A:i=", `latent: state field "i": empty`},
		{"sg1:s=A:i=0.5", `latent: state field "i": "0.5" does not end in a space letter`},
		{"sg1:s=A:i=0.5X", `does not end in a space letter`},
		{"sg1:s=A:i=xZ", `latent: state field "i": t "x" is not a number`},
		{"sg1:s=A:i=Z", `latent: state field "i": t "" is not a number`},
		{"sg1:s=A:i=0.5Z,on", `latent: state field "i": "0.5Z,on": only ",off" may follow the space letter`},
		{"sg1:s=A:" + long + "=1", `latent: unknown state field "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..."`},
	} {
		_, err := Decode(c.in)
		if err == nil {
			t.Errorf("Decode(%.60q) succeeded, want error %q", c.in, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%.60q):\n got  %v\n want %s", c.in, err, c.want)
		}
		if len(err.Error()) > 200 {
			t.Errorf("Decode(%.60q): error of %d bytes", c.in, len(err.Error()))
		}
	}
}

// Encoding an invalid state gives a string that Decode rejects rather than a
// different valid state.
func TestEncodeInvalidDoesNotDecode(t *testing.T) {
	for name, f := range map[string]func(*State){
		"style":  func(s *State) { s.Styles[0] = 5 },
		"mode":   func(s *State) { s.Noise[0].Mode = 9 },
		"space":  func(s *State) { s.Interp = Interp{On: true, Space: 4} },
		"psi":    func(s *State) { s.Psi = math.NaN() },
		"cutoff": func(s *State) { s.Cutoff = 3 },
		"z":      func(s *State) { s.A.Z = []float32{} },
		"no s":   func(s *State) { s.Styles = nil },
	} {
		s := New(2, 2, 1, 2)
		f(&s)
		if got, err := Decode(s.Encode()); err == nil {
			t.Errorf("%s: %s decoded to %#v", name, s.Encode(), got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"sg1:a=888:b=1733:s=18A:p=0.7:c=8",
		"sg1:a=888,5@0.3,9@-0.3:b=1733:s=4B14A:p=0.7:c=8:n=4r,2c,r42,11o:i=0.25Z",
		"sg1:a=0:aw=AACAPwAAAMA:b=1:s=A",
		"sg1:a=0:az=AACAPw:b=-5,1@1e-07:bw=AAAAAA:s=BAB:p=-0.5:c=0:n=:i=1e21W,off",
		"sg1:s=A:n=2c7,2r,o",
		"sg1:s=64A:n=64o",
		"sg1",
		"sg1:s=99999999999999999999A",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Decode(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "latent: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if err := s.Validate(len(s.Styles), len(s.Noise)); err != nil {
			t.Fatalf("Decode(%q) gave an invalid state: %v", in, err)
		}
		enc := s.Encode()
		if !safe.MatchString(enc) {
			t.Fatalf("Encode gave unsafe characters: %q", enc)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(%q) ok, but its encoding %q fails: %v", in, enc, err)
		}
		if !again.Equal(s) {
			t.Fatalf("Decode(%q) and Decode(%q) differ", in, enc)
		}
		if enc2 := again.Encode(); enc2 != enc {
			t.Fatalf("encoding is not canonical: %q then %q", enc, enc2)
		}
	})
}
