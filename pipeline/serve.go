package pipeline

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// httpShutdownTimeout bounds the wait for HTTP requests in progress when Serve returns.
const httpShutdownTimeout = 5 * time.Second

// Serve runs p (Run) until ctx ends or p fails, serving its HTTP endpoints (Handler: /metrics, /healthz,
// /readyz) on ln meanwhile. When Run returns, the server shuts down, waiting up to 5 s for requests in progress.
func (p *Pipeline) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("HTTP server stopped", zap.Error(err))
		}
	}()
	runErr := p.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		p.log.Warn("HTTP shutdown", zap.Error(err))
	}
	return runErr
}
