package transport

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// pauseHandler is an slog handler that blocks the goroutine logging a
// message containing match until release is closed, after closing reached.
type pauseHandler struct {
	slog.Handler
	match   string
	reached chan struct{}
	release chan struct{}
}

func (h *pauseHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *pauseHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.match) {
		select {
		case <-h.reached:
		default:
			close(h.reached)
			<-h.release
		}
	}
	return nil
}

// A Shutdown whose context has ended, while Serve has its listener but has
// not started the client engine yet (gnet logs "Starting gnet client" just
// before OnBoot), returns without waiting for ready. Serve then started the
// engine, found its listener closed and waited for ever for Shutdown to
// close stop: Serve never returned and the event loops ran on. gnet.Run's
// OnBoot used to stop such an engine; nothing did any more.
func TestGnetShutdownEndedContextBeforeStart(t *testing.T) {
	h := &pauseHandler{match: "Starting gnet client", reached: make(chan struct{}), release: make(chan struct{})}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(old)

	s := NewGnet(Config{Addr: "127.0.0.1:0", Loops: 1})
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(newTestHandler()) }()
	<-h.reached // Serve is in cli.Start, before OnBoot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Shutdown(ctx)
	close(h.release)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = s.Shutdown(context.Background()) // let Serve go
		<-errc
		t.Fatal("Serve still running after Shutdown")
	}
}
