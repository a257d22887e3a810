package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/model/metrics"
	"stylegan-tui/model/toyfaces"
)

func evalCmd(args []string, out, errb *bytes.Buffer) error { return runEval(args, out, errb) }

// evalArgs are tiny sizes (a few seconds on the embedded 64 px model) plus
// extra flags.
func evalArgs(extra ...string) []string {
	return append([]string{"--n", "24", "--pairs", "6", "--noise-cases", "6", "--std-latents", "2",
		"--std-draws", "4", "--batch", "8"}, extra...)
}

// defaultImages is the images seen that the embedded model's provenance
// states ("EMA generator at N images").
func defaultImages(t *testing.T) (int64, string) {
	t.Helper()
	m, err := checkpoints.Default()
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(m.Provenance, " at ")
	var n int64
	if !ok {
		t.Fatalf("provenance %q states no images seen", m.Provenance)
	}
	if _, err := fmt.Sscanf(after, "%d images", &n); err != nil {
		t.Fatalf("provenance %q: %v", m.Provenance, err)
	}
	return n, m.Provenance
}

// match returns the submatches of re in s, failing the test when it does
// not match.
func match(t *testing.T, s, re string) []string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Errorf("no line matching %q in:\n%s", re, s)
		return make([]string, 10)
	}
	return m
}

func wantVerdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// TestEvalCommand evaluates the embedded model once and checks every
// section of the text report, the JSON against the text, and the layout of
// the per-pixel std figure.
func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	js, fig := filepath.Join(dir, "r.json"), filepath.Join(dir, "std.png")
	out := runCmd(t, evalCmd, evalArgs("--checkpoint", "default", "--seed", "3", "--json", js, "--std-image", fig)...)

	seen, prov := defaultImages(t)
	if want := "eval: default: 64 px, " + prov + "\nclassifier: judge (embedded default/judge.safetensors; never part of a training loss)\n\n"; !strings.HasPrefix(out, want) {
		t.Errorf("stdout starts %q, want %q", out[:min(len(out), len(want))], want)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON of one checkpoint is a curve point: images seen, file,
	// report, and the instrument that measured.
	var pt evalPoint
	if err := json.Unmarshal(b, &pt); err != nil {
		t.Fatal(err)
	}
	r := pt.Report
	if r == nil {
		t.Fatalf("no report in %s", b)
	}
	if pt.File != "default" || pt.Images != seen || !strings.HasPrefix(pt.Classifier, "judge (") {
		t.Errorf("JSON file %q images %d classifier %q, want default, %d (the provenance) and the judge", pt.File, pt.Images, pt.Classifier, seen)
	}
	if r.Resolution != 64 || r.N != 24 || r.Pairs != 6 || r.NoiseCases != 6 || r.StdDraws != 4 || len(r.StdSeeds) != 2 {
		t.Errorf("JSON sizes: res %d n %d pairs %d noise cases %d std draws %d std seeds %v",
			r.Resolution, r.N, r.Pairs, r.NoiseCases, r.StdDraws, r.StdSeeds)
	}

	checkEvalLabels(t, out, r)
	checkEvalMixing(t, out, r)
	checkEvalNoise(t, out, r)

	// The bar: TV per factor, hole, own and keep per group, noise stay.
	m := match(t, out, `(?m)^Bar: (\d+) of (\d+) checks pass(; failing: .*)?$`)
	pass := 0
	for _, c := range r.Checks() {
		if c.Pass {
			pass++
		}
	}
	if want := len(toyfaces.Factors) + 1 + 2*3 + 1; m[2] != strconv.Itoa(want) || m[1] != strconv.Itoa(pass) {
		t.Errorf("bar: text %q, want %d of %d", m[0], pass, want)
	}
	match(t, out, `(?m)^  std figure: `+regexp.QuoteMeta(fig)+`$`)
	checkStdFigure(t, fig, r.StdSeeds)
}

