// Package latent holds the latent state of a StyleGAN exploration (Karras et
// al. 2019, arXiv:1812.04948): two sources A and B (a numpy-compatible seed,
// an explicit z or an explicit w), which source each style slot takes (style
// mixing, the paper's section 3.1), truncation psi and cutoff, the noise of
// each noise slot, and an A→B interpolation. A State is a plain value: it can
// be copied, compared, and encoded to a short copyable string and back.
//
// The package also has the algebra around that state: numpy's RandomState for
// seeds, lerp and slerp (as in the paper's perceptual path length code), the
// truncation trick, deterministic noise maps, and the resolution of a State
// into one w per style slot (State.WPlus). It imports nothing of the project
// and no terminal or tensor library.
//
// # The state string
//
// A state string is the version, then fields separated by ':', each a key,
// '=' and a value:
//
//	sg1:a=888,5@0.3:b=1733:s=4B14A:p=0.7:c=8:n=4r,2c,r42,11o:i=0.25Z
//
// It uses only letters, digits and - _ . , : = @, so it needs no quoting in a
// shell and no escaping in a URL path or query value (no ';', '&', '+', '~'
// or space). Encode writes the fields in the order below; Decode accepts any
// order but each field at most once.
//
//	a, b    source A / B: seed, then any nudges as ,seed@step
//	        (a=888,5@0.3,9@-0.3). Default: a=0, b=1.
//	az, bz  explicit z of A / B: unpadded base64url of little-endian float32.
//	aw, bw  explicit w of A / B, the same way.
//	s       style slots, in runs of [count]letter: A takes source A, B takes
//	        B (s=4B14A is 4 slots from B then 14 from A). Required: it gives
//	        the number of style slots.
//	p       truncation psi. Default 1 (off).
//	c       truncation cutoff. Default: the number of style slots.
//	n       noise slots, comma-separated runs of [count]mode[seed]: mode r
//	        (random), c (const) or o (off); without a seed a slot's seed is
//	        its index (New's default). Default: as many slots as style slots,
//	        all random with their index as seed. n= is zero noise slots.
//	i       interpolation: t then the space letter W or Z (i=0.25Z), and
//	        ",off" when the walk is off but its t is kept. Default: off, 0, W.
//
// Floats are Go's shortest round-trip form (strconv 'g', -1) with the '+' of
// exponents dropped (1e06), so every value survives a round trip exactly.
// Fields equal to their default are omitted, except a and b. Fields that
// another overrides (the seed of a source with an explicit z) are kept, so a
// round trip loses nothing the State holds. Limits (MaxSlots, MaxVectorLen,
// MaxNudges) bound what Decode will allocate.
package latent
