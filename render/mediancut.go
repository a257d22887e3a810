package render

import (
	"image"
	"image/color"
	"sync"
)

// maxPaletteSamples bounds the pixels NewPalette looks at; palette quality
// hardly depends on more, and the histogram pass is linear in them.
const maxPaletteSamples = 1 << 20

// mcBin is one occupied cell of a 6-bit-per-channel colour histogram. It keeps
// the sums of the exact 8-bit values, so palette colours are true means.
type mcBin struct {
	c [3]uint8  // cell coordinates, 0..63
	n uint32    // pixels
	s [3]uint32 // sums of the 8-bit channel values
}

// mcBox is a run of bins bins[lo:hi] (an axis-aligned box after partitioning).
type mcBox struct {
	lo, hi int
	axis   int     // axis to cut next; -1 when the box cannot be cut
	sse    float64 // sum of squared errors along all axes (between bins)
}

// medianCut returns at most n colours for the pixels of imgs: Heckbert's
// median cut over a 64³ histogram, with the variance-based choices of Wu
// (Graphics Gems II, 1991): the box with the largest squared error is cut
// next, along its axis of largest squared error, where the two halves have
// the least squared error (not at the median: that costs 0.2 to 0.6 dB on
// smooth images). Each colour is the mean of the pixels in its box.
func medianCut(n int, imgs []image.Image) color.Palette {
	bins := histogram(imgs)
	if len(bins) == 0 {
		return nil
	}
	boxes := make([]mcBox, 1, n)
	boxes[0] = mcBox{lo: 0, hi: len(bins)}
	measure(bins, &boxes[0])
	for len(boxes) < n {
		k, best := -1, 0.0
		for i := range boxes {
			if boxes[i].axis >= 0 && boxes[i].sse > best {
				k, best = i, boxes[i].sse
			}
		}
		if k < 0 {
			break
		}
		mid := cut(bins, boxes[k])
		nb := mcBox{lo: mid, hi: boxes[k].hi}
		boxes[k].hi = mid
		measure(bins, &boxes[k])
		measure(bins, &nb)
		boxes = append(boxes, nb)
	}
	pal := make(color.Palette, len(boxes))
	for i, bx := range boxes {
		var cnt uint64
		var s [3]uint64
		for _, b := range bins[bx.lo:bx.hi] {
			cnt += uint64(b.n)
			for a := range s {
				s[a] += uint64(b.s[a])
			}
		}
		pal[i] = color.RGBA{
			uint8((s[0] + cnt/2) / cnt),
			uint8((s[1] + cnt/2) / cnt),
			uint8((s[2] + cnt/2) / cnt),
			0xff,
		}
	}
	return pal
}

// histograms recycles the 4 MiB count-and-sums histogram, kept all zero.
var histograms = sync.Pool{New: func() any {
	h := make([]uint32, 4*lutSide*lutSide*lutSide)
	return &h
}}

// histogram counts the sampled pixels of imgs into occupied bins.
func histogram(imgs []image.Image) []mcBin {
	total := 0
	for _, img := range imgs {
		if img != nil {
			total += img.Bounds().Dx() * img.Bounds().Dy()
		}
	}
	if total <= 0 {
		return nil
	}
	step := (total + maxPaletteSamples - 1) / maxPaletteSamples
	// Four uint32 per cell: count and three sums (at most 2^20 samples of at
	// most 255, so sums fit).
	hp := histograms.Get().(*[]uint32)
	defer histograms.Put(hp)
	hist := *hp
	phase := 0 // carries the sampling stride across image boundaries
	for _, img := range imgs {
		if img == nil {
			continue
		}
		pix, stride, w, h := rgbaView(img)
		for y := 0; y < h; y++ {
			row := pix[y*stride : y*stride+4*w]
			x := phase
			for ; x < w; x += step {
				r, g, b := row[4*x], row[4*x+1], row[4*x+2]
				i := 4 * lutIndex(r, g, b)
				hist[i]++
				hist[i+1] += uint32(r)
				hist[i+2] += uint32(g)
				hist[i+3] += uint32(b)
			}
			phase = x - w
		}
	}
	var bins []mcBin
	for i := 0; i < len(hist); i += 4 {
		if hist[i] == 0 {
			continue
		}
		cell := i / 4
		bins = append(bins, mcBin{
			c: [3]uint8{uint8(cell >> (2 * lutBits)), uint8(cell >> lutBits & (lutSide - 1)), uint8(cell & (lutSide - 1))},
			n: hist[i],
			s: [3]uint32{hist[i+1], hist[i+2], hist[i+3]},
		})
		clear(hist[i : i+4]) // hand the histogram back to the pool all zero
	}
	return bins
}

// measure sets the box's squared error and the axis to cut it along: the axis
// of largest squared error among those on which its bins differ.
func measure(bins []mcBin, bx *mcBox) {
	var cnt float64
	var s, q [3]float64
	lo := [3]uint8{255, 255, 255}
	var hi [3]uint8
	for _, b := range bins[bx.lo:bx.hi] {
		n := float64(b.n)
		cnt += n
		for a := 0; a < 3; a++ {
			v := float64(b.s[a])
			s[a] += v
			q[a] += v * v / n
			lo[a] = min(lo[a], b.c[a])
			hi[a] = max(hi[a], b.c[a])
		}
	}
	bx.axis, bx.sse = -1, 0
	best := -1.0
	for a := 0; a < 3; a++ {
		e := q[a] - s[a]*s[a]/cnt
		if e < 0 {
			e = 0
		}
		bx.sse += e
		if hi[a] > lo[a] && e > best {
			bx.axis, best = a, e
		}
	}
}

// cut partitions bins[bx.lo:bx.hi] along bx.axis and returns the index where
// the upper part starts; both parts are non-empty.
func cut(bins []mcBin, bx mcBox) int {
	a := bx.axis
	var counts [lutSide]uint64
	var total uint64
	lo, hi := uint8(lutSide-1), uint8(0)
	for _, b := range bins[bx.lo:bx.hi] {
		counts[b.c[a]] += uint64(b.n)
		total += uint64(b.n)
		lo = min(lo, b.c[a])
		hi = max(hi, b.c[a])
	}
	// Cut after the cell m that leaves the two parts with the least squared
	// error, i.e. the largest sum over parts of (sum of values)² / pixels.
	var sums [lutSide]float64
	var all float64
	for _, b := range bins[bx.lo:bx.hi] {
		sums[b.c[a]] += float64(b.s[a])
		all += float64(b.s[a])
	}
	m, best := lo, -1.0
	var nl, sl float64
	for v := lo; v < hi; v++ {
		nl += float64(counts[v])
		sl += sums[v]
		nr, sr := float64(total)-nl, all-sl
		if nl == 0 || nr == 0 {
			continue
		}
		if g := sl*sl/nl + sr*sr/nr; g > best {
			best, m = g, v
		}
	}
	i, j := bx.lo, bx.hi-1
	for i <= j {
		if bins[i].c[a] <= m {
			i++
		} else {
			bins[i], bins[j] = bins[j], bins[i]
			j--
		}
	}
	return i
}
