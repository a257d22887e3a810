package ops_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops"
)

// A StyleGAN synthesis layer: upsample, 3×3 conv, blur, noise, bias, leaky ReLU, AdaIN.
func Example() {
	g := G.NewGraph()
	const B, Cin, Cout, H = 1, 4, 8, 4
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(B, Cin, H, H), G.WithName("x"), G.WithInit(G.Ones()))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(Cout, Cin, 3, 3), G.WithName("w"), G.WithInit(G.GlorotN(1)))
	bias := G.NewTensor(g, tensor.Float32, 1, G.WithShape(Cout), G.WithName("b"), G.WithInit(G.Zeroes()))
	noise := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 1, 2*H, 2*H), G.WithName("noise"), G.WithInit(G.Gaussian(0, 1)))
	strength := G.NewTensor(g, tensor.Float32, 1, G.WithShape(Cout), G.WithName("noise_strength"), G.WithInit(G.Zeroes()))
	scale := G.NewTensor(g, tensor.Float32, 2, G.WithShape(B, Cout), G.WithName("style_scale"), G.WithInit(G.Ones()))
	shift := G.NewTensor(g, tensor.Float32, 2, G.WithShape(B, Cout), G.WithName("style_shift"), G.WithInit(G.Zeroes()))

	h, err := ops.Upsample2x(x)
	steps := []func(*G.Node) (*G.Node, error){
		func(n *G.Node) (*G.Node, error) { return ops.Conv2d(n, w, 1) },
		ops.Blur,
		func(n *G.Node) (*G.Node, error) { return ops.AddNoise(n, noise, strength) },
		func(n *G.Node) (*G.Node, error) { return ops.AddBias(n, bias) },
		func(n *G.Node) (*G.Node, error) { return ops.LeakyReLU(n, 0.2) },
		func(n *G.Node) (*G.Node, error) { return ops.InstanceNorm(n, 1e-5) },
		func(n *G.Node) (*G.Node, error) { return ops.Modulate(n, scale, shift) },
	}
	for _, step := range steps {
		if err != nil {
			break
		}
		h, err = step(h)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Shape(), h.Dtype())
	// Output: (1, 8, 8, 8) float32
}
