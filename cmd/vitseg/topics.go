package main

import (
	"flag"

	"github.com/vitseg/vitseg/kafkaconn"
)

// eventTopicFlags locate the dead-letter topic (register) and the result topic (registerResults), for the
// commands that read them.
type eventTopicFlags struct {
	brokers, resultTopic, dlqTopic string
	ksec                           kafkaconn.Security
}

func (e *eventTopicFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.brokers, "kafka-brokers", "localhost:9092", "Kafka bootstrap brokers, comma-separated")
	fs.StringVar(&e.dlqTopic, "kafka-dlq-topic", "vitseg.deadletter", "topic of dead-letter events")
	e.ksec.RegisterFlags(fs)
}

func (e *eventTopicFlags) registerResults(fs *flag.FlagSet) {
	e.register(fs)
	e.registerResultTopic(fs)
}

// registerResultTopic adds the result topic alone, for a command whose other event flags are registered already.
func (e *eventTopicFlags) registerResultTopic(fs *flag.FlagSet) {
	fs.StringVar(&e.resultTopic, "kafka-result-topic", "vitseg.results", "topic of result events")
}
