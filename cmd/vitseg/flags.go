package main

import "flag"

// Flag groups shared by several commands are defined once, here and beside their types (logFlags,
// runtimeFlags, sessionFlags in common.go, eventTopicFlags in topics.go, registryFlags in models.go) or in the
// packages that own them (objstore.Config, kafkaconn.Security, imaging.DecodeOptions, model.ArchOptions,
// training.DataConfig), and registered by the commands that need them.

// registerInputTopic adds --kafka-input-topic, the topic of image references.
func registerInputTopic(fs *flag.FlagSet, topic *string, usage string) {
	fs.StringVar(topic, "kafka-input-topic", "vitseg.images", usage)
}
