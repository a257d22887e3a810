package render

import (
	"container/list"
	"fmt"
	"image"
	"sync"
)

// PaletteCache keeps the palettes of the most recently used image families,
// so the median cut runs once per family. The family key is the caller's: a
// string naming images of similar colours (a seed and mix, say). Safe for
// concurrent use; concurrent misses on one key build its palette once.
type PaletteCache struct {
	mu           sync.Mutex
	max          int
	entries      map[string]*list.Element // of *cacheEntry
	lru          list.List                // front = most recent
	hits, misses int
}

type cacheEntry struct {
	key   string
	ready chan struct{}
	pal   *Palette
}

// NewPaletteCache returns a cache that holds at most size palettes (size <= 0
// means 16; each costs about 260 KiB), dropping the least recently used.
func NewPaletteCache(size int) *PaletteCache {
	if size <= 0 {
		size = 16
	}
	return &PaletteCache{max: size, entries: map[string]*list.Element{}}
}

// Get returns the palette of n colours of family key, building it from imgs
// (NewPalette(n, imgs...)) on a miss. The same key with another n is another
// entry.
func (c *PaletteCache) Get(key string, n int, imgs ...image.Image) *Palette {
	if n <= 0 || n > 256 {
		n = 256
	}
	k := fmt.Sprintf("%d\x00%s", n, key)
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-e.ready
		return e.pal
	}
	c.misses++
	e := &cacheEntry{key: k, ready: make(chan struct{})}
	c.entries[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
	c.mu.Unlock()
	e.pal = NewPalette(n, imgs...)
	close(e.ready)
	return e.pal
}

// Stats returns the number of hits and misses so far.
func (c *PaletteCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// Len is the number of palettes held.
func (c *PaletteCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
