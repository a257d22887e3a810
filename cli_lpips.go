package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model/lpips"
	"stylegan-tui/model/metrics"
	"stylegan-tui/render"
)

// vgg16File is torchvision's VGG16 weights file, which torch.hub caches in
// $TORCH_HOME/hub/checkpoints ($TORCH_HOME defaulting to ~/.cache/torch).
const vgg16File = "vgg16-397923af.pth"

// vgg16Default is where torchvision keeps vgg16File after a
// torchvision.models.vgg16(pretrained=True) (weights=...) call.
func vgg16Default() string {
	home := os.Getenv("TORCH_HOME")
	if home == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			cache = filepath.Join(h, ".cache")
		}
		home = filepath.Join(cache, "torch")
	}
	return filepath.Join(home, "hub", "checkpoints", vgg16File)
}

// vgg16Usage is the --vgg16 flag's help.
func vgg16Usage() string {
	return "torchvision's VGG16 weights (" + vgg16File + "), legacy or zip torch.save; empty: " + vgg16Default()
}

// loadLPIPS opens --vgg16 (empty: torchvision's cache) and --lin (empty: the
// embedded LPIPS v0.1 weights).
func loadLPIPS(vgg16, lin string) (*lpips.Net, error) {
	if vgg16 == "" {
		vgg16 = vgg16Default()
		if _, err := os.Stat(vgg16); err != nil {
			return nil, usageError{fmt.Sprintf("--vgg16: no %s: give torchvision's %s (python3 -c 'import torchvision; torchvision.models.vgg16(pretrained=True)' downloads it there)", vgg16, vgg16File)}
		}
	}
	return lpips.Load(vgg16, lin)
}

// lpipsMetadata is the -o file's metadata.
func lpipsMetadata(vgg16, lin string, w [lpips.Taps]int) map[string]string {
	if lin == "" {
		lin = "embedded lpips_v0.1_vgg.pth"
	}
	return map[string]string{
		"tool":   "stylegan-tui lpips (LPIPS v0.1, VGG16 trunk, spatial mean)",
		"vgg16":  vgg16,
		"lin":    lin,
		"taps":   strings.Join(lpips.TapNames[:], ","),
		"widths": strings.Trim(fmt.Sprint(w[:]), "[]"),
	}
}

func runLPIPS(args []string, stdout, stderr io.Writer) error {
	var f lpipsFlags
	if err := parseFlags(&f, newFlags("lpips", "[--vgg16 F] [--lin F] (A.png B.png | --pairs P.safetensors -o d.safetensors)", stderr), args); err != nil {
		return err
	}
	return f.run(stdout, stderr)
}

// lpipsFlags are lpips's flags and file arguments.
type lpipsFlags struct {
	vgg16, lin, pairs, out string
	batch                  int

	pngs []string // the two PNGs, without --pairs
}

func (f *lpipsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.vgg16, "vgg16", "", vgg16Usage())
	fs.StringVar(&f.lin, "lin", "", "LPIPS linear layers (lin0..lin4.model.1.weight, torch.save); empty: the embedded LPIPS v0.1 VGG weights")
	fs.StringVar(&f.pairs, "pairs", "", "safetensors file with x0, x1 [N,3,H,W] in [-1, 1]: the distance of each pair x0[i], x1[i]")
	fs.StringVar(&f.out, "o", "", "with --pairs: write d [N] and layers [N,5] (the per-tap terms) to this safetensors file")
	fs.IntVar(&f.batch, "batch", 8, "pairs per call")
}

func (f *lpipsFlags) check(fs *flag.FlagSet) error {
	f.pngs = fs.Args()
	switch {
	case f.pairs == "" && len(f.pngs) != 2:
		return usageError{fmt.Sprintf("want two PNG files or --pairs, not %d file argument(s) (see --help)", len(f.pngs))}
	case f.pairs != "" && len(f.pngs) > 0:
		return usageError{fmt.Sprintf("unexpected argument %q: --pairs takes the images from its file", f.pngs[0])}
	case f.pairs == "" && f.out != "":
		return usageError{"-o goes with --pairs (two PNGs print their distance)"}
	case f.batch < 1:
		return usageError{fmt.Sprintf("--batch %d: want a positive count", f.batch)}
	}
	if f.out != "" {
		return checkOutput("-o", f.out, "")
	}
	return nil
}

