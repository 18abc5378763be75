package jobs

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	analyses *prometheus.CounterVec
	duration prometheus.Histogram
	running  prometheus.Gauge
	webhooks *prometheus.CounterVec
}

// newMetrics creates the queue's collectors and registers them on reg
// (none when reg is nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		analyses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bonafide_analyses_total",
			Help: "Analysis attempts by outcome (done, retry, failed, unusable, interrupted).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bonafide_analysis_duration_seconds",
			Help:    "Wall time of successful analyses.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bonafide_analyses_running",
			Help: "Analyses running now.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bonafide_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result (delivered, failed, refused).",
		}, []string{"result"}),
	}
	// Every series exists from the start, at zero.
	for _, o := range []string{"done", "retry", "failed", "unusable", "interrupted"} {
		m.analyses.WithLabelValues(o)
	}
	for _, r := range []string{"delivered", "failed", "refused"} {
		m.webhooks.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.analyses, m.duration, m.running, m.webhooks} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
