package render

import (
	"bytes"
	"image"
	"io"
	"testing"

	mattn "github.com/mattn/go-sixel"
)

// Sixel for a 256² frame with the family's palette reused: dither + encode.
func BenchmarkSixel256Reused(b *testing.B) {
	img := synth(256, 256, 1, 0)
	p := NewPalette(256, img)
	var buf []byte
	for b.Loop() {
		buf = AppendSixel(buf[:0], p.Dither(img))
	}
	b.ReportMetric(float64(len(buf)), "bytes/frame")
}

// The same with a new palette every frame (median cut + table + dither +
// encode): what reusing the palette saves.
func BenchmarkSixel256PerFramePalette(b *testing.B) {
	img := synth(256, 256, 1, 0)
	var buf []byte
	for b.Loop() {
		buf = AppendSixel(buf[:0], NewPalette(256, img).Dither(img))
	}
	b.ReportMetric(float64(len(buf)), "bytes/frame")
}

// Encoding alone, from a paletted image.
func BenchmarkSixel256EncodeOnly(b *testing.B) {
	img := synth(256, 256, 1, 0)
	pm := NewPalette(256, img).Dither(img)
	var buf []byte
	for b.Loop() {
		buf = AppendSixel(buf[:0], pm)
	}
	b.ReportMetric(float64(len(buf)), "bytes/frame")
}

// mattn/go-sixel encoding the same paletted image, for comparison.
func BenchmarkSixel256EncodeOnlyMattn(b *testing.B) {
	img := synth(256, 256, 1, 0)
	pm := NewPalette(255, img).Dither(img) // mattn keeps one register spare
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		mattn.NewEncoder(&buf).Encode(pm)
	}
	b.ReportMetric(float64(buf.Len()), "bytes/frame")
}

func BenchmarkSixel1024Reused(b *testing.B) {
	img := synth(1024, 1024, 1, 0)
	p := NewPalette(256, img)
	var buf []byte
	for b.Loop() {
		buf = AppendSixel(buf[:0], p.Dither(img))
	}
	b.ReportMetric(float64(len(buf)), "bytes/frame")
}

func BenchmarkNewPalette256(b *testing.B) {
	img := synth(256, 256, 1, 0)
	for b.Loop() {
		NewPalette(256, img)
	}
}

func BenchmarkHalfBlock80x40(b *testing.B) {
	img := synth(256, 256, 1, 0)
	var n int
	for b.Loop() {
		n = 0
		for _, l := range HalfBlock(img, 80, 40) {
			n += len(l) + 1
		}
	}
	b.ReportMetric(float64(n), "bytes/frame")
}

// The bar: 60 frames of 256² in at most 1 s.
func BenchmarkGIF60(b *testing.B) {
	src := frames(60, 256, 256)
	var n countWriter
	for b.Loop() {
		n = 0
		if err := EncodeGIF(&n, src, []int{4}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "bytes")
}

func BenchmarkResize1024To80(b *testing.B) {
	img := synth(1024, 1024, 1, 0)
	for b.Loop() {
		Resize(img, 80, 80)
	}
}

func BenchmarkGrid4x4(b *testing.B) {
	cells := make([][]image.Image, 4)
	for r := range cells {
		for c := 0; c < 4; c++ {
			cells[r] = append(cells[r], synth(128, 128, int64(r*4+c), 0))
		}
	}
	for b.Loop() {
		Grid(cells, []string{"a", "b", "c", "d"}, []string{"coarse", "middle", "fine", "all"}, nil)
	}
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
