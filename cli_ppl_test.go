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
)

func pplCmd(args []string, out, errb *bytes.Buffer) error { return runPPL(args, out, errb) }

// pplArgs are tiny sizes (about a second on the embedded 64 px model) plus
// extra flags.
func pplArgs(extra ...string) []string {
	return append([]string{"--samples", "16", "--batch", "8"}, extra...)
}

var pplRow = regexp.MustCompile(`(?m)^([zw])\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)$`)

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
	match(t, text, `(?m)^distance: classifier default, LPIPS baseline form`)
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
	if o.Checkpoint != "default" || o.Classifier != "default" || o.Resolution != 64 || o.Provenance != prov || len(o.Reports) != 2 {
		t.Fatalf("JSON %+v", o)
	}
	rows := pplRow.FindAllStringSubmatch(text, -1)
	if len(rows) != 2 {
		t.Fatalf("%d table rows, want z and w:\n%s", len(rows), text)
	}
	for i, r := range o.Reports {
		want := []string{r.Space, g5(r.PPL), g5(r.RawMean), g5(r.Median), g5(r.P1), g5(r.P99), fmt.Sprint(r.Kept)}
		if got := rows[i][1:]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d: text %q, JSON %q", i, got, want)
		}
		if r.Samples != 16 || r.Batch != 8 || r.Seed != 3 || r.Epsilon != 1e-4 || r.Sampling != "full" || r.Resolution != 64 {
			t.Errorf("%s: options %+v", r.Space, r)
		}
		if !(r.PPL > 0) || r.P1 > r.Median || r.Median > r.P99 || r.Kept < 14 || r.Kept > 16 {
			t.Errorf("%s: PPL %g, p1 %g, median %g, p99 %g, kept %d", r.Space, r.PPL, r.P1, r.Median, r.P99, r.Kept)
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
	a := runCmd(t, pplCmd, pplArgs("--seed", "7")...)
	b := runCmd(t, pplCmd, pplArgs("--seed", "7")...)
	if a != b {
		t.Errorf("same seed, different reports:\n%s\n---\n%s", a, b)
	}
	c := runCmd(t, pplCmd, pplArgs("--seed", "8")...)
	if pplRow.FindString(a) == pplRow.FindString(c) {
		t.Errorf("seeds 7 and 8 give the same z row %q", pplRow.FindString(a))
	}
	w := runCmd(t, pplCmd, pplArgs("--seed", "7", "--space", "w")...)
	rows, wrows := pplRow.FindAllString(a, -1), pplRow.FindAllString(w, -1)
	if len(wrows) != 1 || len(rows) != 2 || wrows[0] != rows[1] {
		t.Errorf("--space w rows %q, --space both rows %q", wrows, rows)
	}
	if strings.Contains(w, "z/w ratio") {
		t.Errorf("one space, yet a ratio:\n%s", w)
	}
	end := runCmd(t, pplCmd, pplArgs("--seed", "7", "--space", "z", "--sampling", "end")...)
	match(t, end, `(?m)^sampling end, 16 samples`)
	if pplRow.FindString(end) == rows[0] {
		t.Errorf("end and full sampling give the same z row %q", rows[0])
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
		{[]string{"--batch", "0"}, []string{"--batch 0"}},
		{[]string{"--bogus"}, []string{"bogus"}},
		{[]string{"--checkpoint", text}, []string{text}},
		{[]string{"--checkpoint", missing}, []string{missing}},
		{[]string{"--classifier", text}, []string{text}},
		{[]string{"--classifier", missing}, []string{missing}},
		{[]string{"--json", filepath.Join(dir, "no", "such", "dir.json")}, []string{filepath.Join(dir, "no", "such")}},
	}
	fix := figFixture(t) // a 128 px model: not a toyfaces one
	cases = append(cases, badInput{[]string{"--checkpoint", fix}, []string{fix, "128 px model", "LPIPS"}})
	checkBadInput(t, func(args []string, stdout, stderr io.Writer) error {
		return runPPL(pplArgs(args...), stdout, stderr)
	}, cases)
}
