package toyfaces

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"testing"

	"stylegan-tui/render"
)

var (
	gridOut   = flag.String("grid", "", "write a sample grid PNG to this path (and a 3× enlarged copy beside it)")
	gridN     = flag.Int("gridn", 64, "number of faces in the -grid PNG")
	gridFirst = flag.Int64("gridseed", 1, "first seed of the -grid PNG")
)

// TestGrid: cell i of the grid holds face firstSeed+i exactly, with its
// labels drawn below it in the ink colour, on the background; the grid is
// as large as its cells. With -grid it also writes the grid for looking at:
//
//	go test ./model/toyfaces/ -run TestGrid -grid /tmp/toyfaces_grid.png
func TestGrid(t *testing.T) {
	n, first := *gridN, *gridFirst
	if *gridOut == "" {
		n, first = 7, 40 // 3 columns, the last row short
	}
	g := Grid(n, first)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	if b := g.Bounds(); b.Dx() != cols*gridCellW+gridPad || b.Dy() != rows*gridCellH+gridPad {
		t.Fatalf("grid of %d is %v, want %d x %d cells", n, b, cols, rows)
	}
	for i := 0; i < n; i++ {
		face, _ := Sample(first + int64(i))
		x0, y0 := gridPad+(i%cols)*gridCellW, gridPad+(i/cols)*gridCellH
		for y := 0; y < Size; y++ {
			got := g.Pix[g.PixOffset(x0, y0+y):g.PixOffset(x0+Size, y0+y)]
			if !bytes.Equal(got, face.Pix[face.PixOffset(0, y):face.PixOffset(Size, y)]) {
				t.Fatalf("cell %d row %d is not face %d", i, y, first+int64(i))
			}
		}
		ink := 0
		for y := y0 + Size + 2; y < y0+gridCellH-gridPad; y++ {
			for x := x0; x < x0+gridCellW-gridPad; x++ {
				if c := g.RGBAAt(x, y); c == (color.RGBA{225, 225, 225, 255}) {
					ink++
				}
			}
		}
		if ink == 0 {
			t.Errorf("cell %d has no label text", i)
		}
	}
	if c := g.RGBAAt(g.Bounds().Dx()-1, g.Bounds().Dy()-1); c != (color.RGBA{24, 24, 28, 255}) {
		t.Errorf("the empty last cell is %v, want the background", c)
	}
	if *gridOut != "" {
		writePNG(t, *gridOut, g)
		writePNG(t, *gridOut+".x3.png", render.Enlarge(g, 3))
		if n <= 16 {
			writePNG(t, *gridOut+".x4.png", render.Enlarge(g, 4))
		}
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
