package serve

import (
	"context"
	"io"
	"sync"
	"time"
)

// output is a session's output: every Write reaches the client whole (one
// write on the channel, so the explorer's out-of-band queries never land
// inside a frame), at most rate bytes a second on average, and a client
// that does not take a write within the timeout is dropped.
type output struct {
	ctx     context.Context
	w       io.Writer
	rate    int64 // bytes a second; 0 = unlimited
	timeout time.Duration
	drop    func()

	mu     sync.Mutex
	tokens float64 // may go negative: the debt is paid by waiting
	last   time.Time
	n      int64

	// now and wait are the clock of the rate limit (a fake one in tests).
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
}

// burst is how many bytes a session may send at once before the rate
// applies: one second's worth, at most 512 KiB, at least 16 KiB.
func (o *output) burst() float64 { return float64(min(512<<10, max(16<<10, o.rate))) }

func newOutput(ctx context.Context, w io.Writer, rate int64, timeout time.Duration, drop func()) *output {
	o := &output{ctx: ctx, w: w, rate: rate, timeout: timeout, drop: drop, now: time.Now, wait: sleep}
	o.last = o.now()
	o.tokens = o.burst()
	return o
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rate <= 0 {
		return o.write(p)
	}
	// Rate-limited: in pieces, each when its bytes are due, so a big frame
	// streams at the rate instead of waiting seconds and then bursting.
	// The mutex is held throughout: other writes never land inside.
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), rateChunk)]
		now := o.now()
		o.tokens = min(o.burst(), o.tokens+now.Sub(o.last).Seconds()*float64(o.rate))
		o.last = now
		o.tokens -= float64(len(piece))
		if o.tokens < 0 {
			if err := o.wait(o.ctx, time.Duration(-o.tokens/float64(o.rate)*float64(time.Second))); err != nil {
				return n, err
			}
		}
		m, err := o.write(piece)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(piece):]
	}
	return n, nil
}

// rateChunk is the piece a rate-limited write is sent in.
const rateChunk = 8 << 10

// write writes p through, dropping the client if it does not take it in
// time. o.mu is held.
func (o *output) write(p []byte) (int, error) {
	if err := o.ctx.Err(); err != nil {
		return 0, err
	}
	stall := time.AfterFunc(o.timeout, o.drop)
	n, err := o.w.Write(p)
	stall.Stop()
	o.n += int64(n)
	return n, err
}

// final writes a last message, even after the session's context ended
// (the client is still there): a short write with a short timeout.
func (o *output) final(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	stall := time.AfterFunc(2*time.Second, o.drop)
	n, _ := io.WriteString(o.w, s)
	stall.Stop()
	o.n += int64(n)
}

func (o *output) written() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}
