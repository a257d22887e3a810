package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
	"stylegan-tui/render/figures"
)

// figFixture is the checkpoint the figure and GIF tests draw: a 128 px
// rosinality model with random weights.
func figFixture(t testing.TB) string { return testfix.Path(t, "rosinality/tiny_s5.safetensors") }

func figGenerator(t *testing.T) *model.Generator {
	t.Helper()
	m, err := checkpoints.Load(figFixture(t))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	g, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// readGIF decodes the GIF at path, every frame.
func readGIF(t *testing.T, path string) *gif.GIF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	an, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return an
}

func runCmd(t *testing.T, fn func([]string, *bytes.Buffer, *bytes.Buffer) error, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := fn(args, &out, &errb); err != nil {
		t.Fatalf("%v: %v (stderr %q)", args, err, errb.String())
	}
	return out.String()
}

func figureCmd(args []string, out, errb *bytes.Buffer) error { return runFigure(args, out, errb) }
func gifCmd(args []string, out, errb *bytes.Buffer) error    { return runGIF(args, out, errb) }

// stateOf renders a state as a figure cell or GIF panel does.
func stateOf(t *testing.T, g *model.Generator, s string, size int) *image.RGBA {
	t.Helper()
	st, err := latent.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := g.Render(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return render.Resize(img, size, size)
}

func cropRGBA(img image.Image, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			out.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	return out
}

func psnrRGB(a, b *image.RGBA) float64 {
	var se float64
	for i := 0; i < len(a.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := float64(a.Pix[i+c]) - float64(b.Pix[i+c])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(3*len(a.Pix)/4)))
}

// Every figure the command writes: the PNG decodes to exactly the figure
// the figures package makes, and every cell named in the file's text chunks
// is the generator's output for that state, resized the same way.
func TestFigureCommand(t *testing.T) {
	g := figGenerator(t)
	cfg, base := g.Cfg, g.NewState()
	const size = 40
	dir := t.TempDir()
	cases := []struct {
		kind string
		args []string
		fig  *figures.Figure
	}{
		{"uncurated", []string{"--seeds", "3-5"}, figures.Uncurated(cfg, base, []int64{3, 4, 5})},
		{"mixing", []string{"--seeds", "5,6,7", "--seeds-b", "8,9"}, figures.Mixing(cfg, base, []int64{5, 6, 7}, []int64{8, 9})},
		{"noise", []string{"--seeds", "3", "--draws", "3"}, figures.Noise(cfg, base, []int64{3}, 3)},
		{"noise-layers", []string{"--seeds", "3"}, figures.NoiseLayers(cfg, base, []int64{3})},
		{"truncation", []string{"--seeds", "3"}, figures.Truncation(cfg, base, []int64{3}, figures.PaperTruncationPsis)},
		{"interpolation", []string{"--seeds", "3,4", "--steps", "3"}, figures.Interpolation(cfg, withSeeds(base, []int64{3, 4}), 3)},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			path := filepath.Join(dir, c.kind+".png")
			args := append([]string{c.kind, "--checkpoint", figFixture(t), "--size", strconv.Itoa(size), "-o", path, "-v"}, c.args...)
			out := runCmd(t, figureCmd, args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := c.fig.Render(context.Background(), g, size, nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != ref.Rect {
				t.Fatalf("figure is %v, want %v", img.Bounds(), ref.Rect)
			}
			if got := cropRGBA(img, img.Bounds()); !bytes.Equal(got.Pix, ref.Pix) {
				t.Fatal("figure pixels differ from figures' rendering")
			}
			text, err := figures.PNGText(data)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(text) != fmt.Sprint(c.fig.Text()) {
				t.Fatalf("text chunks %q\nwant %q", text, c.fig.Text())
			}
			rects := c.fig.Rects(size)
			cells := 0
			for _, kv := range text {
				var r, col int
				if _, err := fmt.Sscanf(kv[0], "cell %d,%d", &r, &col); err != nil {
					continue
				}
				st, std, _ := strings.Cut(kv[1], " ")
				if !strings.Contains(out, fmt.Sprintf("cell %d,%d %s", r, col, st)) {
					t.Errorf("-v does not list cell %d,%d %s", r, col, st)
				}
				if std != "" {
					continue // the standard deviation over noise draws
				}
				got := cropRGBA(img, rects[r][col])
				if want := stateOf(t, g, st, size); !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("cell %d,%d differs from the generator's output for %s (PSNR %.1f dB)", r, col, st, psnrRGB(want, got))
				}
				cells++
			}
			if cells == 0 {
				t.Error("no cells checked")
			}
			if c.kind == "mixing" {
				// Row 1 is A seed 5 with coarse styles from B; column 2 is
				// B seed 9. Its state, built from the slots' resolutions
				// alone: exactly the 4-8 px slots from B.
				st := g.NewState()
				st.A, st.B = latent.Source{Seed: 5}, latent.Source{Seed: 9}
				for s := range st.Styles {
					if r := g.Cfg.SlotRes(s); r == 4 || r == 8 {
						st.Styles[s] = latent.FromB
					}
				}
				got := cropRGBA(img, rects[1][2])
				if want := stateOf(t, g, st.Encode(), size); !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("coarse-from-B cell differs from %s (PSNR %.1f dB)", st.Encode(), psnrRGB(want, got))
				}
			}
		})
	}
}

