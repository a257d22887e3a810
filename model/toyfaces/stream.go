package toyfaces

import (
	"fmt"
	"sync"
)

// streamChunk is the number of images a worker renders per job.
const streamChunk = 16

// Stream is an endless, deterministic sequence of dataset images rendered
// ahead of time by worker goroutines. Image i of the stream with seed s is
// the image of seed StreamSeed(s, i), whatever the batch sizes and image
// sizes asked for. A Stream is for one consumer goroutine.
type Stream struct {
	pending chan *streamJob // rendered or in-flight jobs, in stream order
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	cur *streamJob
	pos int
}

type streamJob struct {
	first  uint64 // stream index of the first image
	seed   int64
	done   chan struct{}
	pix    []uint8 // streamChunk 64×64 RGB images
	labels []Labels
}

// StreamSeed is the seed of image i of a stream with the given seed.
func StreamSeed(seed int64, i uint64) int64 {
	return int64(splitmix64(splitmix64(uint64(seed)) + i))
}

// NewStream starts a stream with the given seed and number of rendering
// goroutines (at least 1). Close it when done.
func NewStream(seed int64, workers int) *Stream {
	workers = max(workers, 1)
	s := &Stream{
		pending: make(chan *streamJob, 2*workers+2),
		quit:    make(chan struct{}),
	}
	jobs := make(chan *streamJob)
	s.wg.Add(1 + workers)
	go func() { // dispatcher: hands out jobs in order and queues them for Next
		defer s.wg.Done()
		defer close(jobs)
		for first := uint64(0); ; first += streamChunk {
			j := &streamJob{first: first, seed: seed, done: make(chan struct{})}
			select {
			case jobs <- j:
			case <-s.quit:
				return
			}
			select {
			case s.pending <- j:
			case <-s.quit:
				return
			}
		}
	}()
	for range workers {
		go func() {
			defer s.wg.Done()
			r := getRenderer()
			defer putRenderer(r)
			for j := range jobs {
				j.pix = make([]uint8, streamChunk*Size*Size*3)
				j.labels = make([]Labels, streamChunk)
				for k := range streamChunk {
					p := newParams(StreamSeed(j.seed, j.first+uint64(k)))
					copy(j.pix[k*Size*Size*3:], r.render(&p, nil))
					j.labels[k] = p.labels
				}
				close(j.done)
			}
		}()
	}
	return s
}

// Next fills dst with the next len(dst)/(3·size·size) images of the stream
// at size×size, as FillBatch does, and returns their labels.
func (s *Stream) Next(dst []float32, size int) []Labels {
	checkSize(size)
	n := 3 * size * size
	if len(dst)%n != 0 {
		panic(fmt.Sprintf("toyfaces: Stream.Next: len(dst) = %d is not a multiple of 3·%d·%d", len(dst), size, size))
	}
	labels := make([]Labels, len(dst)/n)
	for i := range labels {
		if s.cur == nil || s.pos == streamChunk {
			s.cur = <-s.pending
			s.pos = 0
			<-s.cur.done
		}
		DownsampleCHW(dst[i*n:(i+1)*n], s.cur.pix[s.pos*Size*Size*3:(s.pos+1)*Size*Size*3], size)
		labels[i] = s.cur.labels[s.pos]
		s.pos++
	}
	return labels
}

// Close stops the workers. The stream must not be used afterwards.
func (s *Stream) Close() {
	s.once.Do(func() {
		close(s.quit)
		s.wg.Wait()
	})
}
