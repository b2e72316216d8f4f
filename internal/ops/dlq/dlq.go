// Package dlq works on the dead-letter topic's events: it selects them (Filter), summarises them by class and
// reason (Summarise), keeps the latest letter of each object (Latest) and turns a letter back into the input
// message that redrives it (Replay), plans a replay (PlanReplay) and publishes it (Publish); WriteSummary and
// Plan's Write methods print them as `vitseg dlq` does.
package dlq

import (
	"regexp"
	"sort"
	"time"

	"github.com/vitseg/vitseg/events"
)

// Filter selects dead letters. Zero fields select everything.
type Filter struct {
	Since  time.Time         // failed at or after
	Class  events.ErrorClass // of this class
	Reason *regexp.Regexp    // whose reason matches
}

// Match reports whether e is selected.
func (f Filter) Match(e events.DeadLetterEvent) bool {
	return !e.FailedAt.Before(f.Since) && (f.Class == "" || e.ErrorClass == f.Class) &&
		(f.Reason == nil || f.Reason.MatchString(e.Reason))
}

// Select returns the letters f matches, in order.
func (f Filter) Select(letters []events.DeadLetterEvent) []events.DeadLetterEvent {
	var out []events.DeadLetterEvent
	for _, e := range letters {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

// ClassSummary counts the dead letters of one class.
type ClassSummary struct {
	Class   events.ErrorClass
	Count   int
	Reasons []ReasonCount // most frequent first
}

// ReasonCount counts one reason, with an example object.
type ReasonCount struct {
	Reason  string
	Count   int
	Example string // bucket/key of one letter with this reason; "" when none has a source
}

// Summarise groups events by class (largest first) and, within a class, by reason.
func Summarise(evs []events.DeadLetterEvent) []ClassSummary {
	byClass := map[events.ErrorClass]map[string]*ReasonCount{}
	for _, e := range evs {
		reasons := byClass[e.ErrorClass]
		if reasons == nil {
			reasons = map[string]*ReasonCount{}
			byClass[e.ErrorClass] = reasons
		}
		rc := reasons[e.Reason]
		if rc == nil {
			rc = &ReasonCount{Reason: e.Reason}
			reasons[e.Reason] = rc
		}
		rc.Count++
		if rc.Example == "" && e.Source != nil {
			rc.Example = e.Source.Bucket + "/" + e.Source.Key
		}
	}
	out := make([]ClassSummary, 0, len(byClass))
	for class, reasons := range byClass {
		cs := ClassSummary{Class: class}
		for _, rc := range reasons {
			cs.Count += rc.Count
			cs.Reasons = append(cs.Reasons, *rc)
		}
		sort.Slice(cs.Reasons, func(i, j int) bool {
			a, b := cs.Reasons[i], cs.Reasons[j]
			return a.Count > b.Count || a.Count == b.Count && a.Reason < b.Reason
		})
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Class < out[j].Class
	})
	return out
}

// Latest keeps, for each source object, only its most recent dead letter (an object replayed and failed
// again has one letter per attempt: only the last may be replayed), and letters without a source once per
// event_id. The order of the first appearance is kept.
func Latest(evs []events.DeadLetterEvent) []events.DeadLetterEvent {
	index := map[string]int{}
	var out []events.DeadLetterEvent
	for _, e := range evs {
		id := "event " + e.EventID
		if e.Source != nil {
			id = "object " + e.Source.Bucket + "/" + e.Source.Key
		}
		i, seen := index[id]
		switch {
		case !seen:
			index[id] = len(out)
			out = append(out, e)
		case Attempt(e) > Attempt(out[i]) || Attempt(e) == Attempt(out[i]) && e.FailedAt.After(out[i].FailedAt):
			out[i] = e
		}
	}
	return out
}
