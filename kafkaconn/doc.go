// Package kafkaconn is vitseg's Kafka connection plumbing, shared by the
// consumer's reader, the producer's writer and the commands: the TLS and SASL
// settings (Security) with their flags and their translation into kafka-go's
// Dialer and Transport, the zap adapter for kafka-go's logs, the carrier of
// W3C trace context in message headers, and the reads of whole topics
// (Cluster.Scan to the end a topic has when the read starts, Cluster.Follow
// without end).
package kafkaconn
