package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cli runs a short vitseg command against the stack (its Kafka brokers and MinIO endpoint are appended as
// flags for the commands that take them) and returns its stdout, stderr and exit status.
func (s *stack) cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = append(args, "--kafka-brokers", strings.Join(s.kafka.Brokers(), ","))
	cmd := exec.Command(env.bin, args...)
	cmd.Env = childEnv("VITSEG_S3_ENDPOINT="+s.minio.Endpoint(), "VITSEG_S3_ACCESS_KEY="+s.minio.AccessKey(),
		"VITSEG_S3_SECRET_KEY="+s.minio.SecretKey(), "VITSEG_S3_REGION=us-east-1")
	if s.minio.TLS() {
		cmd.Env = append(cmd.Env, "VITSEG_S3_TLS=true", "VITSEG_S3_CA_FILE="+s.minio.CAFile())
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("vitseg %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}
