package latent

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"

	"stylegan-tui/internal/testfix"
)

// numpySeedsPath is the reference numpy output, in the repository's fixtures.
const numpySeedsPath = "numpy_seeds.json"

// loadNumpySeeds reads numpy.random.RandomState(seed).randn(512) for a few
// seeds. A missing file fails the test: numpy parity is the point of
// RandomState, and a skip would hide a broken checkout.
func loadNumpySeeds(t *testing.T) map[int64][]float64 {
	t.Helper()
	raw, err := os.ReadFile(testfix.Path(t, numpySeedsPath))
	if err != nil {
		t.Fatalf("reading the numpy fixture: %v", err)
	}
	var f struct {
		Generator string               `json:"generator"`
		Values    map[string][]float64 `json:"values"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("parsing %s: %v", numpySeedsPath, err)
	}
	if len(f.Values) == 0 {
		t.Fatalf("%s has no values", numpySeedsPath)
	}
	out := map[int64][]float64{}
	for k, v := range f.Values {
		seed, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			t.Fatalf("%s: seed key %q: %v", numpySeedsPath, k, err)
		}
		out[seed] = v
	}
	return out
}

func sortedSeeds(m map[int64][]float64) []int64 {
	var s []int64
	for k := range m {
		s = append(s, k)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

func TestRandnMatchesNumpy(t *testing.T) {
	const tol = 1e-12
	ref := loadNumpySeeds(t)
	for _, seed := range sortedSeeds(ref) {
		want := ref[seed]
		got := NewRandomState(uint32(seed)).Randn(len(want))
		worst := 0.0
		for i := range want {
			if d := math.Abs(got[i] - want[i]); d > worst {
				worst = d
			}
			if d := math.Abs(got[i] - want[i]); !(d <= tol) {
				t.Fatalf("seed %d: randn[%d] = %.17g, numpy %.17g (|diff| %g > %g)", seed, i, got[i], want[i], d, tol)
			}
		}
		t.Logf("seed %d: %d values, max |diff| %g", seed, len(want), worst)

		z := SeedZ(seed, len(want))
		for i := range want {
			if z[i] != float32(want[i]) {
				t.Fatalf("seed %d: SeedZ[%d] = %v, want float32(%v)", seed, i, z[i], want[i])
			}
		}
	}
}

// numpy keeps the second value of each polar pair in the RandomState, so
// splitting randn into calls of odd sizes must give the same sequence.
func TestRandnKeepsGaussAcrossCalls(t *testing.T) {
	ref := loadNumpySeeds(t)
	want, ok := ref[42]
	if !ok {
		t.Fatal("fixture has no seed 42")
	}
	r := NewRandomState(42)
	var got []float64
	for _, n := range []int{1, 3, 0, 7, 100, 401} {
		got = append(got, r.Randn(n)...)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("value %d = %v, numpy %v", i, got[i], want[i])
		}
	}
}

// C++11 pins MT19937 with init_genrand(5489) (a default std::mt19937): its
// 10000th output must be 4123659995; its first is 3499211612.
func TestMT19937Reference(t *testing.T) {
	r := NewRandomState(5489)
	if got := r.Uint32(); got != 3499211612 {
		t.Errorf("first output %d, want 3499211612", got)
	}
	for i := 2; i < 10000; i++ {
		r.Uint32()
	}
	if got := r.Uint32(); got != 4123659995 {
		t.Errorf("10000th output %d, want 4123659995", got)
	}
}

func TestSeedZReducesModulo2to32(t *testing.T) {
	for _, c := range []struct{ seed, same int64 }{
		{-1, 4294967295},
		{1 << 32, 0},
		{1<<32 + 888, 888},
		{-(1 << 32) + 5, 5},
	} {
		a, b := SeedZ(c.seed, 16), SeedZ(c.same, 16)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("SeedZ(%d) != SeedZ(%d) at %d", c.seed, c.same, i)
			}
		}
	}
	if got := SeedZ(3, 0); len(got) != 0 {
		t.Errorf("SeedZ(3, 0) has %d values", len(got))
	}
}

func TestNoiseMap(t *testing.T) {
	ref := loadNumpySeeds(t)
	a := NoiseMap(7, 3, 8, 8)
	b := NoiseMap(7, 3, 8, 8)
	if len(a) != 64 {
		t.Fatalf("len %d, want 64", len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("not deterministic at %d", i)
		}
	}
	// Equal seeds, different layers: different maps.
	for layer := 0; layer < MaxSlots; layer++ {
		c := NoiseMap(7, layer, 8, 8)
		if layer != 3 && equal32(a, c) {
			t.Errorf("layers 3 and %d give the same map for seed 7", layer)
		}
	}
	// The documented formula: RandomState((seed*1000003 + layer) % 2**32).
	// Pick (seed, layer) pairs that land on the fixture's numpy seeds.
	for _, c := range []struct {
		seed  int64
		layer int
		numpy int64
	}{
		{0, 0, 0},
		{0, 888, 888},
		{-1, 1000004, 1}, // -1000003 + 1000004: negative seeds wrap as in Python
	} {
		want, ok := ref[c.numpy]
		if !ok {
			t.Fatalf("fixture has no seed %d", c.numpy)
		}
		got := NoiseMap(c.seed, c.layer, 16, 32)
		for i := range got {
			if got[i] != float32(want[i]) {
				t.Fatalf("NoiseMap(%d, %d)[%d] = %v, numpy seed %d gives %v", c.seed, c.layer, i, got[i], c.numpy, float32(want[i]))
			}
		}
	}
	if got := NoiseMap(1, 1, 0, 4); len(got) != 0 {
		t.Errorf("0x4 map has %d values", len(got))
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNoiseMapChunks checks that NoiseMap, which draws in chunks, gives
// numpy's randn on an odd size larger than a chunk.
func TestNoiseMapChunks(t *testing.T) {
	got := NoiseMap(5, 2, 33, 31)
	want := NewRandomState(5*NoiseSeedMul + 2).Randn(33 * 31)
	for i := range want {
		if got[i] != float32(want[i]) {
			t.Fatalf("value %d = %v, want %v", i, got[i], float32(want[i]))
		}
	}
}
