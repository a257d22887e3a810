package render

import (
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"sync"

	"stylegan-tui/internal/atomicfile"
)

// WritePNG writes img to path as PNG. It writes a temporary file in the same
// directory and renames it over path only once everything is written, so a
// failure never leaves a partial file or clobbers an existing one.
func WritePNG(path string, img image.Image) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		return enc.Encode(w, img)
	})
}

// GIFOptions adjusts EncodeGIF and WriteGIF; a nil *GIFOptions means the zero
// value.
type GIFOptions struct {
	// Palette is the animation's one global palette. Nil: median cut
	// (NewPalette) over pixels sampled from every frame.
	Palette *Palette
	// Colors is the size of the palette built when Palette is nil; 0 means 256.
	Colors int
	// NoDither maps pixels to the nearest colour instead of Floyd–Steinberg.
	NoDither bool
	// LoopCount is as in image/gif: 0 loops forever, -1 plays once, n > 0
	// plays n+1 times.
	LoopCount int
	// Workers is how many frames are dithered at once; 0 means 2.
	Workers int
	// Progress, if not nil, is advanced by one for every frame dithered.
	Progress *Progress
}

// DefaultGIFDelay is the frame delay, in 1/100 s, used when delays is empty.
const DefaultGIFDelay = 4

// EncodeGIF writes frames as a looping GIF animation with one global palette.
// delays are in 1/100 s: one per frame, a single value for all, or none for
// DefaultGIFDelay. Every frame must have the size of the first. Frames are
// mapped onto the palette concurrently (opts.Workers), then LZW-encoded in
// order.
func EncodeGIF(w io.Writer, frames []image.Image, delays []int, opts *GIFOptions) error {
	if opts == nil {
		opts = &GIFOptions{}
	}
	if len(frames) == 0 {
		return errors.New("render: gif: no frames")
	}
	size := frames[0].Bounds().Size()
	if size.X <= 0 || size.Y <= 0 || size.X > 0xffff || size.Y > 0xffff {
		return fmt.Errorf("render: gif: frame size %dx%d out of range", size.X, size.Y)
	}
	for i, f := range frames {
		if f.Bounds().Size() != size {
			return fmt.Errorf("render: gif: frame %d is %dx%d, want %dx%d",
				i, f.Bounds().Dx(), f.Bounds().Dy(), size.X, size.Y)
		}
	}
	d := make([]int, len(frames))
	switch len(delays) {
	case 0:
		for i := range d {
			d[i] = DefaultGIFDelay
		}
	case 1:
		for i := range d {
			d[i] = delays[0]
		}
	case len(frames):
		copy(d, delays)
	default:
		return fmt.Errorf("render: gif: %d delays for %d frames", len(delays), len(frames))
	}
	pal := opts.Palette
	if pal == nil {
		pal = NewPalette(opts.Colors, frames...)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}

	out := make([]*image.Paletted, len(frames))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(frames)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := image.NewPaletted(image.Rect(0, 0, size.X, size.Y), pal.colors)
				src, stride, fw, fh := rgbaView(frames[i])
				if opts.NoDither {
					for y := 0; y < fh; y++ {
						s := src[y*stride:]
						row := m.Pix[y*m.Stride : y*m.Stride+fw]
						for x := range row {
							row[x] = pal.lut[lutIndex(s[4*x], s[4*x+1], s[4*x+2])]
						}
					}
				} else {
					pal.dither(m.Pix, m.Stride, src, stride, fw, fh)
				}
				out[i] = m
				opts.Progress.Add(1)
			}
		}()
	}
	for i := range frames {
		next <- i
	}
	close(next)
	wg.Wait()

	g := &gif.GIF{
		Image:     out,
		Delay:     d,
		LoopCount: opts.LoopCount,
		Config:    image.Config{ColorModel: pal.colors, Width: size.X, Height: size.Y},
	}
	if err := gif.EncodeAll(w, g); err != nil {
		return fmt.Errorf("render: gif: %w", err)
	}
	return nil
}

// WriteGIF is EncodeGIF to a file, written atomically like WritePNG.
func WriteGIF(path string, frames []image.Image, delays []int, opts *GIFOptions) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		return EncodeGIF(w, frames, delays, opts)
	})
}

// WriteFileAtomic writes path through a temporary file in its directory
// that is renamed over path on success and removed on failure, so a failed
// save never leaves a partial file or clobbers the old one (atomicfile).
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	// No "render:" prefix: the commands that save put their own name first,
	// and "stylegan-tui render: render: writing" read as a stutter.
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("writing %w", err)
	}
	return nil
}
