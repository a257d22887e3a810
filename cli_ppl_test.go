package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"stylegan-tui/internal/testfix"
	"stylegan-tui/model"
	"stylegan-tui/model/metrics"
)

func pplCmd(args []string, out, errb *bytes.Buffer) error { return runPPL(args, out, errb) }

// pplArgs are tiny sizes (about a second on the embedded 64 px model) plus
// extra flags.
func pplArgs(extra ...string) []string {
	return append([]string{"--samples", "16", "--batch", "8"}, extra...)
}

// pplRow is a table row: space, PPL, 95% interval, raw mean, median, p1, p99, kept, and
// samples/s (not compared between runs).
var pplRow = regexp.MustCompile(`(?m)^([zw])\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)(?:\s+\S+)?$`)

// untimed drops what depends on the machine's speed from a report: the rows' samples/s and
// the time the paper's sample count would take.
func untimed(s string) string {
	s = regexp.MustCompile(`(?m)^([zw]\s.*\d)\s+\S+$`).ReplaceAllString(s, "$1")
	return regexp.MustCompile(`(?m)^The paper's .* at this rate\.\n`).ReplaceAllString(s, "")
}

// TestPPLCommand measures the embedded model in both spaces and checks the
// text report against the JSON.
func TestPPLCommand(t *testing.T) {
	js := filepath.Join(t.TempDir(), "ppl.json")
	var out, errb bytes.Buffer
	if err := runPPL(pplArgs("--seed", "3", "--json", js), &out, &errb); err != nil {
		t.Fatalf("%v (stderr %q)", err, errb.String())
	}
	text := out.String()
	t.Logf("\n%s", text)
	_, prov := defaultImages(t)
	match(t, text, `(?m)^ppl: default: 64 px, `+regexp.QuoteMeta(prov)+`$`)
	match(t, text, `(?m)^distance: classifier judge, LPIPS baseline form`)
	match(t, text, `(?m)^sampling full, 16 samples, epsilon 0.0001, seed 3, psi 1`)
	if !strings.Contains(errb.String(), "ppl: z") || !strings.Contains(errb.String(), "ppl: w") || !strings.Contains(errb.String(), "ppl: done in") {
		t.Errorf("stderr has no progress for both spaces and no time: %q", errb.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var o pplOutput
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.Checkpoint != "default" || o.Classifier != "judge" || o.Resolution != 64 || o.Provenance != prov || len(o.Reports) != 2 {
		t.Fatalf("JSON %+v", o)
	}
	rows := pplRow.FindAllStringSubmatch(text, -1)
	if len(rows) != 2 {
		t.Fatalf("%d table rows, want z and w:\n%s", len(rows), text)
	}
	for i, r := range o.Reports {
		want := []string{r.Space, g5(r.PPL), g5(r.CILow), g5(r.CIHigh), g5(r.RawMean), g5(r.Median), g5(r.P1), g5(r.P99), fmt.Sprint(r.Kept)}
		if got := rows[i][1:]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d: text %q, JSON %q", i, got, want)
		}
		if r.Samples != 16 || r.Batch != 8 || r.Seed != 3 || r.Epsilon != 1e-4 || r.Sampling != "full" || r.Resolution != 64 {
			t.Errorf("%s: options %+v", r.Space, r)
		}
		if !(r.PPL > 0) || r.P1 > r.Median || r.Median > r.P99 || r.Kept < 14 || r.Kept > 16 {
			t.Errorf("%s: PPL %g, p1 %g, median %g, p99 %g, kept %d", r.Space, r.PPL, r.P1, r.Median, r.P99, r.Kept)
		}
		if !(r.CILow < r.PPL && r.PPL < r.CIHigh) || r.Bootstrap != 1000 || !(r.SamplesPerSec > 0) || r.Crop || r.DistanceRes != 64 {
			t.Errorf("%s: interval [%g, %g] around %g (%d resamples), %g samples/s, crop %v at %d px", r.Space, r.CILow, r.CIHigh, r.PPL, r.Bootstrap, r.SamplesPerSec, r.Crop, r.DistanceRes)
		}
	}
	if want := o.Reports[0].PPL / o.Reports[1].PPL; o.ZOverW != want {
		t.Errorf("JSON z_over_w %g, want %g", o.ZOverW, want)
	}
	match(t, text, `(?m)^z/w ratio: `+regexp.QuoteMeta(fmt.Sprintf("%.3f", o.ZOverW))+` `)
}

func g5(v float64) string { return fmt.Sprintf("%.5g", v) }

// TestPPLDeterministic checks that a seed fixes the numbers, and that one
// space alone gives the row the two-space run gives (both walk the same
// end points).
func TestPPLDeterministic(t *testing.T) {
	a := untimed(runCmd(t, pplCmd, pplArgs("--seed", "7")...))
	b := untimed(runCmd(t, pplCmd, pplArgs("--seed", "7")...))
	if a != b {
		t.Errorf("same seed, different reports:\n%s\n---\n%s", a, b)
	}
	c := untimed(runCmd(t, pplCmd, pplArgs("--seed", "8")...))
	if pplRow.FindString(a) == pplRow.FindString(c) {
		t.Errorf("seeds 7 and 8 give the same z row %q", pplRow.FindString(a))
	}
	w := untimed(runCmd(t, pplCmd, pplArgs("--seed", "7", "--space", "w")...))
	rows, wrows := pplRow.FindAllString(a, -1), pplRow.FindAllString(w, -1)
	if len(wrows) != 1 || len(rows) != 2 || wrows[0] != rows[1] {
		t.Errorf("--space w rows %q, --space both rows %q", wrows, rows)
	}
	if strings.Contains(w, "z/w ratio") {
		t.Errorf("one space, yet a ratio:\n%s", w)
	}
	end := untimed(runCmd(t, pplCmd, pplArgs("--seed", "7", "--space", "z", "--sampling", "end")...))
	match(t, end, `(?m)^sampling end, 16 samples`)
	if pplRow.FindString(end) == rows[0] {
		t.Errorf("end and full sampling give the same z row %q", rows[0])
	}
}

// TestPPLClassifierChoice: the judge gives the distance by default, the
// same as its file given by path; the trainer's classifier, another net,
// gives other path lengths.
func TestPPLClassifierChoice(t *testing.T) {
	judge := runCmd(t, pplCmd, pplArgs("--seed", "4", "--space", "w")...)
	byPath := runCmd(t, pplCmd, pplArgs("--seed", "4", "--space", "w", "--classifier", "checkpoints/default/judge.safetensors")...)
	clf := runCmd(t, pplCmd, pplArgs("--seed", "4", "--space", "w", "--classifier", "classifier")...)
	match(t, judge, `(?m)^distance: classifier judge, `)
	match(t, clf, `(?m)^distance: classifier classifier, `)
	// The rows without the rate.
	row := func(s string) string {
		m := pplRow.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no table row in\n%s", s)
		}
		return strings.Join(m[1:10], " ")
	}
	if a, b := row(judge), row(byPath); a == "" || a != b {
		t.Errorf("the judge by name and by path: rows %q and %q", a, b)
	}
	if a, b := row(judge), row(clf); a == b {
		t.Errorf("the judge and the classifier give the same row %q", a)
	}
}

func TestPPLBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a checkpoint\n"), 0o644)
	missing := filepath.Join(dir, "missing.safetensors")
	cases := []badInput{
		{[]string{"--space", "x"}, []string{`--space "x"`}},
		{[]string{"--sampling", "mid"}, []string{`--sampling "mid"`}},
		{[]string{"--samples", "0"}, []string{"--samples 0"}},
		{[]string{"--epsilon", "0"}, []string{"--epsilon 0"}},
		{[]string{"--epsilon", "-1e-4"}, []string{"--epsilon -0.0001"}},
		{[]string{"--epsilon", "NaN"}, []string{"--epsilon NaN"}},
		{[]string{"--epsilon", "1e300"}, []string{"--epsilon 1e+300", "(0, 1]"}},
		{[]string{"--batch", "-1"}, []string{"--batch -1"}},
		{[]string{"--bogus"}, []string{"bogus"}},
		{[]string{"--checkpoint", text}, []string{text}},
		{[]string{"--checkpoint", missing}, []string{missing}},
		{[]string{"--classifier", text}, []string{text}},
		{[]string{"--classifier", missing}, []string{missing}},
		{[]string{"--classifier", "default"}, []string{"--classifier default", "judge"}},
		{[]string{"--json", filepath.Join(dir, "no", "such", "dir.json")}, []string{filepath.Join(dir, "no", "such")}},
		{[]string{"--json", dir}, []string{"--json", dir, "is a directory"}},
		// Huge counts: out of memory before.
		{[]string{"--batch", "99999999999"}, []string{"--batch 99999999999", "0..1024"}},
		{[]string{"--bootstrap", "99999999999"}, []string{"--bootstrap 99999999999"}},
		{[]string{"--samples", "99999999999"}, []string{"--samples 99999999999"}},
	}
	fix := figFixture(t) // a 128 px model: not a toyfaces one
	cases = append(cases,
		badInput{[]string{"--checkpoint", fix, "--distance", "classifier"}, []string{fix, "128 px model", "--distance lpips"}},
		badInput{[]string{"--distance", "vgg"}, []string{`--distance "vgg"`}},
		badInput{[]string{"--bootstrap", "0"}, []string{"--bootstrap 0"}},
	)
	// LPIPS needs its weights: a 128 px model measures with LPIPS by default, and without
	// --vgg16 looks where torchvision keeps VGG16.
	t.Setenv("TORCH_HOME", dir)
	tiny := tinyLPIPS(t)
	cases = append(cases,
		badInput{[]string{"--checkpoint", fix}, []string{"--vgg16", filepath.Join(dir, "hub", "checkpoints", "vgg16-397923af.pth")}},
		badInput{[]string{"--checkpoint", fix, "--vgg16", text}, []string{text, "not a torch checkpoint"}},
		badInput{[]string{"--checkpoint", fix, "--vgg16", tiny[1]}, []string{"lin0.model.1.weight", "[1 64 1 1]"}},
		badInput{[]string{"--distance", "lpips"}, []string{"--vgg16", "vgg16-397923af.pth"}},
	)
	checkBadInput(t, func(args []string, stdout, stderr io.Writer) error {
		return runPPL(pplArgs(args...), stdout, stderr)
	}, cases)
}

