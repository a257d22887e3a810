package train

import (
	"slices"
	"strings"
	"testing"
)

// TestNoiseDecay: decayNoise scales exactly the noise strengths (Raw and
// the Eff the graphs read) by 1 − LR·NoiseDecay and leaves every other
// parameter alone; off, it changes nothing.
func TestNoiseDecay(t *testing.T) {
	opt := tinyOptions()
	tr, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before := map[string][]float32{}
	for _, p := range tr.GP.List {
		for i := range p.Raw {
			p.Raw[i] = 0.5 + float32(i%3) // noise strengths start at 0
		}
		p.SyncEff()
		before[p.Name] = slices.Clone(p.Raw)
	}
	tr.decayNoise() // off
	for _, p := range tr.GP.List {
		if !slices.Equal(p.Raw, before[p.Name]) {
			t.Fatalf("NoiseDecay 0 changed %s", p.Name)
		}
	}

	tr.Opt.NoiseDecay = 50
	tr.decayNoise()
	f := float32(1 - tr.Opt.LR*50)
	decayed := 0
	for _, p := range tr.GP.List {
		eff := p.Eff.Data().([]float32)
		noise := strings.HasSuffix(p.Name, noiseStrengthSuffix)
		if noise {
			decayed++
		}
		for i, r := range p.Raw {
			want := before[p.Name][i]
			if noise {
				want *= f
			}
			if r != want || eff[i] != want*p.Gain {
				t.Fatalf("%s[%d]: raw %v eff %v, want %v (noise strength: %v)", p.Name, i, r, eff[i], want, noise)
			}
		}
	}
	if want := 2 * len(tr.Opt.Arch.Channels); decayed != want {
		t.Errorf("%d noise strengths decayed, want one per synthesis layer (%d)", decayed, want)
	}
}