// run measures the distance of every pair and writes it.
func (f *lpipsFlags) run(stdout, stderr io.Writer) error {
	var p imagePairs
	var err error
	if f.pairs != "" {
		p, err = readPairs(f.pairs)
	} else {
		p, err = readPNGPair(f.pngs[0], f.pngs[1])
	}
	if err != nil {
		return err
	}
	if p.h < lpips.MinSize || p.w < lpips.MinSize {
		return fmt.Errorf("images of %d×%d px: LPIPS on VGG16 needs at least %d×%d (four 2×2 max-pools)", p.h, p.w, lpips.MinSize, lpips.MinSize)
	}
	net, err := loadLPIPS(f.vgg16, f.lin)
	if err != nil {
		return err
	}
	defer net.Close()

	start := time.Now()
	d, layers, err := p.distances(net, f.batch, stderr)
	if err != nil {
		return err
	}
	el := time.Since(start)
	if f.pairs == "" {
		fmt.Fprintf(stdout, "lpips %s %s: %.6g\n", f.pngs[0], f.pngs[1], d[0])
		for t, name := range lpips.TapNames {
			fmt.Fprintf(stdout, "  %-8s %.6g\n", name, layers[0][t])
		}
		return nil
	}
	mean := 0.0
	for _, v := range d {
		mean += v
	}
	mean /= float64(p.n)
	fmt.Fprintf(stdout, "lpips: %d pairs of %d×%d px, mean %.6g, %.1f pairs/s\n", p.n, p.h, p.w, mean, float64(p.n)/el.Seconds())
	if f.out == "" {
		for i, v := range d {
			fmt.Fprintf(stdout, "%d %.6g\n", i, v)
		}
		return nil
	}
	if err := writeLPIPS(f.out, d, layers, lpipsMetadata(f.vgg16, f.lin, net.Widths())); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (d [%d], layers [%d 5])\n", f.out, p.n, p.n)
	return nil
}

// imagePairs are n image pairs x0[i], x1[i], each [3,h,w] in [-1, 1].
type imagePairs struct {
	x0, x1  []float32
	n, h, w int
}

// distances is the LPIPS distance of every pair and its per-tap terms,
// batch pairs a call, with a progress bar.
func (p imagePairs) distances(net *lpips.Net, batch int, stderr io.Writer) ([]float64, [][lpips.Taps]float64, error) {
	prog := render.NewProgress(stderr, "lpips", p.n)
	d := make([]float64, 0, p.n)
	var layers [][lpips.Taps]float64
	img := 3 * p.h * p.w
	for i := 0; i < p.n; i += batch {
		k := min(batch, p.n-i)
		di, li, err := net.Distance(p.x0[i*img:(i+k)*img], p.x1[i*img:(i+k)*img], k, p.h, p.w)
		if err != nil {
			return nil, nil, err
		}
		d, layers = append(d, di...), append(layers, li...)
		prog.Add(k)
	}
	prog.Done()
	return d, layers, nil
}

// writeLPIPS writes the distances d [N] and their per-tap terms layers
// [N,5] to a safetensors file.
func writeLPIPS(path string, d []float64, layers [][lpips.Taps]float64, md map[string]string) error {
	n := len(d)
	f := &safetensors.File{Tensors: map[string]*safetensors.Tensor{
		"d":      {Shape: []int{n}, Data: make([]float32, n)},
		"layers": {Shape: []int{n, lpips.Taps}, Data: make([]float32, n*lpips.Taps)},
	}, Metadata: md}
	for i := range n {
		f.Tensors["d"].Data[i] = float32(d[i])
		for t := range lpips.Taps {
			f.Tensors["layers"].Data[i*lpips.Taps+t] = float32(layers[i][t])
		}
	}
	return safetensors.WriteFile(path, f)
}

