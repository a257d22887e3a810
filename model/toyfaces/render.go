package toyfaces

import (
	"math"
	"math/rand/v2"
	"sync"
)

// ss is the supersampling factor: the face is drawn at ss·64 px, every sample
// anti-aliased by its signed distance (coverage of a 1/ss px box), then box
// filtered down. 2 looks as smooth as 4 with plain point samples at a quarter
// of the cost.
const ss = 2

const canvasW = Size * ss

type rgb [3]float32

func (c rgb) scale(f float32) rgb { return rgb{c[0] * f, c[1] * f, c[2] * f} }

func mix(a, b rgb, t float32) rgb {
	return rgb{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

// hsv converts hue (degrees), saturation and value to RGB.
func hsv(h, s, v float64) rgb {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return rgb{float32(r + m), float32(g + m), float32(b + m)}
}

// Palettes of the colour factors (class centres; the jitter stays well
// inside the gaps between classes).
var (
	skinTones = [4]rgb{
		{0.97, 0.83, 0.71}, // light
		{0.85, 0.63, 0.45}, // tan
		{0.60, 0.40, 0.26}, // brown
		{0.35, 0.23, 0.15}, // dark
	}
	hairColors = [5]rgb{
		{0.09, 0.08, 0.08}, // black
		{0.42, 0.24, 0.11}, // brown
		{0.96, 0.80, 0.30}, // blond
		{0.82, 0.28, 0.08}, // red
		{0.70, 0.71, 0.75}, // grey
	}
	bgHues = [6]float64{0, 60, 120, 180, 240, 300}
)

// Layer ids, recorded per pixel when a test asks for them.
const (
	idBg uint8 = iota
	idBody
	idHairBack
	idNeck
	idHead
	idEar
	idFreckle
	idBeard
	idNose
	idMouth
	idEye
	idBrow
	idHairFront
	idGlasses
)

// layerMaps records, for tests, which layers made each 64 px pixel.
type layerMaps struct {
	top []uint8  // 64²: the layer covering ≥ half of the pixel's centre sample
	any []uint32 // 64²: bit id set if layer id touches the pixel at all
}

// renderer owns the scratch buffers of one rendering goroutine.
type renderer struct {
	buf  []float32 // canvasW² · 3 samples
	sid  []uint8   // canvasW² layer ids, only when maps are wanted
	out  []uint8   // 64² · 3
	maps *layerMaps

	// Head-local coordinates (u, v): origin at the head centre (hx, hy),
	// rotated by the roll about the pivot (px, py) at the base of the neck.
	cr, sr, px, py, hx, hy float64
}

var rendererPool = sync.Pool{New: func() any {
	return &renderer{
		buf: make([]float32, canvasW*canvasW*3),
		out: make([]uint8, Size*Size*3),
	}
}}

func getRenderer() *renderer  { return rendererPool.Get().(*renderer) }
func putRenderer(r *renderer) { rendererPool.Put(r) }

// layer is one shape painted over the canvas.
type layer struct {
	id    uint8
	local bool       // coordinates are head-local (rolled) rather than canvas pixels
	bb    [4]float64 // u0, v0, u1, v1: where sdf can be ≤ 0, in the layer's coordinates
	sdf   func(u, v float64) float64
	col   rgb
	alpha float32
	// shade, if set, gives the colour of a sample from its position, its
	// distance d and the output pixel (ix, iy) it falls in.
	shade func(u, v, d float64, ix, iy int) rgb
}

// fill paints l with anti-aliased coverage.
func (r *renderer) fill(l *layer) {
	var gx0, gy0, gx1, gy1 float64
	if l.local {
		gx0, gy0, gx1, gy1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range [4][2]float64{{l.bb[0], l.bb[1]}, {l.bb[2], l.bb[1]}, {l.bb[0], l.bb[3]}, {l.bb[2], l.bb[3]}} {
			x, y := r.toGlobal(c[0], c[1])
			gx0, gy0 = min(gx0, x), min(gy0, y)
			gx1, gy1 = max(gx1, x), max(gy1, y)
		}
	} else {
		gx0, gy0, gx1, gy1 = l.bb[0], l.bb[1], l.bb[2], l.bb[3]
	}
	x0 := max(0, int(math.Floor(gx0*ss))-1)
	y0 := max(0, int(math.Floor(gy0*ss))-1)
	x1 := min(canvasW, int(math.Ceil(gx1*ss))+1)
	y1 := min(canvasW, int(math.Ceil(gy1*ss))+1)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	const inv = 1.0 / ss
	du, dv := inv, 0.0
	if l.local {
		du, dv = r.cr*inv, -r.sr*inv
	}
	col, alpha, shade, sdf := l.col, l.alpha, l.shade, l.sdf
	for sy := y0; sy < y1; sy++ {
		u, v := (float64(x0)+0.5)*inv, (float64(sy)+0.5)*inv
		if l.local {
			u, v = r.toLocal(u, v)
		}
		row := r.buf[(sy*canvasW+x0)*3 : (sy*canvasW+x1)*3]
		for i := 0; i < len(row); i, u, v = i+3, u+du, v+dv {
			d := sdf(u, v)
			if d >= 0.5*inv {
				continue
			}
			a := float32(0.5 - d*ss)
			if a > 1 {
				a = 1
			}
			a *= alpha
			c := col
			if shade != nil {
				sx := x0 + i/3
				c = shade(u, v, d, sx/ss, sy/ss)
			}
			row[i] += (c[0] - row[i]) * a
			row[i+1] += (c[1] - row[i+1]) * a
			row[i+2] += (c[2] - row[i+2]) * a
			if r.maps != nil {
				if a >= 0.5 {
					r.sid[sy*canvasW+x0+i/3] = l.id
				}
				r.maps.any[(sy/ss)*Size+(x0+i/3)/ss] |= 1 << l.id
			}
		}
	}
}

func (r *renderer) toLocal(x, y float64) (u, v float64) {
	dx, dy := x-r.px, y-r.py
	return r.cr*dx + r.sr*dy + r.px - r.hx, -r.sr*dx + r.cr*dy + r.py - r.hy
}

func (r *renderer) toGlobal(u, v float64) (x, y float64) {
	wx, wy := u+r.hx-r.px, v+r.hy-r.py
	return r.px + r.cr*wx - r.sr*wy, r.py + r.sr*wx + r.cr*wy
}

// face is the geometry and colouring of one portrait in head-local
// coordinates (pixels, y down).
type face struct {
	a, b, taper float64 // face half-width, half-height, chin narrowing
	yaw, s, c   float64 // yaw angle (radians, + turns right) and its sin, cos
	crX, crY    float64 // cranium centre: the back of the head shows when turned
	crA, crB    float64
	vEye, vNose float64
	vMouth      float64

	skin, hair rgb
	strands    [33]float32 // per-image hair strand profile (stochastic)
	strandOff  float64
	noise      uint64
}

// shear is the horizontal offset of the face at height v: a turned head
// moves its jaw and chin towards the turn.
func (f *face) shear(v float64) float64 {
	return f.s * f.a * (0.06 + 0.2*clamp(v/f.b+0.3, 0, 1.3))
}

func (f *face) aEff(v float64) float64 { return f.a * (1 - f.taper*clamp(v/f.b, 0, 1)) }

func (f *face) head(u, v float64) float64 {
	d1 := sdEllipse(u-f.shear(v), v, f.aEff(v), f.b)
	d2 := sdEllipse(u-f.crX, v-f.crY, f.crA, f.crB)
	return min(d1, d2)
}

// featU is where a point of the face surface at longitude phi (radians,
// 0 = centre line) and height v appears.
func (f *face) featU(phi, v float64) float64 {
	return f.shear(v) + 0.92*f.aEff(v)*math.Sin(phi+f.yaw)
}

// strand is the stochastic hair strand texture in [-1, 1].
func (f *face) strand(u, v float64) float32 {
	t := u*0.9 + v*0.15 + f.strandOff
	t -= 32 * math.Floor(t/32)
	i := int(t)
	fr := float32(t - float64(i))
	return f.strands[i] + (f.strands[i+1]-f.strands[i])*fr
}

// hairShade colours hair: strands, and darker towards the silhouette so hair
// stays visible against a background of the same colour.
func (f *face) hairShade(rim float64) func(u, v, d float64, ix, iy int) rgb {
	return func(u, v, d float64, ix, iy int) rgb {
		k := float32(0.68+0.32*clamp(-d/rim, 0, 1)) * (1 + 0.08*f.strand(u, v))
		return f.hair.scale(k)
	}
}

// render draws p and returns the 64×64 interleaved 8-bit RGB image, valid
// until the renderer is used again. If maps is non-nil, its slices (len 64²)
// receive the layers of every pixel.
func (r *renderer) render(p *params, maps *layerMaps) []uint8 {
	l := p.labels
	r.maps = maps
	if maps != nil {
		if r.sid == nil {
			r.sid = make([]uint8, canvasW*canvasW)
		}
		clear(r.sid)
		clear(maps.any)
		for i := range maps.any {
			maps.any[i] = 1 << idBg
		}
	}

	// Pose.
	const deg = math.Pi / 180
	yaw := (float64(l[FYaw]-1)*35 + 4*p.yawJit) * deg
	roll := (float64(l[FRoll]-1)*14 + 2.5*p.rollJit) * deg
	f := &face{yaw: yaw, s: math.Sin(yaw), c: math.Cos(yaw), noise: p.noise}
	switch l[FShape] {
	case 0: // round
		f.a, f.b, f.taper = 16.5, 16.5, 0
	case 1: // oval
		f.a, f.b, f.taper = 14.5, 19, 0.22
	default: // long
		f.a, f.b, f.taper = 11.5, 21, 0.06
	}
	k := 1 + 0.03*p.sizeJit
	f.a, f.b = f.a*k, f.b*k
	f.crX, f.crY, f.crA, f.crB = -0.3*f.a*f.s, -0.25*f.b, 0.96*f.a, 0.72*f.b
	f.vEye, f.vNose, f.vMouth = -0.06*f.b, 0.25*f.b, 0.52*f.b
	r.cr, r.sr = math.Cos(roll), math.Sin(roll)
	r.px, r.py = 32, 47
	r.hx, r.hy = 32, 31.5-(f.b-16)*0.35

	// Colours.
	f.skin = skinTones[l[FSkin]].scale(float32(1 + 0.035*p.skinJit))
	f.hair = hairColors[l[FHairColor]].scale(float32(1 + 0.05*p.hairJit))
	hue := bgHues[l[FBackground]] + 7*p.bgJit
	bg0, bg1 := hsv(hue-8, 0.42, 0.95), hsv(hue+8, 0.62, 0.68)
	cloth := hsv(360*p.clothHue, 0.35, 0.25+0.35*p.clothVal)

	// Stochastic details come from their own generator.
	nr := rand.New(rand.NewPCG(p.noise, 0x7374726e64)) // "strnd"
	for i := range 32 {
		f.strands[i] = float32(2*nr.Float64() - 1)
	}
	f.strands[32] = f.strands[0]
	f.strandOff = 32 * nr.Float64()

	r.background(bg0, bg1, p.bgAngle)
	r.body(f, cloth)
	r.hairBack(f, l[FHair])
	r.neck(f)
	r.ears(f, false)
	r.headLayer(f)
	r.ears(f, true)
	r.freckles(f, nr)
	r.beard(f, l[FBeard])
	r.nose(f)
	r.mouth(f, l[FMouth])
	r.eyes(f, l[FEyes])
	r.hairFront(f, l[FHair])
	r.glasses(f, l[FGlasses])

	// Box filter down to 64 px and quantise.
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			var s [3]float32
			for yy := y * ss; yy < (y+1)*ss; yy++ {
				o := (yy*canvasW + x*ss) * 3
				for j := 0; j < ss*3; j += 3 {
					s[0] += r.buf[o+j]
					s[1] += r.buf[o+j+1]
					s[2] += r.buf[o+j+2]
				}
			}
			o := (y*Size + x) * 3
			for c := 0; c < 3; c++ {
				v := s[c]*(255.0/(ss*ss)) + 0.5
				if v < 0 {
					v = 0
				} else if v > 255 {
					v = 255
				}
				r.out[o+c] = uint8(v)
			}
			if maps != nil {
				maps.top[y*Size+x] = r.sid[(y*ss+ss/2)*canvasW+x*ss+ss/2]
			}
		}
	}
	return r.out
}

