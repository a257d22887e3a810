package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/model/classifier"
)

func TestTrainClassifierFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--images", "x"}, "--images"},
		{[]string{"--batch", "0"}, "--batch"},
		{[]string{"--heldout", "-1"}, "--heldout"},
		{[]string{"--heldout", "200000"}, "--heldout 200000: want 0..100000"},
		{[]string{"--channels", "4,0"}, "--channels"},
		{[]string{"--res-weights", "12:1"}, "--res-weights"},
		{[]string{"--init", "/nonexistent.safetensors"}, "nonexistent"},
		{[]string{"--seeds", "gan"}, "--seeds"},
		{[]string{"--convs", "0"}, "--convs"},
		{[]string{"--seeds", "judge", "--seed", "256"}, "--seed 256"},
		// Each of these trained (or ran out of memory) before failing or
		// without one: checked before any work.
		{[]string{"--lr", "-1"}, "--lr -1"},
		{[]string{"--features", "100000000"}, "--features 100000000"},
		{[]string{"--channels", "4,100000"}, "--channels"},
		{[]string{"--images", "0"}, "at least one image"},
		{[]string{"--out", "/nonexistent-dir/c.safetensors"}, "no directory"},
		{[]string{"--out", "c.png"}, "want a .safetensors"},
	} {
		code, _, stderr := runCLI(append([]string{"train-classifier", "--out", filepath.Join(t.TempDir(), "c.safetensors")}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", c.args, code, stderr, c.want)
		}
	}
}

// TestTrainClassifierTiny trains a tiny net for a few steps and reads it back.
func TestTrainClassifierTiny(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.safetensors")
	code, stdout, stderr := runCLI("train-classifier", "--images", "32", "--batch", "16", "--channels", "4,4,4,4,4",
		"--features", "8", "--heldout", "20", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| mouth |") || !strings.Contains(stdout, "| 64 px | 32 px | 16 px | 8 px |") {
		t.Errorf("no accuracy table in %q", stdout)
	}
	n, err := classifier.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if md := n.Metadata(); !strings.Contains(md["command"], "--images 32") || !strings.Contains(md["heldout_accuracy"], "| mouth |") {
		t.Errorf("metadata %v", md)
	}
}

// TestTrainClassifierJudgeTiny trains a tiny two-convolution judge: the
// file says so, and its accuracy table is on the judge's held-out faces.
func TestTrainClassifierJudgeTiny(t *testing.T) {
	out := filepath.Join(t.TempDir(), "j.safetensors")
	code, _, stderr := runCLI("train-classifier", "--seeds", "judge", "--seed", "3", "--images", "32", "--batch", "16",
		"--channels", "4,4,4,4,4", "--convs", "2", "--features", "8", "--heldout", "20", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "judge images, channels [4 4 4 4 4] × 2 convs") {
		t.Errorf("stderr %q", stderr)
	}
	n, err := classifier.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if n.Seeds() != classifier.JudgeSeeds || n.Config().Convs != 2 {
		t.Errorf("seeds %v, config %+v", n.Seeds(), n.Config())
	}
	// The table is the judge's accuracy on its first 20 held-out faces.
	acc, err := classifier.Evaluate(context.Background(), n, classifier.JudgeSeeds.HeldoutSeeds(0, 20), []int{64, 32, 16, 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := accuracyTable(acc, []int{64, 32, 16, 8}, 20); n.Metadata()["heldout_accuracy"] != want {
		t.Errorf("table in the file:\n%s\nwant:\n%s", n.Metadata()["heldout_accuracy"], want)
	}
}

// A stopped run keeps its net in out.partial.safetensors, never over --out
// (which may hold a finished net), and writes nothing before its first step.
func TestTrainClassifierStopKeepsOut(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "c.safetensors")
	os.WriteFile(out, []byte("a finished net"), 0o644)
	f := trainClassifierFlags{out: out, n: 64}
	stopped := func(after int) *classifier.Net {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if after == 0 {
			cancel()
		}
		n, err := classifier.Train(classifier.TrainOptions{Config: classifier.Config{Channels: []int{4, 4, 4, 4, 4}, Features: 8},
			Images: 64, Batch: 16, Seed: 1, Context: ctx, Progress: func(done int, _ float64) {
				if done >= after {
					cancel()
				}
			}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Train: %v, want a stop", err)
		}
		return n
	}
	var errb bytes.Buffer
	stop := context.Canceled
	if err := f.savePartial(stopped(0), stop, &errb); err != stop || !strings.Contains(errb.String(), "nothing written") {
		t.Errorf("stopped before a step: %v, %q", err, errb.String())
	}
	if _, err := os.Stat(partialPath(out)); err == nil {
		t.Error("a net of 0 images was written")
	}
	if err := f.savePartial(stopped(16), stop, &errb); err != stop {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "a finished net" {
		t.Errorf("--out was overwritten: %q", b)
	}
	n, err := classifier.Load(filepath.Join(dir, "c.partial.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if md := n.Metadata(); md["images"] != "16" || md["stopped"] != "after 16 of 64 images" {
		t.Errorf("partial net's metadata: images %q, stopped %q", md["images"], md["stopped"])
	}
}
