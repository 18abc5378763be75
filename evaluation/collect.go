package evaluation

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// AnalyzeFunc analyses one file; in production it is analysis.Analyze with
// a fixed configuration. It must be safe for concurrent use.
type AnalyzeFunc func(ctx context.Context, path string) (*report.Report, error)

// Record is one successfully analysed item.
type Record struct {
	Item     Item
	Features Features
	Cached   bool // the features came from the cache
	// Live says the features are one live segment of the item, not the
	// whole recording (eval --segment): it is scored as models.Input.Live.
	Live bool
}

// Input returns the model input of the record.
func (r Record) Input() models.Input {
	in := r.Features.Input()
	in.Live = r.Live
	return in
}

// Failure is an item that could not be analysed. Failures are listed in
// every result, never dropped.
type Failure struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Error string `json:"error"`
}

// Collector analyses manifest items with a fixed number of workers and an
// optional cache.
type Collector struct {
	Analyze AnalyzeFunc
	Cache   *Cache // nil: always analyse, store nothing
	Workers int    // ≥ 1
	Logger  *slog.Logger
	// Progress, when set, is called after each item from the collecting
	// goroutine (never concurrently) with the number done so far.
	Progress func(done, total int, it Item, cached bool, err error)
}

type outcome struct {
	rec Record
	err error
}

// Collect analyses every item and returns the analysed records and the
// failures, both in manifest order. It returns early only when ctx is
// cancelled, with ctx.Err(); every worker goroutine has exited when
// Collect returns.
func (c *Collector) Collect(ctx context.Context, items []Item) ([]Record, []Failure, error) {
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	workers := max(1, c.Workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	type done struct {
		i int
		o outcome
	}
	results := make(chan done)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				o := c.one(ctx, items[i], logger)
				select {
				case results <- done{i, o}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i := range items {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	outs := make([]outcome, len(items))
	n := 0
	for d := range results {
		outs[d.i] = d.o
		n++
		if c.Progress != nil {
			c.Progress(n, len(items), items[d.i], d.o.rec.Cached, d.o.err)
		}
	}
	// results is closed only after every worker and the feeder have
	// exited: nothing of Collect outlives it.
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var recs []Record
	var fails []Failure
	for i, o := range outs {
		if o.err != nil {
			msg := strings.Join(strings.Fields(o.err.Error()), " ")
			fails = append(fails, Failure{Path: items[i].Rel, Kind: items[i].Kind, Label: items[i].Label, Error: msg})
			continue
		}
		recs = append(recs, o.rec)
	}
	return recs, fails, nil
}

// one analyses one item, through the cache.
func (c *Collector) one(ctx context.Context, it Item, logger *slog.Logger) outcome {
	var hash string
	if c.Cache != nil {
		h, err := HashFile(it.Path)
		if err != nil {
			return outcome{err: err}
		}
		hash = h
		if f, ok := c.Cache.Get(hash); ok {
			return outcome{rec: Record{Item: it, Features: f, Cached: true}}
		}
	}
	rep, err := c.Analyze(ctx, it.Path)
	if err != nil {
		return outcome{err: err}
	}
	f := FeaturesFromReport(rep)
	if c.Cache != nil {
		if err := c.Cache.Put(hash, f); err != nil {
			logger.Warn("feature cache write failed", "path", it.Rel, "err", err)
		}
	}
	return outcome{rec: Record{Item: it, Features: f}}
}