// background fills the canvas with a linear gradient from c0 to c1 along angle.
func (r *renderer) background(c0, c1 rgb, angle float64) {
	cx, cy := math.Cos(angle)/(Size*1.3), math.Sin(angle)/(Size*1.3)
	for sy := 0; sy < canvasW; sy++ {
		y := (float64(sy)+0.5)/ss - Size/2
		for sx := 0; sx < canvasW; sx++ {
			x := (float64(sx)+0.5)/ss - Size/2
			t := float32(clamp(0.5+x*cx+y*cy, 0, 1))
			o := (sy*canvasW + sx) * 3
			r.buf[o] = c0[0] + (c1[0]-c0[0])*t
			r.buf[o+1] = c0[1] + (c1[1]-c0[1])*t
			r.buf[o+2] = c0[2] + (c1[2]-c0[2])*t
		}
	}
}

func (r *renderer) body(f *face, cloth rgb) {
	cx := 32 + 1.5*f.s
	r.fill(&layer{id: idBody, bb: [4]float64{cx - 24, 50, cx + 24, 64}, alpha: 1,
		sdf: func(x, y float64) float64 { return sdRoundBox(x-cx, y-69, 23, 17, 13) },
		shade: func(x, y, d float64, ix, iy int) rgb {
			return cloth.scale(float32(0.8 + 0.2*clamp(-d/3, 0, 1)))
		}})
}

