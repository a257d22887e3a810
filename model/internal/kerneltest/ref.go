package kerneltest

import "math"

func idx4(s []int, a, b, c, d int) int { return ((a*s[1]+b)*s[2]+c)*s[3] + d }

// RefConv2d: y[b,o,i,j] = Σ_{c,u,v} x[b,c,i+u-p,j+v-p]·w[o,c,u,v].
func RefConv2d(x []float64, xs []int, w []float64, ws []int, p int) ([]float64, []int) {
	B, C, H, W := xs[0], xs[1], xs[2], xs[3]
	O, k := ws[0], ws[2]
	Ho, Wo := H+2*p-k+1, W+2*p-k+1
	ys := []int{B, O, Ho, Wo}
	y := make([]float64, B*O*Ho*Wo)
	for b := 0; b < B; b++ {
		for o := 0; o < O; o++ {
			for i := 0; i < Ho; i++ {
				for j := 0; j < Wo; j++ {
					var s float64
					for c := 0; c < C; c++ {
						for u := 0; u < k; u++ {
							for v := 0; v < k; v++ {
								ii, jj := i+u-p, j+v-p
								if ii < 0 || ii >= H || jj < 0 || jj >= W {
									continue
								}
								s += x[idx4(xs, b, c, ii, jj)] * w[idx4(ws, o, c, u, v)]
							}
						}
					}
					y[idx4(ys, b, o, i, j)] = s
				}
			}
		}
	}
	return y, ys
}

// RefConvT2x: PyTorch conv_transpose2d(stride 2, padding 1):
// y[b,o,2i+u-1,2j+v-1] += x[b,c,i,j]·w[c,o,u,v].
func RefConvT2x(x []float64, xs []int, w []float64, ws []int) ([]float64, []int) {
	B, C, H, W := xs[0], xs[1], xs[2], xs[3]
	O := ws[1]
	ys := []int{B, O, 2 * H, 2 * W}
	y := make([]float64, B*O*4*H*W)
	for b := 0; b < B; b++ {
		for c := 0; c < C; c++ {
			for i := 0; i < H; i++ {
				for j := 0; j < W; j++ {
					for o := 0; o < O; o++ {
						for u := 0; u < 4; u++ {
							for v := 0; v < 4; v++ {
								ii, jj := 2*i+u-1, 2*j+v-1
								if ii < 0 || ii >= 2*H || jj < 0 || jj >= 2*W {
									continue
								}
								y[idx4(ys, b, o, ii, jj)] += x[idx4(xs, b, c, i, j)] * w[idx4(ws, c, o, u, v)]
							}
						}
					}
				}
			}
		}
	}
	return y, ys
}

// RefUpsample is nearest-neighbour ×2 upsampling.
func RefUpsample(x []float64, xs []int) ([]float64, []int) {
	ys := []int{xs[0], xs[1], 2 * xs[2], 2 * xs[3]}
	y := make([]float64, len(x)*4)
	for b := 0; b < ys[0]; b++ {
		for c := 0; c < ys[1]; c++ {
			for i := 0; i < ys[2]; i++ {
				for j := 0; j < ys[3]; j++ {
					y[idx4(ys, b, c, i, j)] = x[idx4(xs, b, c, i/2, j/2)]
				}
			}
		}
	}
	return y, ys
}

// RefDownsample is the 2×2 average pool.
func RefDownsample(x []float64, xs []int) ([]float64, []int) {
	ys := []int{xs[0], xs[1], xs[2] / 2, xs[3] / 2}
	y := make([]float64, len(x)/4)
	for b := 0; b < ys[0]; b++ {
		for c := 0; c < ys[1]; c++ {
			for i := 0; i < ys[2]; i++ {
				for j := 0; j < ys[3]; j++ {
					s := x[idx4(xs, b, c, 2*i, 2*j)] + x[idx4(xs, b, c, 2*i+1, 2*j)] +
						x[idx4(xs, b, c, 2*i, 2*j+1)] + x[idx4(xs, b, c, 2*i+1, 2*j+1)]
					y[idx4(ys, b, c, i, j)] = s / 4
				}
			}
		}
	}
	return y, ys
}

// RefBlur is the [1,2,1]ᵀ[1,2,1]/16 blur with zero padding 1.
func RefBlur(x []float64, xs []int) ([]float64, []int) {
	k := [3]float64{1, 2, 1}
	y := make([]float64, len(x))
	for b := 0; b < xs[0]; b++ {
		for c := 0; c < xs[1]; c++ {
			for i := 0; i < xs[2]; i++ {
				for j := 0; j < xs[3]; j++ {
					var s float64
					for u := -1; u <= 1; u++ {
						for v := -1; v <= 1; v++ {
							ii, jj := i+u, j+v
							if ii < 0 || ii >= xs[2] || jj < 0 || jj >= xs[3] {
								continue
							}
							s += k[u+1] * k[v+1] / 16 * x[idx4(xs, b, c, ii, jj)]
						}
					}
					y[idx4(xs, b, c, i, j)] = s
				}
			}
		}
	}
	return y, xs
}

