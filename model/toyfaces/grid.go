package toyfaces

import (
	"image"
	"image/color"
	"math"
	"strings"
)

// abbrev gives the short code of every class, as printed under the faces of
// Grid: three lines, one per group.
var abbrev = [numFactors][]string{
	FYaw:        {"YL", "YF", "YR"},
	FRoll:       {"RL", "R0", "RR"},
	FShape:      {"RND", "OVL", "LNG"},
	FHair:       {"BALD", "SHRT", "LONG", "BUN"},
	FEyes:       {"EO", "EC"},
	FMouth:      {"SMI", "NEU", "OPN"},
	FGlasses:    {"G-", "GRD", "GSQ"},
	FBeard:      {"B-", "BST", "BFL"},
	FSkin:       {"S1", "S2", "S3", "S4"},
	FHairColor:  {"H:BLK", "H:BRN", "H:BLD", "H:RED", "H:GRY"},
	FBackground: {"B:RED", "B:YEL", "B:GRN", "B:CYN", "B:BLU", "B:MAG"},
}

// LabelText returns the three lines printed under a face in Grid: the
// coarse, middle and fine factors as short codes.
func LabelText(l Labels) [3]string {
	var lines [3][]string
	for i, f := range Factors {
		g := map[string]int{"coarse": 0, "middle": 1, "fine": 2}[f.Group]
		lines[g] = append(lines[g], abbrev[i][l[i]])
	}
	return [3]string{strings.Join(lines[0], " "), strings.Join(lines[1], " "), strings.Join(lines[2], " ")}
}

const (
	gridPad   = 2
	lineH     = 6 // 5 px glyphs and 1 px leading
	gridCellW = Size + gridPad
	gridCellH = Size + gridPad + 3*lineH + 2
)

// Grid renders the n images with seeds firstSeed, firstSeed+1, … in a
// roughly square grid, each with its labels as short codes underneath.
func Grid(n int, firstSeed int64) *image.RGBA {
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	if cols < 1 {
		cols = 1
	}
	rows := (n + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*gridCellW+gridPad, rows*gridCellH+gridPad))
	bg := color.RGBA{24, 24, 28, 255}
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = bg.R, bg.G, bg.B, bg.A
	}
	ink := color.RGBA{225, 225, 225, 255}
	for i := 0; i < n; i++ {
		face, l := Sample(firstSeed + int64(i))
		x0 := gridPad + (i%cols)*gridCellW
		y0 := gridPad + (i/cols)*gridCellH
		for y := 0; y < Size; y++ {
			copy(img.Pix[img.PixOffset(x0, y0+y):img.PixOffset(x0+Size, y0+y)], face.Pix[face.PixOffset(0, y):face.PixOffset(Size, y)])
		}
		for j, line := range LabelText(l) {
			drawText(img, x0, y0+Size+2+j*lineH, line, ink)
		}
	}
	return img
}

// drawText draws s in a 3×5 pixel font with a 4 px advance.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, ch := range s {
		g, ok := font3x5[ch]
		if !ok {
			g = font3x5['?']
		}
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row][col] == '#' {
					img.SetRGBA(x+col, y+row, c)
				}
			}
		}
		x += 4
	}
}

var font3x5 = map[rune][5]string{
	'A': {".#.", "#.#", "###", "#.#", "#.#"},
	'B': {"##.", "#.#", "##.", "#.#", "##."},
	'C': {".##", "#..", "#..", "#..", ".##"},
	'D': {"##.", "#.#", "#.#", "#.#", "##."},
	'E': {"###", "#..", "##.", "#..", "###"},
	'F': {"###", "#..", "##.", "#..", "#.."},
	'G': {".##", "#..", "#.#", "#.#", ".##"},
	'H': {"#.#", "#.#", "###", "#.#", "#.#"},
	'I': {"###", ".#.", ".#.", ".#.", "###"},
	'J': {"..#", "..#", "..#", "#.#", ".#."},
	'K': {"#.#", "#.#", "##.", "#.#", "#.#"},
	'L': {"#..", "#..", "#..", "#..", "###"},
	'M': {"#.#", "###", "###", "#.#", "#.#"},
	'N': {"##.", "#.#", "#.#", "#.#", "#.#"},
	'O': {".#.", "#.#", "#.#", "#.#", ".#."},
	'P': {"##.", "#.#", "##.", "#..", "#.."},
	'Q': {".#.", "#.#", "#.#", "##.", ".##"},
	'R': {"##.", "#.#", "##.", "#.#", "#.#"},
	'S': {".##", "#..", ".#.", "..#", "##."},
	'T': {"###", ".#.", ".#.", ".#.", ".#."},
	'U': {"#.#", "#.#", "#.#", "#.#", "###"},
	'V': {"#.#", "#.#", "#.#", "#.#", ".#."},
	'W': {"#.#", "#.#", "###", "###", "#.#"},
	'X': {"#.#", "#.#", ".#.", "#.#", "#.#"},
	'Y': {"#.#", "#.#", ".#.", ".#.", ".#."},
	'Z': {"###", "..#", ".#.", "#..", "###"},
	'0': {"###", "#.#", "#.#", "#.#", "###"},
	'1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"##.", "..#", ".#.", "#..", "###"},
	'3': {"##.", "..#", ".#.", "..#", "##."},
	'4': {"#.#", "#.#", "###", "..#", "..#"},
	'5': {"###", "#..", "##.", "..#", "##."},
	'6': {".##", "#..", "###", "#.#", "###"},
	'7': {"###", "..#", ".#.", ".#.", ".#."},
	'8': {"###", "#.#", "###", "#.#", "###"},
	'9': {"###", "#.#", "###", "..#", "##."},
	':': {"...", ".#.", "...", ".#.", "..."},
	'-': {"...", "...", "###", "...", "..."},
	'/': {"..#", "..#", ".#.", "#..", "#.."},
	'.': {"...", "...", "...", "...", ".#."},
	'?': {"##.", "..#", ".#.", "...", ".#."},
	' ': {"...", "...", "...", "...", "..."},
}