func (r *renderer) hairBack(f *face, style int) {
	switch style {
	case hairLong:
		top, bottom := -f.b-2.8, f.b+13.0
		cu, cv := -0.3*f.a*f.s, (top+bottom)/2
		hw, hh := f.a+4.5, (bottom-top)/2
		r.fill(&layer{id: idHairBack, local: true, alpha: 1,
			bb:    [4]float64{cu - hw, top, cu + hw, bottom},
			sdf:   func(u, v float64) float64 { return sdRoundBox(u-cu, v-cv, hw, hh, hw*0.95) },
			shade: f.hairShade(3)})
	case hairBun:
		cu, cv, rad := -0.25*f.a*f.s, -f.b-2, 6.0
		r.fill(&layer{id: idHairBack, local: true, alpha: 1,
			bb:    [4]float64{cu - rad, cv - rad, cu + rad, cv + rad},
			sdf:   func(u, v float64) float64 { return sdCircle(u, v, cu, cv, rad) },
			shade: f.hairShade(2.5)})
	}
}

func (r *renderer) neck(f *face) {
	cu := 0.5 * f.shear(f.b)
	top, bottom := 0.3*f.b, r.py-r.hy+8
	hw, hh, cv := 0.36*f.a+0.8, (bottom-top)/2, (top+bottom)/2
	skin := f.skin
	r.fill(&layer{id: idNeck, local: true, alpha: 1,
		bb:  [4]float64{cu - hw, top, cu + hw, bottom},
		sdf: func(u, v float64) float64 { return sdRoundBox(u-cu, v-cv, hw, hh, 2.5) },
		shade: func(u, v, d float64, ix, iy int) rgb {
			return skin.scale(float32(0.72 + 0.1*clamp((v-f.b)/6, 0, 1)))
		}})
}

