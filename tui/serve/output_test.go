package serve

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// fakeClock is a clock whose time moves only when the output waits.
type fakeClock struct {
	t      time.Time
	waited time.Duration
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) wait(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	c.waited += d
	return ctx.Err()
}

// TestOutputRateLimit: after the burst, a rate-limited output takes
// (bytes − burst)/rate seconds of its clock, whatever the write sizes, and
// every byte arrives in order.
func TestOutputRateLimit(t *testing.T) {
	const rate = 48 << 10
	for _, size := range []int{1000, 8 << 10, 100 << 10} {
		var dst bytes.Buffer
		o := newOutput(context.Background(), &dst, rate, time.Minute, func() {})
		c := &fakeClock{t: o.last}
		o.now, o.wait = c.now, c.wait
		var want bytes.Buffer
		const total = 1 << 20
		for i := 0; want.Len() < total; i++ {
			p := bytes.Repeat([]byte{byte(i)}, size)
			want.Write(p)
			if _, err := o.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		ideal := time.Duration(float64(want.Len()-int(o.burst())) / rate * float64(time.Second))
		if d := c.waited - ideal; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("writes of %d bytes: %d bytes took %v of waiting, want %v ((bytes - burst)/rate)", size, want.Len(), c.waited, ideal)
		}
		if !bytes.Equal(dst.Bytes(), want.Bytes()) || o.written() != int64(want.Len()) {
			t.Errorf("writes of %d bytes: the output differs from the input", size)
		}
	}
}

// TestOutputUnlimited: rate 0 never waits.
func TestOutputUnlimited(t *testing.T) {
	var dst bytes.Buffer
	o := newOutput(context.Background(), &dst, 0, time.Minute, func() {})
	c := &fakeClock{t: o.last}
	o.now, o.wait = c.now, c.wait
	for range 100 {
		if _, err := o.Write(make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if c.waited != 0 || dst.Len() != 100*64<<10 {
		t.Errorf("waited %v, wrote %d", c.waited, dst.Len())
	}
}

// outputRates lists the output rate limit of each live session.
func (s *Server) outputRates() []int64 {
	var r []int64
	s.sessions.Range(func(k, _ any) bool {
		ss := k.(*session)
		ss.mu.Lock()
		if ss.out != nil {
			r = append(r, ss.out.rate)
		}
		ss.mu.Unlock()
		return true
	})
	return r
}
