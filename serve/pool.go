package serve

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

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
type Pool struct {
	model *checkpoints.Model

	mu     sync.Mutex
	ring   []*Client // clients with queued requests, in turn order
	wake   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// Client is one session's handle on a pool.
type Client struct {
	p       *Pool
	jobs    []*job // queued, oldest first
	running bool   // a request of this client is being rendered
	inRing  bool
	closed  bool
}

type job struct {
	ctx     context.Context
	st      latent.State
	preview func(*image.RGBA)
	done    chan result // buffered: the worker never waits for the caller
}

type result struct {
	img   *image.RGBA
	stats model.Stats
	err   error
}

// NewPool starts workers generators of m (at least one).
func NewPool(m *checkpoints.Model, workers int) (*Pool, error) {
	p := &Pool{model: m, wake: make(chan struct{}, 1)}
	workers = max(workers, 1)
	gens := make([]*model.Generator, workers)
	for i := range gens {
		g, err := m.Generator()
		if err != nil {
			return nil, fmt.Errorf("serve: generator: %w", err)
		}
		gens[i] = g
	}
	for _, g := range gens {
		p.wg.Add(1)
		go p.work(g)
	}
	return p, nil
}

// Close stops the workers after the requests being rendered; queued ones
// fail with an error.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for _, c := range p.ring {
		c.failAll(errPoolClosed)
		c.inRing = false
	}
	p.ring = nil
	close(p.wake)
	p.mu.Unlock()
	p.wg.Wait()
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
	p.mu.Unlock()
	p.signal()
	select {
	case r := <-j.done:
		return r.img, r.stats, r.err
	case <-ctx.Done():
		p.mu.Lock()
		c.remove(j)
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

func (c *Client) remove(j *job) {
	for i, q := range c.jobs {
		if q == j {
			c.jobs = append(c.jobs[:i], c.jobs[i+1:]...)
			return
		}
	}
}

func (p *Pool) signal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// next takes the first live request of the client whose turn it is.
func (p *Pool) next() (*Client, *job, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ring) > 0 {
		c := p.ring[0]
		p.ring = p.ring[1:]
		c.inRing = false
		for len(c.jobs) > 0 {
			j := c.jobs[0]
			c.jobs = c.jobs[1:]
			if j.ctx.Err() != nil {
				j.done <- result{err: j.ctx.Err()}
				continue
			}
			c.running = true
			if len(p.ring) > 0 {
				// More sessions wait: let another worker look too.
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
			return c, j, true
		}
	}
	return nil, nil, !p.closed
}

// finish ends a client's turn: with more requests it queues again, last.
func (p *Pool) finish(c *Client) {
	p.mu.Lock()
	c.running = false
	requeue := len(c.jobs) > 0 && !p.closed && !c.inRing
	if requeue {
		c.inRing = true
		p.ring = append(p.ring, c)
	}
	p.mu.Unlock()
	if requeue {
		p.signal()
	}
}

func (p *Pool) work(g *model.Generator) {
	defer p.wg.Done()
	for {
		c, j, open := p.next()
		if !open {
			return
		}
		if j == nil {
			if _, ok := <-p.wake; !ok {
				return
			}
			continue
		}
		j.done <- renderJob(g, j)
		p.finish(c)
	}
}

// render runs one request; a panic in the generator becomes an error.
func renderJob(g *model.Generator, j *job) (r result) {
	defer func() {
		if v := recover(); v != nil {
			r = result{err: fmt.Errorf("serve: render panicked: %v", v)}
		}
	}()
	r.img, r.stats, r.err = g.Render(j.st, j.preview)
	return r
}
