package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
)

// errStale reports a compare-and-swap on current.json that lost to another writer.
var errStale = errors.New("registry: current.json changed concurrently")

// Current returns the pointer to the version being served (ErrNoCurrent if there is none).
func (r *Registry) Current(ctx context.Context) (Pointer, error) {
	p, _, err := r.readPointer(ctx)
	return p, err
}

// readPointer returns current.json and its ETag.
func (r *Registry) readPointer(ctx context.Context) (Pointer, string, error) {
	data, etag, err := r.getBytes(ctx, r.pointerKey(), maxJSONBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Pointer{}, "", ErrNoCurrent
	}
	if err != nil {
		return Pointer{}, "", err
	}
	var p Pointer
	if err := json.Unmarshal(data, &p); err != nil {
		return Pointer{}, "", fmt.Errorf("registry: decode %s: %w", r.pointerKey(), err)
	}
	if _, err := ParseVersion(p.Version); err != nil {
		return Pointer{}, "", fmt.Errorf("registry: %s: %w", r.pointerKey(), err)
	}
	return p, etag, nil
}

// writePointer writes p if current.json still has ETag etag, or does not exist when etag is "". It returns
// errStale when the condition does not hold.
func (r *Registry) writePointer(ctx context.Context, p Pointer, etag string) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("registry: encode pointer: %w", err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/json", CacheControl: "no-cache"}
	if etag == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(etag)
	}
	if _, err := r.putBytes(ctx, r.pointerKey(), data, opts); err != nil {
		if objstore.IsPreconditionFailed(err) {
			return errStale
		}
		return err
	}
	return nil
}

// updatePointer moves current.json by compare-and-swap. decide gets the pointer as read (exists is false when
// there is none) and returns the pointer to write, or write false to leave it as it is; it runs again, with the
// new pointer, whenever another writer changed current.json in between (at most maxAttempts times).
func (r *Registry) updatePointer(ctx context.Context, decide func(cur Pointer, exists bool) (next Pointer, write bool, err error)) (Pointer, error) {
	for attempt := 1; attempt <= r.maxAttempts; attempt++ {
		cur, etag, err := r.readPointer(ctx)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNoCurrent) {
			return Pointer{}, err
		}
		next, write, err := decide(cur, exists)
		if err != nil {
			return Pointer{}, err
		}
		if !write {
			return cur, nil
		}
		if r.beforePointerWrite != nil {
			r.beforePointerWrite()
		}
		err = r.writePointer(ctx, next, etag)
		if errors.Is(err, errStale) {
			r.log.Info("current.json changed concurrently, retrying", zap.Int("attempt", attempt))
			continue
		}
		if err != nil {
			return Pointer{}, err
		}
		r.log.Info("moved current version", zap.String("version", next.Version), zap.String("previous", next.Previous))
		return next, nil
	}
	return Pointer{}, fmt.Errorf("%w: %s after %d attempts", ErrConflict, r.pointerKey(), r.maxAttempts)
}

// Promote makes version current and records the version it replaces as the pointer's previous. The version must
// exist and have a complete model.onnx; its status is not checked (an operator may promote a rejected version)
// nor changed. Promoting the current version changes nothing. It returns the pointer now in place.
func (r *Registry) Promote(ctx context.Context, version string) (Pointer, error) {
	meta, err := r.Get(ctx, version)
	if err != nil {
		return Pointer{}, err
	}
	if err := r.checkComplete(ctx, meta); err != nil {
		return Pointer{}, err
	}
	return r.updatePointer(ctx, func(cur Pointer, exists bool) (Pointer, bool, error) {
		if exists && cur.Version == version {
			return cur, false, nil
		}
		next := Pointer{Version: version, UpdatedAt: time.Now().UTC()}
		if exists {
			next.Previous = cur.Version
		}
		return next, true, nil
	})
}

// Rollback makes the pointer's previous version current, or, when the pointer has none (or it is gone or
// incomplete), the latest published version older than the current one. The new pointer's previous is the
// latest published version older than the new current one, so repeated rollbacks walk back through the published
// versions. It returns ErrNoCurrent without a pointer and ErrNoPrevious when there is nothing to go back to.
func (r *Registry) Rollback(ctx context.Context) (Pointer, error) {
	return r.updatePointer(ctx, func(cur Pointer, exists bool) (Pointer, bool, error) {
		if !exists {
			return Pointer{}, false, ErrNoCurrent
		}
		return r.rollbackFrom(ctx, cur)
	})
}

// RollbackFrom is Rollback on condition that version is current: when the pointer names another version (it
// moved since the caller decided, another replica rolled back first) nothing changes and rolled is false.
func (r *Registry) RollbackFrom(ctx context.Context, version string) (p Pointer, rolled bool, err error) {
	p, err = r.updatePointer(ctx, func(cur Pointer, exists bool) (Pointer, bool, error) {
		rolled = false
		if !exists {
			return Pointer{}, false, ErrNoCurrent
		}
		if cur.Version != version {
			return cur, false, nil
		}
		next, write, err := r.rollbackFrom(ctx, cur)
		rolled = write && err == nil
		return next, write, err
	})
	return p, rolled, err
}

// rollbackFrom is the pointer that Rollback writes in place of cur.
func (r *Registry) rollbackFrom(ctx context.Context, cur Pointer) (Pointer, bool, error) {
	target := ""
	if cur.Previous != "" && cur.Previous != cur.Version {
		meta, err := r.Get(ctx, cur.Previous)
		if err == nil {
			err = r.checkComplete(ctx, meta)
		}
		if err == nil {
			target = cur.Previous
		} else {
			r.log.Warn("previous version unusable, rolling back to the latest published one",
				zap.String("previous", cur.Previous), zap.Error(err))
		}
	}
	if target == "" {
		var err error
		if target, err = r.latestPublishedBefore(ctx, cur.Version); err != nil {
			return Pointer{}, false, err
		}
		if target == "" {
			return Pointer{}, false, fmt.Errorf("%w: before %s", ErrNoPrevious, cur.Version)
		}
	}
	prev, err := r.latestPublishedBefore(ctx, target)
	if err != nil {
		return Pointer{}, false, err
	}
	return Pointer{Version: target, UpdatedAt: time.Now().UTC(), Previous: prev}, true, nil
}

// latestPublishedBefore returns the newest version older than version whose status is StatusPublished and whose
// model is complete, or "" if there is none.
func (r *Registry) latestPublishedBefore(ctx context.Context, version string) (string, error) {
	limit, err := ParseVersion(version)
	if err != nil {
		return "", err
	}
	nums, err := r.versions(ctx)
	if err != nil {
		return "", err
	}
	for i := len(nums) - 1; i >= 0; i-- {
		if nums[i] >= limit {
			continue
		}
		meta, err := r.Get(ctx, FormatVersion(nums[i]))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if meta.Status != StatusPublished {
			continue
		}
		if err := r.checkComplete(ctx, meta); err != nil {
			if errors.Is(err, ErrIncomplete) {
				continue
			}
			return "", err
		}
		return meta.Version, nil
	}
	return "", nil
}
