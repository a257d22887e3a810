package kernels

import (
	"math"
)

// mbstdEps is NVlabs' epsilon inside the square root of minibatch_stddev_layer.
const mbstdEps = 1e-8

// MinibatchStddevGroup clamps the group size to the batch as NVlabs does (tf.minimum(group_size, N)).
func MinibatchStddevGroup(group, batch int) int {
	if group <= 0 || group > batch {
		return batch
	}
	return group
}

// MinibatchStddev appends one feature map to x [B,C,H,W]: sample b = g·M+m (M = B/group) gets
// s_m = mean over (c,h,w) of sqrt(var over g of x[g·M+m,c,h,w] + 1e-8), as NVlabs'
// minibatch_stddev_layer with num_new_features=1. dst is [B,C+1,H,W].
func MinibatchStddev[T Float](dst, x []T, batch, c, hw, group int) {
	gs := MinibatchStddevGroup(group, batch)
	m := batch / gs
	chw := c * hw
	for b := 0; b < batch; b++ {
		copy(dst[b*(chw+hw):b*(chw+hw)+chw], x[b*chw:(b+1)*chw])
	}
	for mi := 0; mi < m; mi++ {
		var acc float64
		for k := 0; k < chw; k++ {
			var mean float64
			for g := 0; g < gs; g++ {
				mean += float64(x[(g*m+mi)*chw+k])
			}
			mean /= float64(gs)
			var v float64
			for g := 0; g < gs; g++ {
				d := float64(x[(g*m+mi)*chw+k]) - mean
				v += d * d
			}
			acc += math.Sqrt(v/float64(gs) + mbstdEps)
		}
		s := T(acc / float64(chw))
		for g := 0; g < gs; g++ {
			b := g*m + mi
			f := dst[b*(chw+hw)+chw : (b+1)*(chw+hw)]
			for j := range f {
				f[j] = s
			}
		}
	}
}

// MinibatchStddevGrad: dx = g[:, :C] + (x - μ)/(C·H·W·group·σ) · Σ_{group members, h,w} g[:, C].
func MinibatchStddevGrad[T Float](dx, x, gy []T, batch, c, hw, group int) {
	gs := MinibatchStddevGroup(group, batch)
	m := batch / gs
	chw := c * hw
	for b := 0; b < batch; b++ {
		copy(dx[b*chw:(b+1)*chw], gy[b*(chw+hw):b*(chw+hw)+chw])
	}
	for mi := 0; mi < m; mi++ {
		var gm float64
		for g := 0; g < gs; g++ {
			b := g*m + mi
			for _, v := range gy[b*(chw+hw)+chw : (b+1)*(chw+hw)] {
				gm += float64(v)
			}
		}
		f := gm / float64(chw*gs)
		for k := 0; k < chw; k++ {
			var mean float64
			for g := 0; g < gs; g++ {
				mean += float64(x[(g*m+mi)*chw+k])
			}
			mean /= float64(gs)
			var v float64
			for g := 0; g < gs; g++ {
				d := float64(x[(g*m+mi)*chw+k]) - mean
				v += d * d
			}
			sigma := math.Sqrt(v/float64(gs) + mbstdEps)
			for g := 0; g < gs; g++ {
				i := (g*m+mi)*chw + k
				dx[i] += T((float64(x[i]) - mean) / sigma * f)
			}
		}
	}
}
