package tui

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
)

// m's const mode says what the generator really feeds: the stored maps of a
// checkpoint that has them, else seed 0's fixed map.
func TestConstNoiseExplain(t *testing.T) {
	var stored, none int
	for _, path := range []string{fixtureNV32, fixtureRos128, fixtureNV256} {
		m := newTestModel(t, path)
		has := m.opts.Model.W.NoiseConst != nil
		for _, key := range []string{"m", "M"} {
			m := newTestModel(t, path)
			press(m, key)
			e := m.Explain()
			if has != strings.Contains(e, "stored noise map") || has == strings.Contains(e, "this model stores none") {
				t.Errorf("%s %s (stores maps: %v): %q", path, key, has, e)
			}
		}
		if has {
			stored++
		} else {
			none++
		}
	}
	if stored == 0 || none == 0 {
		t.Fatalf("the fixtures cover %d models with stored noise maps and %d without: want both", stored, none)
	}
}

// w shows what it does on the explain line ("saving…", then the name), the
// file is named once "stylegan" (the default model is called
// "stylegan-tui toyfaces") and shown relative to the save directory; a
// second save in the same second gets a name of its own.
func TestSaveExplainAndName(t *testing.T) {
	fix := loadFixture(t, fixtureNV32)
	cfg := *fix.Cfg
	cfg.Name = "stylegan-tui toyfaces"
	dir := t.TempDir()
	m, err := New(Options{Model: &checkpoints.Checkpoint{Cfg: &cfg, W: fix.W}, Graphics: "halfblock", Width: 120, Height: 40, RandSeed: 7, SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, m)
	d.until("the first result", d.current)
	d.key("x") // explain something else first
	before := m.Explain()
	d.until("the swapped result", d.current)
	var names []string
	for i := 0; i < 2; i++ {
		d.key("w")
		if e := m.Explain(); e == before || !strings.HasPrefix(e, "saving the result") {
			t.Fatalf("w: explain %q (before: %q)", e, before)
		}
		d.until("the save", func() bool { return strings.HasPrefix(m.info, "saved ") })
		name := strings.TrimPrefix(m.info, "saved ")
		if filepath.Base(name) != name || !strings.HasPrefix(name, "stylegan-tui_toyfaces-A") || strings.Contains(name, "stylegan-stylegan") {
			t.Errorf("saved as %q: want stylegan-tui_toyfaces-A…, relative to the save directory", name)
		}
		if e := m.Explain(); !strings.Contains(e, name) {
			t.Errorf("after the save, explain %q does not name %s", e, name)
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != cfg.Resolution() || b.Dy() != cfg.Resolution() {
			t.Errorf("saved %v, want the full %d px", b, cfg.Resolution())
		}
		names = append(names, name)
		m.info = ""
	}
	if names[0] == names[1] {
		t.Errorf("two saves wrote one file %s", names[0])
	}
	if files, _ := os.ReadDir(dir); len(files) != 2 {
		t.Errorf("%d files in the save directory, want 2", len(files))
	}
}
