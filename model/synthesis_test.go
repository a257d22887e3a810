package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestBlocks spells out smallConfig's synthesis network as Config.Blocks
// describes it: the constant, then per block an upsampling layer (fused
// from 32 px) and a 3x3 conv, with each convention's style and noise slots.
func TestBlocks(t *testing.T) {
	for _, tc := range []struct {
		perBlock bool
		want     string
	}{
		{false, `
4px: 0 const 0->8 s0 n0 | 1 conv 8->8 s1 n1
8px: 2 up 8->8 s2 n2 | 3 conv 8->8 s3 n3
16px: 4 up 8->6 s4 n4 | 5 conv 6->6 s5 n5
32px: 6 up fused 6->4 s6 n6 | 7 conv 4->4 s7 n7`},
		{true, `
4px: 0 const 0->8 s0 n0 | 1 conv 8->8 s0 n0
8px: 2 up bias-before-blur 8->8 s1 n1 | 3 conv 8->8 s1 n1
16px: 4 up bias-before-blur 8->6 s2 n2 | 5 conv 6->6 s2 n2
32px: 6 up fused bias-before-blur 6->4 s3 n3 | 7 conv 4->4 s3 n3`},
	} {
		c := smallConfig(tc.perBlock)
		var got strings.Builder
		for _, b := range c.Blocks() {
			fmt.Fprintf(&got, "\n%dpx:", b.Res)
			for k, l := range b.Layers {
				if k > 0 {
					got.WriteString(" |")
				}
				kind := "conv"
				switch {
				case l.Const:
					kind = "const"
				case l.Up:
					kind = "up"
				}
				if l.Fused {
					kind += " fused"
				}
				if l.BiasBeforeBlur {
					kind += " bias-before-blur"
				}
				fmt.Fprintf(&got, " %d %s %d->%d s%d n%d", l.Index, kind, l.In, l.Out, l.StyleSlot, l.NoiseSlot)
				if l.Block != b.Index || l.Res != b.Res || l.Out != b.Channels || l.NormEps != c.NormEps {
					t.Errorf("perBlock=%v: layer %d disagrees with its block %+v: %+v", tc.perBlock, l.Index, b, l)
				}
			}
		}
		if got.String() != tc.want {
			t.Errorf("perBlock=%v: Blocks:%s\nwant:%s", tc.perBlock, got.String(), tc.want)
		}
		var idx []int
		for _, l := range c.Layers() {
			idx = append(idx, l.Index)
		}
		if len(idx) != c.NumLayers() || !slices.IsSorted(idx) {
			t.Errorf("perBlock=%v: Layers gives indices %v for %d layers", tc.perBlock, idx, c.NumLayers())
		}
	}
}