// checkEvalLabels checks the report's label distributions, hole and
// Frechet distance against its JSON.
func checkEvalLabels(t *testing.T, out string, r *metrics.Report) {
	t.Helper()
	// Label distributions: one line per toyfaces factor, as in the JSON.
	match(t, out, `(?m)^Label distributions: 24 generated images \(psi 1\) vs 24 toyfaces at 64 px, classifier labels$`)
	if len(r.Factors) != len(toyfaces.Factors) {
		t.Fatalf("JSON has %d factors, want %d", len(r.Factors), len(toyfaces.Factors))
	}
	for i, f := range toyfaces.Factors {
		m := match(t, out, fmt.Sprintf(`(?m)^  %s %s (\d\.\d{3})   (PASS|FAIL)  (\d\.\d{3})$`,
			regexp.QuoteMeta(fmt.Sprintf("%-11s", f.Name)), fmt.Sprintf("%-7s", f.Group)))
		j := r.Factors[i]
		if j.Name != f.Name || m[1] != fmt.Sprintf("%.3f", j.TV) || m[2] != wantVerdict(j.TV <= metrics.BarTV) ||
			m[3] != fmt.Sprintf("%.3f", j.Accuracy) {
			t.Errorf("factor %s: text TV %s %s accuracy %s, JSON %+v", f.Name, m[1], m[2], m[3], j)
		}
	}
	match(t, out, fmt.Sprintf(`(?m)^  TV mean %.3f, max %.3f \(bar <= 0\.15 per factor\)$`, r.TVMean, r.TVMax))

	m := match(t, out, `(?m)^Hole \(long hair \+ full beard\): (\d+\.\d)% of generated images   (PASS|FAIL) \(bar <= 3%; real images: (\d+\.\d)%, classifier error\)$`)
	if m[1] != fmt.Sprintf("%.1f", 100*r.Hole) || m[2] != wantVerdict(r.Hole <= metrics.BarHole) || m[3] != fmt.Sprintf("%.1f", 100*r.HoleReal) {
		t.Errorf("hole: text %q, JSON %v real %v", m[0], r.Hole, r.HoleReal)
	}

	m = match(t, out, `(?m)^Frechet distance of classifier features: (\d+\.\d{3}) generated vs real, (\d+\.\d{3}) real vs real \(two disjoint sets of 24\)$`)
	if m[1] != fmt.Sprintf("%.3f", r.FDGen) || m[2] != fmt.Sprintf("%.3f", r.FDReal) {
		t.Errorf("FD: text %s / %s, JSON %v / %v", m[1], m[2], r.FDGen, r.FDReal)
	}
	if r.FDGen <= 0 || r.FDReal <= 0 {
		t.Errorf("FD gen %v real %v: want positive distances", r.FDGen, r.FDReal)
	}
}

// checkEvalMixing checks the style-mixing section: all three groups of a
// 64 px model, own and keep with their counts and verdicts.
func checkEvalMixing(t *testing.T, out string, r *metrics.Report) {
	t.Helper()

	// Style mixing: a 64 px model has all three groups.
	match(t, out, `(?m)^Style mixing: 6 pairs \(A, B\) with the same noise`)
	var groups []string
	for _, g := range r.Mixing {
		groups = append(groups, g.Group)
		if !g.Present {
			t.Errorf("group %s absent from a 64 px model", g.Group)
			continue
		}
		m := match(t, out, fmt.Sprintf(`(?m)^  %-7s slots? [\d-]+ \([\d-]+px\)\s+own (\d\.\d{3}) \((\d+)/(\d+)\) (PASS|FAIL)   keep (\d\.\d{3}) \((\d+)/(\d+)\) (PASS|FAIL)$`, g.Group))
		want := []string{fmt.Sprintf("%.3f", g.Own()), strconv.Itoa(g.OwnHits), strconv.Itoa(g.OwnCases), wantVerdict(g.OwnCases > 0 && g.Own() >= metrics.BarMix),
			fmt.Sprintf("%.3f", g.Keep()), strconv.Itoa(g.KeepHits), strconv.Itoa(g.KeepCases), wantVerdict(g.KeepCases > 0 && g.Keep() >= metrics.BarMix)}
		if !slices.Equal(m[1:9], want) {
			t.Errorf("mixing %s: text %v, JSON %v", g.Group, m[1:9], want)
		}
	}
	if !slices.Equal(groups, []string{"coarse", "middle", "fine"}) {
		t.Errorf("mixing groups %v, want coarse, middle, fine", groups)
	}
}

