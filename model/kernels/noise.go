package kernels

import ()

// AddNoise: dst[b,c] = x[b,c] + noise[b or 0]·strength[c]. dst may equal x.
func AddNoise[T Float](dst, x, noise, strength []T, batch, c, hw int, noiseBatch bool) {
	parallelFor(batch*c, batch*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			b, ch := p/c, p%c
			nb := noise[:hw]
			if noiseBatch {
				nb = noise[b*hw : (b+1)*hw]
			}
			s := strength[ch]
			xp, dp := x[p*hw:(p+1)*hw], dst[p*hw:(p+1)*hw]
			for j, v := range xp {
				dp[j] = v + nb[j]*s
			}
		}
	})
}

// NoiseGrad: dn[b' ,j] = Σ_c g[b,c,j]·strength[c], summed over the batch when the noise has
// batch 1.
func NoiseGrad[T Float](dn, g, strength []T, batch, c, hw int, noiseBatch bool) {
	nb := 1
	if noiseBatch {
		nb = batch
	}
	clear(dn[:nb*hw])
	for b := 0; b < batch; b++ {
		d := dn[:hw]
		if noiseBatch {
			d = dn[b*hw : (b+1)*hw]
		}
		for ch := 0; ch < c; ch++ {
			s := strength[ch]
			gp := g[(b*c+ch)*hw : (b*c+ch+1)*hw]
			for j, v := range gp {
				d[j] += v * s
			}
		}
	}
}

// ChannelSum: dst[c] = Σ_{b,j} a[b,c,j]·n[b or 0,j] (n nil: Σ_{b,j} a[b,c,j]).
func ChannelSum[T Float](dst, a, n []T, batch, c, hw int, noiseBatch bool) {
	parallelFor(c, batch*c*hw, func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			var s float64
			for b := 0; b < batch; b++ {
				ap := a[(b*c+ch)*hw : (b*c+ch+1)*hw]
				if n == nil {
					s += sum4(ap)
					continue
				}
				np := n[:hw]
				if noiseBatch {
					np = n[b*hw : (b+1)*hw]
				}
				s += dot4(ap, np)
			}
			dst[ch] = T(s)
		}
	})
}