// skinShade is skin with a darker rim and per-pixel grain (stochastic).
func (f *face) skinShade(base float32) func(u, v, d float64, ix, iy int) rgb {
	return func(u, v, d float64, ix, iy int) rgb {
		k := base * float32(0.84+0.16*clamp(-d/3.5, 0, 1)) * (1 + 0.03*hash2(ix, iy, f.noise))
		return f.skin.scale(k)
	}
}

func (r *renderer) headLayer(f *face) {
	w := f.a + 4
	r.fill(&layer{id: idHead, local: true, alpha: 1,
		bb:    [4]float64{-w, -f.b - 1, w, f.b + 1},
		sdf:   f.head,
		shade: f.skinShade(1)})
}

// ears draws the ears that lie behind the cheek outline (front == false) or
// the one turned towards the viewer, over the face (front == true).
func (r *renderer) ears(f *face, front bool) {
	for _, sgn := range [2]float64{-1, 1} {
		ang := sgn*1.62 + f.yaw
		ca := math.Cos(ang)
		if ca < -0.3 || (ca > 0.25) != front {
			continue
		}
		v0 := f.vEye + 2
		cu := f.shear(v0) + f.aEff(v0)*math.Sin(ang)
		ew, eh := 1.6+1.2*math.Abs(ca), 3.4
		r.fill(&layer{id: idEar, local: true, alpha: 1,
			bb:    [4]float64{cu - ew, v0 - eh, cu + ew, v0 + eh},
			sdf:   func(u, v float64) float64 { return sdEllipse(u-cu, v-v0, ew, eh) },
			shade: f.skinShade(0.9)})
		iu := cu - 0.2*sgn*ew
		r.fill(&layer{id: idEar, local: true, alpha: 0.8, col: f.skin.scale(0.7),
			bb:  [4]float64{iu - ew, v0 - eh, iu + ew, v0 + eh},
			sdf: func(u, v float64) float64 { return sdEllipse(u-iu, v-v0, 0.45*ew, 0.6*eh) }})
	}
}

