package latent

import "math"

// RandomState reproduces numpy.random.RandomState: the MT19937 generator and
// numpy's legacy Gaussian sampler. Every NVIDIA StyleGAN script turns a seed
// into z with numpy.random.RandomState(seed).randn(D), so matching it bit for
// bit is what makes --seed 888 on an official checkpoint give the paper's face.
//
// The zero value is not usable; make one with NewRandomState.
type RandomState struct {
	mt  [mtN]uint32
	pos int // index of the next word of mt to temper; mtN means "refill first"

	// numpy's polar Box-Muller makes two normals per accepted pair and keeps
	// the second for the next call (legacy_gauss); the cache is part of the
	// state, so Randn(1) twice equals Randn(2).
	hasGauss bool
	gauss    float64
}

// MT19937 parameters (Matsumoto & Nishimura 1998).
const (
	mtN       = 624
	mtM       = 397
	mtMatrixA = 0x9908b0df
	mtUpper   = 0x80000000
	mtLower   = 0x7fffffff
)

// NewRandomState returns the state of numpy.random.RandomState(seed) for an
// integer seed: MT19937's init_genrand (numpy's mt19937_seed), with an empty
// Gaussian cache.
func NewRandomState(seed uint32) *RandomState {
	r := &RandomState{pos: mtN}
	r.mt[0] = seed
	for i := 1; i < mtN; i++ {
		prev := r.mt[i-1]
		r.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return r
}

// refill regenerates the 624 words of state (MT19937's genrand block step), in
// the reference's three runs so that no index needs a modulo.
func (r *RandomState) refill() {
	mt := &r.mt
	mix := func(a, b, c uint32) uint32 {
		y := a&mtUpper | b&mtLower
		return c ^ y>>1 ^ -(y&1)&mtMatrixA // branch-free: the low bit selects the matrix
	}
	i := 0
	for ; i < mtN-mtM; i++ {
		mt[i] = mix(mt[i], mt[i+1], mt[i+mtM])
	}
	for ; i < mtN-1; i++ {
		mt[i] = mix(mt[i], mt[i+1], mt[i+mtM-mtN])
	}
	mt[mtN-1] = mix(mt[mtN-1], mt[0], mt[mtM-1])
	r.pos = 0
}

// Uint32 returns the next 32-bit output of MT19937 (numpy's mt19937_next32).
func (r *RandomState) Uint32() uint32 {
	if r.pos >= mtN {
		r.refill()
	}
	y := r.mt[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// RandomSample returns a uniform double in [0, 1) exactly as numpy's
// random_sample (legacy_double): 27 bits of one word and 26 of the next make a
// 53-bit mantissa.
func (r *RandomState) RandomSample() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) / 9007199254740992.0
}

// Gauss returns one standard normal value exactly as numpy's legacy_gauss:
// the polar method draws (x1, x2) uniformly in the unit disc, returns x2·f and
// caches x1·f for the next call, with f = sqrt(-2 log(r²) / r²).
func (r *RandomState) Gauss() float64 {
	if r.hasGauss {
		r.hasGauss = false
		g := r.gauss
		r.gauss = 0
		return g
	}
	g, next := r.polar()
	r.gauss, r.hasGauss = next, true
	return g
}

// polar draws (x1, x2) uniformly in the unit disc and returns the pair of
// normals x2·f, x1·f, f = sqrt(-2 log(r²) / r²), in the order legacy_gauss
// hands them out.
func (r *RandomState) polar() (float64, float64) {
	var x1, x2, r2 float64
	for {
		x1 = 2*r.RandomSample() - 1
		x2 = 2*r.RandomSample() - 1
		r2 = x1*x1 + x2*x2
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * math.Log(r2) / r2)
	return f * x2, f * x1
}

// Randn returns n standard normal values, identical to numpy's legacy
// RandomState.randn(n). It returns an empty slice for n <= 0.
func (r *RandomState) Randn(n int) []float64 {
	if n <= 0 {
		return []float64{}
	}
	out := make([]float64, n)
	r.fillGauss(out)
	return out
}

// fillGauss sets out to the next len(out) values of Gauss, a pair per
// accepted polar draw (the same sequence, without a call and a cache check
// per value).
func (r *RandomState) fillGauss(out []float64) {
	i := 0
	if r.hasGauss && len(out) > 0 {
		out[0] = r.Gauss()
		i = 1
	}
	for ; i+1 < len(out); i += 2 {
		out[i], out[i+1] = r.polar()
	}
	if i < len(out) {
		out[i] = r.Gauss()
	}
}

// SeedZ64 returns numpy.random.RandomState(seed).randn(dim), the z an NVIDIA
// script makes for a seed. numpy only accepts seeds in 0..2^32-1; other seeds
// are reduced mod 2^32 (so -1 means 4294967295), which is what Python's
// seed % 2**32 gives too.
func SeedZ64(seed int64, dim int) []float64 {
	return NewRandomState(uint32(seed)).Randn(dim)
}

// SeedZ is SeedZ64 rounded to float32, the precision the networks run at.
// Seeds outside 0..2^32-1 are reduced mod 2^32.
func SeedZ(seed int64, dim int) []float32 {
	return to32(SeedZ64(seed, dim))
}

// NoiseSeedMul is the multiplier in NoiseMap's seed formula.
const NoiseSeedMul = 1000003

// NoiseMap returns a deterministic h×w map (row-major) of N(0, 1) values for
// noise slot layer with the given seed. It is numpy's
//
//	numpy.random.RandomState((seed*1000003 + layer) % 2**32).randn(h, w).astype(numpy.float32)
//
// so other tools can reproduce the noise of a state string. The prime
// multiplier keeps (seed, layer) pairs with small layer indices from colliding,
// so different layers get different maps even when their seeds are equal.
// It returns an empty slice when h or w is not positive.
func NoiseMap(seed int64, layer int, h, w int) []float32 {
	if h <= 0 || w <= 0 {
		return []float32{}
	}
	s := uint32(seed)*NoiseSeedMul + uint32(layer) // uint32 arithmetic is the % 2**32
	r := NewRandomState(s)
	out := make([]float32, h*w)
	var buf [512]float64
	for i := 0; i < len(out); i += len(buf) {
		b := buf[:min(len(buf), len(out)-i)]
		r.fillGauss(b)
		for k, v := range b {
			out[i+k] = float32(v)
		}
	}
	return out
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
