package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	mattn "github.com/mattn/go-sixel"

	"stylegan-tui/internal/termimage"
)

// percentRoundTrip is what a palette colour becomes through a sixel colour
// register (percent) and back.
func percentRoundTrip(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return termimage.PercentRGB(percent(r), percent(g), percent(b))
}

func TestSixelRoundTrip(t *testing.T) {
	for _, size := range []image.Point{{256, 256}, {101, 37}, {1, 1}, {7, 6}, {300, 13}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			img := synth(size.X, size.Y, 5, 0)
			p := NewPalette(256, img)
			pm := p.Dither(img)
			var buf bytes.Buffer
			if err := Sixel(&buf, pm); err != nil {
				t.Fatal(err)
			}
			got, err := termimage.DecodeSixel(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got.Bounds() != image.Rect(0, 0, size.X, size.Y) {
				t.Fatalf("decoded bounds %v, want %v", got.Bounds(), pm.Bounds())
			}
			// Exact: every pixel is its palette colour through percent registers.
			for y := 0; y < size.Y; y++ {
				for x := 0; x < size.X; x++ {
					want := percentRoundTrip(pm.At(x, y))
					if c := color.RGBAModel.Convert(got.At(x, y)).(color.RGBA); c != want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, c, want)
					}
				}
			}
			if size.X*size.Y >= 1000 {
				q := psnr(t, img, got)
				t.Logf("%d bytes, PSNR vs source %.2f dB", buf.Len(), q)
				if q < 28 {
					t.Errorf("PSNR %.2f dB, want >= 28", q)
				}
			}
		})
	}
}

