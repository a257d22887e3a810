package toyfaces

import (
	"flag"
	"image"
	"image/png"
	"os"
	"testing"
)

var (
	gridOut   = flag.String("grid", "", "write a sample grid PNG to this path (and a 3× enlarged copy beside it)")
	gridN     = flag.Int("gridn", 64, "number of faces in the -grid PNG")
	gridFirst = flag.Int64("gridseed", 1, "first seed of the -grid PNG")
)

// TestWriteGrid writes a labelled sample grid for looking at:
//
//	go test ./model/toyfaces/ -run TestWriteGrid -grid /tmp/toyfaces_grid.png
func TestWriteGrid(t *testing.T) {
	if *gridOut == "" {
		t.Skip("no -grid path")
	}
	g := Grid(*gridN, *gridFirst)
	writePNG(t, *gridOut, g)
	writePNG(t, *gridOut+".x3.png", enlarge(g, 3))
	if *gridN <= 16 {
		writePNG(t, *gridOut+".x4.png", enlarge(g, 4))
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

// enlarge scales img by k with nearest-neighbour sampling.
func enlarge(img *image.RGBA, k int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := 0; y < b.Dy()*k; y++ {
		for x := 0; x < b.Dx()*k; x++ {
			copy(out.Pix[out.PixOffset(x, y):out.PixOffset(x, y)+4], img.Pix[img.PixOffset(x/k, y/k):img.PixOffset(x/k, y/k)+4])
		}
	}
	return out
}
