package web

import (
	"context"
	"errors"
	"time"

	"github.com/bonafide-dev/bonafide/store"
)

// retentionBatch is how many expired interviews or sessions one store
// query of the hourly check returns; the check repeats the query until it
// comes back short.
const retentionBatch = 100

// expiresAt is when the retention policy deletes what became due for it
// at from; nil when retention is 0 (kept until deleted).
func expiresAt(from time.Time, retention time.Duration) *time.Time {
	if retention <= 0 {
		return nil
	}
	t := from.Add(retention)
	return &t
}

// expired counts what one check of the retention policy deleted.
type expired struct {
	Interviews, Media, Sessions int
}

// expire applies the retention policy as of now. With Config.Retention it
// deletes every finished interview created more than that period before
// now (row, report, recording, evidence, and the record and working
// folder of the live session it was recorded in), then every live
// session that made no interview whose period has run since it ended, or
// since it was created if no publisher ever started it
// (store.LiveSession.RetainedFrom; a session still waiting is ended
// first, as by its owner: its link stops working), as a delete by their
// owner would. With Config.MediaRetention it then deletes the recording
// and evidence images of every finished interview created more than that
// period ago, keeping its row and report. Interviews still queued or
// processing, also when analysed again while the check runs, are left for
// a later check. Each deletion is logged and counted. An error stops the
// check (the next one carries on). Each store query returns at most batch
// rows.
func (s *server) expire(ctx context.Context, now time.Time, batch int) (n expired, err error) {
	if s.cfg.Retention > 0 {
		before := now.Add(-s.cfg.Retention)
		n.Interviews, err = sweep(batch,
			func() ([]store.Interview, error) { return s.store.ExpiredInterviews(ctx, before, batch) },
			func(iv store.Interview) (bool, error) {
				session, err := s.removeInterview(ctx, iv, before)
				switch {
				case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBusy):
					return false, nil // deleted, or analysed again, meanwhile
				case err != nil:
					return false, err
				}
				s.metrics.expired.WithLabelValues("interview").Inc()
				s.log.Info("interview deleted by the retention policy", "interview", iv.ID, "created", iv.CreatedAt, "retention", s.cfg.Retention)
				s.auditServerEvent(ctx, "retention.interview", "interview:"+iv.ID, "retention "+s.cfg.Retention.String())
				if session != "" {
					s.auditServerEvent(ctx, "retention.session", "session:"+session, "with interview:"+iv.ID)
				}
				return true, nil
			})
		if err != nil {
			return n, err
		}
		n.Sessions, err = sweep(batch,
			func() ([]store.LiveSession, error) { return s.store.ExpiredLiveSessions(ctx, before, batch) },
			func(ls store.LiveSession) (bool, error) {
				if ls.State == store.LiveWaiting {
					switch err := s.live.endWaiting(ctx, ls, "the retention period passed before anyone joined"); {
					case errors.Is(err, store.ErrLiveState):
						return false, nil // a publisher joined, or the owner ended it, meanwhile
					case err != nil:
						return false, err
					}
				}
				switch _, _, err := s.removeSession(ctx, ls.ID); {
				case errors.Is(err, store.ErrNotFound):
					return false, nil
				case err != nil:
					return false, err
				}
				s.metrics.expired.WithLabelValues("live_session").Inc()
				s.log.Info("live session deleted by the retention policy", "session", ls.ID, "state", ls.State, "retention", s.cfg.Retention)
				s.auditServerEvent(ctx, "retention.session", "session:"+ls.ID, "retention "+s.cfg.Retention.String())
				return true, nil
			})
		if err != nil {
			return n, err
		}
	}
	if s.cfg.MediaRetention > 0 {
		before := now.Add(-s.cfg.MediaRetention)
		n.Media, err = sweep(batch,
			func() ([]store.Interview, error) { return s.store.ExpiredMedia(ctx, before, batch) },
			func(iv store.Interview) (bool, error) {
				liveDir, err := s.liveDirOf(ctx, iv)
				if err != nil {
					return false, err
				}
				switch _, err := s.store.DeleteExpiredMedia(ctx, iv.ID, before, time.Now()); {
				case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrBusy):
					return false, nil
				case err != nil:
					return false, err
				}
				// Recorded first: from now on the interview is not
				// analysed again, so nothing writes these files anew.
				s.removeFiles(iv, liveDir, "recording and evidence marked deleted")
				s.metrics.expired.WithLabelValues("media").Inc()
				s.log.Info("recording and evidence deleted by the retention policy", "interview", iv.ID, "created", iv.CreatedAt, "media_retention", s.cfg.MediaRetention)
				s.auditServerEvent(ctx, "retention.media", "interview:"+iv.ID, "media retention "+s.cfg.MediaRetention.String())
				return true, nil
			})
	}
	return n, err
}

// sweep removes what list returns, batch by batch, until a batch comes
// back short, and returns how many remove reports removed. An error of
// either stops it. list must not return again what remove removed or
// skipped for good.
func sweep[T any](batch int, list func() ([]T, error), remove func(T) (bool, error)) (int, error) {
	n := 0
	for {
		items, err := list()
		if err != nil {
			return n, err
		}
		for _, it := range items {
			ok, err := remove(it)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
		if len(items) < batch {
			return n, nil
		}
	}
}
