package figures

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// Cell is one picture of a Figure: the generator's output for State, or,
// when StdDraws > 0, the per-pixel standard deviation of that output over
// StdDraws noise draws of State (NoiseDraw(State, 0..StdDraws-1)), taken on
// the mean of the three channels in 0..255 units and multiplied by 4, as the
// paper's Figure 4c (NVIDIA's generate_figures.py).
type Cell struct {
	State    latent.State
	StdDraws int
}

// Figure is a labelled grid of cells, laid out by render.Grid. Cells are row
// major; a nil cell stays empty (the corner of the style-mixing figure).
type Figure struct {
	Kind      string // uncurated, mixing, noise, noise-layers, truncation, interpolation
	Cells     [][]*Cell
	RowLabels []string
	ColLabels []string
}

// gridOptions is the look of every figure at size x size pixels a cell:
// paper style, black on white, the labels' 7x13 font enlarged by one pixel
// per 128 px of cell, so text keeps its size next to the pictures (at 256
// px and scale 1 a mixing figure is 1845 px high, and its labels 13 px
// lines, too small to read on a projector once the figure is fitted to the
// screen).
func gridOptions(size int) *render.GridOptions {
	return &render.GridOptions{Gap: 4, CellW: size, CellH: size, TextScale: max(1, size/128)}
}

// work is the number of generator passes Render makes.
func (f *Figure) work() int {
	n := 0
	for _, row := range f.Cells {
		for _, c := range row {
			if c != nil {
				n += max(1, c.StdDraws)
			}
		}
	}
	return n
}

// Render draws every cell at size x size pixels (render.Resize of the
// generator's output; size <= 0 keeps the model's resolution) and lays them
// out with their labels. A progress bar is drawn on progress (may be nil)
// once rendering has taken over a second.
func (f *Figure) Render(ctx context.Context, g *model.Generator, size int, progress io.Writer) (*image.RGBA, error) {
	if size <= 0 {
		size = g.Cfg.Resolution()
	}
	p := newProgress(progress, "figure "+f.Kind, f.work())
	defer p.Done()
	imgs := make([][]image.Image, len(f.Cells))
	for r, row := range f.Cells {
		imgs[r] = make([]image.Image, len(row))
		for c, cell := range row {
			if cell == nil {
				continue
			}
			img, err := cell.render(ctx, g, size, p)
			if err != nil {
				return nil, fmt.Errorf("figures: %s cell %d,%d: %w", f.Kind, r, c, err)
			}
			imgs[r][c] = img
		}
	}
	return render.Grid(imgs, f.RowLabels, f.ColLabels, gridOptions(size)), nil
}

func (c *Cell) render(ctx context.Context, g *model.Generator, size int, p *render.Progress) (image.Image, error) {
	if c.StdDraws <= 0 {
		img, err := renderState(ctx, g, c.State)
		if err != nil {
			return nil, err
		}
		p.Add(1)
		return render.Resize(img, size, size), nil
	}
	res := g.Cfg.Resolution()
	sum := make([]float64, res*res)
	sq := make([]float64, res*res)
	for k := 0; k < c.StdDraws; k++ {
		img, err := renderState(ctx, g, NoiseDraw(c.State, k))
		if err != nil {
			return nil, err
		}
		for i := range sum {
			px := img.Pix[4*i : 4*i+3]
			v := (float64(px[0]) + float64(px[1]) + float64(px[2])) / 3
			sum[i] += v
			sq[i] += v * v
		}
		p.Add(1)
	}
	out := image.NewRGBA(image.Rect(0, 0, res, res))
	n := float64(c.StdDraws)
	for i := range sum {
		m := sum[i] / n
		sd := math.Sqrt(max(0, sq[i]/n-m*m))
		v := uint8(min(255, sd*4+0.5))
		out.SetRGBA(i%res, i/res, color.RGBA{v, v, v, 255})
	}
	return render.Resize(out, size, size), nil
}

func renderState(ctx context.Context, g *model.Generator, st latent.State) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img, _, err := g.Render(st, nil)
	return img, err
}