// freckles are a few dots on the cheeks at random places (stochastic).
func (r *renderer) freckles(f *face, nr *rand.Rand) {
	n := 4 + nr.IntN(9)
	col := f.skin.scale(0.72)
	for range n {
		phi := (0.2 + 0.7*nr.Float64())
		if nr.IntN(2) == 0 {
			phi = -phi
		}
		v0 := f.b * (0.02 + 0.28*nr.Float64())
		rad := 0.45 + 0.3*nr.Float64()
		if math.Cos(phi+f.yaw) < 0.25 {
			continue
		}
		u0 := f.featU(phi, v0)
		r.fill(&layer{id: idFreckle, local: true, alpha: 0.75, col: col,
			bb:  [4]float64{u0 - rad, v0 - rad, u0 + rad, v0 + rad},
			sdf: func(u, v float64) float64 { return sdCircle(u, v, u0, v0, rad) }})
	}
}

// beardTop is the upper edge of a beard: at height top·b under the nose,
// rising towards the sideburns.
func (f *face) beardTop(u, v, top float64) float64 {
	x := (u - f.featU(0, v)) / f.a
	return f.b * (top - 0.12*min(x*x, 1))
}

// aroundMouth is the bare skin a beard leaves around the mouth.
func (f *face) aroundMouth(u, v float64) float64 {
	return sdEllipse(u-f.featU(0, f.vMouth), v-f.vMouth-0.3, f.mouthW()+1.6, 3.6)
}

func (f *face) mouthW() float64 { return 0.3 * f.a * max(f.c, 0.5) }

