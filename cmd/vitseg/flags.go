package main

import (
	"flag"

	"github.com/vitseg/vitseg/model/imaging"
)

// Flag groups shared by several commands are defined once, here and beside their types (logFlags,
// runtimeFlags, sessionFlags in common.go, eventTopicFlags in topics.go, registryFlags in models.go,
// objstore.Config and kafkaconn.Security in their packages), and registered by the commands that need them.

// limitFlags bound the images a command decodes.
type limitFlags struct{ maxBytes, maxPixels int64 }

// register adds --max-image-bytes and --max-pixels; what names the inputs ("files", "objects").
func (l *limitFlags) register(fs *flag.FlagSet, what string) {
	def := imaging.DefaultLimits()
	fs.Int64Var(&l.maxBytes, "max-image-bytes", def.MaxBytes, "refuse "+what+" larger than this")
	fs.Int64Var(&l.maxPixels, "max-pixels", def.MaxPixels, "refuse images declaring more pixels")
}

func (l *limitFlags) limits() imaging.Limits {
	return imaging.Limits{MaxBytes: l.maxBytes, MaxPixels: l.maxPixels}
}

// registerInputTopic adds --kafka-input-topic, the topic of image references.
func registerInputTopic(fs *flag.FlagSet, topic *string, usage string) {
	fs.StringVar(topic, "kafka-input-topic", "vitseg.images", usage)
}
