package web

import (
	"html/template"
	"sync"
)

// renderCache keeps the rendered body of recent reports. A finished
// report never changes, so its HTML is rendered once; the cache is keyed
// by interview and finish time and holds at most max entries (oldest
// evicted first).
type renderCache struct {
	mu    sync.Mutex
	max   int
	items map[string]template.HTML
	order []string
}

func newRenderCache(max int) *renderCache {
	return &renderCache{max: max, items: make(map[string]template.HTML, max)}
}

func (c *renderCache) get(key string) (template.HTML, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.items[key]
	return h, ok
}

func (c *renderCache) put(key string, h template.HTML) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[key] = h
	c.order = append(c.order, key)
}
