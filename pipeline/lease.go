package pipeline

import (
	"sync"

	"github.com/vitseg/vitseg/model/inference"
)

// sessionLease guards a model's session for the goroutines that use it without owning it: the feedback stage
// scores labels with the serving model (owned by the inference goroutine, which swaps and closes it) and with
// the candidate (owned by its shadow runner). Closing waits for the uses in progress and refuses later ones, so
// a session is never closed under a run. Its owner uses the session directly.
type sessionLease struct {
	mu     sync.RWMutex
	closed bool
}

// use runs fn with sess unless the session was closed (then false, and fn does not run).
func (l *sessionLease) use(sess *inference.Session, fn func(*inference.Session) error) (bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false, nil
	}
	return true, fn(sess)
}

// close closes sess once the uses in progress have ended; later calls do nothing.
func (l *sessionLease) close(sess *inference.Session) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return sess.Close()
}