// checkEvalNoise checks the noise section: the stay rate, per factor, the
// per-pixel std and the noise share.
func checkEvalNoise(t *testing.T, out string, r *metrics.Report) {
	t.Helper()

	// Noise: the stay rate, per factor, the per-pixel std, the noise share.
	m := match(t, out, `(?m)^Noise: 6 latents, every noise map resampled: all labels stay in (\d+\.\d)%   (PASS|FAIL) \(bar >= 90%\)$`)
	if m[1] != fmt.Sprintf("%.1f", 100*r.NoiseStay) || m[2] != wantVerdict(r.NoiseStay >= metrics.BarNoise) {
		t.Errorf("noise stay: text %q, JSON %v", m[0], r.NoiseStay)
	}
	var per []string
	for i, f := range toyfaces.Factors {
		per = append(per, fmt.Sprintf("%s %.3f", f.Name, r.NoiseFactorStay[i]))
	}
	match(t, out, `(?m)^  per factor: `+regexp.QuoteMeta(strings.Join(per, ", "))+`$`)
	if r.StdMean <= 0 {
		t.Errorf("std mean %v: the default model's noise should move some pixel", r.StdMean)
	}
	match(t, out, fmt.Sprintf(`(?m)^  per-pixel std over 4 noise draws of 2 latents: mean %.4f, max %.4f; the 20%% most variable pixels hold %s%% of the variance$`,
		r.StdMean, r.StdScale, regexp.QuoteMeta(fmt.Sprintf("%.1f", 100*r.StdTop20))))
	m = match(t, out, `(?m)^  noise share of the pixel variance: ([0-9.e+-]+%) of the variance across generated images comes from noise alone \(toyfaces' stochastic details: ([0-9.e+-]+%)\)$`)
	if m[1] != metrics.Percent(r.NoiseShare) || m[2] != metrics.Percent(r.NoiseShareReal) {
		t.Errorf("noise share: text %q, JSON %v / %v", m[0], r.NoiseShare, r.NoiseShareReal)
	}
	if r.NoiseShare <= 0 || r.NoiseShare >= 1 || r.NoiseShareReal <= 0 || r.NoiseShareReal >= 1 {
		t.Errorf("noise share %v, real %v: want shares in (0, 1)", r.NoiseShare, r.NoiseShareReal)
	}

}

// checkStdFigure checks the per-pixel std figure's layout: a row per std
// latent, three noise draws and the std map per row.
func checkStdFigure(t *testing.T, fig string, seeds []int64) {
	t.Helper()
	// The figure: a row per std latent, three noise draws and the std map
	// per row, each 64 px cell enlarged to 128; row labels "z seed\nN", two
	// line column headers, 7 px glyphs, 4 px gaps and padding.
	img := readPNG(t, fig)
	const cell, gap, pad, glyph, lineH = 128, 4, 4, 7, 13
	chars := len("z seed")
	for _, s := range seeds {
		chars = max(chars, len(strconv.FormatInt(s, 10)))
	}
	labelW := chars*glyph + 2*pad
	headerH := 2*lineH + 2*pad
	W := gap + labelW + 4*(cell+gap)
	H := gap + headerH + 2*(cell+gap)
	if b := img.Bounds(); b.Dx() != W || b.Dy() != H {
		t.Fatalf("std figure is %dx%d, want %dx%d", b.Dx(), b.Dy(), W, H)
	}
	// The std map (last column) is grey, white at the largest std.
	var peak uint32
	for row := 0; row < 2; row++ {
		x0, y0 := gap+labelW+3*(cell+gap), gap+headerH+row*(cell+gap)
		for y := y0; y < y0+cell; y++ {
			for x := x0; x < x0+cell; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if cr != cg || cg != cb {
					t.Fatalf("std map pixel (%d, %d) is not grey: %d %d %d", x, y, cr, cg, cb)
				}
				peak = max(peak, cr>>8)
			}
		}
	}
	if peak != 255 {
		t.Errorf("std map peak %d, want 255 (white = the largest std)", peak)
	}
}

