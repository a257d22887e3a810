package serve

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"
	"sync/atomic"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// errPoolClosed is returned for requests made after (or cut off by) Close.
var errPoolClosed = errors.New("serve: render pool closed")

// Pool renders states of one model for many sessions with a fixed number
// of generators (each with its own incremental cache). Sessions are served
// round-robin, one request of a session at a time, so a session that sends
// many states cannot starve the others: its requests wait for its turn.
// A session's request goes to the generator that rendered its previous one
// when that one is free (its layers are cached there, so an edit re-renders
// incrementally).
type Pool struct {
	model *checkpoints.Checkpoint

	mu      sync.Mutex
	free    []*model.Generator // idle generators
	ring    []*Client          // clients with queued requests, in turn order
	closed  bool
	running sync.WaitGroup
	renders atomic.Int64 // renders run (a class's are counted here too)
}

// Client is one session's handle on a pool.
type Client struct {
	p       *Pool
	jobs    []*job // queued, oldest first
	running bool   // a request of this client is being rendered
	inRing  bool
	closed  bool
	last    *model.Generator // the generator of its last request
}

type job struct {
	ctx     context.Context
	st      latent.State
	preview func(*image.RGBA)
	done    chan result // buffered: the renderer never waits for the caller
}

type result struct {
	img   *image.RGBA
	stats model.Stats
	err   error
}

// NewPool makes workers generators of m (at least one).
func NewPool(m *checkpoints.Checkpoint, workers int) (*Pool, error) {
	p := &Pool{model: m}
	for i := 0; i < max(workers, 1); i++ {
		g, err := m.Generator()
		if err != nil {
			return nil, fmt.Errorf("serve: generator: %w", err)
		}
		p.free = append(p.free, g)
	}
	return p, nil
}

// Close waits for the renders in progress; queued requests fail.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, c := range p.ring {
			c.failAll(errPoolClosed)
			c.inRing = false
		}
		p.ring = nil
	}
	p.mu.Unlock()
	p.running.Wait()
}

// NewClient registers a session.
func (p *Pool) NewClient() *Client { return &Client{p: p} }

// Render renders st in the client's turn. It returns ctx.Err() as soon as
// ctx is done (a request that has not started is dropped; one that has
// finishes in the background and its result is discarded).
func (c *Client) Render(ctx context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
	j := &job{ctx: ctx, st: st, done: make(chan result, 1)}
	if preview != nil {
		j.preview = func(img *image.RGBA) {
			if ctx.Err() == nil {
				preview(img)
			}
		}
	}
	p := c.p
	p.mu.Lock()
	if p.closed || c.closed {
		p.mu.Unlock()
		return nil, model.Stats{}, errPoolClosed
	}
	c.jobs = append(c.jobs, j)
	if !c.running && !c.inRing {
		c.inRing = true
		p.ring = append(p.ring, c)
	}
	p.dispatch()
	p.mu.Unlock()
	select {
	case r := <-j.done:
		return r.img, r.stats, r.err
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(c.jobs, j); i >= 0 {
			c.jobs = slices.Delete(c.jobs, i, i+1)
		}
		p.mu.Unlock()
		return nil, model.Stats{}, ctx.Err()
	}
}

// Close drops the client's queued requests (they fail with an error).
func (c *Client) Close() {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.closed = true
	c.failAll(errPoolClosed)
}

// Pending reports how many requests of the client wait (tests).
func (c *Client) Pending() int {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return len(c.jobs)
}

func (c *Client) failAll(err error) {
	for _, j := range c.jobs {
		j.done <- result{err: err}
	}
	c.jobs = nil
}

// dispatch starts requests while generators are free: clients in turn,
// each its oldest live request. p.mu is held.
func (p *Pool) dispatch() {
	for len(p.free) > 0 && len(p.ring) > 0 && !p.closed {
		c := p.ring[0]
		p.ring = p.ring[1:]
		c.inRing = false
		var j *job
		for len(c.jobs) > 0 && j == nil {
			j, c.jobs = c.jobs[0], c.jobs[1:]
			if err := j.ctx.Err(); err != nil {
				j.done <- result{err: err}
				j = nil
			}
		}
		if j == nil {
			continue
		}
		// Its own generator if free, else the one idle the longest (freed
		// generators go to the back), whose cache is the least likely to
		// be wanted soon.
		i := max(slices.Index(p.free, c.last), 0)
		g := p.free[i]
		p.free = slices.Delete(p.free, i, i+1)
		c.running, c.last = true, g
		p.running.Add(1)
		go p.run(g, c, j)
	}
}

// run renders one request, then frees the generator and ends the client's
// turn: with more requests it queues again, last.
func (p *Pool) run(g *model.Generator, c *Client, j *job) {
	defer p.running.Done()
	p.renders.Add(1)
	j.done <- renderJob(g, j)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, g)
	c.running = false
	if len(c.jobs) > 0 && !c.inRing && !p.closed {
		c.inRing = true
		p.ring = append(p.ring, c)
	}
	p.dispatch()
}

// renderJob runs one request; a panic in the generator becomes an error.
func renderJob(g *model.Generator, j *job) (r result) {
	defer func() {
		if v := recover(); v != nil {
			r = result{err: fmt.Errorf("serve: render panicked: %v", v)}
		}
	}()
	r.img, r.stats, r.err = g.Render(j.st, j.preview)
	return r
}
