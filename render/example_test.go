package render_test

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"

	"stylegan-tui/render"
)

// The TUI's path from a generated image to the lines of its view: fit the
// image to the cells the layout gives it, take the family's palette from the
// cache, dither, and lay the sixel out for bubbletea.
func ExampleSixelCell() {
	face := image.NewRGBA(image.Rect(0, 0, 256, 256)) // the generator's output
	cache := render.NewPaletteCache(0)

	// 30x12 cells of 10x20 pixels are free; the image keeps its aspect ratio.
	pxW, pxH, cols, rows := render.Fit(256, 256, 30, 12, 10, 20)
	frame := render.Resize(face, pxW, pxH)
	pal := cache.Get("seed=42 mix=none", 256, frame) // median cut once per family
	lines := render.SixelCell(pal.Dither(frame), cols, rows, nil)

	fmt.Println(pxW, pxH, cols, rows, len(lines))
	fmt.Printf("%q ... %q\n", lines[0][:4], lines[0][len(lines[0])-7:])
	fmt.Printf("%q\n", lines[1])
	// Output:
	// 240 240 24 12 12
	// "\x1b7\x1bP" ... "\x1b8\x1b[24C"
	// "\x1b[24C"
}

// Without sixel support: two pixels per cell with half-blocks.
func ExampleHalfBlock() {
	face := image.NewRGBA(image.Rect(0, 0, 256, 256))
	_, _, cols, rows := render.Fit(256, 256, 80, 24, 1, 2)
	lines := render.HalfBlock(face, cols, rows)
	fmt.Println(cols, rows, len(lines))
	fmt.Printf("%q\n", lines[0][:30])
	// Output:
	// 48 24 24
	// "\x1b[38;2;0;0;0;48;2;0;0;0m▀▀"
}

func ExampleEncodeGIF() {
	frames := make([]image.Image, 3)
	for i := range frames {
		frames[i] = image.NewRGBA(image.Rect(0, 0, 64, 64))
	}
	var buf bytes.Buffer
	if err := render.EncodeGIF(&buf, frames, []int{8}, nil); err != nil {
		fmt.Println(err)
		return
	}
	g, _ := gif.DecodeAll(&buf)
	fmt.Println(len(g.Image), g.Delay, g.LoopCount)
	// Output: 3 [8 8 8] 0
}

func ExampleGrid() {
	src := func() image.Image { return image.NewRGBA(image.Rect(0, 0, 64, 64)) }
	cells := [][]image.Image{
		{nil, src(), src()},
		{src(), src(), src()},
	}
	fig := render.Grid(cells, []string{"", "seed 7"}, []string{"", "seed 1", "seed 2"}, nil)
	fmt.Println(fig.Bounds())
	// Output: (0,0)-(258,161)
}
