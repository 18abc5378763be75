package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/web"
)

// serveEnv maps environment variables to serve's flags; flags win.
var serveEnv = map[string]string{
	"data": "BONAFIDE_DATA", "addr": "BONAFIDE_ADDR", "max-upload": "BONAFIDE_MAX_UPLOAD",
	"workers": "BONAFIDE_WORKERS", "webhook-allow": "BONAFIDE_WEBHOOK_ALLOW",
	"secure-cookies": "BONAFIDE_SECURE_COOKIES", "tls-cert": "BONAFIDE_TLS_CERT", "tls-key": "BONAFIDE_TLS_KEY",
	"log-level": "BONAFIDE_LOG_LEVEL", "retention": "BONAFIDE_RETENTION", "media-retention": "BONAFIDE_MEDIA_RETENTION",
	"audit-retention": "BONAFIDE_AUDIT_RETENTION",
	"public-url":      "BONAFIDE_PUBLIC_URL", "whip-udp-ports": "BONAFIDE_WHIP_UDP_PORTS", "public-ip": "BONAFIDE_PUBLIC_IP",
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("serve", e)
	var af analysisFlags
	af.register(fs)
	cfg := web.DefaultConfig()
	maxUpload := byteSize(cfg.MaxUploadBytes)
	var allow, logLevel, udpPorts, publicIPs string
	fs.StringVar(&cfg.DataDir, "data", "", "data folder: database, job queue, uploaded media and evidence (required)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.Var(&maxUpload, "max-upload", "upload size cap, e.g. 4GiB, 500MiB or bytes")
	fs.DurationVar(&cfg.UploadIdleTimeout, "upload-idle-timeout", cfg.UploadIdleTimeout, "end an upload whose body stops arriving for this long")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "analyses run at once")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "analysis attempts before an interview fails")
	fs.DurationVar(&cfg.JobTimeout, "job-timeout", cfg.JobTimeout, "longest single analysis")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", cfg.SessionTTL, "browser login lifetime")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark cookies Secure (behind a TLS-terminating proxy; automatic with --tls-cert or an https --public-url)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "private key of --tls-cert (PEM)")
	fs.StringVar(&allow, "webhook-allow", "", "comma-separated CIDR ranges webhooks may reach although internal (e.g. 10.0.0.0/8)")
	fs.DurationVar(&cfg.WebhookTimeout, "webhook-timeout", cfg.WebhookTimeout, "timeout of one webhook POST")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful shutdown: in-flight requests and running analyses")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Var((*days)(&cfg.Retention), "retention", "delete each interview (recording, evidence, report) this long after its upload or call, e.g. 90d or 720h; 0 keeps everything")
	fs.Var((*days)(&cfg.MediaRetention), "media-retention", "delete each interview's recording and evidence images this long after its upload or call, keeping the report (shorter than --retention); 0: with the interview")
	fs.DurationVar(&cfg.AuditViewWindow, "audit-view-window", cfg.AuditViewWindow, "a view of one report, session or the audit log by one account is recorded once per this period (0: every view)")
	fs.Var((*days)(&cfg.AuditRetention), "audit-retention", "delete audit log entries (who viewed, changed and deleted what) this long after they were recorded; 0 keeps them all")
	fs.IntVar(&cfg.LoginMaxFailures, "login-max-failures", cfg.LoginMaxFailures, "failed logins of one account within --login-window before it is locked until they age out")
	fs.IntVar(&cfg.LoginAddrMaxFailures, "login-addr-max-failures", cfg.LoginAddrMaxFailures, "failed logins from one client address within --login-window before it is locked (0: off; behind a reverse proxy all clients share its address)")
	fs.DurationVar(&cfg.LoginWindow, "login-window", cfg.LoginWindow, "window of the failed-login limits")
	lc := &cfg.Live
	fs.StringVar(&lc.PublicURL, "public-url", "", "base URL of the whip_url and companion_url handed out, e.g. https://bonafide.example.com (default: the request's host); https also makes cookies Secure and sends Strict-Transport-Security")
	fs.StringVar(&udpPorts, "whip-udp-ports", "", "UDP port range of WebRTC media, MIN-MAX (default: any port)")
	fs.StringVar(&publicIPs, "public-ip", "", "comma-separated addresses announced to WebRTC peers (a server behind 1:1 NAT)")
	fs.IntVar(&lc.MaxSessions, "live-max-sessions", lc.MaxSessions, "live sessions receiving media at once")
	fs.IntVar(&lc.MaxWaiting, "live-max-waiting", lc.MaxWaiting, "live sessions one user may keep waiting for a publisher")
	fs.Float64Var(&lc.FPS, "live-fps", lc.FPS, "frames per second analysed live")
	fs.IntVar(&lc.Width, "live-width", lc.Width, "largest width of the frames analysed live")
	fs.BoolVar(&lc.FullBand, "live-full-band", lc.FullBand, "also analyse the call's sound at 48 kHz live (the band-limit signal); false: the 16-kHz voice only, less CPU")
	fs.DurationVar(&lc.Segment, "live-segment", lc.Segment, "stretch of the call one live score covers")
	fs.Float64Var(&lc.AlertScore, "live-alert-score", lc.AlertScore, "signal score (0-1) that counts towards an alert")
	fs.DurationVar(&lc.AlertAfter, "live-alert-after", lc.AlertAfter, "how long a signal must stay over the alert score")
	fs.DurationVar(&lc.MaxDuration, "live-max-duration", lc.MaxDuration, "longest live call; then it ends as after a hang-up and its recording is analysed")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide serve --data DIR [flags]\n\nEnvironment (overridden by flags):")
		for _, k := range []string{"data", "addr", "max-upload", "workers", "webhook-allow", "secure-cookies", "tls-cert", "tls-key", "log-level",
			"retention", "media-retention", "audit-retention", "public-url", "whip-udp-ports", "public-ip"} {
			fmt.Fprintf(e.stderr, " %s", serveEnv[k])
		}
		io.WriteString(e.stderr, "\n\n")
		fs.PrintDefaults()
	}
	// Environment first, so that flags given on the command line win.
	for name, key := range serveEnv {
		if v, ok := os.LookupEnv(key); ok {
			if err := fs.Set(name, v); err != nil {
				return usageErr("%s=%q: %v", key, v, err)
			}
		}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return usageErr("--log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = logger
	cfg.MaxUploadBytes = int64(maxUpload)
	prefixes, err := web.ParsePrefixes(allow)
	if err != nil {
		return usageErr("--webhook-allow: %v", err)
	}
	cfg.WebhookAllow = prefixes
	if udpPorts != "" {
		lo, hi, ok := strings.Cut(udpPorts, "-")
		pmin, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		pmax, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
		if !ok || err1 != nil || err2 != nil || pmin == 0 || pmax < pmin {
			return usageErr("--whip-udp-ports: %q is not a port range MIN-MAX", udpPorts)
		}
		lc.UDPPortMin, lc.UDPPortMax = uint16(pmin), uint16(pmax)
	}
	for _, ip := range strings.Split(publicIPs, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			lc.PublicIPs = append(lc.PublicIPs, ip)
		}
	}
	e2 := *e
	e2.logger = logger
	var release func()
	if cfg.Analysis, release, err = af.config(&e2); err != nil {
		return err
	}
	defer release() // after the app, which is closed below, stops analysing
	if err := cfg.Validate(); err != nil {
		return usageErr("%v", err)
	}
	app, err := web.New(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errors.Join(err, app.Close())
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(e.stdout, "bonafide serving on %s://%s (data %s)\n", scheme, ln.Addr(), cfg.DataDir)
	err = app.Serve(ctx, ln)
	return errors.Join(err, app.Close())
}

// byteSize is a flag value such as "4GiB", "500MiB", "64KiB" or "1048576".
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a size (e.g. 4GiB, 500MiB, 1048576)", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// days is a duration flag that also takes whole days ("90d"); "0" is
// none.
type days time.Duration

func (d *days) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

func (d *days) Set(s string) error {
	s = strings.TrimSpace(s)
	var v time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		k, err := strconv.ParseInt(n, 10, 64)
		if err != nil || k < 0 || k > 100*366 {
			return fmt.Errorf("%q is not a number of days (e.g. 90d)", s)
		}
		v = time.Duration(k) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil || v < 0 {
			return fmt.Errorf("%q is not a duration (e.g. 90d, 720h or 0)", s)
		}
	}
	*d = days(v)
	return nil
}
