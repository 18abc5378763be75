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
	items map[string]renderedReport
	order []string
}

// renderedReport is a report's rendered body and what the page around it
// needs from the report.
type renderedReport struct {
	body template.HTML
	// severalFaces is face.presence's several_faces_fraction (0 when not
	// measured).
	severalFaces float64
}

func newRenderCache(max int) *renderCache {
	return &renderCache{max: max, items: make(map[string]renderedReport, max)}
}

func (c *renderCache) get(key string) (renderedReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.items[key]
	return h, ok
}

func (c *renderCache) put(key string, h renderedReport) {
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
