package kafkaconn

import (
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logger adapts zap to kafka-go's Logger, writing every kafka-go line at one level (used by the consumer's and
// the producer's clients).
func Logger(log *zap.Logger, level zapcore.Level) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		if ce := log.Check(level, "kafka-go"); ce != nil {
			ce.Write(zap.String("detail", strings.TrimSpace(fmt.Sprintf(msg, args...))))
		}
	})
}
