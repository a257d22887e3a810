package render

import (
	"cmp"
	"image"
	"image/color"
	"slices"
	"sync"
)

// lutBits is the number of bits per channel of the nearest-colour lookup
// table: 6 gives a 64x64x64 cube (256 KiB), so a lookup is off from the true
// nearest colour by at most half a cell (2 levels of 255) per channel.
const (
	lutBits  = 6
	lutShift = 8 - lutBits
	lutSide  = 1 << lutBits
)

// lutIndex maps an 8-bit colour to its cell in the lookup table.
func lutIndex(r, g, b uint8) int {
	return int(r>>lutShift)<<(2*lutBits) | int(g>>lutShift)<<lutBits | int(b>>lutShift)
}

// A Palette is a set of at most 256 opaque colours with a lookup table from
// any RGB colour to the index of its nearest palette colour (Euclidean in
// 8-bit RGB, exact for the centre of each 4x4x4 table cell). It is immutable
// and safe for concurrent use.
type Palette struct {
	colors     color.Palette // color.RGBA, shared read-only by the images we return
	pr, pg, pb [256]int32
	lut        []uint8 // lutSide³ entries, r major
}

// NewPalette builds a palette of at most n colours (n <= 0 or n > 256 means
// 256) by median cut over pixels sampled from imgs (at most about a million,
// spread evenly over all of them). Fewer colours come back when the images
// hold fewer distinct ones. With no pixels at all the palette is black alone.
func NewPalette(n int, imgs ...image.Image) *Palette {
	if n <= 0 || n > 256 {
		n = 256
	}
	return PaletteOf(medianCut(n, imgs))
}

// PaletteOf makes a Palette of fixed colours (at most the first 256 are used;
// alpha is ignored). An empty list gives black alone.
func PaletteOf(colors color.Palette) *Palette {
	if len(colors) > 256 {
		colors = colors[:256]
	}
	p := &Palette{colors: make(color.Palette, 0, max(len(colors), 1))}
	for _, c := range colors {
		r, g, b, _ := c.RGBA()
		p.colors = append(p.colors, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff})
	}
	if len(p.colors) == 0 {
		p.colors = append(p.colors, color.RGBA{0, 0, 0, 0xff})
	}
	for i, c := range p.colors {
		rgba := c.(color.RGBA)
		p.pr[i], p.pg[i], p.pb[i] = int32(rgba.R), int32(rgba.G), int32(rgba.B)
	}
	p.lut = p.buildLUT()
	return p
}

// Len is the number of colours.
func (p *Palette) Len() int { return len(p.colors) }

// Colors returns the palette's colours (each a color.RGBA). The slice is
// shared with every image the palette makes: do not modify it.
func (p *Palette) Colors() color.Palette { return p.colors }

// Index returns the index of the palette colour nearest to (r, g, b), through
// the lookup table.
func (p *Palette) Index(r, g, b uint8) uint8 { return p.lut[lutIndex(r, g, b)] }

// Quantize maps every pixel of img to its nearest palette colour, without
// dithering (smooth gradients band). The result has img's bounds.
func (p *Palette) Quantize(img image.Image) *image.Paletted {
	dst := image.NewPaletted(img.Bounds(), p.colors)
	src, stride, w, h := rgbaView(img)
	for y := 0; y < h; y++ {
		s := src[y*stride : y*stride+4*w]
		d := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		for x := range d {
			d[x] = p.lut[lutIndex(s[4*x], s[4*x+1], s[4*x+2])]
		}
	}
	return dst
}

// Dither maps img onto the palette with Floyd–Steinberg error diffusion
// (serpentine scan; 7/8 of the error is diffused for palettes of over 64
// colours, all of it for smaller ones). The result has img's bounds; alpha
// is ignored (translucent pixels count as composited over black).
func (p *Palette) Dither(img image.Image) *image.Paletted {
	dst := image.NewPaletted(img.Bounds(), p.colors)
	src, stride, w, h := rgbaView(img)
	p.dither(dst.Pix, dst.Stride, src, stride, w, h)
	return dst
}

// ditherBufs recycles the two rows of diffused error Dither needs.
var ditherBufs sync.Pool

// strength is the share of the error diffused, in eighths. With many colours
// 7/8: the dithered image is as close to the source as full-strength
// Floyd–Steinberg once both are blurred a little (what the eye sees) and
// about 0.6 dB closer pixel by pixel, so less noise for no visible banding.
// Damping shifts flat tones by about an eighth of the palette's spacing, so
// small palettes (wide spacing) diffuse all of it.
func (p *Palette) strength() int32 {
	if len(p.colors) <= 64 {
		return 8
	}
	return 7
}

