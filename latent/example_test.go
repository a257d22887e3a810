package latent_test

import (
	"fmt"

	"stylegan-tui/latent"
)

// The z every NVIDIA script makes for --seed 888.
func ExampleSeedZ() {
	z := latent.SeedZ(888, 512)
	fmt.Printf("%d values, z[:3] = %.6f\n", len(z), z[:3])
	// Output: 512 values, z[:3] = [-0.176201 0.188876 0.826747]
}

// Style mixing: the coarse styles (slots 0-3) of seed 1733 on seed 888, with
// the truncation NVlabs uses for FFHQ.
func ExampleState_Encode() {
	s := latent.New(18, 18, 0.7, 8)
	s.A.Seed, s.B.Seed = 888, 1733
	s = s.WithStyles(0, 3, latent.FromB)
	fmt.Println(s.Encode())
	// Output: sg1:a=888:b=1733:s=4B14A:p=0.7:c=8
}

func ExampleDecode() {
	s, err := latent.Decode("sg1:a=888,5@0.3:b=1733:s=4B14A:p=0.7:c=8:n=16r,2o:i=0.25Z")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.A.Seed, s.A.Nudges, s.Styles[:5], s.Psi, s.Cutoff)
	fmt.Println(s.Noise[16].Mode, s.Interp.On, s.Interp.T, s.Interp.Space)
	if err := s.Validate(18, 18); err != nil {
		panic(err)
	}
	_, err = latent.Decode("sg1:s=4B14A:p=abc")
	fmt.Println(err)
	// Output:
	// 888 [{5 0.3}] [1 1 1 1 0] 0.7 8
	// off true 0.25 Z
	// latent: state field "p": psi "abc" is not a number
}
