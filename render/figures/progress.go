package figures

import (
	"io"
	"time"

	"stylegan-tui/render"
)

// progressDelay is how long work runs before its progress bar shows: short
// work stays silent.
const progressDelay = time.Second

// newProgress is a render.Progress on w (nil when w is nil) whose output is
// held back for progressDelay: the bar appears only for long work, with the
// rate and ETA counted from the real start.
func newProgress(w io.Writer, label string, total int) *render.Progress {
	if w == nil {
		return nil
	}
	q := quiet{w: w, from: time.Now().Add(progressDelay)}
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		// Keep the terminal check: a bar redrawn in place on a terminal.
		return render.NewProgress(quietFile{q, f.Fd()}, label, total)
	}
	return render.NewProgress(q, label, total)
}

// quiet drops writes until from.
type quiet struct {
	w    io.Writer
	from time.Time
}

func (q quiet) Write(p []byte) (int, error) {
	if time.Now().Before(q.from) {
		return len(p), nil
	}
	return q.w.Write(p)
}

type quietFile struct {
	quiet
	fd uintptr
}

func (q quietFile) Fd() uintptr { return q.fd }
