package toyfaces_test

import (
	"fmt"

	"stylegan-tui/model/toyfaces"
)

func Example() {
	img, labels := toyfaces.Sample(1)
	fmt.Println(img.Bounds().Dx(), "px")
	for i, f := range toyfaces.Factors {
		fmt.Printf("%s %s: %s\n", f.Group, f.Name, f.Classes[labels[i]])
	}
	fmt.Println(toyfaces.LabelText(labels))
	// Output:
	// 64 px
	// coarse yaw: left
	// coarse roll: left
	// coarse shape: round
	// coarse hair: short
	// middle eyes: closed
	// middle mouth: neutral
	// middle glasses: square
	// middle beard: full
	// fine skin: tan
	// fine hair_color: brown
	// fine background: blue
	// [YL RL RND SHRT EC NEU GSQ BFL S2 H:BRN B:BLU]
}

func ExampleStream() {
	s := toyfaces.NewStream(7, 2)
	defer s.Close()
	batch := make([]float32, 32*3*8*8) // 32 images at 8×8, NCHW in [-1, 1]
	labels := s.Next(batch, 8)
	fmt.Println(len(labels), len(labels[0]))
	// Output: 32 11
}
