package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model/train"
)

// TestTrainDChannels: --d-channels gives D its own feature maps, printed at
// the start and saved in the state; bad values are refused.
func TestTrainDChannels(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	tiny := func(out string) []string {
		return []string{"--out", out, "--channels", "4,4,4", "--z", "8", "--w", "8", "--mapping-layers", "2",
			"--schedule", "8:0+8@4,16:8+inf@4", "--data-pool", "8", "--sample-every", "0", "--snapshot-every", "0"}
	}
	var stdout, stderr bytes.Buffer
	if err := runTrain(append(tiny(out), "--d-channels", "8,6,6", "--max-images", "8"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "channels [4 4 4], D channels [8 6 6],") {
		t.Errorf("start-up line does not show the D channels:\n%s", stderr.String())
	}
	arch := func() train.Arch { return savedOptions(t, out).Arch }
	if a := arch(); !slices.Equal(a.Channels, []int{4, 4, 4}) || !slices.Equal(a.DChannels, []int{8, 6, 6}) {
		t.Errorf("saved arch %+v", a)
	}
	stderr.Reset()
	if err := runTrain([]string{"--out", out, "--resume", "--max-images", "16"}, &stdout, &stderr); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr.String())
	}
	if a := arch(); !slices.Equal(a.DChannels, []int{8, 6, 6}) {
		t.Errorf("arch after resume %+v", a)
	}

	dir := t.TempDir()
	bad := func(d string) []string {
		return append(tiny(filepath.Join(dir, d)), "--d-channels", d)
	}
	checkBadInput(t, runTrain, []badInput{
		{bad("8,8"), []string{"2 D channel blocks [8 8] for 3 G blocks [4 4 4]"}},
		{bad("8,8,8,8"), []string{"4 D channel blocks"}},
		{bad("8,x,8"), []string{"--d-channels", "positive integers"}},
		{bad("8,0,8"), []string{"--d-channels", "positive integers"}},
		{bad("8,9000,8"), []string{"D block 1 (8px) has 9000 channels, want 1..8192"}},
		// The saved run fixes its options: changing one on resume is refused.
		{[]string{"--out", out, "--resume", "--d-channels", "16,16,16"}, []string{"--resume", "--d-channels", "new --out"}},
		{[]string{"--out", out, "--resume", "--lr", "0.001", "--channels", "8,8,8", "--z", "8"}, []string{"--channels would"}},
		{append(tiny(filepath.Join(dir, "lr0")), "--lr", "0"), []string{"--lr 0", "positive learning rate"}},
		{append(tiny(filepath.Join(dir, "lp")), "--d-lowpass", "12"), []string{"--d-lowpass 12", "power of two >= 8"}},
		{append(tiny(filepath.Join(dir, "mx")), "--mix-crossovers", "3"), []string{"--mix-crossovers 3", "want 1 or 2"}},
		{[]string{"--out", out, "--resume", "--mix-crossovers", "2"}, []string{"--mix-crossovers would"}},
		{append(tiny(filepath.Join(dir, "mc")), "--mix-cuts", "4,2"), []string{`--mix-cuts "4,2"`, "increasing style slots"}},
		{append(tiny(filepath.Join(dir, "g")), "--r1-gamma", "-1"), []string{"--r1-gamma -1", "positive weight"}},
		{append(tiny(filepath.Join(dir, "re")), "--r1-every", "0"), []string{"--r1-every 0", "1 or more"}},
		{append(tiny(filepath.Join(dir, "em")), "--ema-kimg", "-1"), []string{"--ema-kimg -1", "half-life"}},
		{append(tiny(filepath.Join(dir, "le")), "--log-every", "-1s"), []string{"--log-every -1s", "positive time"}},
		{append(tiny(filepath.Join(dir, "dp")), "--data-pool", "100000000"), []string{"--data-pool 100000000", "12 KB each"}},
		{append(tiny(filepath.Join(dir, "mp")), "--mix-prob", "1.5"), []string{"--mix-prob 1.5", "0..1"}},
		{[]string{"--out", out, "--resume", "--mix-cuts", "0"}, []string{`--mix-cuts "0"`, "positive integers"}},
	})
	// Repeating the saved options (the start command plus --resume) is fine.
	stderr.Reset()
	if err := runTrain(append(tiny(out), "--d-channels", "8,6,6", "--resume", "--max-images", "24"), &stdout, &stderr); err != nil {
		t.Fatalf("resume with the saved options repeated: %v\n%s", err, stderr.String())
	}
}

