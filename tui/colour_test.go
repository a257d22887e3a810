package tui

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// colourModel is the explorer styled for a terminal of the given profile
// and background.
func colourModel(t *testing.T, path string, profile termenv.Profile, dark bool) *Model {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(dark)
	m, err := New(Options{Model: loadFixture(t, path), Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, Renderer: r})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type rgb [3]float64

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}

func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// xterm256 is colour n (16-255) of the xterm 256-colour palette.
func xterm256(n int) rgb {
	if n >= 232 {
		v := float64(8 + 10*(n-232))
		return rgb{v, v, v}
	}
	n -= 16
	level := func(i int) float64 {
		if i == 0 {
			return 0
		}
		return float64(55 + 40*i)
	}
	return rgb{level(n / 36), level(n / 6 % 6), level(n % 6)}
}

// glyph is one printed character with the colours it is drawn in (nil =
// the terminal's default).
type glyph struct {
	r      rune
	fg, bg *rgb
	faint  bool
}

// glyphs reads the SGR colours (24-bit and 256-colour) of every printed
// character; any other colour form is an error (it would be the terminal's
// palette, whose contrast is unknown).
func glyphs(t *testing.T, s string) []glyph {
	t.Helper()
	var out []glyph
	var fg, bg *rgb
	faint := false
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := i + 1
			if j < len(s) && s[j] == '[' {
				j++
				for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
					j++
				}
				if j < len(s) && s[j] == 'm' {
					p := strings.Split(s[i+2:j], ";")
					for k := 0; k < len(p); k++ {
						n, _ := strconv.Atoi(p[k])
						switch {
						case p[k] == "" || n == 0:
							fg, bg, faint = nil, nil, false
						case n == 2:
							faint = true
						case n == 22:
							faint = false
						case n == 39:
							fg = nil
						case n == 49:
							bg = nil
						case (n == 38 || n == 48) && k+1 < len(p):
							var c rgb
							if p[k+1] == "2" && k+4 < len(p) {
								for x := 0; x < 3; x++ {
									v, _ := strconv.Atoi(p[k+2+x])
									c[x] = float64(v)
								}
								k += 4
							} else if p[k+1] == "5" && k+2 < len(p) {
								v, _ := strconv.Atoi(p[k+2])
								if v < 16 {
									t.Fatalf("palette colour %d in %q", v, s[i:j+1])
								}
								c = xterm256(v)
								k += 2
							} else {
								t.Fatalf("colour %q", s[i:j+1])
							}
							if n == 38 {
								fg = &c
							} else {
								bg = &c
							}
						case n >= 30 && n <= 37, n >= 40 && n <= 47, n >= 90 && n <= 107:
							t.Fatalf("palette colour in %q", s[i:j+1])
						}
					}
				}
				i = j + 1
				continue
			}
			i = j + 1
			continue
		}
		r := []rune(s[i:])[0]
		i += len(string(r))
		if r == '\n' || r == ' ' {
			continue
		}
		out = append(out, glyph{r, fg, bg, faint})
	}
	return out
}

// Every character of the explorer (strip, explain line, status, key help,
// the help overlay, a prompt) keeps a contrast of at least 4.5:1 (WCAG AA)
// with what it is drawn on, on a dark and on a light background, in 24-bit
// and 256-colour terminals; none is faint (a pale grey on white).
func TestColoursReadable(t *testing.T) {
	white, black := rgb{255, 255, 255}, rgb{0, 0, 0}
	for _, profile := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256} {
		for _, dark := range []bool{true, false} {
			// The terminal's own colours: light text on black, black on white.
			defBg, defFg := white, black
			if dark {
				defBg, defFg = black, rgb{229, 229, 229}
			}
			for _, keys := range [][]string{nil, {"2", "+", "right", "m"}, {"i", "."}, {"s", "4"}, {"?"}} {
				m := colourModel(t, fixtureNV256, profile, dark)
				press(m, keys...)
				v := m.View()
				coloured, bad := 0, 0
				for _, g := range glyphs(t, v) {
					if bad > 3 {
						break // enough to see what is wrong
					}
					fg, bg := defFg, defBg
					if g.fg != nil {
						fg = *g.fg
						coloured++
					}
					if g.bg != nil {
						bg = *g.bg
					}
					if g.faint {
						bad++
						t.Errorf("profile %v dark=%v keys %v: %q is faint", profile, dark, keys, g.r)
					}
					if c := contrast(fg, bg); c < 4.5 {
						bad++
						t.Errorf("profile %v dark=%v keys %v: %q in %v on %v, contrast %.2f", profile, dark, keys, g.r, fg, bg, c)
					}
				}
				if coloured == 0 {
					t.Errorf("profile %v dark=%v keys %v: no coloured text (the renderer lost its profile?)", profile, dark, keys)
				}
			}
		}
	}
}

// The start view on a light background, colours kept, against its golden
// file (the text-only golden views are in golden_test.go).
func TestGoldenLightView(t *testing.T) {
	m := colourModel(t, fixtureNV256, termenv.TrueColor, false)
	resize(m, 100, 30)
	press(m, "2", "right", "m")
	got := m.View()
	file := filepath.Join("testdata", "nv256_light_100x30.ansi")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run GoldenLight -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got %q\nwant %q", i, g, w)
			}
		}
	}
	// The same view on a dark background differs only in its colours.
	d := colourModel(t, fixtureNV256, termenv.TrueColor, true)
	resize(d, 100, 30)
	press(d, "2", "right", "m")
	if dv := d.View(); dv == got || ansi.Strip(dv) != ansi.Strip(got) {
		t.Errorf("light and dark views: same bytes %v, same text %v", dv == got, ansi.Strip(dv) == ansi.Strip(got))
	}
}