// readPairs reads x0 and x1 [N,3,H,W] from a safetensors file.
func readPairs(path string) (imagePairs, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return imagePairs{}, fmt.Errorf("--pairs: %w", err)
	}
	var shape []int
	for _, name := range []string{"x0", "x1"} {
		t := f.Tensors[name]
		if t == nil {
			return imagePairs{}, fmt.Errorf("--pairs %s: no tensor %s (want x0 and x1 [N,3,H,W] in [-1, 1])", path, name)
		}
		if len(t.Shape) != 4 || t.Shape[1] != 3 || t.Shape[0] < 1 {
			return imagePairs{}, fmt.Errorf("--pairs %s: %s has shape %v, want [N 3 H W]", path, name, t.Shape)
		}
		if shape != nil && fmt.Sprint(shape) != fmt.Sprint(t.Shape) {
			return imagePairs{}, fmt.Errorf("--pairs %s: x0 is %v but x1 is %v: the images of a pair must have the same size", path, shape, t.Shape)
		}
		shape = t.Shape
	}
	return imagePairs{f.Tensors["x0"].Data, f.Tensors["x1"].Data, shape[0], shape[2], shape[3]}, nil
}

// readPNGPair decodes two images of the same size into one pair.
func readPNGPair(a, b string) (imagePairs, error) {
	ia, err := readImage(a)
	if err != nil {
		return imagePairs{}, err
	}
	ib, err := readImage(b)
	if err != nil {
		return imagePairs{}, err
	}
	sa, sb := ia.Bounds().Size(), ib.Bounds().Size()
	if sa != sb {
		return imagePairs{}, fmt.Errorf("%s is %d×%d px but %s is %d×%d: LPIPS compares images of the same size", a, sa.X, sa.Y, b, sb.X, sb.Y)
	}
	return imagePairs{toTensor(ia), toTensor(ib), 1, sa.Y, sa.X}, nil
}

// maxImageSide bounds the images readImage decodes: a PNG of a few KB can
// claim 20000×20000 px, which would exhaust memory (VGG16's first layers
// hold 64 channels of it) instead of giving an error.
const maxImageSide = 4096

func readImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if c, _, err := image.DecodeConfig(f); err == nil && (c.Width > maxImageSide || c.Height > maxImageSide) {
		return nil, fmt.Errorf("%s: %d×%d px, want at most %d×%d", path, c.Width, c.Height, maxImageSide, maxImageSide)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, fmt.Errorf("%s: not a PNG image", path)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return img, nil
}

// toTensor maps an image's RGB to [3,H,W] in [-1, 1] (0 -> -1, full scale -> 1).
func toTensor(img image.Image) []float32 {
	r := img.Bounds()
	h, w := r.Dy(), r.Dx()
	x := make([]float32, 3*h*w)
	for i := range h {
		for j := range w {
			cr, cg, cb, _ := img.At(r.Min.X+j, r.Min.Y+i).RGBA()
			for c, v := range [3]uint32{cr, cg, cb} {
				x[(c*h+i)*w+j] = float32(float64(v)/65535*2 - 1)
			}
		}
	}
	return x
}

// lpipsPath is LPIPS as the explorer's path-length distance: each frame as ppl measures it
// (NVlabs' face crop, box-averaged to 256 px at most).
type lpipsPath struct{ n *lpips.Net }

func (lpipsPath) Name() string { return "LPIPS (VGG16)" }

func (p lpipsPath) Distance(a, b *image.RGBA) (float64, error) {
	sa, sb := a.Bounds().Size(), b.Bounds().Size()
	if sa != sb || sa.X != sa.Y {
		return 0, fmt.Errorf("lpips: frames of %v and %v, want two squares of the same size", sa, sb)
	}
	res := sa.X
	s := metrics.DistanceRes(res, true)
	d, _, err := p.n.Distance(metrics.Prepare(toTensor(a), 1, res, true), metrics.Prepare(toTensor(b), 1, res, true), 1, s, s)
	if err != nil {
		return 0, err
	}
	return d[0], nil
}
