// Package kafkaheaders carries W3C trace context (traceparent, tracestate) in Kafka message headers: the
// propagation.TextMapCarrier that the pipeline extracts the input's trace from and the producer injects the
// output's into.
package kafkaheaders

import (
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
)

// Carrier adapts a message's headers to propagation.TextMapCarrier. Get returns the last header of a key;
// Set replaces every header of the key with one.
type Carrier struct{ Headers *[]kafka.Header }

var _ propagation.TextMapCarrier = Carrier{}

// Get returns the value of the last header named key, or "".
func (c Carrier) Get(key string) string {
	hs := *c.Headers
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value)
		}
	}
	return ""
}

// Set replaces the headers named key with one holding value.
func (c Carrier) Set(key, value string) {
	kept := (*c.Headers)[:0:0]
	for _, h := range *c.Headers {
		if h.Key != key {
			kept = append(kept, h)
		}
	}
	*c.Headers = append(kept, kafka.Header{Key: key, Value: []byte(value)})
}

// Keys returns the header names, in order.
func (c Carrier) Keys() []string {
	keys := make([]string, 0, len(*c.Headers))
	for _, h := range *c.Headers {
		keys = append(keys, h.Key)
	}
	return keys
}
