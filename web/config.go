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
	"net/url"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/jobs"
	"github.com/bonafide-dev/bonafide/media/whip"
)

// DefaultMaxUpload is the default upload size cap: 4 GiB.
const DefaultMaxUpload int64 = 4 << 30

// DefaultAuditRetention is how long audit log entries are kept by
// default (Config.AuditRetention): a year, as security logs commonly are.
const DefaultAuditRetention = 365 * 24 * time.Hour

// MinRetention is the shortest retention period (Config.Retention) other
// than 0: the policy is checked hourly.
const MinRetention = time.Hour

// Config is everything the service needs. Build it with DefaultConfig,
// override fields (flags, environment), then call Validate.
type Config struct {
	Addr    string // listen address, e.g. "127.0.0.1:8080"
	DataDir string // the data folder (database, queue, media, evidence)
	// MaxUploadBytes caps one upload; enforced while the body streams.
	MaxUploadBytes int64
	// UploadIdleTimeout ends an upload whose body stops arriving for this
	// long (a stalled or trickling client holds a connection and a
	// temporary file); a slow but steady upload is not limited.
	UploadIdleTimeout time.Duration
	Workers           int           // analyses at once
	MaxAttempts       int           // analysis attempts before a job fails
	JobTimeout        time.Duration // longest single analysis
	SessionTTL        time.Duration // browser login lifetime
	// Failed logins: after LoginMaxFailures for one account, or
	// LoginAddrMaxFailures from one client address (the TCP peer: behind a
	// reverse proxy every client shares the proxy's; 0 turns the address
	// limit off), within LoginWindow, further logins of that account or
	// address are refused (429) until the oldest failure is LoginWindow old.
	LoginMaxFailures     int
	LoginAddrMaxFailures int
	LoginWindow          time.Duration
	// LoginCheckWait is how long a login waits for a password check when
	// every core is already running one (bcrypt, one per core at a time)
	// before it is answered 503.
	LoginCheckWait time.Duration
	// SecureCookies forces the Secure flag on cookies, for a service behind
	// a TLS-terminating proxy; cookies are always Secure when the service
	// is reached over HTTPS (servesHTTPS: it terminates TLS itself, or
	// Live.PublicURL is https).
	SecureCookies   bool
	TLSCert, TLSKey string
	// WebhookAllow lists address ranges that webhooks may reach even though
	// they are loopback, private or otherwise internal (refused by default).
	WebhookAllow    []netip.Prefix
	WebhookTimeout  time.Duration
	ShutdownTimeout time.Duration // graceful HTTP shutdown and job stop
	// Retention deletes each interview (recording, evidence, report and
	// row) this long after it was uploaded or recorded, the record of a
	// live session that made no interview this long after it ended, and a
	// session still waiting for a publisher this long after it was
	// created: a data retention policy for candidates' faces, voices and
	// names (docs/web.md, "Retention"). Checked at
	// start-up and hourly; an analysis still running is left to finish.
	// 0 keeps everything until someone deletes it; otherwise at least
	// MinRetention.
	Retention time.Duration
	// MediaRetention deletes each finished interview's recording and
	// evidence images this long after it was uploaded or recorded,
	// keeping its report (until Retention, if set): the faces and voices
	// go first, the verdict stays on record. 0: they go with the
	// interview; otherwise at least MinRetention and shorter than
	// Retention.
	MediaRetention time.Duration
	// AuditRetention deletes audit log entries this long after they were
	// recorded (checked with the retention policy, at start-up and
	// hourly); 0 keeps them all, otherwise at least MinRetention.
	AuditRetention time.Duration
	// AuditViewWindow: a view (a report, its evidence, a live session,
	// the audit log) by one account of one thing is recorded once per
	// this period; 0 records every view.
	AuditViewWindow time.Duration

	Analysis analysis.Config // tools, face models, scorer for the analyses
	Live     LiveConfig      // live screening sessions (docs/live.md)
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
		Addr:                 "127.0.0.1:8080",
		MaxUploadBytes:       DefaultMaxUpload,
		UploadIdleTimeout:    time.Minute,
		Workers:              1,
		MaxAttempts:          3,
		JobTimeout:           4 * time.Hour,
		SessionTTL:           12 * time.Hour,
		LoginMaxFailures:     5,
		LoginAddrMaxFailures: 30,
		LoginWindow:          15 * time.Minute,
		LoginCheckWait:       10 * time.Second,
		WebhookTimeout:       10 * time.Second,
		ShutdownTimeout:      15 * time.Second,
		AuditRetention:       DefaultAuditRetention,
		AuditViewWindow:      DefaultAuditViewWindow,
		Live:                 DefaultLiveConfig(),
	}
}

