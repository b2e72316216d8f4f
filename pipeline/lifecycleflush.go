package pipeline

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/registry"
)

// flushShadow merges this replica's shadow figures, and the base version's live figures, into the candidate's
// shadow.json and judges the merged summary (Policy). The replica whose write records the decision in
// shadow.json is the one that decides; any replica then finishes a recorded decision (Resolve: the
// compare-and-swap on candidate.json lets exactly one promote or reject).
func (l *lifecycleRun) flushShadow(ctx context.Context, base registry.LiveStats) {
	version := l.runner.model.version
	delta := l.runner.take()
	meta, err := l.reg.Get(ctx, version)
	if err != nil {
		l.keep(delta, base)
		l.log.Warn("reading the candidate's metadata", zap.String("candidate", version), zap.Error(err))
		return
	}
	s, err := l.reg.UpdateShadow(ctx, version, func(s *registry.ShadowSummary, _ bool) (bool, error) {
		if s.Decision != nil {
			return false, nil // Decided: later figures change nothing.
		}
		if s.Base == "" {
			s.Base = l.base
		}
		s.Shadow.Add(delta)
		s.Current.Add(base)
		if v := l.cfg.Policy.Decide(*s, meta.NoAutoPromote); v.Decided {
			outcome := registry.OutcomeRejected
			if v.Act {
				outcome = registry.OutcomePromoted
			}
			s.Decision = &registry.Decision{Version: version, Outcome: outcome, Reason: v.Reason, Automatic: true,
				At: time.Now().UTC()}
		}
		return true, nil
	})
	if err != nil {
		l.keep(delta, base)
		if ctx.Err() == nil {
			l.log.Warn("merging the shadow figures", zap.String("candidate", version), zap.Error(err))
		}
		return
	}
	if s.Decision != nil {
		l.resolve(ctx, *s.Decision)
	}
}

// keep puts figures that could not be merged back, for the next flush.
func (l *lifecycleRun) keep(shadow registry.ShadowStats, base registry.LiveStats) {
	l.runner.count(func(st *registry.ShadowStats) { st.Add(shadow) })
	l.p.live.add(l.base, func(s *registry.LiveStats) { s.Add(base) })
}

// resolve carries out decision d on the candidate; only the replica whose Resolve wins counts it.
func (l *lifecycleRun) resolve(ctx context.Context, d registry.Decision) {
	won, err := l.reg.Resolve(ctx, d)
	if err != nil {
		l.log.Error("carrying out the decision on the candidate", zap.String("candidate", d.Version),
			zap.String("outcome", d.Outcome), zap.Error(err))
	}
	if !won {
		return
	}
	l.p.metrics.lifecycleDecisions.WithLabelValues(d.Outcome).Inc()
	l.log.Info("candidate decided", zap.String("candidate", d.Version), zap.String("outcome", d.Outcome),
		zap.String("reason", d.Reason))
}

// watchPromoted merges the serving version's live figures into its shadow.json while it is in the rollback
// window after its automatic promotion, and rolls it back when it regressed (RollbackPolicy). As with the
// promotion, the replica whose write records the rollback decides, and RollbackFrom moves the pointer once.
func (l *lifecycleRun) watchPromoted(ctx context.Context, serving string, live registry.LiveStats) {
	s, err := l.reg.Shadow(ctx, serving)
	if errors.Is(err, registry.ErrNoSummary) {
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("reading the serving version's shadow summary", zap.String("version", serving), zap.Error(err))
		}
		return
	}
	if s.Rollback == nil {
		if !l.cfg.Rollback.Watching(s, time.Now()) {
			return
		}
		s, err = l.reg.UpdateShadow(ctx, serving, func(s *registry.ShadowSummary, _ bool) (bool, error) {
			if s.Rollback != nil || !l.cfg.Rollback.Watching(*s, time.Now()) {
				return false, nil
			}
			s.Promoted.Add(live)
			if v := l.cfg.Rollback.Check(*s); v.Act {
				s.Rollback = &registry.Decision{Version: serving, Outcome: registry.OutcomeRolledBack, Reason: v.Reason,
					Automatic: true, At: time.Now().UTC()}
			}
			return true, nil
		})
		if err != nil {
			l.log.Warn("merging the promoted version's live figures", zap.String("version", serving), zap.Error(err))
			return
		}
	}
	if s.Rollback != nil {
		l.rollBack(ctx, *s.Rollback)
	}
}

// rollBack takes back version d.Version if it is still current, and marks it never to be promoted
// automatically again; only the replica whose RollbackFrom moved the pointer counts it.
func (l *lifecycleRun) rollBack(ctx context.Context, d registry.Decision) {
	p, rolled, err := l.reg.RollbackFrom(ctx, d.Version)
	if err != nil {
		l.log.Error("rolling back", zap.String("version", d.Version), zap.Error(err))
		return
	}
	if !rolled {
		return
	}
	l.p.metrics.rollbacks.Inc()
	l.log.Warn("rolled back an automatically promoted version", zap.String("version", d.Version),
		zap.String("now_current", p.Version), zap.String("reason", d.Reason))
	if err := l.reg.MarkRolledBack(ctx, d.Version, d.Reason); err != nil {
		l.log.Error("marking the rolled-back version", zap.String("version", d.Version), zap.Error(err))
	}
}
