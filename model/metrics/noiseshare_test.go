package metrics

import "testing"

// TestQuickNoiseShare: no noise strength gives 0; a generator whose image
// ignores w (every style weight zero) owes all its pixel variance to the
// noise, so the share is about 1 (7/8 · 64/63 of it: the variance over 8
// draws against that over 64 images, both with the 1/n estimator); a
// generator driven by w and noise lies in between.
func TestQuickNoiseShare(t *testing.T) {
	for _, c := range []struct {
		name      string
		styleOnly string
		quiet     bool
		lo, hi    float64
	}{
		{"quiet", "", true, 0, 0},
		{"noise only", "none", false, 0.85, 0.92},
		{"styles and noise", "", false, 0.001, 0.8},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := tinyGenerator(t, c.styleOnly, c.quiet)
			defer g.Close()
			v, err := QuickNoiseShare(g, 8, 8, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("noise share %.4f", v)
			if v < c.lo || v > c.hi {
				t.Errorf("noise share %g, want in [%g, %g]", v, c.lo, c.hi)
			}
		})
	}
	g := tinyGenerator(t, "", false)
	defer g.Close()
	if _, err := QuickNoiseShare(g, 1, 8, 1); err == nil {
		t.Error("one latent accepted")
	}
}
