package render

import (
	"image"
	"image/color"
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
// (serpentine scan). The result has img's bounds; alpha is ignored
// (translucent pixels count as composited over black).
func (p *Palette) Dither(img image.Image) *image.Paletted {
	dst := image.NewPaletted(img.Bounds(), p.colors)
	src, stride, w, h := rgbaView(img)
	p.dither(dst.Pix, dst.Stride, src, stride, w, h)
	return dst
}

// ditherBufs recycles the two rows of diffused error Dither needs.
var ditherBufs sync.Pool

// dither writes palette indices for the w x h RGBA pixels src into dst.
// Errors are carried in 1/16ths of a level and the pixel plus its error is
// clamped to 0..255 before the lookup, so error never piles up past the
// palette's hull.
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
	lut := p.lut
	for y := 0; y < h; y++ {
		s := src[y*srcStride : y*srcStride+4*w]
		d := dst[y*dstStride : y*dstStride+w]
		x, end, step := 0, w, 1
		if y&1 == 1 {
			x, end, step = w-1, -1, -1
		}
		for ; x != end; x += step {
			e := 3 * (x + 1) // cur/next have one guard cell on each side
			r := clamp8(int32(s[4*x]) + (cur[e]+8)>>4)
			g := clamp8(int32(s[4*x+1]) + (cur[e+1]+8)>>4)
			b := clamp8(int32(s[4*x+2]) + (cur[e+2]+8)>>4)
			i := lut[lutIndex(r, g, b)]
			d[x] = i
			er := int32(r) - p.pr[i]
			eg := int32(g) - p.pg[i]
			eb := int32(b) - p.pb[i]
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
// distances; instead the cube is split into 16³ blocks of 4³ cells and each
// block first keeps only the colours that can be nearest to some cell centre
// in it: those whose smallest distance to the block is at most the smallest,
// over all colours, of the largest distance. Coordinates are doubled so cell
// centres (4c + 1.5) are integers.
func (p *Palette) buildLUT() []uint8 {
	const (
		blockCells = 4 // cells per block side
		blocks     = lutSide / blockCells
		cellSize   = 2 << lutShift // a cell's side, doubled
	)
	lut := make([]uint8, lutSide*lutSide*lutSide)
	nc := len(p.colors)
	var c2 [256][3]int32
	for i := 0; i < nc; i++ {
		c2[i] = [3]int32{2 * p.pr[i], 2 * p.pg[i], 2 * p.pb[i]}
	}
	centre := func(cell int) int32 { return int32(cell*cellSize + cellSize/2 - 1) }
	var cand [256]uint8
	var minD, maxD [256]int32
	for br := 0; br < blocks; br++ {
		for bg := 0; bg < blocks; bg++ {
			for bb := 0; bb < blocks; bb++ {
				lo := [3]int32{centre(br * blockCells), centre(bg * blockCells), centre(bb * blockCells)}
				hi := [3]int32{lo[0] + (blockCells-1)*cellSize, lo[1] + (blockCells-1)*cellSize, lo[2] + (blockCells-1)*cellSize}
				bound := int32(1<<31 - 1)
				for i := 0; i < nc; i++ {
					var dmin, dmax int32
					for a := 0; a < 3; a++ {
						v := c2[i][a]
						var near int32
						if v < lo[a] {
							near = lo[a] - v
						} else if v > hi[a] {
							near = v - hi[a]
						}
						far := max(v-lo[a], hi[a]-v)
						dmin += near * near
						dmax += far * far
					}
					minD[i], maxD[i] = dmin, dmax
					bound = min(bound, dmax)
				}
				k := 0
				for i := 0; i < nc; i++ {
					if minD[i] <= bound {
						cand[k] = uint8(i)
						k++
					}
				}
				cs := cand[:k]
				for r := br * blockCells; r < (br+1)*blockCells; r++ {
					for g := bg * blockCells; g < (bg+1)*blockCells; g++ {
						for b := bb * blockCells; b < (bb+1)*blockCells; b++ {
							cr, cg, cb := centre(r), centre(g), centre(b)
							best, bestD := uint8(0), int32(1<<31-1)
							for _, i := range cs {
								dr, dg, db := cr-c2[i][0], cg-c2[i][1], cb-c2[i][2]
								if d := dr*dr + dg*dg + db*db; d < bestD {
									best, bestD = i, d
								}
							}
							lut[r<<(2*lutBits)|g<<lutBits|b] = best
						}
					}
				}
			}
		}
	}
	return lut
}