// Every GIF the command writes: frame count, delays, size, and each frame's
// panels against the generator's output for the states -v printed.
func TestGIFCommand(t *testing.T) {
	g := figGenerator(t)
	const size, frames = 40, 5
	dir := t.TempDir()
	for _, kind := range figures.Kinds {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(dir, kind+".gif")
			seeds := "3,4"
			if kind == "truncation-sweep" || kind == "noise" {
				seeds = "3" // one face
			}
			out := runCmd(t, gifCmd, kind, "--checkpoint", figFixture(t), "--seeds", seeds, "--frames", strconv.Itoa(frames),
				"--fps", "20", "--size", strconv.Itoa(size), "--labels", "-v", "-o", path)
			an := readGIF(t, path)
			if len(an.Image) != frames {
				t.Fatalf("%d frames, want %d", len(an.Image), frames)
			}
			if !strings.Contains(out, fmt.Sprintf("%d frames at 5/100 s", frames)) {
				t.Errorf("the written line lacks \"%d frames at 5/100 s\": %q", frames, out)
			}
			panels := 1
			if kind == "walk" {
				panels = 2
			}
			w := figures.PanelRect(panels-1, size).Max.X
			for i, m := range an.Image {
				if an.Delay[i] != 5 {
					t.Errorf("frame %d delay %d/100 s, want 5 (20 fps)", i, an.Delay[i])
				}
				if m.Bounds().Dx() != w || m.Bounds().Dy() <= size || m.Bounds() != an.Image[0].Bounds() {
					t.Errorf("frame %d is %v, want %d wide with a caption under %d px", i, m.Bounds(), w, size)
				}
			}
			if an.LoopCount != 0 {
				t.Errorf("loop count %d, want 0 (forever)", an.LoopCount)
			}
			checked, worst := 0, math.Inf(1)
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				var i, p int
				var st string
				if _, err := fmt.Sscanf(sc.Text(), "frame %d %d %s", &i, &p, &st); err != nil {
					continue
				}
				got := cropRGBA(an.Image[i], figures.PanelRect(p, size))
				db := psnrRGB(stateOf(t, g, st, size), got)
				if db < 28 {
					t.Errorf("frame %d panel %d: PSNR %.1f dB against %s, want >= 28", i, p, db, st)
				}
				worst = min(worst, db)
				checked++
			}
			t.Logf("worst panel PSNR %.1f dB", worst)
			if checked != frames*panels {
				t.Errorf("checked %d panels, want %d (-v output %q)", checked, frames*panels, out)
			}
		})
	}
}

func TestFigureCommandErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.png")
	for _, c := range []struct {
		fn   func([]string, *bytes.Buffer, *bytes.Buffer) error
		args []string
	}{
		{figureCmd, nil},
		{figureCmd, []string{"--checkpoint", figFixture(t)}},
		{figureCmd, []string{"faces", "-o", out}},
		{figureCmd, []string{"mixing", "--checkpoint", figFixture(t)}},
		{figureCmd, []string{"mixing", "--checkpoint", figFixture(t), "--seeds", "x", "-o", out}},
		{figureCmd, []string{"noise", "--checkpoint", figFixture(t), "--draws", "1", "-o", out}},
		{figureCmd, []string{"mixing", "--checkpoint", figFixture(t), "--psi", "NaN", "-o", out}},
		{figureCmd, []string{"mixing", "--checkpoint", figFixture(t), "--cutoff", "-1", "-o", out}},
		{gifCmd, []string{"walk", "--checkpoint", figFixture(t), "--fps", "-1", "-o", out}},
		{gifCmd, []string{"spin", "-o", out}},
	} {
		var o, e bytes.Buffer
		err := c.fn(c.args, &o, &e)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", c.args, err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed command left %s", out)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such")
	run := func(f func([]string, *bytes.Buffer, *bytes.Buffer) error) func([]string, io.Writer, io.Writer) error {
		return func(args []string, o, e io.Writer) error {
			var ob, eb bytes.Buffer
			err := f(args, &ob, &eb)
			o.Write(ob.Bytes())
			return err
		}
	}
	checkBadInput(t, run(figureCmd), []badInput{
		{[]string{"uncurated", "--checkpoint", figFixture(t), "-o", filepath.Join(dir, "f.jpg")}, []string{"-o", "f.jpg", ".png"}},
		{[]string{"uncurated", "--checkpoint", figFixture(t), "-o", filepath.Join(missing, "f.png")}, []string{"-o", missing, "no directory"}},
		{[]string{"uncurated", "--checkpoint", figFixture(t), "--seeds", "0-5000", "-o", out}, []string{"--seeds", "5001 seeds, at most 1024"}},
		// The flag that is wrong is named (these read "state does not fit
		// this model: latent: ..." or "latent: unknown version").
		{[]string{"mixing", "--checkpoint", figFixture(t), "--psi", "1e9", "-o", out}, []string{"--psi 1e+09", "-1e+06..1e+06"}},
		{[]string{"mixing", "--checkpoint", figFixture(t), "--cutoff", "7", "-o", out}, []string{"--cutoff 7", "0..6"}},
		{[]string{"mixing", "--checkpoint", figFixture(t), "--state", "garbage", "-o", out}, []string{"--state", "garbage"}},
		{[]string{"mixing", "--checkpoint", figFixture(t), "--state", "sg1:a=0:b=1:s=4A:p=0.7:c=4", "-o", out}, []string{"--state", "4 style slots, model has 6"}},
		// Flags and seeds a kind does not use were silently ignored.
		{[]string{"truncation", "--checkpoint", figFixture(t), "--draws", "5", "-o", out}, []string{"--draws", "figure noise"}},
		{[]string{"mixing", "--checkpoint", figFixture(t), "--steps", "3", "-o", out}, []string{"--steps", "figure interpolation"}},
		{[]string{"noise", "--checkpoint", figFixture(t), "--seeds-b", "3", "-o", out}, []string{"--seeds-b", "figure mixing"}},
		{[]string{"interpolation", "--checkpoint", figFixture(t), "--seeds", "1,2,3", "-o", out}, []string{"--seeds 1,2,3", "at most two seeds"}},
		{[]string{"truncation", "--checkpoint", figFixture(t), "--psi", "0.3", "-o", out}, []string{"--psi is not for figure truncation", "sets psi per column"}},
		{[]string{"truncation", "--checkpoint", figFixture(t), "--cutoff", "2", "-o", out}, []string{"--cutoff is not for figure truncation"}},
	})
	checkBadInput(t, run(gifCmd), []badInput{
		{[]string{"walk", "--checkpoint", figFixture(t), "-o", filepath.Join(dir, "g.png")}, []string{"-o", "g.png", ".gif"}},
		{[]string{"walk", "--checkpoint", figFixture(t), "--fps", "0.001", "-o", filepath.Join(dir, "g.gif")}, []string{"--fps 0.001", "0.01..50"}},
		{[]string{"walk", "--checkpoint", figFixture(t), "--cutoff", "7", "-o", filepath.Join(dir, "g.gif")}, []string{"--cutoff 7", "0..6"}},
		// Seeds a kind does not show were silently dropped.
		{[]string{"noise", "--checkpoint", figFixture(t), "--seeds", "1,2", "-o", filepath.Join(dir, "g.gif")}, []string{"--seeds 1,2", "at most one seed"}},
		{[]string{"mix-sweep", "--checkpoint", figFixture(t), "--seeds", "1-3", "-o", filepath.Join(dir, "g.gif")}, []string{"--seeds 1-3", "at most two seeds"}},
		{[]string{"truncation-sweep", "--checkpoint", figFixture(t), "--psi", "0.3", "-o", filepath.Join(dir, "g.gif")}, []string{"--psi is not for gif truncation-sweep", "sweeps psi"}},
		// The default 30 frames a leg may not pass the cap --frames has.
		{[]string{"walk", "--checkpoint", figFixture(t), "--seeds", "0-400", "--size", "8", "-o", filepath.Join(dir, "g.gif")}, []string{"--seeds", "401 seeds make 12030 frames", "over 10000"}},
	})
}

// gif --help lists every kind the command takes, lesson included.
func TestGIFHelpKinds(t *testing.T) {
	var o, e bytes.Buffer
	if err := runGIF([]string{"--help"}, &o, &e); err != nil && !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	for _, k := range append(figures.Kinds, "lesson") {
		if !strings.Contains(e.String(), k) {
			t.Errorf("gif --help does not list %s:\n%s", k, e.String())
		}
	}
}

