// Package toyfaces renders a procedural portrait dataset built to show what
// StyleGAN (Karras et al. 2019, arXiv:1812.04948) separates into its coarse,
// middle and fine styles and its per-pixel noise.
//
// Every image is a deterministic function of an int64 seed and comes with one
// class label per factor (see Factors). The factors are grouped as the paper
// groups its styles:
//
//   - coarse (pose and shape, seen at 4²–8²): yaw, roll, face shape, hair style;
//   - middle (facial features, 16²–32²): eyes, mouth, glasses, beard;
//   - fine (colour, 64²): skin tone, hair colour, background hue;
//   - stochastic, unlabelled and independent of every label (what StyleGAN's
//     noise inputs control): freckle positions, hair strand texture, skin grain.
//
// One combination never occurs, the paper's argument for the mapping network
// (section 4): long hair together with a full beard. The joint distribution of
// hair style and beard is chosen so that both marginals stay uniform.
//
// Images are 64×64 RGB, drawn with signed-distance shapes at 2× supersampling
// (each sample additionally anti-aliased by its distance to the edge) and box
// filtered down, at several hundred images per second on one core. Smaller
// sizes (8, 16, 32) are area averages of the 64 px image, as a progressively
// growing trainer expects.
//
// Sample and SampleSize give images; FillBatch and Stream fill NCHW float32
// batches for the trainer; Grid draws a labelled sample sheet.
package toyfaces

import (
	"fmt"
	"image"
	"math/rand/v2"
)

// Factor is one labelled factor of variation.
type Factor struct {
	Name    string
	Group   string // "coarse", "middle" or "fine"
	Classes []string
}

// Labels holds one class index per entry of Factors, in the same order.
type Labels []int

// Indices into Factors and Labels.
const (
	FYaw = iota
	FRoll
	FShape
	FHair
	FEyes
	FMouth
	FGlasses
	FBeard
	FSkin
	FHairColor
	FBackground
	numFactors
)

// Factors lists the labelled factors in their fixed order.
//
// Directions are as seen in the image: yaw "left" turns the face so that its
// features move towards the left edge; roll "left" tilts the top of the head
// towards the left edge.
var Factors = []Factor{
	FYaw:        {"yaw", "coarse", []string{"left", "frontal", "right"}},
	FRoll:       {"roll", "coarse", []string{"left", "none", "right"}},
	FShape:      {"shape", "coarse", []string{"round", "oval", "long"}},
	FHair:       {"hair", "coarse", []string{"bald", "short", "long", "bun"}},
	FEyes:       {"eyes", "middle", []string{"open", "closed"}},
	FMouth:      {"mouth", "middle", []string{"smile", "neutral", "open"}},
	FGlasses:    {"glasses", "middle", []string{"none", "round", "square"}},
	FBeard:      {"beard", "middle", []string{"none", "stubble", "full"}},
	FSkin:       {"skin", "fine", []string{"light", "tan", "brown", "dark"}},
	FHairColor:  {"hair_color", "fine", []string{"black", "brown", "blond", "red", "grey"}},
	FBackground: {"background", "fine", []string{"red", "yellow", "green", "cyan", "blue", "magenta"}},
}

// Class indices used by the renderer and by the hole.
const (
	hairBald, hairShort, hairLong, hairBun = 0, 1, 2, 3
	beardNone, beardStubble, beardFull     = 0, 1, 2
)

// Size is the native image size.
const Size = 64

