package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/media/whip"
	"github.com/bonafide-dev/bonafide/store"
)

// WHIP ingest (RFC 9725). The endpoint is /api/v1/sessions/{id}/whip and
// each publication's resource /api/v1/sessions/{id}/whip/{resource}. Both
// are authenticated by the session's own bearer token (no cookies, no
// CSRF), and answer CORS so that any browser page, OBS or GStreamer can
// publish.

// whipMaxOffer caps an SDP offer (browsers send 5–15 KiB).
const whipMaxOffer = 64 << 10

const (
	whipEndpointMethods = "OPTIONS, POST"
	whipResourceMethods = "OPTIONS, DELETE"
)

// whipCORS sets the CORS headers every WHIP response carries: any origin
// may publish, since the bearer token, not a cookie, authorises it.
func whipCORS(c echo.Context, methods string) {
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", methods+", PATCH")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Post")
	h.Set("Access-Control-Max-Age", "600")
}

// whipSession loads the session of the route and checks its bearer token:
// 404 for an unknown session, 401 for a missing or wrong token.
func (s *server) whipSession(c echo.Context) (store.LiveSession, error) {
	ls, err := s.store.LiveSession(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return ls, userErr(ErrNotFound, "no live session %q", c.Param("id"))
	}
	if err != nil {
		return ls, err
	}
	scheme, tok, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ls, userErr(ErrUnauthorized, "send the session's token as \"Authorization: Bearer bfw_…\"")
	}
	if !liveTokenMatches(strings.TrimSpace(tok), ls.TokenHash) {
		return ls, userErr(ErrUnauthorized, "this token does not publish to live session %s", ls.ID)
	}
	return ls, nil
}

// whipOptions answers a CORS preflight or capability query: 204.
func (s *server) whipOptions(c echo.Context) error {
	whipCORS(c, whipEndpointMethods)
	c.Response().Header().Set("Accept-Post", "application/sdp")
	c.Response().Header().Set("Allow", whipEndpointMethods)
	return c.NoContent(http.StatusNoContent)
}

// whipResourceOptions answers OPTIONS on a publication: 204.
func (s *server) whipResourceOptions(c echo.Context) error {
	whipCORS(c, whipResourceMethods)
	c.Response().Header().Set("Allow", whipResourceMethods)
	return c.NoContent(http.StatusNoContent)
}

// whipPublish answers a publisher's SDP offer: 201 Created with the SDP
// answer and the publication's Location. 400 for an unusable offer, 401
// for a wrong token, 409 when the session already has a publisher or has
// ended, 415 when the body is not application/sdp.
func (s *server) whipPublish(c echo.Context) error {
	whipCORS(c, whipEndpointMethods)
	ls, err := s.whipSession(c)
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != "application/sdp" {
		return userErr(ErrUnsupported, "send the SDP offer with Content-Type: application/sdp")
	}
	offer, err := io.ReadAll(io.LimitReader(c.Request().Body, whipMaxOffer+1))
	if err != nil {
		return userErr(ErrBadRequest, "the offer could not be read: %v", err)
	}
	if len(offer) > whipMaxOffer {
		return userErr(ErrTooLarge, "the SDP offer is larger than %d KiB", whipMaxOffer>>10)
	}
	switch ls.State {
	case store.LiveWaiting:
	case store.LiveLive:
		return userErr(ErrConflict, "live session %s already has a publisher", ls.ID)
	default:
		return userErr(ErrConflict, "live session %s has ended", ls.ID)
	}
	// The row's region was checked when the session was created.
	region, err := media.ParseRegion(ls.Region)
	if err != nil {
		return userErr(ErrBadRequest, "the session's region: %v", err)
	}
	lm := s.live
	r, err := lm.reserve(ls)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.dir, 0o750); err != nil {
		lm.release(r)
		return err
	}
	pub, answer, err := lm.ep.PublishWith(c.Request().Context(), string(offer), r.dir, whip.PublishOptions{Region: region})
	if err != nil {
		lm.release(r)
		if rmErr := os.RemoveAll(r.dir); rmErr != nil {
			s.log.Warn("live folder not removed", "folder", r.dir, "err", rmErr)
		}
		if errors.Is(err, whip.ErrBadOffer) || errors.Is(err, media.ErrBadRegion) {
			return userErr(ErrBadRequest, "%v", err)
		}
		return err
	}
	resource := randomToken(12)
	if err := lm.start(c.Request().Context(), r, pub, resource); err != nil {
		lm.release(r)
		err = errors.Join(err, pub.Close())
		if rmErr := os.RemoveAll(r.dir); rmErr != nil {
			s.log.Warn("live folder not removed", "folder", r.dir, "err", rmErr)
		}
		return err
	}
	loc := liveBase(c, s.cfg.Live) + "/api/v1/sessions/" + ls.ID + "/whip/" + resource
	c.Response().Header().Set(echo.HeaderLocation, loc)
	c.Response().Header().Set("ETag", `"`+resource+`"`)
	return c.Blob(http.StatusCreated, "application/sdp", []byte(answer))
}

// whipDelete ends the publication: the call is over (200).
func (s *server) whipDelete(c echo.Context) error {
	whipCORS(c, whipResourceMethods)
	ls, err := s.whipSession(c)
	if err != nil {
		return err
	}
	if running, _ := s.live.end(ls.ID, c.Param("resource"), "the publisher ended the call"); !running {
		return userErr(ErrNotFound, "no running publication %q in live session %s", c.Param("resource"), ls.ID)
	}
	return c.NoContent(http.StatusOK)
}

// whipPatch refuses trickle ICE and ICE restarts, as RFC 9725 allows: the
// answer already carries every candidate (405).
func (s *server) whipPatch(c echo.Context) error {
	whipCORS(c, whipResourceMethods)
	c.Response().Header().Set("Allow", whipResourceMethods)
	return echo.NewHTTPError(http.StatusMethodNotAllowed, "this server does not support trickle ICE or ICE restarts: send every candidate in the offer")
}
