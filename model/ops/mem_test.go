package ops

import (
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stack builds a small generator+discriminator-like chain of every op, with gradients of a
// scalar loss with respect to all parameters and the input.
func stack(t testing.TB, dt tensor.Dtype) (*G.ExprGraph, *G.Node, []*G.Node) {
	g := G.NewGraph()
	param := func(name string, s ...int) *G.Node {
		return G.NewTensor(g, dt, len(s), G.WithShape(s...), G.WithName(name), G.WithInit(G.GlorotN(1)))
	}
	must := func(n *G.Node, err error) *G.Node {
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const B, C = 4, 16
	x := param("x", B, C, 16, 16)
	h := must(Conv2d(x, param("w1", C, C, 3, 3), 1))
	h = must(AddBias(h, param("b1", C)))
	h = must(AddNoise(h, param("noise", 1, 1, 16, 16), param("str", C)))
	h = must(LeakyReLU(h, 0.2))
	h = must(InstanceNorm(h, 1e-8))
	h = must(Modulate(h, param("scale", B, C), param("shift", B, C)))
	h = must(Upsample2x(h))
	h = must(Blur(h))
	h = must(ConvTranspose2x(h, param("wt", C, C, 4, 4)))
	h = must(Downsample2x(h))
	h = must(Downsample2x(h))
	h = must(MinibatchStddev(h, 4))
	h = must(Conv2d(h, param("w2", 1, C+1, 1, 1), 0))
	flat := must(G.Reshape(h, tensor.Shape{h.Shape().TotalSize()}))
	loss := must(G.Sum(must(G.Square(flat))))
	var wrt []*G.Node
	for _, n := range g.AllNodes() {
		if n.IsVar() {
			wrt = append(wrt, n)
		}
	}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	return g, loss, wrt
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryFlat re-runs a training-like graph with Reset and checks that the live heap does
// not grow.
func TestMemoryFlat(t *testing.T) {
	g, loss, _ := stack(t, tensor.Float32)
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func(n int) {
		for i := 0; i < n; i++ {
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			m.Reset()
		}
	}
	run(5)
	before := heapAfterGC()
	run(60)
	after := heapAfterGC()
	t.Logf("live heap %d KB -> %d KB after 60 runs; loss %v", before>>10, after>>10, loss.Value())
	if after > before+1<<20 {
		t.Errorf("live heap grew from %d KB to %d KB over 60 runs", before>>10, after>>10)
	}
}