// TestTrainResumeLR: --lr (the next lever for a run on a plateau),
// --d-lowpass and --mix-cuts may change on resume; the state records them
// and a reload trains with them. The run's cadence carries over.
func TestTrainResumeLR(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	args := []string{"--out", out, "--channels", "4,4", "--z", "8", "--w", "8", "--mapping-layers", "2",
		"--schedule", "8:0+inf@4", "--data-pool", "8", "--sample-every", "0", "--snapshot-every", "0",
		"--noise-share-every", "0", "--feature-d", "0", "--max-images", "8"}
	if err := runTrain(args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	stderr.Reset()
	if err := runTrain([]string{"--out", out, "--resume", "--lr", "0.001", "--d-lowpass", "8", "--mix-cuts", "2", "--max-images", "16"}, &stdout, &stderr); err != nil {
		t.Fatalf("resume --lr: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"learning rate 0.001 (was 0.002)", "half resolution in phases up to 8 px", "crossovers only at slots 2"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("resume --lr --d-lowpass does not say %q:\n%s", want, stderr.String())
		}
	}
	if o := savedOptions(t, out); o.LR != 0.001 || o.LowpassRes != 8 || !slices.Equal(o.MixCuts, []int{2}) {
		t.Errorf("saved lr %v, lowpass %d, mixing cuts %v after --resume --lr 0.001 --d-lowpass 8 --mix-cuts 2", o.LR, o.LowpassRes, o.MixCuts)
	}
	tr, err := train.LoadState(filepath.Join(out, train.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.GAdam.LR != 0.001 || tr.DAdam.LR != 0.001 || tr.Images != 16 {
		t.Errorf("reloaded run: G lr %v, D lr %v, %d images; want 0.001, 0.001, 16", tr.GAdam.LR, tr.DAdam.LR, tr.Images)
	}
	// The resume kept the cadence the run was started with (no samples,
	// snapshots or noise estimates), not the flags' defaults.
	if want := (train.Cadence{CheckpointEvery: 10000}); tr.Cadence == nil || *tr.Cadence != want {
		t.Errorf("reloaded run's cadence %+v, want the start's %+v", tr.Cadence, want)
	}
}

// TestTrainFeatureD: a new run has the feature D unless --feature-d 0; a
// resumed run keeps what it saved unless --feature-d is given, which turns
// it on in a run without it and may not change it in a run with it.
func TestTrainFeatureD(t *testing.T) {
	dir := t.TempDir()
	tiny := func(out string) []string {
		return []string{"--out", out, "--channels", "4,4,4", "--z", "8", "--w", "8", "--mapping-layers", "2",
			"--schedule", "8:0+8@4,16:0+inf@4", "--data-pool", "8", "--sample-every", "0", "--snapshot-every", "0",
			"--noise-share-every", "0"}
	}
	saved := func(out string) *train.FeatureDOptions { return savedOptions(t, out).FeatureD }
	train1 := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		if err := runTrain(args, &stdout, &stderr); err != nil {
			t.Fatalf("train %v: %v\n%s", args, err, stderr.String())
		}
		return stderr.String()
	}
	on, off := filepath.Join(dir, "on"), filepath.Join(dir, "off")
	if log := train1(append(tiny(on), "--max-images", "16")...); !strings.Contains(log, "feature D: weight 1, heads on backbone stages 2,3,4") {
		t.Errorf("a new run does not say its feature D:\n%s", log)
	}
	if f := saved(on); f == nil || f.Weight != 1 || f.FromRes != 16 {
		t.Errorf("saved feature D %+v, want the default", f)
	}
	train1(append(tiny(off), "--feature-d", "0", "--max-images", "8")...)
	if f := saved(off); f != nil {
		t.Errorf("--feature-d 0 saved %+v", f)
	}
	if log := train1("--out", off, "--resume", "--max-images", "16"); strings.Contains(log, "feature D") || saved(off) != nil {
		t.Errorf("a resumed run without a feature D got one:\n%s", log)
	}
	if log := train1("--out", off, "--resume", "--feature-d", "0.5", "--max-images", "24"); !strings.Contains(log, "feature D turned on: weight 0.5") {
		t.Errorf("--feature-d on resume did not turn it on:\n%s", log)
	}
	if f := saved(off); f == nil || f.Weight != 0.5 {
		t.Errorf("saved feature D %+v after turning it on", f)
	}
	checkBadInput(t, runTrain, []badInput{
		{[]string{"--out", on, "--resume", "--feature-d", "2"}, []string{"--feature-d would change"}},
		{append(tiny(filepath.Join(dir, "bad")), "--feature-d", "0", "--feature-d-taps", "1"), []string{"--feature-d-taps", "need --feature-d WEIGHT"}},
		{append(tiny(filepath.Join(dir, "bad2")), "--feature-d-taps", "2,x"), []string{"--feature-d-taps", "stage numbers"}},
		{append(tiny(filepath.Join(dir, "bad3")), "--feature-d-taps", "7"), []string{"tap 7", "stages 0..4"}},
	})
}

// savedOptions reads the training options saved in run directory out.
func savedOptions(t *testing.T, out string) train.Options {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join(out, train.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var o train.Options
	if err := json.Unmarshal([]byte(f.Metadata["options"]), &o); err != nil {
		t.Fatal(err)
	}
	return o
}
