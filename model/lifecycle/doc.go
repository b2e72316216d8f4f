// Package lifecycle is the arithmetic of a model's live lifecycle: how a candidate's masks agree with the
// current model's on the same images (Compare), when shadow evaluation promotes or rejects the candidate
// (Policy), and when a version promoted automatically is rolled back (RollbackPolicy). It reads the figures
// that serve records in the registry (registry.ShadowSummary) and does no I/O; package pipeline runs it.
package lifecycle
