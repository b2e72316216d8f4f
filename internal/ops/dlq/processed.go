package dlq

import "github.com/vitseg/vitseg/events"

// SkipProcessed splits letters by the latest outcome of their source object: a letter whose object has a result
// processed after the letter failed (the object was uploaded late, fixed, or replayed successfully since) goes to
// processed, every other letter, and those without a source object, to keep. Replaying a processed object would
// only repeat a result everyone downstream already has.
func SkipProcessed(letters []events.DeadLetterEvent, results []events.ResultEvent) (keep, processed []events.DeadLetterEvent) {
	latest := map[events.ObjectRef]events.ResultEvent{}
	for _, r := range results {
		o := events.ObjectRef{Bucket: r.Source.Bucket, Key: r.Source.Key}
		if prev, ok := latest[o]; !ok || r.ProcessedAt.After(prev.ProcessedAt) {
			latest[o] = r
		}
	}
	for _, e := range letters {
		if e.Source != nil {
			if r, ok := latest[*e.Source]; ok && r.ProcessedAt.After(e.FailedAt) {
				processed = append(processed, e)
				continue
			}
		}
		keep = append(keep, e)
	}
	return keep, processed
}
