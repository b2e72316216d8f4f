// Package reconcile proves, or disproves, that nothing was lost: it matches the objects under a bucket prefix
// against the result and dead-letter events, object by object, and checks that every result's mask exists.
package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vitseg/vitseg/events"
)

// Status is the outcome of one object.
type Status string

// The statuses of an object.
const (
	// StatusProcessed: one result event for the object's current version.
	StatusProcessed Status = "processed"
	// StatusDuplicated: more than one result event for the current version (at-least-once delivery's
	// duplicates; each an overwrite of the same mask).
	StatusDuplicated Status = "duplicated"
	// StatusDeadLettered: no result for the current version, a dead letter for the object.
	StatusDeadLettered Status = "dead_lettered"
	// StatusMissing: neither; the object was lost (or not yet processed).
	StatusMissing Status = "missing"
)

// Object is one object under the prefix.
type Object struct {
	Bucket, Key string
	ETag        string // without quotes
}

// Entry is the outcome of one object.
type Entry struct {
	Key     string            `json:"key"`
	Status  Status            `json:"status"`
	Results int               `json:"results"`          // result events for the current version
	Class   events.ErrorClass `json:"class,omitempty"`  // the latest dead letter's, when dead-lettered
	Detail  string            `json:"detail,omitempty"` // the dead letter's reason, or why it is missing
}

// MissingMask is a result event whose mask object does not exist.
type MissingMask struct {
	Source  string           `json:"source"` // bucket/key
	EventID string           `json:"event_id"`
	Mask    events.ObjectRef `json:"mask"`
}

// Report is the reconciliation of one bucket prefix.
type Report struct {
	Bucket       string         `json:"bucket"`
	Prefix       string         `json:"prefix"`
	Counts       map[Status]int `json:"counts"`
	Objects      []Entry        `json:"objects"`
	MissingMasks []MissingMask  `json:"missing_masks"`
	CheckedAt    time.Time      `json:"checked_at"`
}

// Complete reports whether nothing is missing: every object has a result or a dead letter, and every result's
// mask exists.
func (r Report) Complete() bool { return r.Counts[StatusMissing] == 0 && len(r.MissingMasks) == 0 }

// MaskExists reports whether a mask object exists.
type MaskExists func(ctx context.Context, mask events.ObjectRef) (bool, error)

// Build reconciles objects (all in bucket, under prefix) with the events read from the result and dead-letter
// topics (events of other objects are ignored), checking each distinct mask of the objects' results with
// exists.
func Build(ctx context.Context, bucket, prefix string, objects []Object, results []events.ResultEvent,
	deadLetters []events.DeadLetterEvent, exists MaskExists) (Report, error) {
	inScope := func(b, k string) bool { return b == bucket && strings.HasPrefix(k, prefix) }
	byKey := map[string][]events.ResultEvent{}
	for _, r := range results {
		if inScope(r.Source.Bucket, r.Source.Key) {
			byKey[r.Source.Key] = append(byKey[r.Source.Key], r)
		}
	}
	lastLetter := map[string]events.DeadLetterEvent{}
	for _, d := range deadLetters {
		if d.Source != nil && inScope(d.Source.Bucket, d.Source.Key) {
			if prev, ok := lastLetter[d.Source.Key]; !ok || !d.FailedAt.Before(prev.FailedAt) {
				lastLetter[d.Source.Key] = d
			}
		}
	}
	rep := Report{Bucket: bucket, Prefix: prefix, Counts: map[Status]int{}, Objects: []Entry{}, MissingMasks: []MissingMask{},
		CheckedAt: time.Now().UTC()}
	for _, o := range objects {
		e := entry(o, byKey[o.Key], lastLetter)
		rep.Counts[e.Status]++
		rep.Objects = append(rep.Objects, e)
	}
	sort.Slice(rep.Objects, func(i, j int) bool { return rep.Objects[i].Key < rep.Objects[j].Key })
	missing, err := missingMasks(ctx, byKey, exists)
	if err != nil {
		return Report{}, err
	}
	rep.MissingMasks = append(rep.MissingMasks, missing...)
	return rep, nil
}

// entry decides the status of o from its results and the latest dead letters.
func entry(o Object, results []events.ResultEvent, lastLetter map[string]events.DeadLetterEvent) Entry {
	e := Entry{Key: o.Key}
	var otherVersions []string
	for _, r := range results {
		if o.ETag == "" || r.Source.ETag == o.ETag {
			e.Results++
		} else {
			otherVersions = append(otherVersions, r.Source.ETag)
		}
	}
	d, dead := lastLetter[o.Key]
	switch {
	case e.Results == 1:
		e.Status = StatusProcessed
	case e.Results > 1:
		e.Status = StatusDuplicated
	case dead:
		e.Status, e.Class, e.Detail = StatusDeadLettered, d.ErrorClass, d.Reason
	default:
		e.Status = StatusMissing
		e.Detail = "no result or dead-letter event"
		if len(otherVersions) > 0 {
			e.Detail = fmt.Sprintf("results only for other versions (ETag %s), none for ETag %s", strings.Join(otherVersions, ", "), o.ETag)
		}
	}
	return e
}

// missingMasks checks the distinct masks of the results.
func missingMasks(ctx context.Context, byKey map[string][]events.ResultEvent, exists MaskExists) ([]MissingMask, error) {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	checked := map[events.ObjectRef]bool{}
	var out []MissingMask
	for _, k := range keys {
		for _, r := range byKey[k] {
			mask := r.Mask.Object()
			if checked[mask] {
				continue
			}
			checked[mask] = true
			ok, err := exists(ctx, mask)
			if err != nil {
				return nil, fmt.Errorf("reconcile: mask %s/%s: %w", mask.Bucket, mask.Key, err)
			}
			if !ok {
				out = append(out, MissingMask{Source: r.Source.Bucket + "/" + r.Source.Key, EventID: r.EventID, Mask: mask})
			}
		}
	}
	return out, nil
}