// LiveConfig configures live screening sessions: WHIP ingest, live
// scoring and alerts (docs/live.md).
type LiveConfig struct {
	// PublicURL is the base of the whip_url and companion_url handed out
	// ("https://bonafide.example.com"); empty: the request's own scheme and
	// host.
	PublicURL string
	// UDPPortMin and UDPPortMax restrict WebRTC media to a UDP port range
	// (0: any port), e.g. to open it in a firewall.
	UDPPortMin, UDPPortMax uint16
	// PublicIPs are announced as ICE host candidates, for a server behind a
	// 1:1 NAT (a cloud VM's public address).
	PublicIPs []string
	// MaxSessions caps the sessions receiving media at once; further
	// publishers get 503.
	MaxSessions int
	// MaxWaiting caps the sessions one user keeps waiting for a publisher
	// (created, not yet joined); creating another is refused with 429
	// until one starts or is ended.
	MaxWaiting int
	// FPS and Width are the rate and largest width of the frames analysed
	// live (the recording keeps every frame at full size).
	FPS   float64
	Width int
	// FullBand also decodes the call's sound at 48 kHz, so that the
	// band-limit signal (resampled synthetic voices) is measured live too;
	// off, only the 16-kHz voice is analysed live (less CPU).
	FullBand bool
	// Segment is the stretch of the call one live score covers.
	Segment time.Duration
	// A signal whose score stays at least AlertScore (with at least
	// AlertConfidence) for AlertAfter raises an alert.
	AlertScore      float64
	AlertConfidence float64
	AlertAfter      time.Duration
	// DisconnectTimeout is how long a peer whose connection dropped (ICE
	// disconnected, 5 s without a packet) may stay away before its session
	// ends; IdleTimeout ends a connected session that receives no media.
	DisconnectTimeout time.Duration
	IdleTimeout       time.Duration
	// FinishTimeout bounds the wait for the last live segment's score when
	// a call ends.
	FinishTimeout time.Duration
	// KeepAlive is how often an idle event stream gets a comment line (so
	// that proxies keep it open) and its viewer's login is checked again: a
	// stream ends within KeepAlive of a logout, an expired session, a
	// revoked token or a disabled account.
	KeepAlive time.Duration
	// MaxDuration caps one call, from its publisher's offer: then it ends
	// as after a hang-up (its recording is queued). It also bounds the
	// recording's size.
	MaxDuration time.Duration
}

// DefaultLiveConfig returns the live defaults, tuned so that 8 sessions
// of 720p30 video keep up on a 2-core machine (docs/live.md, "Speed").
func DefaultLiveConfig() LiveConfig {
	return LiveConfig{
		MaxSessions:       8,
		MaxWaiting:        20,
		FPS:               8,
		Width:             640,
		FullBand:          true,
		Segment:           8 * time.Second,
		AlertScore:        0.7,
		AlertConfidence:   0.3,
		AlertAfter:        16 * time.Second,
		DisconnectTimeout: 15 * time.Second,
		IdleTimeout:       15 * time.Second,
		FinishTimeout:     15 * time.Second,
		KeepAlive:         15 * time.Second,
		MaxDuration:       whip.DefaultMaxDuration,
	}
}

