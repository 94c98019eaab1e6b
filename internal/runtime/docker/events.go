package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/berth-dev/berth/internal/runtime"
)

const (
	// eventBuffer is how many events Events holds for a slow receiver
	// before it gives up on it.
	eventBuffer = 1024
	// eventReplay is how far back Events asks the daemon to replay from
	// its in-memory log (its last 256 events). The daemon answers the
	// request before it subscribes, so without a replay an event in
	// between would be lost; the margin also absorbs a daemon clock a
	// little behind this one.
	eventReplay = 2 * time.Second
)

// Events streams the start, die, health and destroy events of this runtime's
// containers (those carrying runtime.LabelTaskARN) until ctx ends. It first
// checks that the daemon answers (an error if not). The stream starts with
// the events of the last two seconds before the call, so no event after the
// call is lost (a receiver that subscribes and then calls List misses
// nothing) but one can arrive twice; receivers treat events as hints to
// Inspect, which makes that harmless.
//
// The channel is closed when ctx ends, when the stream from the daemon
// fails, and when the receiver falls eventBuffer events behind: the daemon
// silently drops events for a subscriber that does not read, so a closed
// channel is the honest signal. After a close the receiver subscribes again
// and re-lists. The goroutine that feeds the channel is owned by ctx and
// ends with it.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	if err := r.Ping(ctx); err != nil {
		return nil, fmt.Errorf("docker: events: %w", err)
	}
	f := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("label", runtime.LabelTaskARN),
		filters.Arg("event", string(events.ActionStart)),
		filters.Arg("event", string(events.ActionDie)),
		filters.Arg("event", string(events.ActionDestroy)),
		// The daemon matches "health_status" with every
		// "health_status: <status>".
		filters.Arg("event", string(events.ActionHealthStatus)),
	)
	streamCtx, cancel := context.WithCancel(ctx)
	since := time.Now().Add(-eventReplay)
	msgs, errs := r.cli.Events(streamCtx, events.ListOptions{
		Since:   fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		Filters: f,
	})
	out := make(chan runtime.Event, eventBuffer)
	go func() {
		defer close(out)
		// Cancelling ends the client's stream goroutine and closes the
		// HTTP response, whichever way forward ends.
		defer cancel()
		forward(ctx, msgs, errs, out)
	}()
	return out, nil
}

// forward translates msgs into out until ctx ends, errs delivers, or out is
// full (the receiver is cap(out) events behind).
func forward(ctx context.Context, msgs <-chan events.Message, errs <-chan error, out chan<- runtime.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-errs:
			return
		case m := <-msgs:
			ev, ok := toEvent(m)
			if !ok {
				continue
			}
			select {
			case out <- ev:
			default:
				return
			}
		}
	}
}
