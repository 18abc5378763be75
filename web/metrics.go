package web

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bonafide-dev/bonafide/store"
)

// httpMetrics are the web service's own collectors, on a registry the App
// owns (no global registry).
type httpMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	uploads  *prometheus.CounterVec
	bytes    prometheus.Counter
	expired  *prometheus.CounterVec // deleted by the retention policy
	// auditFailures counts audit entries that could not be written.
	auditFailures prometheus.Counter
}

func newHTTPMetrics(st store.Interviews) (*httpMetrics, error) {
	reg := prometheus.NewRegistry()
	m := &httpMetrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bonafide_http_requests_total",
			Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bonafide_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
		}, []string{"route"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bonafide_uploads_total",
			Help: "Uploads by result (queued, too_large, unsupported, unusable, bad_region, error).",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bonafide_upload_bytes_total",
			Help: "Bytes of accepted uploads.",
		}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bonafide_retention_deleted_total",
			Help: "What the retention policy deleted (--retention, --media-retention), by what (interview, live_session, media: an interview's recording and evidence).",
		}, []string{"what"}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bonafide_audit_failures_total",
			Help: "Audit log entries that could not be written (each is also logged at error level).",
		}),
	}
	for _, w := range []string{"interview", "live_session", "media"} {
		m.expired.WithLabelValues(w)
	}
	for _, r := range []string{"queued", "too_large", "unsupported", "unusable", "bad_region", "error"} {
		m.uploads.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.uploads, m.bytes, m.expired, m.auditFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&interviewCollector{st: st, desc: prometheus.NewDesc("bonafide_interviews",
			"Stored interviews by status.", []string{"status"}, nil)}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// interviewCollector counts interviews per status at scrape time.
type interviewCollector struct {
	st   store.Interviews
	desc *prometheus.Desc
}

func (c *interviewCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *interviewCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.st.CountByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for st, n := range counts {
		m, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(st))
		if err != nil {
			m = prometheus.NewInvalidMetric(c.desc, err)
		}
		ch <- m
	}
}

// metricsHandler serves the registry in the Prometheus text format.
func (s *server) metricsHandler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
}
