// Package e2e holds vitseg's process-level reliability and security tests. They build the real `vitseg` binary
// (with the onnx tag) once in TestMain and run `vitseg serve` and `vitseg train` as child processes against the
// real MinIO server and Kafka-protocol dev broker of internal/testsupport/testenv, then inject faults (broker
// restart, S3 outage, SIGKILL, a broken model in the registry, a consumer-group rebalance, a killed training job), feed a
// corpus of bad inputs, check the secrets never reach the logs, run over TLS and soak the pipeline while
// sampling its memory. Every fault test counts the messages in and the results out: nothing may be lost, and a
// message processed twice must give the same mask key and event ID. cuda_test.go runs the real ONNX Runtime CUDA
// provider against gcc-built stand-ins of NVIDIA's libraries (internal/testsupport/cudastandin): --device errors and
// fallback, doctor, and SIGTERM/SIGINT after the provider has taken the signal handlers; untagged_test.go checks
// the binary a plain `go build` gives.
//
// The package has only tests. Run them with
//
//	source scripts/env.sh
//	go test -tags onnx -v ./e2e/
//
// VITSEG_LONG=1 runs the long variants (a 30 s S3 outage, a soak of about 2,000 images). docs/RELIABILITY.md
// records what they observed; TestBadInputCorpus regenerates its table with -update-doc.
package e2e
