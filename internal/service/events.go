package service

import (
	"fmt"
	"strings"
	"time"
)

// Service event messages (§7.5, §7.6, §7.7, §7.9, §7.11). The functions
// take the service name and return ECS's sentence.

// EventSteady is "(service S) has reached a steady state.".
func EventSteady(service string) string {
	return fmt.Sprintf("(service %s) has reached a steady state.", service)
}

// EventStopped is "(service S) has stopped N running tasks: (task T1) …".
func EventStopped(service string, taskIDs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(service %s) has stopped %d running tasks:", service, len(taskIDs))
	for _, id := range taskIDs {
		fmt.Fprintf(&b, " (task %s)", id)
	}
	b.WriteByte('.')
	return b.String()
}

// EventStarted is "(service S) has started N tasks: (task T1) …."; the
// caller emits it once it knows the new task IDs.
func EventStarted(service string, taskIDs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(service %s) has started %d tasks:", service, len(taskIDs))
	for _, id := range taskIDs {
		fmt.Fprintf(&b, " (task %s)", id)
	}
	b.WriteByte('.')
	return b.String()
}

// EventUnhealthy is "(service S) (task T) failed container health
// checks." (§7.8).
func EventUnhealthy(service, taskID string) string {
	return fmt.Sprintf("(service %s) (task %s) failed container health checks.", service, taskID)
}

// EventDeploymentCompleted is "(service S) (deployment D) deployment
// completed.".
func EventDeploymentCompleted(service, deployment string) string {
	return fmt.Sprintf("(service %s) (deployment %s) deployment completed.", service, deployment)
}

// EventDeploymentFailed is "(service S) (deployment D) deployment failed:
// tasks failed to start.".
func EventDeploymentFailed(service, deployment string) string {
	return fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", service, deployment)
}

// EventRollingBack is "(service S) rolling back to deployment D.".
func EventRollingBack(service, deployment string) string {
	return fmt.Sprintf("(service %s) rolling back to deployment %s.", service, deployment)
}

// EventThrottled is "(service S) is unable to consistently start tasks
// successfully." (§7.9).
func EventThrottled(service string) string {
	return fmt.Sprintf("(service %s) is unable to consistently start tasks successfully.", service)
}

// EventStuck is the deployment-configuration event of §7.3.
func EventStuck(service string) string {
	return fmt.Sprintf("(service %s) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.", service)
}

// EventProtected is the protected-tasks event of §7.11, naming the
// deployment that cannot scale in.
func EventProtected(service, deployment string) string {
	return fmt.Sprintf("(service %s) was unable to reach steady state because task set (%s) was unable to scale in. Reason: The number of protected tasks are more than the desired count of tasks", service, deployment)
}

// Rollout reasons (§7.5).
func reasonInProgress(id string) string { return "ECS deployment " + id + " in progress." }
func reasonCompleted(id string) string  { return "ECS deployment " + id + " completed." }

const reasonFailed = "ECS deployment circuit breaker: tasks failed to start."

func reasonRollback(to string) string {
	return "ECS deployment circuit breaker: rolling back to deploymentId " + to + "."
}

// ReasonScaling is the stoppedReason of a scheduler stop for scale-in,
// deployment replacement or draining: "Scaling activity initiated by
// (deployment D)".
func ReasonScaling(deployment string) string {
	return "Scaling activity initiated by (deployment " + deployment + ")"
}

// notices applies the repeat suppression of §7.7 to this decision's
// repeating messages: a message already in prev and younger than
// NoticeRepeat is suppressed; others are emitted. Messages not repeated
// this time are forgotten, so they are emitted again when their cause
// returns. It returns the messages to emit and the new notice list.
func notices(now time.Time, prev []Notice, msgs []string) (emit []string, next []Notice) {
	for _, m := range msgs {
		i := -1
		for j := range prev {
			if prev[j].Message == m {
				i = j
				break
			}
		}
		if i >= 0 && now.Sub(prev[i].At) < NoticeRepeat {
			next = append(next, prev[i])
			continue
		}
		emit = append(emit, m)
		next = append(next, Notice{Message: m, At: now})
	}
	return emit, next
}