func (r *renderer) beard(f *face, kind int) {
	w := f.a + 5
	switch kind {
	case beardFull:
		r.fill(&layer{id: idBeard, local: true, alpha: 1,
			bb: [4]float64{-w, 0, w, f.b + 3},
			sdf: func(u, v float64) float64 {
				return max(f.head(u, v)-1.8, f.beardTop(u, v, 0.38)-v, -f.aroundMouth(u, v))
			},
			shade: f.hairShade(2.5)})
	case beardStubble:
		col := f.hair.scale(0.7)
		r.fill(&layer{id: idBeard, local: true, alpha: 0.6,
			bb: [4]float64{-w, 0, w, f.b + 1},
			sdf: func(u, v float64) float64 {
				return max(f.head(u, v)+0.3, f.beardTop(u, v, 0.42)-v, -f.aroundMouth(u, v))
			},
			shade: func(u, v, d float64, ix, iy int) rgb {
				// Dots: the grain is stochastic, the darkening is not.
				return mix(f.skin, col, 0.75+0.25*hash2(ix, iy, f.noise^0x5b))
			}})
	}
}

func (r *renderer) nose(f *face) {
	v0, v1 := f.vEye+1.2, f.vNose
	u0 := f.featU(0, v0) + 0.7 + 0.3*f.s
	u1 := f.featU(0, v1) + 0.7 + 1.6*f.s
	col := f.skin.scale(0.72)
	r.fill(&layer{id: idNose, local: true, alpha: 0.8, col: col,
		bb:  [4]float64{min(u0, u1) - 1, v0 - 1, max(u0, u1) + 1, v1 + 1},
		sdf: func(u, v float64) float64 { return sdSegment(u, v, u0, v0, u1, v1) - 0.5 }})
	bu, bv := u1-0.7-0.6*f.s, v1+0.5
	bw := 1.8 * max(f.c, 0.6)
	r.fill(&layer{id: idNose, local: true, alpha: 0.75, col: col,
		bb:  [4]float64{bu - bw, bv - 1, bu + bw, bv + 1},
		sdf: func(u, v float64) float64 { return sdEllipse(u-bu, v-bv, bw, 0.8) }})
}

func (r *renderer) mouth(f *face, kind int) {
	v0 := f.vMouth
	u0 := f.featU(0, v0)
	mw := f.mouthW()
	lip := mix(f.skin, rgb{0.85, 0.3, 0.32}, 0.6)
	dark := rgb{0.2, 0.04, 0.05}
	// Smile and neutral are a lip-coloured band with a dark line inside,
	// visible on every skin tone.
	line := func(sdf func(u, v float64) float64, bb [4]float64) {
		r.fill(&layer{id: idMouth, local: true, alpha: 1, col: lip, bb: bb,
			sdf: func(u, v float64) float64 { return sdf(u, v) - 1.1 }})
		r.fill(&layer{id: idMouth, local: true, alpha: 1, col: dark, bb: bb,
			sdf: func(u, v float64) float64 { return sdf(u, v) - 0.45 }})
	}
	switch kind {
	case 0: // smile: a U-shaped arc with raised corners
		cv, ry := v0-2.2, 3.0
		line(func(u, v float64) float64 {
			return max(math.Abs(sdEllipse(u-u0, v-cv, mw, ry)), cv+1-v)
		}, [4]float64{u0 - mw - 2, cv - 1, u0 + mw + 2, cv + ry + 2})
	case 1: // neutral: a straight line
		line(func(u, v float64) float64 {
			return sdSegment(u, v, u0-0.85*mw, v0, u0+0.85*mw, v0)
		}, [4]float64{u0 - mw - 1.5, v0 - 2, u0 + mw + 1.5, v0 + 2})
	default: // open: lips around a dark opening with upper teeth
		ow, oh := 0.8*mw, 2.7
		r.fill(&layer{id: idMouth, local: true, alpha: 1, col: lip,
			bb:  [4]float64{u0 - ow - 1, v0 - oh - 1, u0 + ow + 1, v0 + oh + 1},
			sdf: func(u, v float64) float64 { return sdEllipse(u-u0, v-v0, ow+0.7, oh+0.7) }})
		r.fill(&layer{id: idMouth, local: true, alpha: 1, col: rgb{0.2, 0.04, 0.05},
			bb:  [4]float64{u0 - ow, v0 - oh, u0 + ow, v0 + oh},
			sdf: func(u, v float64) float64 { return sdEllipse(u-u0, v-v0, ow, oh) }})
		r.fill(&layer{id: idMouth, local: true, alpha: 1, col: rgb{0.95, 0.93, 0.88},
			bb: [4]float64{u0 - ow, v0 - oh, u0 + ow, v0},
			sdf: func(u, v float64) float64 {
				return max(sdEllipse(u-u0, v-v0, ow, oh), v-(v0-1.1))
			}})
	}
}

