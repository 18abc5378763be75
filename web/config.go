// Package web is bonafide's web service (`bonafide serve`): the recruiter's
// pages and the JSON API on echo v4, uploads into the data folder, analysis
// jobs on the queue (package jobs), accounts and sessions (package store),
// signed webhooks and Prometheus metrics.
//
// App (app.go) is the one place that builds every component from Config and
// closes them in reverse order; routes are registered in routes.go only;
// each page or API handler has its own file.
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/jobs"
)

// DefaultMaxUpload is the default upload size cap: 4 GiB.
const DefaultMaxUpload int64 = 4 << 30

// Config is everything the service needs. Build it with DefaultConfig,
// override fields (flags, environment), then call Validate.
type Config struct {
	Addr    string // listen address, e.g. "127.0.0.1:8080"
	DataDir string // the data folder (database, queue, media, evidence)
	// MaxUploadBytes caps one upload; enforced while the body streams.
	MaxUploadBytes int64
	Workers        int           // analyses at once
	MaxAttempts    int           // analysis attempts before a job fails
	JobTimeout     time.Duration // longest single analysis
	SessionTTL     time.Duration // browser login lifetime
	// SecureCookies forces the Secure flag on cookies, for a service behind
	// a TLS-terminating proxy; cookies are always Secure when the service
	// terminates TLS itself (TLSCert/TLSKey).
	SecureCookies   bool
	TLSCert, TLSKey string
	// WebhookAllow lists address ranges that webhooks may reach even though
	// they are loopback, private or otherwise internal (refused by default).
	WebhookAllow    []netip.Prefix
	WebhookTimeout  time.Duration
	ShutdownTimeout time.Duration // graceful HTTP shutdown and job stop

	Analysis analysis.Config // tools, face models, scorer for the analyses
	Logger   *slog.Logger

	// Analyzer replaces the analysis pipeline (tests); nil uses
	// jobs.PipelineAnalyzer{Config: Analysis}.
	Analyzer jobs.Analyzer
	// RetryBackoff and WebhookBackoff override the queue's backoffs
	// (tests); nil keeps the defaults.
	RetryBackoff   func(attempt int) time.Duration
	WebhookBackoff func(attempt int) time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		MaxUploadBytes:  DefaultMaxUpload,
		Workers:         1,
		MaxAttempts:     3,
		JobTimeout:      4 * time.Hour,
		SessionTTL:      12 * time.Hour,
		WebhookTimeout:  10 * time.Second,
		ShutdownTimeout: 15 * time.Second,
	}
}

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("invalid configuration")

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []string
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, "a data folder is required (--data DIR)")
	}
	if c.Addr == "" {
		errs = append(errs, "a listen address is required (--addr)")
	}
	if c.MaxUploadBytes < 1024 {
		errs = append(errs, "the upload cap must be at least 1 KiB")
	}
	if c.Workers < 1 || c.Workers > 64 {
		errs = append(errs, "workers must be in [1, 64]")
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 25 {
		errs = append(errs, "max attempts must be in [1, 25]")
	}
	if c.JobTimeout < time.Minute {
		errs = append(errs, "the job timeout must be at least 1 minute")
	}
	if c.SessionTTL < time.Minute {
		errs = append(errs, "the session lifetime must be at least 1 minute")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, "TLS needs both a certificate and a key")
	}
	if c.WebhookTimeout <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, "timeouts must be positive")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "; "))
	}
	return nil
}

// ParsePrefixes parses a comma-separated list of CIDR ranges or single
// addresses ("127.0.0.0/8,10.1.2.3").
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is neither an address nor a CIDR range", ErrConfig, f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