// TestEvalClassifierChoice: the judge measures by default; the judge's
// file given by path measures the same; the trainer's classifier, another
// net, labels and embeds differently, and each report names its instrument.
func TestEvalClassifierChoice(t *testing.T) {
	body := func(s string) (string, string) {
		head, rest, ok := strings.Cut(s, "\n\n")
		if !ok {
			t.Fatalf("no blank line after the header in\n%s", s)
		}
		return head, rest
	}
	hj, judge := body(runCmd(t, evalCmd, evalArgs("--seed", "5")...))
	hp, byPath := body(runCmd(t, evalCmd, evalArgs("--seed", "5", "--classifier", "checkpoints/default/judge.safetensors")...))
	hc, clf := body(runCmd(t, evalCmd, evalArgs("--seed", "5", "--classifier", "classifier")...))
	if !strings.HasSuffix(hj, "\nclassifier: judge (embedded default/judge.safetensors; never part of a training loss)") ||
		!strings.HasSuffix(hp, "\nclassifier: checkpoints/default/judge.safetensors") ||
		!strings.HasSuffix(hc, "\nclassifier: classifier (embedded default/classifier.safetensors; the GAN trainer's feature backbone)") {
		t.Errorf("headers:\n%s\n%s\n%s", hj, hp, hc)
	}
	if judge != byPath {
		t.Errorf("the judge by name and by path measure differently:\n%s\n---\n%s", judge, byPath)
	}
	fd := `(?m)^Frechet distance of classifier features: (\S+) generated vs real, (\S+) real vs real`
	if a, b := match(t, judge, fd)[0], match(t, clf, fd)[0]; a == b {
		t.Errorf("the judge and the classifier give the same Frechet distances: %q", a)
	}
}

// TestEvalDeterministic: the seed fixes every number; another seed moves
// the Frechet distance.
func TestEvalDeterministic(t *testing.T) {
	a := runCmd(t, evalCmd, evalArgs("--seed", "7")...)
	b := runCmd(t, evalCmd, evalArgs("--seed", "7")...)
	if a != b {
		t.Errorf("same seed, different reports:\n%s\n---\n%s", a, b)
	}
	c := runCmd(t, evalCmd, evalArgs("--seed", "8")...)
	fd := func(s string) string {
		return match(t, s, `(?m)^Frechet distance of classifier features: (\S+) generated vs real, (\S+) real vs real`)[0]
	}
	if fd(a) == "" || fd(a) == fd(c) {
		t.Errorf("seeds 7 and 8 give the same Frechet distances: %q", fd(a))
	}
}

