package checkpoints

import (
	"fmt"
	"math"
	"testing"

	"stylegan-tui/internal/testfix"
	"stylegan-tui/model"
)

// ref64 is a slow, obviously-correct float64 forward pass of the synthesis
// network (naive loops), used to tell float32 rounding from real errors. It
// spells the layer structure out on its own (layer 2k, k>0, opens block k at
// twice the resolution) rather than sharing the engine's description of it.
func ref64(c *model.Config, w *model.Weights, B int, ws [][]float32, noise [][]float32) []float64 {
	r := naive{B: B}
	var x []float64 // [B,C,R,R]
	R, C := 4, c.Channels[0]
	for b := 0; b < B; b++ {
		x = append(x, f64(w.Const)...)
	}
	for i := 0; i < c.NumLayers(); i++ {
		l := w.Layers[i]
		bl := i / 2
		upLayer := i > 0 && i%2 == 0
		if i > 0 {
			cout := c.Channels[bl]
			switch {
			case upLayer && c.Fused(bl):
				x = r.convT(x, C, cout, R, l.Conv)
			case upLayer:
				x = r.conv(r.up(x, C, R), C, cout, 2*R, l.Conv)
			default:
				x = r.conv(x, C, cout, R, l.Conv)
			}
			if upLayer {
				R *= 2
				if c.BiasBeforeBlur {
					r.addBias(x, cout, R, l.Bias)
				}
				x = r.blur(x, cout, R)
			}
			C = cout
		}
		r.addNoise(x, C, R, l.Noise, noise[c.NoiseSlot(i)])
		if !(upLayer && c.BiasBeforeBlur) {
			r.addBias(x, C, R, l.Bias)
		}
		r.adaIN(x, C, R, c.WDim, c.NormEps, l.Style.W, l.Style.B, ws[c.StyleSlot(i)])
	}
	return r.toRGB(x, C, R, w.ToRGB[c.NumBlocks()-1].W, w.ToRGB[c.NumBlocks()-1].B)
}

func f64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

// naive holds the float64 oracle's layers for a batch of B NCHW images.
type naive struct{ B int }

// conv is a 3x3 convolution, padding 1, no bias.
func (r naive) conv(x []float64, cin, cout, R int, k []float32) []float64 {
	y := make([]float64, r.B*cout*R*R)
	for b := 0; b < r.B; b++ {
		for o := 0; o < cout; o++ {
			for i := 0; i < cin; i++ {
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						kv := float64(k[((o*cin+i)*3+ky)*3+kx])
						for yy := 0; yy < R; yy++ {
							sy := yy + ky - 1
							if sy < 0 || sy >= R {
								continue
							}
							for xx := 0; xx < R; xx++ {
								sx := xx + kx - 1
								if sx < 0 || sx >= R {
									continue
								}
								y[((b*cout+o)*R+yy)*R+xx] += kv * x[((b*cin+i)*R+sy)*R+sx]
							}
						}
					}
				}
			}
		}
	}
	return y
}

// convT is the fused up-convolution: transposed 4x4, stride 2, padding 1.
func (r naive) convT(x []float64, cin, cout, R int, k []float32) []float64 {
	R2 := 2 * R
	y := make([]float64, r.B*cout*R2*R2)
	for b := 0; b < r.B; b++ {
		for i := 0; i < cin; i++ {
			for o := 0; o < cout; o++ {
				for yy := 0; yy < R; yy++ {
					for xx := 0; xx < R; xx++ {
						v := x[((b*cin+i)*R+yy)*R+xx]
						for ky := 0; ky < 4; ky++ {
							oy := 2*yy - 1 + ky
							if oy < 0 || oy >= R2 {
								continue
							}
							for kx := 0; kx < 4; kx++ {
								ox := 2*xx - 1 + kx
								if ox < 0 || ox >= R2 {
									continue
								}
								y[((b*cout+o)*R2+oy)*R2+ox] += v * float64(k[((i*cout+o)*4+ky)*4+kx])
							}
						}
					}
				}
			}
		}
	}
	return y
}

// up is nearest-neighbour 2x upsampling.
func (r naive) up(x []float64, ch, R int) []float64 {
	y := make([]float64, r.B*ch*4*R*R)
	for p := 0; p < r.B*ch; p++ {
		for yy := 0; yy < 2*R; yy++ {
			for xx := 0; xx < 2*R; xx++ {
				y[(p*2*R+yy)*2*R+xx] = x[(p*R+yy/2)*R+xx/2]
			}
		}
	}
	return y
}

// blur is the [1 2 1]^T[1 2 1]/16 filter with zero padding.
func (r naive) blur(x []float64, ch, R int) []float64 {
	k := [3]float64{1, 2, 1}
	y := make([]float64, len(x))
	for p := 0; p < r.B*ch; p++ {
		for yy := 0; yy < R; yy++ {
			for xx := 0; xx < R; xx++ {
				var s float64
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						sy, sx := yy+dy, xx+dx
						if sy >= 0 && sy < R && sx >= 0 && sx < R {
							s += k[dy+1] * k[dx+1] / 16 * x[(p*R+sy)*R+sx]
						}
					}
				}
				y[(p*R+yy)*R+xx] = s
			}
		}
	}
	return y
}