// params is everything an image is rendered from: the labels, the unlabelled
// within-class variation (jitters in [-1, 1]) and the seed of the stochastic
// details. Changing one label changes only that factor.
type params struct {
	labels Labels

	yawJit, rollJit, sizeJit float64 // pose and head size within a class
	skinJit, hairJit, bgJit  float64 // colour within a class
	bgAngle                  float64 // direction of the background gradient, radians
	clothHue, clothVal       float64 // unlabelled clothing colour, in [0, 1)

	noise uint64 // seed of freckles, hair strands and skin grain
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newParams draws the labels and nuisance values of an image from its seed.
func newParams(seed int64) params {
	r := rand.New(rand.NewPCG(uint64(seed), 0x746f7966616365)) // "toyface"
	l := make(Labels, numFactors)
	l[FYaw] = r.IntN(3)
	l[FRoll] = r.IntN(3)
	l[FShape] = r.IntN(3)
	l[FHair] = r.IntN(4)
	// The hole: long hair never has a full beard. Other hair styles get full
	// beards more often (8/18 instead of 1/3) so that beard stays uniform:
	// P(none) = 1/4·1/2 + 3/4·5/18 = 1/3.
	if l[FHair] == hairLong {
		l[FBeard] = r.IntN(2)
	} else {
		switch x := r.IntN(18); {
		case x < 5:
			l[FBeard] = beardNone
		case x < 10:
			l[FBeard] = beardStubble
		default:
			l[FBeard] = beardFull
		}
	}
	l[FEyes] = r.IntN(2)
	l[FMouth] = r.IntN(3)
	l[FGlasses] = r.IntN(3)
	l[FSkin] = r.IntN(4)
	l[FHairColor] = r.IntN(5)
	l[FBackground] = r.IntN(6)
	u := func() float64 { return 2*r.Float64() - 1 }
	return params{
		labels:   l,
		yawJit:   u(),
		rollJit:  u(),
		sizeJit:  u(),
		skinJit:  u(),
		hairJit:  u(),
		bgJit:    u(),
		bgAngle:  r.Float64() * 6.283185307179586,
		clothHue: r.Float64(),
		clothVal: r.Float64(),
		noise:    splitmix64(uint64(seed) ^ 0x6e6f697365), // "noise"
	}
}

// Sample renders the 64×64 image of seed and returns it with its labels.
func Sample(seed int64) (*image.RGBA, Labels) {
	return SampleSize(seed, Size)
}

// SampleSize renders the image of seed at size×size, size one of 8, 16, 32
// or 64. Smaller sizes are area averages of the 64 px image.
func SampleSize(seed int64, size int) (*image.RGBA, Labels) {
	checkSize(size)
	p := newParams(seed)
	r := getRenderer()
	defer putRenderer(r)
	pix := r.render(&p, nil)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	f := Size / size
	inv := 1 / float32(f*f)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var s [3]int
			for yy := y * f; yy < (y+1)*f; yy++ {
				for xx := x * f; xx < (x+1)*f; xx++ {
					o := (yy*Size + xx) * 3
					s[0] += int(pix[o])
					s[1] += int(pix[o+1])
					s[2] += int(pix[o+2])
				}
			}
			o := img.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				img.Pix[o+c] = uint8(float32(s[c])*inv + 0.5)
			}
			img.Pix[o+3] = 255
		}
	}
	return img, p.labels
}

// FillBatch renders the images of seeds at size×size into dst as NCHW
// float32 in [-1, 1] (pixel/127.5 − 1 of the 8-bit 64 px image, area averaged
// without rounding) and returns their labels. len(dst) must be
// len(seeds)·3·size·size. It runs on the calling goroutine; see Stream for
// parallel prefetching.
func FillBatch(dst []float32, seeds []int64, size int) []Labels {
	ps := make([]params, len(seeds))
	for i, seed := range seeds {
		ps[i] = newParams(seed)
	}
	fill("FillBatch", dst, ps, size)
	labels := make([]Labels, len(seeds))
	for i := range ps {
		labels[i] = ps[i].labels
	}
	return labels
}

// FillDraws renders the image of seed once per noise seed, each time with
// its stochastic details (freckles, hair strands, skin grain) drawn from
// that seed and everything else unchanged, into dst as FillBatch does; it
// returns the image's labels. It is the real-data counterpart of
// resampling a generator's noise. len(dst) must be len(noise)·3·size·size.
func FillDraws(dst []float32, seed int64, noise []uint64, size int) Labels {
	p := newParams(seed)
	ps := make([]params, len(noise))
	for i, s := range noise {
		ps[i] = p
		ps[i].noise = s
	}
	fill("FillDraws", dst, ps, size)
	return p.labels
}

// fill renders the images of ps into dst for FillBatch and FillDraws
// (caller, for the panic message).
func fill(caller string, dst []float32, ps []params, size int) {
	checkSize(size)
	n := 3 * size * size
	if len(dst) != len(ps)*n {
		panic(fmt.Sprintf("toyfaces: %s: len(dst) = %d, want %d·3·%d·%d = %d",
			caller, len(dst), len(ps), size, size, len(ps)*n))
	}
	r := getRenderer()
	defer putRenderer(r)
	for i := range ps {
		DownsampleCHW(dst[i*n:(i+1)*n], r.render(&ps[i], nil), size)
	}
}

// DownsampleCHW area-averages a 64×64 interleaved 8-bit RGB image to
// size×size planar float32 in [-1, 1].
func DownsampleCHW(dst []float32, pix []uint8, size int) {
	f := Size / size
	plane := size * size
	scale := 1 / (127.5 * float32(f*f))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var s0, s1, s2 int
			for yy := y * f; yy < (y+1)*f; yy++ {
				row := pix[(yy*Size+x*f)*3 : (yy*Size+(x+1)*f)*3]
				for o := 0; o < len(row); o += 3 {
					s0 += int(row[o])
					s1 += int(row[o+1])
					s2 += int(row[o+2])
				}
			}
			i := y*size + x
			dst[i] = float32(s0)*scale - 1
			dst[plane+i] = float32(s1)*scale - 1
			dst[2*plane+i] = float32(s2)*scale - 1
		}
	}
}

func checkSize(size int) {
	switch size {
	case 8, 16, 32, 64:
	default:
		panic(fmt.Sprintf("toyfaces: size %d, want 8, 16, 32 or 64", size))
	}
}