// eye returns the centre and half-width of the eye on side sgn (−1 left).
func (f *face) eye(sgn float64) (u, v, hw, fs float64, ok bool) {
	phi := sgn * 0.47
	ca := math.Cos(phi + f.yaw)
	v = f.vEye
	return f.featU(phi, v), v, 0.21 * f.a * ca, ca, ca > 0.15
}

func (r *renderer) eyes(f *face, kind int) {
	outline := rgb{0.1, 0.07, 0.07}
	for _, sgn := range [2]float64{-1, 1} {
		u0, v0, ew, _, ok := f.eye(sgn)
		if !ok {
			continue
		}
		if kind == 0 { // open
			eh := 1.9
			r.fill(&layer{id: idEye, local: true, alpha: 1, col: outline,
				bb:  [4]float64{u0 - ew - 1, v0 - eh - 1, u0 + ew + 1, v0 + eh + 1},
				sdf: func(u, v float64) float64 { return sdEllipse(u-u0, v-v0, ew+0.55, eh+0.55) }})
			r.fill(&layer{id: idEye, local: true, alpha: 1, col: rgb{0.97, 0.97, 0.95},
				bb:  [4]float64{u0 - ew, v0 - eh, u0 + ew, v0 + eh},
				sdf: func(u, v float64) float64 { return sdEllipse(u-u0, v-v0, ew, eh) }})
			iu, ir := u0+0.6*f.s, min(1.5, 0.7*ew)
			r.fill(&layer{id: idEye, local: true, alpha: 1, col: rgb{0.12, 0.08, 0.06},
				bb: [4]float64{iu - ir, v0 - ir, iu + ir, v0 + ir},
				sdf: func(u, v float64) float64 {
					return max(sdCircle(u, v, iu, v0, ir), sdEllipse(u-u0, v-v0, ew, eh))
				}})
		} else { // closed: a downward arc
			cv := v0 - 1.2
			r.fill(&layer{id: idEye, local: true, alpha: 1, col: outline,
				bb: [4]float64{u0 - ew - 1, v0 - 1, u0 + ew + 1, v0 + 2},
				sdf: func(u, v float64) float64 {
					return max(math.Abs(sdEllipse(u-u0, v-cv, ew, 2.2))-0.55, v0-0.3-v)
				}})
		}
		// Brow, in the hair colour.
		bu0, bu1 := u0-1.1*ew, u0+1.1*ew
		bv0, bv1 := v0-3.4, v0-3.4
		if sgn < 0 {
			bv0 += 0.6
		} else {
			bv1 += 0.6
		}
		brow := f.hair.scale(0.9)
		r.fill(&layer{id: idBrow, local: true, alpha: 1, col: brow,
			bb:  [4]float64{bu0 - 1, bv0 - 1.5, bu1 + 1, bv1 + 1.5},
			sdf: func(u, v float64) float64 { return sdSegment(u, v, bu0, bv0, bu1, bv1) - 0.85 }})
	}
}

