package safetensors_test

import (
	"fmt"
	"log"

	"stylegan-tui/checkpoints/safetensors"
)

func Example() {
	f := &safetensors.File{
		Tensors: map[string]*safetensors.Tensor{
			"G_synthesis/4x4/Const/bias": {Shape: []int{2}, Data: []float32{0.5, -1}},
		},
		Metadata: map[string]string{"resolution": "4"},
	}
	b, err := f.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	g, err := safetensors.Parse(b)
	if err != nil {
		log.Fatal(err)
	}
	bias, err := g.Get("G_synthesis/4x4/Const/bias", 2)
	fmt.Println(bias.Data, err, g.Metadata["resolution"])
	_, err = g.Get("G_synthesis/4x4/Const/bias", 4)
	fmt.Println(err)
	// Output:
	// [0.5 -1] <nil> 4
	// safetensors: "G_synthesis/4x4/Const/bias": shape [2], want [4]
}
