package serve

import (
	"context"
	"errors"
	"image"
	"sync"
	"sync/atomic"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// renderCache renders each state once for every session that asks for it (a
// class following its teacher asks for the same states at once): keyed by
// the state string, which with the pool's model fixes the picture and its
// size. A state asked for while it renders waits for that render. The
// pictures are shared: nobody may write to them.
type renderCache struct {
	mu      sync.Mutex
	entries map[string]cached
	order   []string // oldest first
	flights map[string]*flight

	renders atomic.Int64 // renders started for the cache
	hits    atomic.Int64 // asks answered from the cache or a render under way
}

// cacheKept is how many pictures the cache keeps (a 64 px picture is 16 KB,
// a 1024 px one 4 MB: a lesson's few pictures and a walk's last frames).
const cacheKept = 64

type cached struct {
	img   *image.RGBA
	stats model.Stats
}

// flight is one render for everyone waiting on it; it is cancelled when the
// last of them gives up.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	res     result
}

func newRenderCache() *renderCache {
	return &renderCache{entries: map[string]cached{}, flights: map[string]*flight{}}
}

// render returns the picture of st: from the cache, from a render under way,
// or rendered by client (whose turn in the pool it takes; preview gets that
// render's previews). A render whose client closed before it started is
// tried again with the next asker's client.
func (c *renderCache) render(ctx context.Context, client *Client, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
	key := st.Encode()
	for try := 0; ; try++ {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok {
			c.mu.Unlock()
			c.hits.Add(1)
			return e.img, e.stats, nil
		}
		f, ok := c.flights[key]
		if ok {
			c.hits.Add(1)
		} else {
			var fctx context.Context
			fctx, cancel := context.WithCancel(context.Background())
			f = &flight{done: make(chan struct{}), cancel: cancel}
			c.flights[key] = f
			c.renders.Add(1)
			go c.fly(fctx, key, f, client, st, preview)
		}
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
			r := f.res
			if errors.Is(r.err, errPoolClosed) && ctx.Err() == nil && try < 2 && !client.isClosed() {
				continue // its client left before it started: render with ours
			}
			return r.img, r.stats, r.err
		case <-ctx.Done():
			c.mu.Lock()
			if f.waiters--; f.waiters == 0 {
				f.cancel()
				if c.flights[key] == f {
					delete(c.flights, key) // the next asker starts afresh
				}
			}
			c.mu.Unlock()
			return nil, model.Stats{}, ctx.Err()
		}
	}
}

func (c *renderCache) fly(ctx context.Context, key string, f *flight, client *Client, st latent.State, preview func(*image.RGBA)) {
	img, stats, err := client.Render(ctx, st, preview)
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	if err == nil && img != nil {
		if _, ok := c.entries[key]; !ok {
			c.entries[key] = cached{img, stats}
			c.order = append(c.order, key)
			for len(c.order) > cacheKept {
				delete(c.entries, c.order[0])
				c.order = c.order[1:]
			}
		}
	}
	f.res = result{img: img, stats: stats, err: err}
	c.mu.Unlock()
	close(f.done)
	f.cancel()
}

// isClosed reports whether the client (or its pool) takes no more requests.
func (c *Client) isClosed() bool {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.closed || c.p.closed
}