func (r naive) addBias(x []float64, ch, R int, bias []float32) {
	for b := 0; b < r.B; b++ {
		for o := 0; o < ch; o++ {
			for j := 0; j < R*R; j++ {
				x[(b*ch+o)*R*R+j] += float64(bias[o])
			}
		}
	}
}

// addNoise adds strength[o] times one noise map, shared by the batch
// ([1,1,R,R]) or one per image ([B,1,R,R]).
func (r naive) addNoise(x []float64, C, R int, strength, nz []float32) {
	for b := 0; b < r.B; b++ {
		for o := 0; o < C; o++ {
			for j := 0; j < R*R; j++ {
				nv := nz[j%len(nz)]
				if len(nz) == r.B*R*R {
					nv = nz[b*R*R+j]
				}
				x[(b*C+o)*R*R+j] += float64(strength[o]) * float64(nv)
			}
		}
	}
}

// adaIN is leaky ReLU, instance norm and the style: scale and shift from an
// affine of w ([WDim, 2C] weights, [2C] bias).
func (r naive) adaIN(x []float64, C, R, wDim int, eps float64, sw, sb, wv []float32) {
	for b := 0; b < r.B; b++ {
		for o := 0; o < C; o++ {
			p := x[(b*C+o)*R*R : (b*C+o+1)*R*R]
			var m, v float64
			for j := range p {
				if p[j] < 0 {
					p[j] *= 0.2
				}
				m += p[j]
			}
			m /= float64(len(p))
			for _, q := range p {
				v += (q - m) * (q - m)
			}
			v /= float64(len(p))
			s := 1 / math.Sqrt(v+eps)
			sc, sh := float64(sb[o]), float64(sb[C+o])
			for d := 0; d < wDim; d++ {
				wd := float64(wv[b*wDim+d])
				sc += wd * float64(sw[d*2*C+o])
				sh += wd * float64(sw[d*2*C+C+o])
			}
			for j := range p {
				p[j] = (p[j]-m)*s*sc + sh
			}
		}
	}
}

// toRGB is the final 1x1 convolution to three channels.
func (r naive) toRGB(x []float64, C, R int, tw, tb []float32) []float64 {
	out := make([]float64, r.B*3*R*R)
	for b := 0; b < r.B; b++ {
		for o := 0; o < 3; o++ {
			for j := 0; j < R*R; j++ {
				s := float64(tb[o])
				for i := 0; i < C; i++ {
					s += float64(tw[o*C+i]) * x[(b*C+i)*R*R+j]
				}
				out[(b*3+o)*R*R+j] = s
			}
		}
	}
	return out
}

// TestFloat64Oracle compares the gorgonia float32 engine with the naive
// float64 forward pass above on every rosinality fixture model. It also
// measures how far the fixture itself is from the float64 result: that is
// the reference's own float32 rounding, the floor of any parity check.
func TestFloat64Oracle(t *testing.T) {
	for _, tag := range rosinalityTags {
		m, err := Load(testfix.Path(t, "rosinality/"+tag+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		ref := readRef(t, testfix.Path(t, "rosinality/"+tag+"_ref.safetensors"))
		g, err := m.Generator()
		if err != nil {
			t.Fatal(err)
		}
		c := g.Cfg
		w1, err := g.Mapping(tensor(t, ref, "z1").Data, 2)
		if err != nil {
			t.Fatal(err)
		}
		var noise [][]float32
		for j := 0; j < c.NumNoise(); j++ {
			noise = append(noise, tensor(t, ref, fmt.Sprintf("noise%d", j)).Data)
		}
		ws := make([][]float32, c.NumStyles())
		for i := range ws {
			ws[i] = w1
		}
		exact := ref64(c, m.W, 2, ws, noise)
		out, _, err := g.Synthesis(model.SynthesisInput{B: 2, W: ws, Noise: noise}, model.Options{Step: -1, Alpha: -1, Full: true})
		if err != nil {
			t.Fatal(err)
		}
		var eGraph, eFixture, peak float64
		for i := range exact {
			eGraph = max(eGraph, math.Abs(exact[i]-float64(out[i])))
			peak = max(peak, math.Abs(exact[i]))
		}
		want, fix := tensor(t, ref, "out_plain").Data, exact
		if stride, _, ok := gridOf(t, ref, "out_plain"); ok {
			fix = onGrid(exact, c.Resolution(), stride)
		}
		if len(fix) != len(want) {
			t.Fatalf("%s: out_plain has %d values, want %d", tag, len(want), len(fix))
		}
		for i := range fix {
			eFixture = max(eFixture, math.Abs(fix[i]-float64(want[i])))
		}
		t.Logf("%s: |float32 engine - float64| %.3g, |fixture - float64| %.3g, peak %.3g", tag, eGraph, eFixture, peak)
		if tol := parityTol(peak); eGraph > tol {
			t.Errorf("%s: engine differs from the float64 oracle by %.3g > %.3g", tag, eGraph, tol)
		}
	}
}
