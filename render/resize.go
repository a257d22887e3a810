package render

import (
	"image"
	"math"
)

// Fit returns the largest size, keeping imgW:imgH, of an image drawn in at
// most cols x rows terminal cells of cellW x cellH pixels, and the cells it
// then takes (each dimension rounded up to whole cells). It scales up as well
// as down; the other dimension is rounded to the nearest pixel and is at least
// 1. Any non-positive argument gives zeros.
//
// For half-blocks a cell is 1x2 pixels: Fit(w, h, cols, rows, 1, 2).
func Fit(imgW, imgH, cols, rows, cellW, cellH int) (pxW, pxH, usedCols, usedRows int) {
	if imgW <= 0 || imgH <= 0 || cols <= 0 || rows <= 0 || cellW <= 0 || cellH <= 0 {
		return 0, 0, 0, 0
	}
	maxW, maxH := cols*cellW, rows*cellH
	if imgW*maxH <= imgH*maxW { // height binds
		pxH = maxH
		pxW = max(1, (2*imgW*maxH+imgH)/(2*imgH))
	} else {
		pxW = maxW
		pxH = max(1, (2*imgH*maxW+imgW)/(2*imgW))
	}
	return pxW, pxH, (pxW + cellW - 1) / cellW, (pxH + cellH - 1) / cellH
}

// Resize scales img to w x h pixels: each axis is area-averaged (a box filter
// with exact fractional coverage) when it shrinks, bilinearly interpolated
// (pixel centres aligned) when it grows, and copied when it keeps its size.
// Alpha is averaged like the colour channels (premultiplied). The result's
// bounds start at (0, 0); w or h <= 0 gives an empty image.
func Resize(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	src, stride, sw, sh := rgbaView(img)
	if w <= 0 || h <= 0 || sw == 0 {
		return dst
	}
	if sw == w && sh == h {
		for y := 0; y < h; y++ {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src[y*stride:])
		}
		return dst
	}
	xt, yt := resizeTaps(sw, w), resizeTaps(sh, h)
	// Horizontal pass into float rows (sh x w), then vertical into dst.
	tmp := make([]float32, 4*w*sh)
	for y := 0; y < sh; y++ {
		row := src[y*stride : y*stride+4*sw]
		out := tmp[4*w*y : 4*w*(y+1)]
		for x, taps := range xt {
			var r, g, b, a float32
			for _, t := range taps {
				p := row[4*t.i : 4*t.i+4]
				r += t.w * float32(p[0])
				g += t.w * float32(p[1])
				b += t.w * float32(p[2])
				a += t.w * float32(p[3])
			}
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = r, g, b, a
		}
	}
	acc := make([]float32, 4*w)
	for y, taps := range yt {
		clear(acc)
		for _, t := range taps {
			row := tmp[4*w*t.i : 4*w*(t.i+1)]
			for i, v := range row {
				acc[i] += t.w * v
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i, v := range acc {
			out[i] = uint8(min(max(v+0.5, 0), 255))
		}
		// Keep premultiplied colour within alpha after rounding.
		for x := 0; x < w; x++ {
			a := out[4*x+3]
			out[4*x], out[4*x+1], out[4*x+2] = min(out[4*x], a), min(out[4*x+1], a), min(out[4*x+2], a)
		}
	}
	return dst
}

type tap struct {
	i int
	w float32
}

// resizeTaps gives, for each of n output samples, the source samples (of
// src) it is made of and their weights, which sum to 1.
func resizeTaps(src, n int) [][]tap {
	taps := make([][]tap, n)
	switch {
	case n == src:
		for i := range taps {
			taps[i] = []tap{{i, 1}}
		}
	case n < src: // area average: output i covers [i, i+1) * src/n
		scale := float64(src) / float64(n)
		for i := range taps {
			lo, hi := float64(i)*scale, float64(i+1)*scale
			for j := int(lo); j < src && float64(j) < hi; j++ {
				cover := math.Min(hi, float64(j+1)) - math.Max(lo, float64(j))
				if cover > 1e-9 {
					taps[i] = append(taps[i], tap{j, float32(cover / scale)})
				}
			}
		}
	default: // bilinear between the two nearest source centres
		scale := float64(src) / float64(n)
		for i := range taps {
			x := (float64(i)+0.5)*scale - 0.5
			x0 := math.Floor(x)
			f := x - x0
			j0 := min(max(int(x0), 0), src-1)
			j1 := min(max(int(x0)+1, 0), src-1)
			if j0 == j1 || f < 1e-9 {
				taps[i] = []tap{{j0, 1}}
			} else {
				taps[i] = []tap{{j0, float32(1 - f)}, {j1, float32(f)}}
			}
		}
	}
	return taps
}

// Enlarge repeats every pixel s×s times: square pixels, for small model
// outputs in figures (where Resize's smoothing would hide them).
func Enlarge(img image.Image, s int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*s, b.Dy()*s))
	for y := 0; y < b.Dy()*s; y++ {
		for x := 0; x < b.Dx()*s; x++ {
			out.Set(x, y, img.At(b.Min.X+x/s, b.Min.Y+y/s))
		}
	}
	return out
}
