package classifier

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// A done context stops Train after the step under way: the net so far
// comes back, its metadata saying how far, with the context's error.
func TestTrainStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	n, err := Train(TrainOptions{Config: tiny, Images: 160, Batch: 16, Seed: 5, Context: ctx,
		Progress: func(int, float64) {
			if steps++; steps == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || n == nil {
		t.Fatalf("Train stopped: net %v, err %v; want a net and context.Canceled", n != nil, err)
	}
	if steps != 3 || n.Metadata()["images"] != "48" {
		t.Errorf("%d steps, images %q; want 3 and \"48\"", steps, n.Metadata()["images"])
	}
}

// Evaluate in chunks gives the accuracies of one pass over every image,
// reports its progress per chunk, and stops on a done context.
func TestEvaluateChunks(t *testing.T) {
	n, err := initNet(tiny, 5)
	if err != nil {
		t.Fatal(err)
	}
	seeds := make([]int64, 20)
	for i := range seeds {
		seeds[i] = HeldoutSeed(i)
	}
	resList := []int{64, 16}
	pix, labels := RenderRGB(seeds)
	var want [][]float64
	for _, res := range resList {
		p, err := n.Predict(Images(pix, res), len(pix), res)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Accuracy(p.Labels, labels))
	}
	defer func(c int) { evalChunk = c }(evalChunk)
	evalChunk = 7
	var done []int
	got, err := Evaluate(context.Background(), n, seeds, resList, func(d int) { done = append(done, d) })
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		for f := range want[k] {
			if d := got[k][f] - want[k][f]; d > 1e-12 || d < -1e-12 {
				t.Errorf("res %d factor %d: %v in chunks, %v in one pass", resList[k], f, got[k][f], want[k][f])
			}
		}
	}
	if !slices.Equal(done, []int{7, 14, 20}) {
		t.Errorf("progress %v, want [7 14 20]", done)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, n, seeds, resList, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Evaluate on a done context: %v", err)
	}
}
