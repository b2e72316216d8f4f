package dlq

import (
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// Plan is what a replay does: the dead letters it re-publishes with their messages, those it skips because
// their object was processed since, and those it cannot replay, with why.
type Plan struct {
	Replay    []Item
	Processed []events.DeadLetterEvent
	Refused   []error
}

// Item is one dead letter to replay and the input message that redrives it.
type Item struct {
	Letter  events.DeadLetterEvent
	Message kafka.Message
}

// Selected is how many dead letters the plan considered: replayed, skipped as processed or refused.
func (p Plan) Selected() int { return len(p.Replay) + len(p.Processed) + len(p.Refused) }

// Messages returns the messages of the plan's items, in order.
func (p Plan) Messages() []kafka.Message {
	msgs := make([]kafka.Message, len(p.Replay))
	for i, it := range p.Replay {
		msgs[i] = it.Message
	}
	return msgs
}

// PlanReplay plans the replay of the letters f selects. The latest letter of each object decides (one that
// failed again, or ran out of attempts, since an earlier letter is not replayed from that earlier letter);
// an object whose latest outcome among results is a result is skipped.
func PlanReplay(letters []events.DeadLetterEvent, results []events.ResultEvent, f Filter) Plan {
	var p Plan
	selected := f.Select(Latest(letters))
	selected, p.Processed = SkipProcessed(selected, results)
	for _, e := range selected {
		m, err := Replay(e)
		if err != nil {
			p.Refused = append(p.Refused, err)
			continue
		}
		p.Replay = append(p.Replay, Item{Letter: e, Message: m})
	}
	return p
}

// Subject names what replaying e re-publishes: its source object, or its original message.
func Subject(e events.DeadLetterEvent) string {
	if e.Source != nil {
		return e.Source.Bucket + "/" + e.Source.Key
	}
	return "message " + e.EventID
}