// curveImages formats images seen like the curve table's first column.
func curveImages(n int64) string {
	if n >= 1e6 && n%1e4 == 0 {
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
	if n >= 1000 {
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return strconv.FormatInt(n, 10)
}

// TestEvalCurve evaluates a run directory's snapshots in order. Images seen
// come from a snapshot's provenance when it states them, else from its name.
func TestEvalCurve(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	// 50k: the trainer's file as is, under a name that disagrees with its
	// provenance (1.1M images), which wins and orders the rows; 100k: the
	// same weights with a provenance that gives no count.
	raw, err := os.ReadFile("checkpoints/default/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "ema-000050k.safetensors"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := checkpoints.Default()
	if err != nil {
		t.Fatal(err)
	}
	m.Provenance = "a copy of the default model"
	if err := checkpoints.Save(filepath.Join(run, "ema-000100k.safetensors"), m); err != nil {
		t.Fatal(err)
	}
	// Not snapshots: ignored.
	for _, name := range []string{"g-000300k.safetensors", "ema-000300k.safetensors.tmp", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(run, name), []byte("not a checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	table, js := filepath.Join(dir, "curve.md"), filepath.Join(dir, "curve.json")
	var out, errb bytes.Buffer
	if err := runEval(evalArgs("--curve", run, "--table", table, "--json", js), &out, &errb); err != nil {
		t.Fatalf("%v (stderr %q)", err, errb.String())
	}
	stdout := out.String()
	seen, _ := defaultImages(t)

	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "classifier: judge (") || lines[1] != "" {
		t.Fatalf("want the instrument, a blank line, a header, a separator and 2 rows, got:\n%s", stdout)
	}
	lines = lines[2:]
	if !strings.HasPrefix(lines[0], "| images | res |") || !strings.Contains(lines[0], "noise share") ||
		!strings.HasPrefix(lines[1], "| --- |") || strings.Count(lines[0], "|") != strings.Count(lines[1], "|") {
		t.Errorf("table head:\n%s\n%s", lines[0], lines[1])
	}
	rows := lines[2:]
	for i, want := range []string{"| 100k | 64 |", "| " + curveImages(seen) + " | 64 |"} {
		if !strings.HasPrefix(rows[i], want) || strings.Count(rows[i], "|") != strings.Count(lines[0], "|") {
			t.Errorf("row %d %q: want it to start %q with the header's columns", i, rows[i], want)
		}
	}
	// The same weights and seed: the same numbers after the images column.
	_, a, _ := strings.Cut(rows[0], " | ")
	_, b, _ := strings.Cut(rows[1], " | ")
	if a != b {
		t.Errorf("the two copies of one model measure differently:\n%s\n%s", rows[0], rows[1])
	}
	got, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != stdout {
		t.Errorf("--table file:\n%s\nstdout:\n%s", got, stdout)
	}

	b2, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var pts []evalPoint
	if err := json.Unmarshal(b2, &pts); err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 {
		t.Fatalf("JSON has %d points, want 2", len(pts))
	}
	for i, want := range []struct {
		file   string
		images int64
	}{{"ema-000100k.safetensors", 100000}, {"ema-000050k.safetensors", seen}} {
		p := pts[i]
		if filepath.Base(p.File) != want.file || p.Images != want.images || p.Report == nil || p.Report.Resolution != 64 || !strings.HasPrefix(p.Classifier, "judge (") {
			t.Errorf("point %d: file %q images %d classifier %q, want %s, %d and the judge", i, p.File, p.Images, p.Classifier, want.file, want.images)
			continue
		}
		if s := fmt.Sprintf(" | %.2f / %.2f |", p.Report.FDGen, p.Report.FDReal); !strings.Contains(rows[i], s) {
			t.Errorf("row %d %q lacks the JSON's FD%s", i, rows[i], s)
		}
		if s := fmt.Sprintf("eval: %s: 64 px,", want.file); !strings.Contains(errb.String(), s) {
			t.Errorf("no %q on stderr:\n%s", s, errb.String())
		}
	}
}

// TestEvalBadInput: bad flags, directories and files give an error naming
// them, before any output.
// TestEvalNoiseOff: --noise-off zeroes the named noise inputs: with all of
// them off every label stays and no pixel varies; with the 64 px ones off
// the report says so and the noise still moves pixels.
func TestEvalNoiseOff(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runEval(evalArgs("--noise-off", "0-"), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	all := out.String()
	for _, want := range []string{"Noise inputs 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 off in every image", "all labels stay in 100.0%", "no pixel varies", "noise share of the pixel variance: 0%"} {
		if !strings.Contains(all, want) {
			t.Errorf("--noise-off 0-: no %q in\n%s", want, all)
		}
	}
	out.Reset()
	if err := runEval(evalArgs("--noise-off", "8-9"), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "Noise inputs 8, 9 off") || strings.Contains(s, "no pixel varies") {
		t.Errorf("--noise-off 8-9:\n%s", s)
	}
}

func TestEvalBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a checkpoint\n"), 0o644)
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("not a checkpoint either, but long enough to have a header length"), 0o644)
	missing := filepath.Join(dir, "missing")
	cases := []badInput{
		{[]string{"--curve", empty, "--checkpoint", "default"}, []string{"--curve", "--checkpoint"}},
		{[]string{"--table", filepath.Join(dir, "t.md")}, []string{"--table", "--curve"}},
		{[]string{"--n", "1"}, []string{"--n 1"}},
		{[]string{"--noise-off", "10"}, []string{"--noise-off", "noise inputs 0..9"}},
		{[]string{"--noise-off", "x-2"}, []string{"--noise-off"}},
		{[]string{"--n", "0"}, []string{"--n 0"}},
		{[]string{"--pairs", "0"}, []string{"--pairs 0"}},
		{[]string{"--std-draws", "-1"}, []string{"--std-draws -1"}},
		{[]string{"--batch", "0"}, []string{"--batch 0"}},
		// Huge counts: a panic (makeslice) or an out-of-memory crash before.
		{[]string{"--batch", "99999999999"}, []string{"--batch 99999999999", "want 1..1024"}},
		{[]string{"--std-draws", "99999999999"}, []string{"--std-draws 99999999999", "want 1..1000"}},
		{[]string{"--std-latents", "99999999999"}, []string{"--std-latents 99999999999", "want 1..64"}},
		// Outputs are checked before the measurement, which a failed write wasted.
		{[]string{"--json", filepath.Join(missing, "r.json")}, []string{"--json", missing}},
		{[]string{"--std-image", filepath.Join(missing, "s.png")}, []string{"--std-image", missing}},
		{[]string{"--std-image", filepath.Join(dir, "s.bmp")}, []string{"--std-image", "s.bmp", ".png"}},
		{[]string{"--json", empty}, []string{"--json", empty, "is a directory"}},
		{[]string{"--bogus"}, []string{"bogus"}},
		{[]string{"--curve", missing}, []string{"--curve", missing}},
		{[]string{"--curve", empty}, []string{"--curve", empty, "no ema-"}},
		{[]string{"--checkpoint", text}, []string{text}},
		{[]string{"--checkpoint", junk}, []string{junk}},
		{[]string{"--checkpoint", missing + ".safetensors"}, []string{missing + ".safetensors"}},
		{[]string{"--classifier", text}, []string{text}},
		{[]string{"--classifier", "default"}, []string{"--classifier default", "judge", "classifier"}},
	}
	fix := figFixture(t) // a 128 px model: not a toyfaces one
	cases = append(cases, badInput{[]string{"--checkpoint", fix}, []string{fix, "128 px model"}})
	checkBadInput(t, func(args []string, stdout, stderr io.Writer) error {
		return runEval(evalArgs(args...), stdout, stderr)
	}, cases)
}

// TestOffInputs: --noise-off against models with different input counts;
// --curve (clip) skips the inputs a snapshot lacks.
func TestOffInputs(t *testing.T) {
	for _, c := range []struct {
		rng  string
		n    int
		clip bool
		want []bool
	}{
		{"", 4, false, nil},
		{"1-2", 4, false, []bool{false, true, true, false}},
		{"2-", 4, true, []bool{false, false, true, true}},
		{"8-9", 4, true, []bool{false, false, false, false}},
		{"3-9", 4, true, []bool{false, false, false, true}},
	} {
		got, err := offInputs(c.rng, c.n, c.clip)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("offInputs(%q, %d, %v) = %v, %v; want %v", c.rng, c.n, c.clip, got, err, c.want)
		}
	}
	if _, err := offInputs("8-9", 4, false); err == nil || !strings.Contains(err.Error(), "noise inputs 0..3") {
		t.Errorf("8-9 of 4 inputs: %v", err)
	}
}
