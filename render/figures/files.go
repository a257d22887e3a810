package figures

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"

	"stylegan-tui/render"
)

// GIFColors is the size of an animation's global palette.
const GIFColors = 256

// WriteGIF writes frames as a looping GIF through render's encoder (written
// to a temporary file and renamed): one global median-cut palette over
// samples of every frame, Floyd-Steinberg through the palette's lookup table,
// frames dithered concurrently. delays are in 1/100 s (one per frame, or one
// for all). It returns the palette: palette.Dither(frames[i]) is exactly the
// paletted frame i of the file, ready for render.Sixel.
func WriteGIF(path string, frames []image.Image, delays []int, bar *render.Progress) (*render.Palette, error) {
	return writeGIF(path, frames, delays, bar)
}

func writeGIF(path string, frames []image.Image, delays []int, bar *render.Progress) (*render.Palette, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("figures: %s: no frames", path)
	}
	pal := render.NewPalette(GIFColors, frames...)
	err := render.WriteGIF(path, frames, delays, &render.GIFOptions{Palette: pal, Progress: bar})
	return pal, err
}

// WritePNG writes img as PNG with text chunks (tEXt, keyword then value;
// Latin-1 keywords of 1-79 bytes), written to a temporary file in the same
// directory and renamed over path. Figures carry their cells' state strings
// this way.
func WritePNG(path string, img image.Image, text [][2]string) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("figures: encoding %s: %w", path, err)
	}
	data := buf.Bytes()
	// The signature (8 bytes) and IHDR (4 length + 4 type + 13 + 4 CRC)
	// come first; text chunks may follow IHDR.
	const afterIHDR = 8 + 25
	var chunks bytes.Buffer
	for _, kv := range text {
		if len(kv[0]) < 1 || len(kv[0]) > 79 {
			return fmt.Errorf("figures: PNG text keyword %q: want 1-79 bytes", kv[0])
		}
		body := append(append([]byte(kv[0]), 0), kv[1]...)
		var hdr [8]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)))
		copy(hdr[4:], "tEXt")
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:])
		crc.Write(body)
		chunks.Write(hdr[:])
		chunks.Write(body)
		binary.Write(&chunks, binary.BigEndian, crc.Sum32())
	}
	out := make([]byte, 0, len(data)+chunks.Len())
	out = append(append(append(out, data[:afterIHDR]...), chunks.Bytes()...), data[afterIHDR:]...)
	return render.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
}

// PNGText reads the tEXt chunks of a PNG file's bytes, in order.
func PNGText(data []byte) ([][2]string, error) {
	if len(data) < 8 || string(data[1:4]) != "PNG" {
		return nil, fmt.Errorf("figures: not a PNG")
	}
	var out [][2]string
	for p := 8; p+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[p:]))
		if n < 0 || p+12+n > len(data) {
			return nil, fmt.Errorf("figures: PNG chunk at %d overruns the file", p)
		}
		typ, body := string(data[p+4:p+8]), data[p+8:p+8+n]
		if typ == "tEXt" {
			k, v, _ := bytes.Cut(body, []byte{0})
			out = append(out, [2]string{string(k), string(v)})
		}
		if typ == "IEND" {
			break
		}
		p += 12 + n
	}
	return out, nil
}

// Text returns the PNG text chunks a figure carries: its kind, then one
// "cell R,C" chunk per cell with the state string.
func (f *Figure) Text() [][2]string {
	out := [][2]string{{"Software", "stylegan-tui figure " + f.Kind}}
	for r, row := range f.Cells {
		for c, cell := range row {
			if cell == nil {
				continue
			}
			v := cell.State.Encode()
			if cell.StdDraws > 0 {
				v += fmt.Sprintf(" std-over-%d-draws", cell.StdDraws)
			}
			out = append(out, [2]string{fmt.Sprintf("cell %d,%d", r, c), v})
		}
	}
	return out
}
