package toyfaces

import "math"

// Signed distances in output pixels: negative inside, positive outside.
// Only the value near the edge (|d| ≲ 1 px) has to be accurate; it sets the
// anti-aliasing coverage. Inside values are also used for rim shading.

// sdEllipse approximates the distance to the ellipse with half-axes a, b
// centred at the origin (first-order: f/|∇f|).
func sdEllipse(x, y, a, b float64) float64 {
	ia, ib := 1/a, 1/b
	xa, yb := x*ia, y*ib
	k0 := math.Sqrt(xa*xa + yb*yb)
	xa2, yb2 := xa*ia, yb*ib
	k1 := math.Sqrt(xa2*xa2 + yb2*yb2)
	if k1 == 0 {
		return -min(a, b)
	}
	return k0 * (k0 - 1) / k1
}

// sdCircle is the distance to a circle of radius r centred at (cx, cy).
func sdCircle(x, y, cx, cy, r float64) float64 {
	dx, dy := x-cx, y-cy
	return math.Sqrt(dx*dx+dy*dy) - r
}

// sdRoundBox is the distance to a box of half-size (hw, hh) centred at the
// origin whose corners are rounded with radius r.
func sdRoundBox(x, y, hw, hh, r float64) float64 {
	qx := math.Abs(x) - hw + r
	qy := math.Abs(y) - hh + r
	ox, oy := max(qx, 0), max(qy, 0)
	return math.Sqrt(ox*ox+oy*oy) + min(max(qx, qy), 0) - r
}

// sdSegment is the distance to the segment (ax, ay)–(bx, by).
func sdSegment(x, y, ax, ay, bx, by float64) float64 {
	px, py := x-ax, y-ay
	ex, ey := bx-ax, by-ay
	h := (px*ex + py*ey) / (ex*ex + ey*ey)
	h = clamp(h, 0, 1)
	dx, dy := px-ex*h, py-ey*h
	return math.Sqrt(dx*dx + dy*dy)
}

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

// hash2 is a cheap integer hash of a pixel position and a seed, uniform in
// [-1, 1).
func hash2(x, y int, seed uint64) float32 {
	h := uint32(x)*0x8da6b343 ^ uint32(y)*0xd8163841 ^ uint32(seed) ^ uint32(seed>>32)*0xcb1ab31f
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	h *= 0x297a2d39
	h ^= h >> 15
	return float32(h>>8)*(2.0/(1<<24)) - 1
}