// Rects returns where each cell lands in the image Render makes at size:
// the same shape as Cells, empty rectangles for nil cells. It lays out a
// probe grid of flat colours with render.Grid and finds each colour, so it
// cannot disagree with Grid.
func (f *Figure) Rects(size int) [][]image.Rectangle {
	probe := make([][]image.Image, len(f.Cells))
	out := make([][]image.Rectangle, len(f.Cells))
	for r, row := range f.Cells {
		probe[r] = make([]image.Image, len(row))
		out[r] = make([]image.Rectangle, len(row))
		for c, cell := range row {
			if cell != nil {
				m := image.NewRGBA(image.Rect(0, 0, size, size))
				fill(m, probeColor(r, c))
				probe[r][c] = m
			}
		}
	}
	img := render.Grid(probe, f.RowLabels, f.ColLabels, gridOptions(size))
	// One pass: a pixel of probe colour (r, c, 77) belongs to cell r,c.
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := img.RGBAAt(x, y)
			r, c := int(px.R), int(px.G)
			if px.B == probeBlue && px.A == 255 && r < len(f.Cells) && c < len(f.Cells[r]) && f.Cells[r][c] != nil {
				out[r][c] = out[r][c].Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return out
}

// probeBlue is the blue of every probe colour: no label or background
// pixel has it (labels are grey on white, r == g == b, and a probe's r and g
// are its row and column, never both 77).
const probeBlue = 77

func probeColor(r, c int) color.RGBA { return color.RGBA{uint8(r), uint8(c), probeBlue, 255} }

func fill(m *image.RGBA, c color.RGBA) {
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
}

// States lists every cell's state string, one line per cell:
// "row,col state" (with "std-over-N-draws" after the state for a standard
// deviation cell).
func (f *Figure) States() []string {
	var out []string
	for r, row := range f.Cells {
		for c, cell := range row {
			if cell == nil {
				continue
			}
			s := fmt.Sprintf("%d,%d %s", r, c, cell.State.Encode())
			if cell.StdDraws > 0 {
				s += fmt.Sprintf(" std-over-%d-draws", cell.StdDraws)
			}
			out = append(out, s)
		}
	}
	return out
}

// NoiseDraw returns st with noise draw k: every noise slot that has noise
// (random or const) random, slot j seeded k·n+j for n noise slots; slots
// that are off stay off, so a state with noise in some layers only (Fig. 5)
// varies in those. Draw 0 of a state with every slot on is the default
// noise of latent.New; the styles are untouched.
func NoiseDraw(st latent.State, k int) latent.State {
	c := st.Clone()
	n := int64(len(c.Noise))
	for j := range c.Noise {
		if c.Noise[j].Mode == latent.NoiseOff {
			continue
		}
		c.Noise[j] = latent.Noise{Mode: latent.NoiseRandom, Seed: int64(k)*n + int64(j)}
	}
	return c
}

// NoiseStdGrid lays out eval's noise figure: per latent (row, labelled
// with its z seed) its noise draws and, last, the per-pixel standard
// deviation map over draws draws, white at white; small images are
// enlarged with square pixels to at least 128 px.
func NoiseStdGrid(cells [][]image.Image, seeds []int64, draws int, white float64) image.Image {
	if len(cells) == 0 || len(cells[0]) == 0 {
		return image.NewRGBA(image.Rectangle{}) // nothing was measured
	}
	scale := max(1, 128/cells[0][0].Bounds().Dx())
	var grid [][]image.Image
	var rows []string
	for i, row := range cells {
		var out []image.Image
		for _, c := range row {
			out = append(out, render.Enlarge(c, scale))
		}
		grid = append(grid, out)
		rows = append(rows, fmt.Sprintf("z seed\n%d", seeds[i]))
	}
	var cols []string
	for d := 1; d < len(cells[0]); d++ { // the last cell is the std map
		cols = append(cols, fmt.Sprintf("noise %d", d))
	}
	cols = append(cols, fmt.Sprintf("std, %d draws\nwhite = %.3f", draws, white))
	return render.Grid(grid, rows, cols, nil)
}
