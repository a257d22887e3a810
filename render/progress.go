package render

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress reports the progress of long work (GIF rendering, training, PPL)
// on one line of a terminal, usually os.Stderr:
//
//	gif  [#########...........]  27/60  45%  31.2/s  ETA 0:01
//
// On a terminal the line is redrawn in place ("\r", erase to end of line) at
// most ten times a second. When w is not a terminal, a plain line is printed
// each time another tenth of the total is done (or every 1000 steps when the
// total is unknown), so logs stay short. Methods are safe for concurrent use
// and do nothing on a nil *Progress.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    int
	current  int
	tty      bool
	start    time.Time
	last     time.Time // last redraw (terminal)
	lastStep int       // last reported tenth (or thousand) (plain)
	printed  int       // current at the last plain line, -1 before any
	done     bool
	now      func() time.Time
}

// NewProgress starts a progress report of total steps (total <= 0: unknown)
// on w.
func NewProgress(w io.Writer, label string, total int) *Progress {
	p := &Progress{w: w, label: label, total: max(total, 0), now: time.Now, printed: -1}
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	p.start = p.now()
	return p
}

// Add advances the progress by n steps.
func (p *Progress) Add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current += n
	p.report(false)
}

// Set sets the steps done so far.
func (p *Progress) Set(current int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = current
	p.report(false)
}

// Done prints the final state and ends the line. Later calls do nothing.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.report(true)
	p.done = true
}

// Rate is the average number of steps per second since the start.
func (p *Progress) Rate() float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate(p.now())
}

func (p *Progress) rate(now time.Time) float64 {
	el := now.Sub(p.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(p.current) / el
}

// report draws the line if it is due (always when final).
func (p *Progress) report(final bool) {
	if p.done {
		return
	}
	now := p.now()
	if p.tty {
		if !final && now.Sub(p.last) < 100*time.Millisecond && !p.last.IsZero() {
			return
		}
		p.last = now
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(p.w, "\r%s\x1b[K%s", p.line(now, true), end)
		return
	}
	step := p.current / 1000
	if p.total > 0 {
		step = 10 * p.current / p.total
	}
	if !final && step <= p.lastStep || final && p.printed == p.current {
		return
	}
	p.lastStep, p.printed = step, p.current
	fmt.Fprintln(p.w, p.line(now, false))
}

// line formats the progress: label, bar (terminal only), count, percentage,
// rate and ETA (or elapsed time once done).
func (p *Progress) line(now time.Time, bar bool) string {
	var b strings.Builder
	if p.label != "" {
		b.WriteString(p.label)
		b.WriteString("  ")
	}
	r := p.rate(now)
	if p.total > 0 {
		frac := min(float64(p.current)/float64(p.total), 1)
		if bar {
			const width = 20
			n := int(frac * width)
			b.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]  ")
		}
		fmt.Fprintf(&b, "%d/%d  %3.0f%%", p.current, p.total, 100*frac)
	} else {
		fmt.Fprintf(&b, "%d", p.current)
	}
	fmt.Fprintf(&b, "  %s/s", formatRate(r))
	switch {
	case p.total > 0 && p.current >= p.total:
		fmt.Fprintf(&b, "  in %s", formatDuration(now.Sub(p.start)))
	case p.total > 0 && r > 0:
		eta := time.Duration(float64(p.total-p.current) / r * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", formatDuration(eta))
	}
	return b.String()
}

func formatRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}

// formatDuration prints seconds with a decimal under a minute, else m:ss or
// h:mm:ss.
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int((d + time.Second/2) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
