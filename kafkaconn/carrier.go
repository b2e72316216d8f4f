package kafkaconn

import (
	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier adapts a message's headers to propagation.TextMapCarrier. Get returns the last header of a key;
// Set replaces every header of the key with one.
type HeaderCarrier struct{ Headers *[]kafka.Header }

var _ propagation.TextMapCarrier = HeaderCarrier{}

// Get returns the value of the last header named key, or "".
func (c HeaderCarrier) Get(key string) string {
	hs := *c.Headers
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value)
		}
	}
	return ""
}

// Set replaces the headers named key with one holding value.
func (c HeaderCarrier) Set(key, value string) {
	kept := (*c.Headers)[:0:0]
	for _, h := range *c.Headers {
		if h.Key != key {
			kept = append(kept, h)
		}
	}
	*c.Headers = append(kept, kafka.Header{Key: key, Value: []byte(value)})
}

// Keys returns the header names, in order.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(*c.Headers))
	for _, h := range *c.Headers {
		keys = append(keys, h.Key)
	}
	return keys
}
