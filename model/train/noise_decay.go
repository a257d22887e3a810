package train

import "strings"

// noiseStrengthSuffix ends the names of the synthesis layers' learned
// per-channel noise strengths (the B of the paper's Figure 1(b)).
const noiseStrengthSuffix = ".noise_strength"

// decayNoise shrinks every noise strength by 1 − LR·NoiseDecay after a G
// step: decoupled weight decay (Loshchilov & Hutter) on those parameters
// alone. Why: on toyfaces the generator learns to draw eyes, mouths and
// glasses with the 32 px block's noise instead of its styles (labels
// change when only the noise is resampled; docs/learning-curve.md), and
// the pixel D does not object. The decay makes a noise input pay for its
// strength, so only noise that D keeps asking for stays large. Adam's
// normalised step is at most about LR, so a strength the gradient pushes
// consistently settles near 1/NoiseDecay (raw units, gain 1) and one it
// pushes at random decays away.
func (t *Trainer) decayNoise() {
	if t.Opt.NoiseDecay <= 0 {
		return
	}
	f := float32(1 - t.Opt.LR*t.Opt.NoiseDecay)
	for _, p := range t.GP.List {
		if !strings.HasSuffix(p.Name, noiseStrengthSuffix) {
			continue
		}
		for i := range p.Raw {
			p.Raw[i] *= f
		}
		p.SyncEff()
	}
}