func (r *renderer) hairFront(f *face, style int) {
	if style == hairBald {
		return
	}
	thick := 2.4 // short
	switch style {
	case hairLong:
		thick = 2.8
	case hairBun:
		thick = 1.4
	}
	// Hairline: a parabola in longitude from the fringe at h0 down to the
	// temples (longitude ±1.1), so it turns with the face.
	h0 := -0.5 * f.b
	k := 0.4 * f.b / (1.1 * 1.1)
	hmax := -0.02 * f.b
	if style == hairLong {
		hmax = f.b
	}
	cap := func(u, v float64) float64 {
		w := 0.92 * f.aEff(v)
		x := clamp((u-f.shear(v))/w, -0.99, 0.99)
		phi := math.Asin(x) - f.yaw
		h := h0 + k*phi*phi
		dh := 2 * k * phi / (w * math.Sqrt(1-x*x)) // dh/du
		dl := (v - h) / math.Sqrt(1+dh*dh)
		if h > hmax {
			dl = v - hmax
		}
		return max(f.head(u, v)-thick, dl)
	}
	if math.Abs(f.s) > 0.1 {
		// A turned head shows its back: hair covers the cranium behind the
		// ear down to the nape.
		back := -math.Copysign(1, f.s)
		ve := f.vEye + 2
		ue := f.shear(ve) + f.aEff(ve)*math.Sin(back*1.62+f.yaw)
		front := cap
		cap = func(u, v float64) float64 {
			nape := max(sdEllipse(u-f.crX, v-f.crY, f.crA, f.crB)-thick, 1.2-back*(u-ue), v-0.3*f.b)
			return min(front(u, v), nape)
		}
	}
	sdf := cap
	bottom := max(hmax, 0.3*f.b)
	if style == hairLong {
		// Locks hanging beside the face down to the shoulders.
		top, bot := -f.b-2.8, f.b+13.0
		cu, cv := -0.3*f.a*f.s, (top+bot)/2
		hw, hh := f.a+4.5, (bot-top)/2
		sdf = func(u, v float64) float64 {
			lc := f.shear(v) + 0.35*f.a*f.s
			locks := max(sdRoundBox(u-cu, v-cv, hw, hh, hw*0.95), 0.86*f.aEff(v)-math.Abs(u-lc))
			locks = max(locks, -0.3*f.b-v)
			return min(cap(u, v), locks)
		}
		bottom = bot
	}
	w := f.a + 8
	r.fill(&layer{id: idHairFront, local: true, alpha: 1,
		bb:    [4]float64{-w, -f.b - thick - 1, w, bottom},
		sdf:   sdf,
		shade: f.hairShade(2.5)})
}

func (r *renderer) glasses(f *face, kind int) {
	if kind == 0 {
		return
	}
	frame := rgb{0.1, 0.1, 0.12}
	const t = 0.55 // half the frame thickness
	var inner [2]float64
	for i, sgn := range [2]float64{-1, 1} {
		u0, v0, _, ca, ok := f.eye(sgn)
		if !ok {
			continue
		}
		ry := 0.3 * f.a * 0.92
		rx := 0.3 * f.a * clamp(ca/0.89, 0.5, 1)
		inner[i] = u0 - sgn*rx
		var lens func(u, v float64) float64
		if kind == 1 {
			lens = func(u, v float64) float64 { return sdEllipse(u-u0, v-v0, rx, ry) }
		} else {
			lens = func(u, v float64) float64 { return sdRoundBox(u-u0, v-v0, rx*1.02, ry*0.8, 1.0) }
		}
		bb := [4]float64{u0 - rx - 1, v0 - ry - 1, u0 + rx + 1, v0 + ry + 1}
		r.fill(&layer{id: idGlasses, local: true, alpha: 0.18, col: rgb{0.85, 0.93, 1}, bb: bb, sdf: lens})
		r.fill(&layer{id: idGlasses, local: true, alpha: 1, col: frame, bb: bb,
			sdf: func(u, v float64) float64 { return math.Abs(lens(u, v)) - t }})
	}
	if inner[0] != 0 && inner[1] != 0 {
		bv := f.vEye - 0.6
		a, b := inner[0], inner[1]
		r.fill(&layer{id: idGlasses, local: true, alpha: 1, col: frame,
			bb:  [4]float64{a - 1, bv - 1, b + 1, bv + 1},
			sdf: func(u, v float64) float64 { return sdSegment(u, v, a, bv, b, bv) - 0.45 }})
	}
}
