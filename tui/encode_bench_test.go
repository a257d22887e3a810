package tui

import (
	"image"
	"testing"

	"stylegan-tui/latent"
	"stylegan-tui/render"
)

func benchImage(b testing.TB, path string) *image.RGBA {
	g, err := loadFixture(b, path).Generator()
	if err != nil {
		b.Fatal(err)
	}
	img, _, err := g.Render(g.NewState(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func BenchmarkEncode(b *testing.B) {
	img := benchImage(b, fixtureNV256)
	for _, bc := range []struct {
		name   string
		mode   gfxMode
		newPal bool
	}{{"sixel-cached-palette", gfxSixel, false}, {"sixel-new-palette", gfxSixel, true}, {"halfblock", gfxHalfBlock, false}} {
		b.Run(bc.name, func(b *testing.B) {
			cache := render.NewPaletteCache(4)
			for i := 0; i < b.N; i++ {
				key := "f"
				if bc.newPal {
					key = family(imgR, latent.State{A: latent.Source{Seed: int64(i)}}, true)
				}
				encodeImage(encodeReq{img: img, cols: 38, rows: 19, mode: bc.mode, cellW: 10, cellH: 20, family: key, palettes: cache})
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	for _, path := range []string{fixtureRos128, fixtureNV256} {
		g, err := loadFixture(b, path).Generator()
		if err != nil {
			b.Fatal(err)
		}
		st := g.NewState()
		lo, hi, _ := g.Cfg.GroupSlots("fine")
		b.Run(path[len(path)-30:]+"/full", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s := st.Clone()
				s.A.Seed = int64(i + 10)
				g.Render(s, nil)
			}
		})
		b.Run(path[len(path)-30:]+"/fine", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				src := uint8(i % 2)
				g.Render(st.WithStyles(lo, hi, src), nil)
			}
		})
	}
}
