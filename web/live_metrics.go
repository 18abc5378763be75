package web

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// liveCounters are the live sessions' running totals, read at scrape time.
type liveCounters struct {
	endedInterview atomic.Int64 // ended with their recording queued
	endedNoMedia   atomic.Int64 // ended with nothing received
	endedError     atomic.Int64 // ended without an interview for another reason
	videoDropped   atomic.Int64 // video frames not analysed live
	audioDropped   atomic.Int64 // audio packets not analysed live
	alerts         atomic.Int64
}

// liveCollector exposes the live sessions on the App's registry.
type liveCollector struct {
	m                              *liveManager
	running, ended, dropped, alert *prometheus.Desc
}

func newLiveCollector(m *liveManager) *liveCollector {
	return &liveCollector{
		m:       m,
		running: prometheus.NewDesc("bonafide_live_sessions_running", "Live sessions receiving media now.", nil, nil),
		ended: prometheus.NewDesc("bonafide_live_sessions_ended_total",
			"Live sessions ended since start, by outcome (interview, no_media, error).", []string{"outcome"}, nil),
		dropped: prometheus.NewDesc("bonafide_live_dropped_total",
			"Media not analysed live because analysis lagged (recorded all the same), by kind (video frames, audio packets).", []string{"kind"}, nil),
		alert: prometheus.NewDesc("bonafide_live_alerts_total", "Live alerts raised since start.", nil, nil),
	}
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.running
	ch <- c.ended
	ch <- c.dropped
	ch <- c.alert
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	k := &c.m.counters
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(c.m.running()))
	for _, o := range []struct {
		label string
		v     *atomic.Int64
	}{{"interview", &k.endedInterview}, {"no_media", &k.endedNoMedia}, {"error", &k.endedError}} {
		ch <- prometheus.MustNewConstMetric(c.ended, prometheus.CounterValue, float64(o.v.Load()), o.label)
	}
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(k.videoDropped.Load()), "video")
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(k.audioDropped.Load()), "audio")
	ch <- prometheus.MustNewConstMetric(c.alert, prometheus.CounterValue, float64(k.alerts.Load()))
}
