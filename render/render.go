// Package render turns images into terminal bytes (DEC sixel graphics, Unicode
// half-blocks) and files (PNG, GIF). It knows nothing of StyleGAN.
//
// The sixel format is described in the VT330/VT340 Programmer Reference Manual,
// chapter 14 ("Sixel Graphics"); how its output is laid out inside a bubbletea
// view is documented at SixelCell and in package tui's doc.
//
// The colour path is shared by every output: a Palette is built once per image
// family by median cut (NewPalette, PaletteCache), images are mapped onto it by
// Floyd–Steinberg error diffusion through a nearest-colour lookup table
// (Palette.Dither), and the resulting *image.Paletted feeds the sixel encoder
// (Sixel, SixelCell) or the GIF encoder (EncodeGIF) without further colour work.
package render

import (
	"image"
	"image/draw"
)

// rgbaView returns img's pixels as 8-bit premultiplied RGBA rows starting at
// the top-left of its bounds, with the row stride in bytes. *image.RGBA is used
// in place; anything else is converted (alpha is kept premultiplied, so a
// translucent pixel is its colour composited over black).
func rgbaView(img image.Image) (pix []uint8, stride, w, h int) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, 0, 0, 0
	}
	if m, ok := img.(*image.RGBA); ok {
		off := m.PixOffset(b.Min.X, b.Min.Y)
		return m.Pix[off:], m.Stride, w, h
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m.Pix, m.Stride, w, h
}
