package kernels

// A 3×3 pad-1 convolution of a nearest-upsampled image only mixes, for output row 2i+a, the
// input rows i+a-1 and i+a, with the kernel rows summed as {w0 | w1+w2} (a=0) or {w0+w1 | w2}
// (a=1), and the same along columns. That is a ConvTranspose2x whose 4×4 kernel has, along each
// axis, the taps (w2, w1+w2, w0+w1, w0): UpWeight builds it, and Upsample2xConv2d runs it with
// the Winograd F(2×2,2×2) transposed convolution, 9 multiplies per input pixel where the
// Winograd 3×3 conv of the upsampled image needs 16.

// upTaps[u'] lists the 3×3 kernel rows summed into row u' of the 4×4 transposed kernel.
var upTaps = [4][]int{{2}, {1, 2}, {0, 1}, {0}}

// UpWeight writes w4 [Cin,Cout,4,4] from w [Cout,Cin,3,3] (adjoint=false), or the adjoint:
// dw [Cout,Cin,3,3] from dw4 [Cin,Cout,4,4] (adjoint=true).
func UpWeight[T Float](dst, src []T, cout, cin int, adjoint bool) {
	if adjoint {
		clear(dst[:cout*cin*9])
	}
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			k3 := (o*cin + c) * 9
			k4 := (c*cout + o) * 16
			for u4, us := range upTaps {
				for v4, vs := range upTaps {
					if !adjoint {
						var s T
						for _, u := range us {
							for _, v := range vs {
								s += src[k3+u*3+v]
							}
						}
						dst[k4+u4*4+v4] = s
						continue
					}
					g := src[k4+u4*4+v4]
					for _, u := range us {
						for _, v := range vs {
							dst[k3+u*3+v] += g
						}
					}
				}
			}
		}
	}
}
