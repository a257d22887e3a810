package model

import (
	"slices"
	"testing"

	"stylegan-tui/latent"
)

// A batch synthesised in parts (Rows) gives the whole batch's pixels, with
// per-item and shared noise maps.
func TestRowsMatchWholeBatch(t *testing.T) {
	g := newSmall(t, false)
	defer g.Close()
	c := g.Cfg
	const B = 5
	st := g.NewState()
	var in SynthesisInput
	for b := 0; b < B; b++ {
		st.A = latent.Source{Seed: int64(b + 1)}
		for j := range st.Noise {
			st.Noise[j].Seed = int64(10*b + j)
		}
		one, err := g.Inputs(st)
		if err != nil {
			t.Fatal(err)
		}
		if b == 0 {
			in = SynthesisInput{B: B, W: make([][]float32, len(one.W)), Noise: make([][]float32, len(one.Noise))}
		}
		for s := range one.W {
			in.W[s] = append(in.W[s], one.W[s]...)
		}
		for j := range one.Noise {
			if j == 0 && b > 0 {
				continue // slot 0: one map shared by the batch
			}
			in.Noise[j] = append(in.Noise[j], one.Noise[j]...)
		}
	}
	whole, _, err := g.Synthesis(in, Options{Step: -1, Alpha: -1})
	if err != nil {
		t.Fatal(err)
	}
	px := 3 * c.Resolution() * c.Resolution()
	for _, cut := range [][2]int{{0, 2}, {2, 5}, {4, 5}} {
		part, _, err := g.Synthesis(in.Rows(c, cut[0], cut[1]), Options{Step: -1, Alpha: -1})
		if err != nil {
			t.Fatal(err)
		}
		if want := whole[cut[0]*px : cut[1]*px]; !slices.Equal(part, want) {
			t.Errorf("rows %d..%d differ from the whole batch's", cut[0], cut[1]-1)
		}
	}
	// The last part padded to the parts' batch: its own rows come first,
	// unchanged, and no net of its size is built.
	nets := len(g.nets)
	padded := in.Rows(c, 3, 5).Padded(c, 3)
	if padded.B != 3 {
		t.Fatalf("padded batch %d, want 3", padded.B)
	}
	part, _, err := g.Synthesis(padded, Options{Step: -1, Alpha: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(part[:2*px], whole[3*px:]) || !slices.Equal(part[2*px:], whole[4*px:]) {
		t.Error("padded rows 3..4 differ from the whole batch's (or the padding from the last row)")
	}
	if len(g.nets) != nets {
		t.Errorf("%d nets after the padded part, want %d (the batch-3 net reused)", len(g.nets), nets)
	}
}

// BatchWithin keeps a batch's activations within the budget, never below
// one image: a 1024 px model gets 1 pair where a small model gets the
// maximum.
func TestBatchWithin(t *testing.T) {
	big, small := Rosinality(1024), smallConfig(false)
	if a := big.ActivationBytes(); a < 500<<20 || a > 2<<30 {
		t.Errorf("1024 px: %d MB an image, want about the measured 850", a>>20)
	}
	if b := big.BatchWithin(32, 2, BatchBudget); b != 1 {
		t.Errorf("1024 px pairs: batch %d, want 1", b)
	}
	if b := small.BatchWithin(32, 2, BatchBudget); b != 32 {
		t.Errorf("64 px pairs: batch %d, want 32", b)
	}
	if b := Rosinality(256).BatchWithin(32, 1, BatchBudget); b < 4 || b > 16 {
		t.Errorf("256 px: batch %d, want 4..16 (about 0.19 GB an image)", b)
	}
}
