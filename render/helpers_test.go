package render

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"
)

// synth draws a smooth synthetic w x h picture standing in for a generated
// face: a two-axis colour gradient, soft shaded discs and a ring, and mild
// pixel noise. Frame t (0..1) moves the shapes and shifts the hues, so a
// sequence of t makes an animation.
func synth(w, h int, seed int64, t float64) *image.RGBA {
	rng := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct{ cx, cy, r, cr, cg, cb float64 }
	var discs []disc
	for i := 0; i < 4; i++ {
		discs = append(discs, disc{
			cx: (0.2 + 0.6*rng.Float64() + 0.1*math.Sin(2*math.Pi*t+float64(i))) * float64(w),
			cy: (0.2 + 0.6*rng.Float64()) * float64(h),
			r:  (0.1 + 0.15*rng.Float64()) * float64(min(w, h)),
			cr: 255 * rng.Float64(), cg: 255 * rng.Float64(), cb: 255 * rng.Float64(),
		})
	}
	noise := rand.New(rand.NewSource(seed*7919 + int64(t*1e6)))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 40 + 170*fx + 30*math.Sin(2*math.Pi*t)
			g := 60 + 140*fy
			b := 128 + 100*math.Sin(3*fx+2*fy+2*math.Pi*t)
			for _, d := range discs {
				dx, dy := float64(x)-d.cx, float64(y)-d.cy
				dist := math.Sqrt(dx*dx+dy*dy) / d.r
				if dist < 1 {
					// Shaded like a sphere lit from the top left, soft edge.
					shade := 0.6 + 0.4*(1-dist)*(1-(dx+dy)/(2*d.r))
					a := math.Min(1, (1-dist)*8)
					r = r*(1-a) + a*d.cr*shade
					g = g*(1-a) + a*d.cg*shade
					b = b*(1-a) + a*d.cb*shade
				}
			}
			// A ring with a hard-ish edge (hair / glasses).
			dx, dy := fx-0.5, fy-0.45
			if rr := math.Sqrt(dx*dx + dy*dy); rr > 0.38 && rr < 0.42 {
				r, g, b = r*0.3, g*0.3, b*0.3+20
			}
			n := noise.NormFloat64() * 4
			img.SetRGBA(x, y, color.RGBA{c8(r + n), c8(g + n), c8(b + n), 0xff})
		}
	}
	return img
}

func c8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// psnr is the peak signal-to-noise ratio in dB of b against a over RGB (alpha
// ignored); both must have the same size.
func psnr(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		t.Fatalf("psnr: sizes %v and %v differ", ab.Size(), bb.Size())
	}
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range [3]float64{
				float64(r1>>8) - float64(r2>>8),
				float64(g1>>8) - float64(g2>>8),
				float64(b1>>8) - float64(b2>>8),
			} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*ab.Dx()*ab.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// frames makes n synthetic animation frames.
func frames(n, w, h int) []image.Image {
	out := make([]image.Image, n)
	for i := range out {
		out[i] = synth(w, h, 7, float64(i)/float64(n))
	}
	return out
}

// blur is a 5x5 box blur (clamped at the edges): roughly what the eye makes
// of dithering. Error that survives it is banding or a tone shift.
func blur(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			var s [3]uint32
			var n uint32
			for yy := max(y-2, 0); yy <= min(y+2, b.Dy()-1); yy++ {
				for xx := max(x-2, 0); xx <= min(x+2, b.Dx()-1); xx++ {
					r, g, bl, _ := img.At(b.Min.X+xx, b.Min.Y+yy).RGBA()
					s[0], s[1], s[2] = s[0]+r>>8, s[1]+g>>8, s[2]+bl>>8
					n++
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8((s[0] + n/2) / n), uint8((s[1] + n/2) / n), uint8((s[2] + n/2) / n), 255})
		}
	}
	return out
}