// RefInstanceNorm normalizes each plane to zero mean and unit (biased) variance.
func RefInstanceNorm(x []float64, xs []int, eps float64) ([]float64, []int) {
	y := make([]float64, len(x))
	hw := xs[2] * xs[3]
	for p := 0; p < xs[0]*xs[1]; p++ {
		var m, v float64
		for j := 0; j < hw; j++ {
			m += x[p*hw+j]
		}
		m /= float64(hw)
		for j := 0; j < hw; j++ {
			v += (x[p*hw+j] - m) * (x[p*hw+j] - m)
		}
		v /= float64(hw)
		for j := 0; j < hw; j++ {
			y[p*hw+j] = (x[p*hw+j] - m) / math.Sqrt(v+eps)
		}
	}
	return y, xs
}

// RefModulate is x·s[b,c] + t[b,c] (t may be nil).
func RefModulate(x []float64, xs []int, s, t []float64) ([]float64, []int) {
	y := make([]float64, len(x))
	for b := 0; b < xs[0]; b++ {
		for c := 0; c < xs[1]; c++ {
			for i := 0; i < xs[2]; i++ {
				for j := 0; j < xs[3]; j++ {
					n := idx4(xs, b, c, i, j)
					y[n] = x[n] * s[b*xs[1]+c]
					if t != nil {
						y[n] += t[b*xs[1]+c]
					}
				}
			}
		}
	}
	return y, xs
}

// RefAddNoise is x + noise[b or 0]·str[c].
func RefAddNoise(x []float64, xs []int, noise []float64, ns []int, str []float64) ([]float64, []int) {
	y := make([]float64, len(x))
	for b := 0; b < xs[0]; b++ {
		nb := b
		if ns[0] == 1 {
			nb = 0
		}
		for c := 0; c < xs[1]; c++ {
			for i := 0; i < xs[2]; i++ {
				for j := 0; j < xs[3]; j++ {
					n := idx4(xs, b, c, i, j)
					y[n] = x[n] + noise[idx4(ns, nb, 0, i, j)]*str[c]
				}
			}
		}
	}
	return y, xs
}

// RefAddBias is x + bias[c].
func RefAddBias(x []float64, xs []int, bias []float64) ([]float64, []int) {
	y := make([]float64, len(x))
	for b := 0; b < xs[0]; b++ {
		for c := 0; c < xs[1]; c++ {
			for i := 0; i < xs[2]*xs[3]; i++ {
				n := (b*xs[1]+c)*xs[2]*xs[3] + i
				y[n] = x[n] + bias[c]
			}
		}
	}
	return y, xs
}

// RefLeaky is LeakyReLU with the given slope.
func RefLeaky(x []float64, xs []int, slope float64) ([]float64, []int) {
	y := make([]float64, len(x))
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = slope * v
		}
	}
	return y, xs
}

// RefMbstd follows NVlabs' minibatch_stddev_layer literally: reshape to [G, M, n=1, C, H, W],
// subtract the mean over G, mean of squares over G, sqrt(+1e-8), mean over (C,H,W), tile.
func RefMbstd(x []float64, xs []int, group int) ([]float64, []int) {
	B, C, H, W := xs[0], xs[1], xs[2], xs[3]
	G := min(group, B)
	M := B / G
	chw := C * H * W
	at := func(g, m, k int) float64 { return x[(g*M+m)*chw+k] } // reshape [G, M, C*H*W]
	s := make([]float64, M)
	for m := 0; m < M; m++ {
		var acc float64
		for k := 0; k < chw; k++ {
			var mean float64
			for g := 0; g < G; g++ {
				mean += at(g, m, k)
			}
			mean /= float64(G)
			var sq float64
			for g := 0; g < G; g++ {
				sq += (at(g, m, k) - mean) * (at(g, m, k) - mean)
			}
			acc += math.Sqrt(sq/float64(G) + 1e-8)
		}
		s[m] = acc / float64(chw)
	}
	ys := []int{B, C + 1, H, W}
	y := make([]float64, B*(C+1)*H*W)
	for b := 0; b < B; b++ {
		for c := 0; c <= C; c++ {
			for i := 0; i < H; i++ {
				for j := 0; j < W; j++ {
					if c < C {
						y[idx4(ys, b, c, i, j)] = x[idx4(xs, b, c, i, j)]
					} else {
						y[idx4(ys, b, c, i, j)] = s[b%M] // tile over the group axis
					}
				}
			}
		}
	}
	return y, ys
}