// A walk through n seeds without --frames has WalkLegFrames frames per leg
// (the default 60 made 8 seeds a 0.3 s flash each).
func TestGIFWalkFrames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.gif")
	runCmd(t, gifCmd, "walk", "--checkpoint", figFixture(t), "--seeds", "3,4,5", "--size", "8", "-o", path)
	an := readGIF(t, path)
	if want := 3 * figures.WalkLegFrames; len(an.Image) != want {
		t.Errorf("%d frames, want %d (%d a leg, 3 legs)", len(an.Image), want, 30)
	}
}

// A one-frame GIF says "1 frame", not "1 frames".
func TestGIFOneFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.gif")
	out := runCmd(t, gifCmd, "noise", "--checkpoint", figFixture(t), "--seeds", "3", "--frames", "1", "--size", "8", "-o", path)
	if !strings.Contains(out, "(8x") || !strings.Contains(out, ", 1 frame at ") {
		t.Errorf("written line %q, want \", 1 frame at \"", out)
	}
}

func TestParseSeeds(t *testing.T) {
	got, err := parseSeeds("seeds", "1, 5-7,4294967295")
	if err != nil || fmt.Sprint(got) != "[1 5 6 7 4294967295]" {
		t.Errorf("parseSeeds = %v, %v", got, err)
	}
	for _, bad := range []string{"-1", "7-5", "a", "4294967296", "0-5000"} {
		if _, err := parseSeeds("seeds", bad); err == nil {
			t.Errorf("parseSeeds(%q) succeeded", bad)
		}
	}
}

// An NVlabs 1024 px model gets the paper's seeds and NVIDIA's settings
// (tested on the config of a small model: only the states are checked).
func TestPaperFigures(t *testing.T) {
	g := figGenerator(t)
	base := g.NewState()
	f := buildFigure("mixing", g.Cfg, base, figureArgs{paper: true})
	if len(f.Cells) != 7 || len(f.Cells[0]) != 6 {
		t.Fatalf("paper mixing figure has %d rows of %d, want 7 of 6", len(f.Cells), len(f.Cells[0]))
	}
	// Top row: B = src_seeds; left column: A = dst_seeds (generate_figures.py).
	if st := f.Cells[0][1].State; st.B.Seed != 639 || st.Styles[0] != latent.FromB {
		t.Errorf("top-left B cell: %s", st.Encode())
	}
	if st := f.Cells[6][5].State; st.A.Seed != 845 || st.B.Seed != 2268 || st.Psi != 1 || st.Noise[0].Mode != latent.NoiseConst {
		t.Errorf("bottom-right cell: %s, want A 845, B 2268, psi 1, const noise", st.Encode())
	}
	f = buildFigure("truncation", g.Cfg, base, figureArgs{paper: true})
	if st := f.Cells[1][3].State; st.A.Seed != 388 || st.Psi != 0 || st.Noise[0].Mode != latent.NoiseConst {
		t.Errorf("truncation cell: %s", st.Encode())
	}
	f = buildFigure("noise", g.Cfg, base, figureArgs{paper: true, psiGiven: true, draws: 100})
	if st := f.Cells[0][0].State; st.A.Seed != 1157 || st.Psi != base.Psi {
		t.Errorf("noise cell with --psi: %s", st.Encode())
	}
	f = buildFigure("noise-layers", g.Cfg, base, figureArgs{seeds: []int64{3}})
	if st := f.Cells[0][0].State; st.A.Seed != 3 || st.Psi != base.Psi || st.Noise[0].Mode != latent.NoiseRandom {
		t.Errorf("non-paper noise-layers cell: %s", st.Encode())
	}
}

// A figure whose PNG takes seconds to encode says so on stderr before the
// wait (the bar ends with the cells).
func TestFigureBigPNGAnnounced(t *testing.T) {
	defer func(v int) { bigPNG = v }(bigPNG)
	path := filepath.Join(t.TempDir(), "u.png")
	for _, c := range []struct {
		limit int
		want  bool
	}{{1 << 30, false}, {1000, true}} {
		bigPNG = c.limit
		var o, e bytes.Buffer
		if err := runFigure([]string{"uncurated", "--checkpoint", figFixture(t), "--seeds", "1", "--size", "16", "-o", path}, &o, &e); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(e.String(), "encoding "+path); got != c.want {
			t.Errorf("limit %d px: stderr %q, want the encoding announced: %v", c.limit, e.String(), c.want)
		}
	}
}