// TestPPLLPIPS measures an NVlabs-layout model with LPIPS (the fixtures' small VGG16-shaped
// trunk): NVlabs' face crop by default (16 px of 32), the whole image with --crop=false.
func TestPPLLPIPS(t *testing.T) {
	nv32 := testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors")
	tiny := tinyLPIPS(t)
	js := filepath.Join(t.TempDir(), "ppl.json")
	text := runCmd(t, pplCmd, pplArgs(append(tiny, "--checkpoint", nv32, "--json", js)...)...)
	t.Logf("\n%s", text)
	match(t, text, `(?m)^distance: LPIPS v0.1 on VGG16 \(`+regexp.QuoteMeta(tiny[1])+`; linear layers `+regexp.QuoteMeta(tiny[3])+`\)$`)
	match(t, text, `(?m)^sampling full, 16 samples, epsilon 0.0001, seed 0, psi 1, same noise within a pair, face crop at 16 px$`)
	match(t, text, `(?m)^The paper's 100000 samples per space would take \S+ at this rate\.$`)
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var o pplOutput
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.Distance != "lpips" || o.VGG16 != tiny[1] || o.Lin != tiny[3] || o.Classifier != "" || o.Resolution != 32 || len(o.Reports) != 2 {
		t.Fatalf("JSON %+v", o)
	}
	rows := pplRow.FindAllStringSubmatch(text, -1)
	for i, r := range o.Reports {
		if !r.Crop || r.DistanceRes != 16 || !(r.PPL > 0) || !(r.CILow <= r.PPL && r.PPL <= r.CIHigh) {
			t.Errorf("%s: crop %v at %d px, PPL %g in [%g, %g]", r.Space, r.Crop, r.DistanceRes, r.PPL, r.CILow, r.CIHigh)
		}
		if len(rows) == 2 && rows[i][2] != g5(r.PPL) {
			t.Errorf("%s: text PPL %s, JSON %g", r.Space, rows[i][2], r.PPL)
		}
	}
	whole := runCmd(t, pplCmd, pplArgs(append(tiny, "--checkpoint", nv32, "--crop=false", "--space", "z")...)...)
	match(t, whole, `(?m)whole image at 32 px$`)
	if strings.Contains(whole, "face crop") || pplRow.FindStringSubmatch(whole)[2] == rows[0][2] {
		t.Errorf("--crop=false: the same report as the crop:\n%s", whole)
	}
	// The default model with --vgg16 measures with LPIPS, whole image (toyfaces is all face).
	def := runCmd(t, pplCmd, pplArgs(append(tiny, "--space", "w", "--crop=false")...)...)
	match(t, def, `(?m)^distance: LPIPS v0.1 on VGG16`)
	match(t, def, `(?m)whole image at 64 px$`)
}

// --batch 0 keeps a batch's activations near model.BatchBudget: one pair at
// 1024 px (the old default 32 would have held about 55-65 GB), the default 32
// on a small model; a larger batch asked for is kept, with a note.
func TestPPLBatchSettles(t *testing.T) {
	var errb bytes.Buffer
	f := pplFlags{}
	f.settleBatch(model.Rosinality(1024), &errb)
	if f.batch != 1 || errb.Len() != 0 {
		t.Errorf("1024 px, --batch 0: batch %d, note %q; want 1 and none", f.batch, errb.String())
	}
	f.batch = 8
	f.settleBatch(model.Rosinality(1024), &errb)
	if f.batch != 8 || !strings.Contains(errb.String(), "--batch 8 holds about") {
		t.Errorf("1024 px, --batch 8: batch %d, note %q", f.batch, errb.String())
	}
	f.batch = 0
	f.settleBatch(model.NVlabs(32), &errb)
	if f.batch != metrics.DefaultPPLOptions.Batch {
		t.Errorf("32 px, --batch 0: batch %d, want the default %d", f.batch, metrics.DefaultPPLOptions.Batch)
	}
	// A batch over the default but within the budget gets no note.
	errb.Reset()
	f.batch = 40 // 48 pairs fit at 32 px
	f.settleBatch(model.NVlabs(32), &errb)
	if f.batch != 40 || errb.Len() != 0 {
		t.Errorf("32 px, --batch 40: batch %d, note %q; want 40 and none", f.batch, errb.String())
	}
}
