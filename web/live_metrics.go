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
	// restarts counts the live video decoders started again for a new
	// picture size; filledMS the milliseconds of sound missing from the
	// calls' streams (lost packets, pauses) filled in their recordings.
	restarts atomic.Int64
	filledMS atomic.Int64
}

// liveCollector exposes the live sessions on the App's registry.
type liveCollector struct {
	m                              *liveManager
	running, ended, dropped, alert *prometheus.Desc
	restarts, filled               *prometheus.Desc
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
		restarts: prometheus.NewDesc("bonafide_live_video_decoder_restarts_total",
			"Live video decoders started again because the sender changed its picture size.", nil, nil),
		filled: prometheus.NewDesc("bonafide_live_audio_filled_seconds_total",
			"Sound missing from the calls' audio streams (lost packets, pauses in sending), filled with silence in their recordings.", nil, nil),
	}
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.running
	ch <- c.ended
	ch <- c.dropped
	ch <- c.alert
	ch <- c.restarts
	ch <- c.filled
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
	ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(k.restarts.Load()))
	ch <- prometheus.MustNewConstMetric(c.filled, prometheus.CounterValue, float64(k.filledMS.Load())/1000)
}