// mattn/go-sixel's decoder, an independent implementation, must read our
// output as the same picture (it truncates percent to 8 bits, hence the slack).
func TestSixelMattnDecoderAgrees(t *testing.T) {
	img := synth(120, 90, 9, 0)
	pm := NewPalette(256, img).Dither(img)
	var buf bytes.Buffer
	if err := Sixel(&buf, pm); err != nil {
		t.Fatal(err)
	}
	ours, err := termimage.DecodeSixel(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var theirs image.Image
	if err := mattn.NewDecoder(bytes.NewReader(buf.Bytes())).Decode(&theirs); err != nil {
		t.Fatal(err)
	}
	if theirs.Bounds() != ours.Bounds() {
		t.Fatalf("mattn decodes %v, we decode %v", theirs.Bounds(), ours.Bounds())
	}
	if q := psnr(t, ours, theirs); q < 45 {
		t.Errorf("decoders differ: PSNR %.1f dB", q)
	}
}

func TestSixelHeaderAndRuns(t *testing.T) {
	// 10x7 image: a left half of colour 1, a right half of colour 0. Band 0
	// has full sixels; band 1 has only its top row.
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{1, 2, 3, 255}}
	pm := image.NewPaletted(image.Rect(0, 0, 10, 7), pal)
	for y := 0; y < 7; y++ {
		for x := 0; x < 5; x++ {
			pm.SetColorIndex(x, y, 1)
		}
	}
	got := string(AppendSixel(nil, pm))
	want := "\x1bP0;1;0q\"1;1;10;7" + "#0;2;100;0;0#1;2;0;0;100" + // colour 2 unused: not defined
		"#0!5?!5~$#1!5~" + "-" + "#0!5?!5@$#1!5@" + "\x1b\\"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestDecodeSixelRejects(t *testing.T) {
	for name, in := range map[string]string{
		"no DCS":        "hello",
		"unterminated":  "\x1bPq#0;2;0;0;0~~~",
		"bad register":  "\x1bPq#300~\x1b\\",
		"bad byte":      "\x1bPq#0~\x01\x1b\\",
		"huge repeat":   "\x1bPq!99999999~\x1b\\",
		"bad colour":    "\x1bPq#1;2;3~\x1b\\",
		"bare repeat":   "\x1bPq!5\x1b\\",
		"huge raster":   "\x1bPq\"1;1;100000;100000~\x1b\\",
		"only DCS junk": "\x1bPzq",
	} {
		if _, err := termimage.DecodeSixel([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeSixelHLS(t *testing.T) {
	// DEC HLS: hue 120 is red, 240 green, 0 blue; lightness 50, saturation 100.
	for _, c := range []struct {
		h    int
		want color.RGBA
	}{{120, color.RGBA{255, 0, 0, 255}}, {240, color.RGBA{0, 255, 0, 255}}, {0, color.RGBA{0, 0, 255, 255}}} {
		img, err := termimage.DecodeSixel([]byte(fmt.Sprintf("\x1bPq#5;1;%d;50;100~\x1b\\", c.h)))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.At(0, 0).(color.RGBA); got != c.want {
			t.Errorf("hue %d: %v, want %v", c.h, got, c.want)
		}
	}
}

// sixelPayload splits a SixelCell line 0 into what precedes the DCS, the DCS
// itself (introducer to ST) and what follows.
func sixelPayload(t *testing.T, line string) (before, dcs, after string) {
	t.Helper()
	i := strings.Index(line, "\x1bP")
	j := strings.Index(line, "\x1b\\")
	if i < 0 || j < i {
		t.Fatalf("no DCS ... ST in %q", line[:min(len(line), 40)])
	}
	return line[:i], line[i : j+2], line[j+2:]
}

func TestSixelCellLayout(t *testing.T) {
	img := synth(80, 60, 2, 0)
	pm := NewPalette(64, img).Dither(img)
	const cols, rows = 8, 3
	lines := SixelCell(pm, cols, rows, nil)
	if len(lines) != rows {
		t.Fatalf("%d lines, want %d", len(lines), rows)
	}
	fwd := "\x1b[8C"
	before, dcs, after := sixelPayload(t, lines[0])
	if before != "\x1b7" {
		t.Errorf("line 0 starts %q, want save cursor ESC 7", before)
	}
	if after != "\x1b8"+fwd {
		t.Errorf("line 0 ends %q, want restore cursor ESC 8 then cursor-forward %q", after, fwd)
	}
	// The payload is sixel data only: no other escapes, no control bytes.
	body := strings.TrimSuffix(strings.TrimPrefix(dcs, "\x1bP"), "\x1b\\")
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("byte %d of the sixel body is %q", i, c)
		}
	}
	for i, l := range lines[1:] {
		if l != fwd {
			t.Errorf("line %d = %q, want cursor-forward %q only", i+1, l, fwd)
		}
	}
	// bubbletea measures lines with x/ansi: the image must take no width, so
	// nothing the renderer prints lands on the image cells.
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 0 {
			t.Errorf("line %d measures %d columns, want 0", i, w)
		}
		if s := ansi.Strip(l); s != "" {
			t.Errorf("line %d prints %q outside escape sequences", i, s)
		}
	}
	got, err := termimage.DecodeSixel([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if q := psnr(t, pm, got); q < 40 {
		t.Errorf("image in the cell decodes at %.1f dB against the paletted input", q)
	}
	if SixelCell(pm, 0, 3, nil) != nil || SixelCell(pm, 3, 0, nil) != nil {
		t.Error("non-positive cells should give nil")
	}
}

func TestSixelCellTmux(t *testing.T) {
	img := synth(30, 24, 4, 0)
	pm := NewPalette(32, img).Dither(img)
	lines := SixelCell(pm, 5, 2, &CellOptions{Tmux: true})
	l0 := lines[0]
	if !strings.HasPrefix(l0, "\x1bPtmux;\x1b\x1b7\x1b\x1bP") {
		t.Errorf("line 0 starts %q, want the tmux wrapper around ESC 7 and the DCS", l0[:20])
	}
	if !strings.HasSuffix(l0, "\x1b\x1b8\x1b\\\x1b[5C") {
		t.Errorf("line 0 ends %q", l0[len(l0)-20:])
	}
	// Inside the wrapper every ESC is doubled.
	inner := strings.TrimSuffix(strings.TrimPrefix(l0, "\x1bPtmux;"), "\x1b\\\x1b[5C")
	if strings.ReplaceAll(inner, "\x1b\x1b", "") != strings.ReplaceAll(inner, "\x1b", "") {
		t.Error("an ESC inside the tmux wrapper is not doubled")
	}
	if lines[1] != "\x1b[5C" {
		t.Errorf("line 1 = %q", lines[1])
	}
	got, err := termimage.DecodeSixel([]byte(l0))
	if err != nil {
		t.Fatal(err)
	}
	if q := psnr(t, pm, got); q < 40 {
		t.Errorf("tmux-wrapped image decodes at %.1f dB", q)
	}
}

func TestSixelTransparentEntries(t *testing.T) {
	pal := color.Palette{color.RGBA{}, color.RGBA{0, 255, 0, 255}}
	pm := image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
	for i := range pm.Pix {
		pm.Pix[i] = uint8(i % 3 % 2) // a pattern of transparent and green
	}
	got, err := termimage.DecodeSixel(AppendSixel(nil, pm))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != pm.Bounds() {
		t.Fatalf("bounds %v", got.Bounds())
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			_, g, _, a := got.At(x, y).RGBA()
			if want := pm.ColorIndexAt(x, y) == 1; (a != 0 && g == 0xffff) != want || (a == 0) == want {
				t.Fatalf("pixel (%d,%d): alpha %d green %d, want drawn=%v", x, y, a, g, want)
			}
		}
	}
}

// The decoder must never panic or run away on arbitrary input.
func FuzzDecodeSixel(f *testing.F) {
	img := synth(20, 14, 1, 0)
	f.Add(AppendSixel(nil, NewPalette(8, img).Dither(img)))
	f.Add([]byte(strings.Join(SixelCell(NewPalette(4, img).Dither(img), 3, 2, &CellOptions{Tmux: true}), "\n")))
	f.Add([]byte("\x1bPq\"1;1;4000;4000#1;1;120;50;100!4000~-!4000~\x1b\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := termimage.DecodeSixel(b)
		if err == nil && (img.Bounds().Dx() > termimage.MaxDecode || img.Bounds().Dy() > termimage.MaxDecode+6) {
			t.Errorf("decoded %v", img.Bounds())
		}
	})
}
