package render

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/internal/termimage"
)

func TestHalfBlockRoundTrip(t *testing.T) {
	img := synth(256, 256, 3, 0)
	for _, c := range []struct{ cols, rows int }{{80, 40}, {33, 7}, {1, 1}, {300, 200}} {
		lines := HalfBlock(img, c.cols, c.rows)
		if len(lines) != c.rows {
			t.Fatalf("%dx%d: %d lines", c.cols, c.rows, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != c.cols {
				t.Fatalf("%dx%d: line %d is %d columns wide", c.cols, c.rows, i, w)
			}
			if !strings.HasSuffix(l, "\x1b[0m") {
				t.Fatalf("%dx%d: line %d does not end with a reset", c.cols, c.rows, i)
			}
		}
		got, err := termimage.DecodeHalfBlock(lines)
		if err != nil {
			t.Fatal(err)
		}
		want := Resize(img, c.cols, 2*c.rows)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("decoded %v, want %v", got.Bounds(), want.Bounds())
		}
		for y := 0; y < 2*c.rows; y++ {
			for x := 0; x < c.cols; x++ {
				if g, w := got.At(x, y).(color.RGBA), want.RGBAAt(x, y); g != w {
					t.Fatalf("%dx%d: pixel (%d,%d) = %v, want %v", c.cols, c.rows, x, y, g, w)
				}
			}
		}
	}
	if HalfBlock(img, 0, 3) != nil {
		t.Error("zero columns should give nil")
	}
}

// Colour codes are written only when a colour changes.
func TestHalfBlockCodesOnlyOnChange(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 2))
	top := []color.RGBA{{1, 2, 3, 255}, {1, 2, 3, 255}, {9, 9, 9, 255}, {9, 9, 9, 255}}
	bot := []color.RGBA{{5, 5, 5, 255}, {6, 6, 6, 255}, {6, 6, 6, 255}, {6, 6, 6, 255}}
	for x := 0; x < 4; x++ {
		img.SetRGBA(x, 0, top[x])
		img.SetRGBA(x, 1, bot[x])
	}
	got := HalfBlock(img, 4, 1)[0]
	want := "\x1b[38;2;1;2;3;48;2;5;5;5m▀" + "\x1b[48;2;6;6;6m▀" + "\x1b[38;2;9;9;9m▀" + "▀" + "\x1b[0m"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestDecodeHalfBlockCells(t *testing.T) {
	lines := []string{"\x1b[38;2;255;0;0;48;2;0;0;255m▀▄█ \x1b[m"}
	img, err := termimage.DecodeHalfBlock(lines)
	if err != nil {
		t.Fatal(err)
	}
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	want := [][2]color.RGBA{{red, blue}, {blue, red}, {red, red}, {blue, blue}}
	for x, w := range want {
		if img.At(x, 0) != w[0] || img.At(x, 1) != w[1] {
			t.Errorf("cell %d: %v/%v, want %v/%v", x, img.At(x, 0), img.At(x, 1), w[0], w[1])
		}
	}
	for name, bad := range map[string][]string{
		"no colour":     {"▀"},
		"ragged":        {"\x1b[38;2;1;1;1;48;2;1;1;1m▀▀", "\x1b[38;2;1;1;1;48;2;1;1;1m▀"},
		"256 colours":   {"\x1b[38;5;1;48;2;1;1;1m▀"},
		"other glyph":   {"\x1b[38;2;1;1;1;48;2;1;1;1mx"},
		"reset midline": {"\x1b[38;2;1;1;1;48;2;1;1;1m▀\x1b[0m▀"},
	} {
		if _, err := termimage.DecodeHalfBlock(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The decoder must never panic on arbitrary input.
func FuzzDecodeHalfBlock(f *testing.F) {
	f.Add(strings.Join(HalfBlock(synth(16, 16, 1, 0), 8, 4), "\n"))
	f.Add("\x1b[38;2;1;2;3;48;2;4;5;6m▀▄█ \x1b[0m\n\x1b[38:2:1:2:3m")
	f.Fuzz(func(t *testing.T, s string) {
		termimage.DecodeHalfBlock(strings.Split(s, "\n"))
	})
}
