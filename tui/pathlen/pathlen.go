// Package pathlen measures a walk's path length while it plays: the
// distance between consecutive frames divided by the square of their step
// in t, the quantity the perceptual path length averages (Karras et al.
// 2019, arXiv:1812.04948, section 4.1), kept per latent space over t and
// drawn as a sparkline so a class sees where a path jumps.
//
// The distance sits behind Distance: toyfaces models get the toyfaces
// classifier's LPIPS-form distance (what stylegan-tui ppl measures with),
// other models a pixel distance, labelled as such.
package pathlen

import (
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"stylegan-tui/latent"
	"stylegan-tui/model/classifier"
)

// Distance is a distance between two pictures of the same size.
type Distance interface {
	// Name labels the numbers: what distance they are.
	Name() string
	Distance(a, b *image.RGBA) (float64, error)
}

// Pixel is the mean squared difference of the pixels, in the generator's
// range [-1, 1] and averaged over the three channels: the distance when no
// perceptual one is known for the model.
type Pixel struct{}

func (Pixel) Name() string { return "pixel MSE" }

func (Pixel) Distance(a, b *image.RGBA) (float64, error) {
	if err := sameSize(a, b); err != nil {
		return 0, err
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var sum float64
	for y := 0; y < h; y++ {
		pa := a.Pix[y*a.Stride : y*a.Stride+4*w]
		pb := b.Pix[y*b.Stride : y*b.Stride+4*w]
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				d := (float64(pa[4*x+c]) - float64(pb[4*x+c])) / 127.5
				sum += d * d
			}
		}
	}
	return sum / float64(3*w*h), nil
}

// Classifier is the toyfaces classifier's perceptual distance
// (classifier.Net.PerceptualDistance, the LPIPS baseline form on its
// convolution stages), for pictures of 8, 16, 32 or 64 px.
type Classifier struct {
	Net *classifier.Net
	mu  sync.Mutex // one measurement at a time: the explorer's are a few ms
}

func (*Classifier) Name() string { return "classifier distance" }

func (c *Classifier) Distance(a, b *image.RGBA) (float64, error) {
	if err := sameSize(a, b); err != nil {
		return 0, err
	}
	res := a.Rect.Dx()
	if a.Rect.Dy() != res {
		return 0, fmt.Errorf("pathlen: a %dx%d picture, want a square one", res, a.Rect.Dy())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, err := c.Net.PerceptualDistance(nchw(a), nchw(b), 1, res)
	if err != nil {
		return 0, err
	}
	return d[0], nil
}

// nchw turns a picture into the generator's layout and range: CHW float32
// in [-1, 1].
func nchw(m *image.RGBA) []float32 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]float32, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := m.Pix[y*m.Stride+4*x:]
			for c := 0; c < 3; c++ {
				out[c*w*h+y*w+x] = float32(p[c])/127.5 - 1
			}
		}
	}
	return out
}

func sameSize(a, b *image.RGBA) error {
	if a == nil || b == nil {
		return fmt.Errorf("pathlen: no picture")
	}
	if a.Rect.Size() != b.Rect.Size() {
		return fmt.Errorf("pathlen: pictures of %v and %v, want one size", a.Rect.Size(), b.Rect.Size())
	}
	return nil
}

// Bins is the number of t bins a Series holds: one per step of the
// explorer's walk animation (t moves by 0.02).
const Bins = 50

// Series is one space's d/Δt² over t in [0, 1].
type Series struct {
	V    [Bins]float64
	Have [Bins]bool
}

// Add records distance d between the frames at t0 and t1 as d/Δt², in the
// bin of their midpoint. Frames at the same t are not a step: ignored.
func (s *Series) Add(t0, t1, d float64) {
	dt := math.Abs(t1 - t0)
	if !(dt > 1e-9) || math.IsNaN(d) || math.IsInf(d, 0) {
		return
	}
	i := int(math.Floor((t0 + t1) / 2 * Bins))
	i = min(max(i, 0), Bins-1)
	s.V[i], s.Have[i] = d/(dt*dt), true
}

// Mean is the average over the measured bins, and their count.
func (s *Series) Mean() (float64, int) {
	var sum float64
	n := 0
	for i, ok := range s.Have {
		if ok {
			sum += s.V[i]
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// Max is the largest measured value (0 when none is).
func (s *Series) Max() float64 {
	m := 0.0
	for i, ok := range s.Have {
		if ok {
			m = math.Max(m, s.V[i])
		}
	}
	return m
}

// Track is the two spaces' series of one path.
type Track struct {
	Key    string    // PathKey of the walk measured
	Series [2]Series // by latent.Space: lerp in W, slerp in Z
}

// Reset starts measuring the path key, if it is not the one measured.
func (t *Track) Reset(key string) bool {
	if t.Key == key {
		return false
	}
	*t = Track{Key: key}
	return true
}

// PathKey names the walk of a state: everything that shapes its frames but
// t, the space and the style slots (a walk gives every slot its w).
func PathKey(st latent.State) string {
	c := st.Clone()
	c.Interp = latent.Interp{On: true}
	for i := range c.Styles {
		c.Styles[i] = latent.FromA
	}
	return c.Encode()
}

// sparks are the eight heights of a sparkline cell.
var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws s in width cells on a linear scale up to top: each cell
// shows the largest bin it covers, '·' where nothing is measured yet.
func Sparkline(s *Series, width int, top float64) string {
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	for c := 0; c < width; c++ {
		lo, hi := c*Bins/width, (c+1)*Bins/width
		hi = max(hi, lo+1)
		v, ok := 0.0, false
		for i := lo; i < hi && i < Bins; i++ {
			if s.Have[i] {
				v, ok = math.Max(v, s.V[i]), true
			}
		}
		switch {
		case !ok:
			b.WriteRune('·')
		case !(top > 0):
			b.WriteRune(sparks[0])
		default:
			k := int(math.Round(v / top * float64(len(sparks)-1)))
			b.WriteRune(sparks[min(max(k, 0), len(sparks)-1)])
		}
	}
	return b.String()
}

// Short writes a path-length value in three significant digits ("741",
// "0.0123", "1.2e+04").
func Short(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1e4 || a < 1e-3:
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.3g", v)
}
