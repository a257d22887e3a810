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
	arch := func() train.Arch {
		f, err := safetensors.ReadFile(filepath.Join(out, train.StateFile))
		if err != nil {
			t.Fatal(err)
		}
		var o train.Options
		if err := json.Unmarshal([]byte(f.Metadata["options"]), &o); err != nil {
			t.Fatal(err)
		}
		return o.Arch
	}
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
		{[]string{"--out", out, "--resume", "--lr", "0.001", "--channels", "8,8,8", "--z", "8"}, []string{"--channels, --lr would"}},
	})
	// Repeating the saved options (the start command plus --resume) is fine.
	stderr.Reset()
	if err := runTrain(append(tiny(out), "--d-channels", "8,6,6", "--resume", "--max-images", "24"), &stdout, &stderr); err != nil {
		t.Fatalf("resume with the saved options repeated: %v\n%s", err, stderr.String())
	}
}