// validate returns what is wrong with c.
func (c *LiveConfig) validate() []string {
	var errs []string
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, "the live public URL must be http(s)://host[:port] without a path")
		}
	}
	if (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMax < c.UDPPortMin {
		errs = append(errs, "the WebRTC UDP port range needs a minimum and a maximum, in that order")
	}
	for _, ip := range c.PublicIPs {
		if a, err := netip.ParseAddr(ip); err != nil || a.Zone() != "" {
			errs = append(errs, fmt.Sprintf("public IP %q is not an IP address (without a zone)", ip))
		}
	}
	if c.MaxWaiting < 1 {
		errs = append(errs, "live sessions waiting per user: at least 1")
	}
	if c.MaxSessions < 1 || c.MaxSessions > 256 {
		errs = append(errs, "live sessions at once must be in [1, 256]")
	}
	if c.FPS < 1 || c.FPS > 30 || c.Width < 160 || c.Width > 1920 {
		errs = append(errs, "the live analysis needs 1–30 fps and a width of 160–1920 px")
	}
	if c.Segment < 2*time.Second || c.Segment > 5*time.Minute {
		errs = append(errs, "the live segment must be 2 s – 5 min")
	}
	if c.AlertScore <= 0 || c.AlertScore > 1 || c.AlertConfidence <= 0 || c.AlertConfidence > 1 || c.AlertAfter <= 0 {
		errs = append(errs, "alert score and confidence must be in (0, 1] and the alert time positive")
	}
	if c.KeepAlive <= 0 {
		errs = append(errs, "the live event keep-alive must be positive")
	}
	if c.DisconnectTimeout < time.Second || c.IdleTimeout < time.Second || c.FinishTimeout < time.Second {
		errs = append(errs, "the live disconnect, idle and finish timeouts must be at least 1 s")
	}
	if c.MaxDuration < time.Second {
		errs = append(errs, "the live maximum call length must be at least 1 s")
	}
	return errs
}

// servesHTTPS reports whether browsers reach the service over HTTPS: it
// terminates TLS itself (TLSCert), or its public URL (--public-url) is
// https, as behind a TLS-terminating proxy. Cookies are then Secure and
// responses carry Strict-Transport-Security.
func (c *Config) servesHTTPS() bool {
	if c.TLSCert != "" {
		return true
	}
	u, err := url.Parse(c.Live.PublicURL)
	return err == nil && strings.EqualFold(u.Scheme, "https")
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
	if c.LoginCheckWait <= 0 {
		errs = append(errs, "the login check wait must be positive")
	}
	if c.LoginMaxFailures < 1 || c.LoginAddrMaxFailures < 0 || c.LoginWindow < time.Second {
		errs = append(errs, "failed-login limits: at least 1 per account, 0 (off) or more per address, a window of at least 1 s")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, "TLS needs both a certificate and a key")
	}
	if c.Retention != 0 && c.Retention < MinRetention {
		errs = append(errs, "the retention period must be 0 (keep everything) or at least 1 hour")
	}
	if c.MediaRetention != 0 && c.MediaRetention < MinRetention {
		errs = append(errs, "the media retention period must be 0 (as long as the interview) or at least 1 hour")
	}
	if c.MediaRetention > 0 && c.Retention > 0 && c.MediaRetention >= c.Retention {
		errs = append(errs, "the media retention period must be shorter than the retention period (the media go with the interview anyway)")
	}
	if c.AuditRetention != 0 && c.AuditRetention < MinRetention {
		errs = append(errs, "the audit retention period must be 0 (keep every entry) or at least 1 hour")
	}
	if c.AuditViewWindow < 0 {
		errs = append(errs, "the audit view window must be 0 or positive")
	}
	if c.WebhookTimeout <= 0 || c.ShutdownTimeout <= 0 || c.UploadIdleTimeout <= 0 {
		errs = append(errs, "timeouts must be positive")
	}
	errs = append(errs, c.Live.validate()...)
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
