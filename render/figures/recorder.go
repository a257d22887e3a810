package figures

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"stylegan-tui/latent"
	"stylegan-tui/render"
)

// RecorderOptions adjust a Recorder; the zero value is usable.
type RecorderOptions struct {
	// Dir is where the GIF goes ("" is the current directory), Name the
	// start of its file name ("" is "stylegan"); the time of Stop follows.
	Dir, Name string
	// MaxSide shrinks frames whose larger side is over it (0: 256), so long
	// recordings of large models stay small. Frames of different sizes are
	// scaled to the largest.
	MaxSide int
	// MaxFrames caps the frames kept (0: 1500, a minute at 25 fps); later
	// frames count as dropped.
	MaxFrames int
	// Buffer is how many frames may wait for the collector (0: 64); a frame
	// offered while the buffer is full is dropped, never waited for.
	Buffer int
}

// Recording describes a GIF a Recorder wrote.
type Recording struct {
	Path     string
	Frames   int           // frames in the GIF
	Dropped  int           // frames not in the GIF (buffer full, over MaxFrames, or replaced within 2/100 s)
	Duration time.Duration // from the first frame to Stop
	States   []string      // the state string of each frame in the GIF
}

// ErrNoFrames is returned by Stop when nothing was recorded.
var ErrNoFrames = errors.New("figures: recording: no frames")

type recFrame struct {
	img image.Image
	at  time.Time
	st  latent.State
}

type keptFrame struct {
	img *image.RGBA
	at  time.Time
	st  string
}

// Recorder captures the frames a program shows, with the time each was
// shown, and writes them as a GIF on Stop. Add never blocks: frames go
// through a buffered channel to a goroutine that copies and shrinks them.
// Methods are safe for concurrent use.
type Recorder struct {
	opts   RecorderOptions
	mu     sync.Mutex
	ch     chan recFrame
	closed bool
	busy   int // frames refused because the buffer was full

	done    chan struct{}
	kept    []keptFrame
	dropped int // frames over MaxFrames (collector only)
}

// NewRecorder starts recording.
func NewRecorder(opts RecorderOptions) *Recorder {
	if opts.MaxSide <= 0 {
		opts.MaxSide = 256
	}
	if opts.MaxFrames <= 0 {
		opts.MaxFrames = 1500
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.Name == "" {
		opts.Name = "stylegan"
	}
	r := &Recorder{opts: opts, ch: make(chan recFrame, opts.Buffer), done: make(chan struct{})}
	go r.collect()
	return r
}

// Add offers a frame shown at time at, made from state st. It never blocks
// and reports whether the frame was taken. img is read later, on another
// goroutine: it must not be modified afterwards (the explorer's rendered
// images never are).
func (r *Recorder) Add(img image.Image, at time.Time, st latent.State) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || img == nil {
		return false
	}
	select {
	case r.ch <- recFrame{img: img, at: at, st: st}:
		return true
	default:
		r.busy++
		return false
	}
}

func (r *Recorder) collect() {
	defer close(r.done)
	for f := range r.ch {
		if len(r.kept) >= r.opts.MaxFrames {
			r.dropped++
			continue
		}
		// A copy (render.Resize always makes one), shrunk to MaxSide with
		// its aspect ratio kept.
		sz := f.img.Bounds().Size()
		if m := max(sz.X, sz.Y); m > r.opts.MaxSide {
			sz = image.Pt(max(1, sz.X*r.opts.MaxSide/m), max(1, sz.Y*r.opts.MaxSide/m))
		}
		r.kept = append(r.kept, keptFrame{img: render.Resize(f.img, sz.X, sz.Y), at: f.at, st: f.st.Encode()})
	}
}

// frameSize is the GIF's size: the largest frame kept (so a low-resolution
// preview recorded first does not shrink the rest).
func frameSize(kept []keptFrame) image.Point {
	var sz image.Point
	for _, f := range kept {
		if b := f.img.Rect.Size(); b.X*b.Y > sz.X*sz.Y {
			sz = b
		}
	}
	return sz
}

// Stop ends the recording at time end and writes the GIF (see WriteGIF):
// each frame lasts until the next one was shown, the last until end. Frames
// shown for under 2/100 s give way to the next (GIF delays are in 1/100 s
// and browsers stretch shorter ones). Stop waits for the encoder: call it off the
// UI goroutine (in a tea.Cmd). Later calls return an error.
func (r *Recorder) Stop(end time.Time) (Recording, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return Recording{}, errors.New("figures: recording already stopped")
	}
	r.closed = true
	close(r.ch)
	busy := r.busy
	r.mu.Unlock()
	<-r.done

	rec := Recording{Dropped: busy + r.dropped}
	if len(r.kept) == 0 {
		return rec, ErrNoFrames
	}
	// In the order shown, whatever order they were offered in.
	slices.SortStableFunc(r.kept, func(a, b keptFrame) int { return a.at.Compare(b.at) })
	sz := frameSize(r.kept)
	for i, f := range r.kept {
		if f.img.Rect.Size() != sz {
			r.kept[i].img = render.Resize(f.img, sz.X, sz.Y)
		}
	}
	frames, delays, states, skipped := timeline(r.kept, end)
	rec.Dropped += skipped
	rec.Frames, rec.States = len(frames), states
	rec.Duration = end.Sub(r.kept[0].at)
	rec.Path = FreePath(r.opts.Dir, fmt.Sprintf("%s-%s", r.opts.Name, end.Format("20060102-150405")), ".gif")
	if _, err := writeGIF(rec.Path, frames, delays, nil); err != nil {
		return rec, err
	}
	r.kept = nil
	return rec, nil
}

// timeline turns shown-at times into GIF delays: times are rounded to
// 1/100 s from the first frame and each frame lasts until the next, the last
// until end. A frame shown under 2/100 s after the previous one replaces it
// (the newer picture wins, the time is kept).
func timeline(kept []keptFrame, end time.Time) (frames []image.Image, delays []int, states []string, skipped int) {
	t0 := kept[0].at
	tick := func(t time.Time) int { return int((t.Sub(t0) + 5*time.Millisecond) / (10 * time.Millisecond)) }
	var starts []int
	for i, f := range kept {
		s := tick(f.at)
		if i > 0 && s-starts[len(starts)-1] < 2 {
			skipped++
			frames[len(frames)-1], states[len(states)-1] = f.img, f.st
			continue
		}
		starts = append(starts, s)
		frames = append(frames, f.img)
		states = append(states, f.st)
	}
	for i, s := range starts {
		next := tick(end)
		if i+1 < len(starts) {
			next = starts[i+1]
		}
		delays = append(delays, max(2, next-s))
	}
	return frames, delays, states, skipped
}

// FreePath is dir/name+ext, or dir/name-2+ext, -3 ... when that exists, so
// two recordings in the same second do not overwrite each other.
func FreePath(dir, name, ext string) string {
	p := filepath.Join(dir, name+ext)
	for i := 2; i < 1000; i++ {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			break
		}
		p = filepath.Join(dir, fmt.Sprintf("%s-%d%s", name, i, ext))
	}
	return p
}
