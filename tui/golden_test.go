package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden views in testdata")

// The text of the view (no images yet: placeholders) at a fixed size, in
// the plain colour profile tests get, against golden files.
func TestGoldenViews(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		w, h       int
		keys       []string
	}{
		{"nv256_start_100x30", fixtureNV256, 100, 30, nil},
		{"nv256_middle_psi_noise_100x30", fixtureNV256, 100, 30, []string{"2", "+", "right", "right", "m", ">"}},
		{"ros128_walk_80x24", fixtureRos128, 80, 24, []string{"i", ".", ".", "z"}},
		{"ros128_help_80x24", fixtureRos128, 80, 24, []string{"?"}},
		{"nv32_prompt_60x20", fixtureNV32, 60, 20, []string{"s", "4", "2"}},
	} {
		m := newTestModel(t, tc.path)
		resize(m, tc.w, tc.h)
		press(m, tc.keys...)
		got := ansi.Strip(m.View())
		// Timings vary: the status line is compared up to them.
		file := filepath.Join("testdata", tc.name+".txt")
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./tui -run Golden -update)", err)
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
					t.Errorf("%s line %d:\n got %q\nwant %q", tc.name, i, g, w)
				}
			}
		}
	}
}
