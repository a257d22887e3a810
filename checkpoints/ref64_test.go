package checkpoints

import (
	"fmt"
	"math"
	"testing"

	"stylegan-tui/internal/testfix"
	"stylegan-tui/model"
)

// ref64 is a slow, obviously-correct float64 forward pass of the synthesis
// network (naive loops), used to tell float32 rounding from real errors.
func ref64(c *model.Config, w *model.Weights, B int, ws [][]float32, noise [][]float32) []float64 {
	f64 := func(v []float32) []float64 {
		o := make([]float64, len(v))
		for i, x := range v {
			o[i] = float64(x)
		}
		return o
	}
	var x []float64 // [B,C,R,R]
	R, C := 4, c.Channels[0]
	for b := 0; b < B; b++ {
		x = append(x, f64(w.Const)...)
	}
	conv := func(x []float64, cin, cout, R int, k []float32) []float64 {
		y := make([]float64, B*cout*R*R)
		for b := 0; b < B; b++ {
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
	convT := func(x []float64, cin, cout, R int, k []float32) []float64 { // stride 2 pad 1 k4
		R2 := 2 * R
		y := make([]float64, B*cout*R2*R2)
		for b := 0; b < B; b++ {
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
	up := func(x []float64, ch, R int) []float64 {
		y := make([]float64, B*ch*4*R*R)
		for p := 0; p < B*ch; p++ {
			for yy := 0; yy < 2*R; yy++ {
				for xx := 0; xx < 2*R; xx++ {
					y[(p*2*R+yy)*2*R+xx] = x[(p*R+yy/2)*R+xx/2]
				}
			}
		}
		return y
	}
	blur := func(x []float64, ch, R int) []float64 {
		k := [3]float64{1, 2, 1}
		y := make([]float64, len(x))
		for p := 0; p < B*ch; p++ {
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
	addBias := func(x []float64, ch, R int, bias []float32) {
		for b := 0; b < B; b++ {
			for o := 0; o < ch; o++ {
				for j := 0; j < R*R; j++ {
					x[(b*ch+o)*R*R+j] += float64(bias[o])
				}
			}
		}
	}
	for i := 0; i < c.NumLayers(); i++ {
		l := w.Layers[i]
		bl := i / 2
		if i > 0 {
			cout := c.Channels[bl]
			if i%2 == 0 {
				if c.Fused(bl) {
					x = convT(x, C, cout, R, l.Conv)
				} else {
					x = conv(up(x, C, R), C, cout, 2*R, l.Conv)
				}
				R *= 2
				if c.BiasBeforeBlur {
					addBias(x, cout, R, l.Bias)
				}
				x = blur(x, cout, R)
			} else {
				x = conv(x, C, cout, R, l.Conv)
			}
			C = cout
		}
		nz := noise[c.NoiseSlot(i)]
		for b := 0; b < B; b++ {
			for o := 0; o < C; o++ {
				for j := 0; j < R*R; j++ {
					nv := nz[j%len(nz)]
					if len(nz) == B*R*R {
						nv = nz[b*R*R+j]
					}
					x[(b*C+o)*R*R+j] += float64(l.Noise[o]) * float64(nv)
				}
			}
		}
		if !(i > 0 && i%2 == 0 && c.BiasBeforeBlur) {
			addBias(x, C, R, l.Bias)
		}
		wv := ws[c.StyleSlot(i)]
		for b := 0; b < B; b++ {
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
				s := 1 / math.Sqrt(v+c.NormEps)
				sc, sh := float64(l.Style.B[o]), float64(l.Style.B[C+o])
				for d := 0; d < c.WDim; d++ {
					wd := float64(wv[b*c.WDim+d])
					sc += wd * float64(l.Style.W[d*2*C+o])
					sh += wd * float64(l.Style.W[d*2*C+C+o])
				}
				for j := range p {
					p[j] = (p[j]-m)*s*sc + sh
				}
			}
		}
	}
	t := w.ToRGB[c.NumBlocks()-1]
	out := make([]float64, B*3*R*R)
	for b := 0; b < B; b++ {
		for o := 0; o < 3; o++ {
			for j := 0; j < R*R; j++ {
				s := float64(t.B[o])
				for i := 0; i < C; i++ {
					s += float64(t.W[o*C+i]) * x[(b*C+i)*R*R+j]
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
		want := tensor(t, ref, "out_plain").Data
		var eGraph, eFixture, peak float64
		for i := range exact {
			eGraph = max(eGraph, math.Abs(exact[i]-float64(out[i])))
			eFixture = max(eFixture, math.Abs(exact[i]-float64(want[i])))
			peak = max(peak, math.Abs(exact[i]))
		}
		t.Logf("%s: |float32 engine - float64| %.3g, |fixture - float64| %.3g, peak %.3g", tag, eGraph, eFixture, peak)
		if tol := parityTol(peak); eGraph > tol {
			t.Errorf("%s: engine differs from the float64 oracle by %.3g > %.3g", tag, eGraph, tol)
		}
	}
}