// dither writes palette indices for the w x h RGBA pixels src into dst.
// Errors are carried in 1/128ths of a level (Floyd–Steinberg's sixteenths
// times strength eighths) and the pixel plus its error is clamped to
// 0..255 before the lookup, so error never piles up past the palette's hull.
func (p *Palette) dither(dst []uint8, dstStride int, src []uint8, srcStride, w, h int) {
	n := 3 * (w + 2)
	var buf []int32
	if b, ok := ditherBufs.Get().(*[]int32); ok && cap(*b) >= 2*n {
		buf = (*b)[:2*n]
		clear(buf)
	} else {
		buf = make([]int32, 2*n)
	}
	cur, next := buf[:n], buf[n:]
	lut, ds := p.lut, p.strength()
	for y := 0; y < h; y++ {
		s := src[y*srcStride : y*srcStride+4*w]
		d := dst[y*dstStride : y*dstStride+w]
		x, end, step := 0, w, 1
		if y&1 == 1 {
			x, end, step = w-1, -1, -1
		}
		for ; x != end; x += step {
			e := 3 * (x + 1) // cur/next have one guard cell on each side
			r := clamp8(int32(s[4*x]) + (cur[e]+64)>>7)
			g := clamp8(int32(s[4*x+1]) + (cur[e+1]+64)>>7)
			b := clamp8(int32(s[4*x+2]) + (cur[e+2]+64)>>7)
			i := lut[lutIndex(r, g, b)]
			d[x] = i
			er := (int32(r) - p.pr[i]) * ds
			eg := (int32(g) - p.pg[i]) * ds
			eb := (int32(b) - p.pb[i]) * ds
			ahead, behind := e+3*step, e-3*step
			cur[ahead] += 7 * er
			cur[ahead+1] += 7 * eg
			cur[ahead+2] += 7 * eb
			next[behind] += 3 * er
			next[behind+1] += 3 * eg
			next[behind+2] += 3 * eb
			next[e] += 5 * er
			next[e+1] += 5 * eg
			next[e+2] += 5 * eb
			next[ahead] += er
			next[ahead+1] += eg
			next[ahead+2] += eb
		}
		cur, next = next, cur
		clear(next)
	}
	ditherBufs.Put(&buf)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// buildLUT finds, for the centre of every lookup-table cell, the nearest
// palette colour (lowest index on ties). Brute force would be 64³ x 256
// distances; instead the cube is split like an octree, and each block keeps
// only the colours of its parent that can be nearest to some cell centre in
// it: those whose smallest distance to the block is at most the smallest,
// over all colours, of the largest distance. Coordinates are doubled so cell
// centres (4c + 1.5) are integers.
func (p *Palette) buildLUT() []uint8 {
	b := lutBuilder{lut: make([]uint8, lutSide*lutSide*lutSide)}
	all := make([]lutCand, len(p.colors))
	for i := range p.colors {
		b.c2[i] = [3]int32{2 * p.pr[i], 2 * p.pg[i], 2 * p.pb[i]}
		all[i] = lutCand{i: uint8(i)}
	}
	b.block([3]int{}, lutSide, all)
	return b.lut
}

type lutCand struct {
	i    uint8
	minD int32 // squared distance to the nearest point of the block
}

type lutBuilder struct {
	lut []uint8
	c2  [256][3]int32 // palette, doubled
}

// lutLeaf is the side, in cells, of the blocks whose cells are searched.
const lutLeaf = 4

// cellCentre is the doubled centre of cell c along one axis.
func cellCentre(c int) int32 { return int32(c*(2<<lutShift) + (1<<lutShift - 1)) }

// block fills the side³ cells from corner lo, choosing among cands.
func (b *lutBuilder) block(lo [3]int, side int, cands []lutCand) {
	var bl, bh [3]int32
	for a := range lo {
		bl[a], bh[a] = cellCentre(lo[a]), cellCentre(lo[a]+side-1)
	}
	bound := int32(1<<31 - 1)
	keep := make([]lutCand, 0, len(cands))
	for _, c := range cands {
		var dmin, dmax int32
		for a := 0; a < 3; a++ {
			v := b.c2[c.i][a]
			var near int32
			if v < bl[a] {
				near = bl[a] - v
			} else if v > bh[a] {
				near = v - bh[a]
			}
			far := max(v-bl[a], bh[a]-v)
			dmin += near * near
			dmax += far * far
		}
		if dmin > bound {
			continue // cannot be nearest anywhere in the block
		}
		bound = min(bound, dmax)
		keep = append(keep, lutCand{c.i, dmin})
	}
	cs := keep[:0]
	for _, c := range keep {
		if c.minD <= bound {
			cs = append(cs, c)
		}
	}
	if len(cs) == 1 {
		for r := lo[0]; r < lo[0]+side; r++ {
			for g := lo[1]; g < lo[1]+side; g++ {
				row := b.lut[r<<(2*lutBits)|g<<lutBits|lo[2]:]
				for k := range side {
					row[k] = cs[0].i
				}
			}
		}
		return
	}
	if side > lutLeaf {
		h := side / 2
		for k := 0; k < 8; k++ {
			b.block([3]int{lo[0] + k>>2&1*h, lo[1] + k>>1&1*h, lo[2] + k&1*h}, h, cs)
		}
		return
	}
	// Nearest first (stable: equal distances keep index order), so the search
	// of a cell stops at the first candidate that cannot beat the best.
	slices.SortStableFunc(cs, func(x, y lutCand) int { return cmp.Compare(x.minD, y.minD) })
	for r := lo[0]; r < lo[0]+side; r++ {
		for g := lo[1]; g < lo[1]+side; g++ {
			for bb := lo[2]; bb < lo[2]+side; bb++ {
				cr, cg, cb := cellCentre(r), cellCentre(g), cellCentre(bb)
				best, bestD := uint8(0), int32(1<<31-1)
				for _, c := range cs {
					if c.minD > bestD {
						break
					}
					dr, dg, db := cr-b.c2[c.i][0], cg-b.c2[c.i][1], cb-b.c2[c.i][2]
					if d := dr*dr + dg*dg + db*db; d < bestD || d == bestD && c.i < best {
						best, bestD = c.i, d
					}
				}
				b.lut[r<<(2*lutBits)|g<<lutBits|bb] = best
			}
		}
	}
}
