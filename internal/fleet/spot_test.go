package fleet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
)

func spotTasks(n int) []control.SpotTask {
	out := make([]control.SpotTask, n)
	for i := range out {
		out[i] = control.SpotTask{ARN: "arn:aws:ecs:us-east-1:000000000000:task/c/" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), LastStatus: "RUNNING"}
	}
	return out
}

func arns(ts []control.SpotTask) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ARN
	}
	return out
}

func TestSpotVictims(t *testing.T) {
	tasks := spotTasks(4)
	tasks[1].LastStatus = "PENDING"
	tasks[2].Stopping = true
	cases := []struct {
		name    string
		rate    float64
		elapsed time.Duration
		want    []string
	}{
		{"RateZero", 0, time.Hour, nil},
		{"NoTimeElapsed", 1e9, 0, nil},
		{"NegativeElapsed", 1e9, -time.Second, nil},
		// Certain interruption: only RUNNING tasks that are not stopping.
		{"OnlyRunningNotStopping", 1e9, time.Hour, []string{tasks[0].ARN, tasks[3].ARN}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := arns(spotVictims(tasks, c.rate, c.elapsed, rand.New(rand.NewPCG(1, 1))))
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Fatalf("spotVictims = %v, want %v", got, c.want)
			}
		})
	}
}

// TestSpotVictims_Rate checks that the draws follow the rate: with a mean
// of r interruptions per task-hour, a fraction 1 − e^(−r·h) of the tasks
// is interrupted over h hours, however the time is sliced.
func TestSpotVictims_Rate(t *testing.T) {
	const n = 20000
	tasks := spotTasks(n)
	cases := []struct {
		name    string
		rate    float64
		elapsed time.Duration
	}{
		{"OnePerHourOverAnHour", 1, time.Hour},
		{"SixPerHourOverTenSeconds", 6, 10 * time.Second},
		{"HalfPerHourOverTenMinutes", 0.5, 10 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := 1 - math.Exp(-c.rate*c.elapsed.Hours())
			got := len(spotVictims(tasks, c.rate, c.elapsed, rand.New(rand.NewPCG(7, 11))))
			sd := math.Sqrt(n * p * (1 - p))
			if math.Abs(float64(got)-n*p) > 5*sd+1 {
				t.Fatalf("%d of %d interrupted, want about %.0f (sd %.1f)", got, n, n*p, sd)
			}
		})
	}
}

func TestSpotVictims_Determinism(t *testing.T) {
	tasks := spotTasks(500)
	a := arns(spotVictims(tasks, 30, time.Minute, rand.New(rand.NewPCG(3, 4))))
	b := arns(spotVictims(tasks, 30, time.Minute, rand.New(rand.NewPCG(3, 4))))
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("same seed: %d and %d victims, or different ones", len(a), len(b))
	}
	c := arns(spotVictims(tasks, 30, time.Minute, rand.New(rand.NewPCG(5, 6))))
	if slices.Equal(a, c) {
		t.Fatal("another seed drew the same victims")
	}
}

func TestReclaimDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tasks := spotTasks(4)
	tasks[0].InterruptedAt = now.Add(-3 * time.Minute) // over
	tasks[1].InterruptedAt = now.Add(-2 * time.Minute) // just over
	tasks[2].InterruptedAt = now.Add(-time.Minute)     // a minute left
	tasks[3].InterruptedAt = time.Time{}               // not interrupted
	due, next := reclaimDue(tasks, 2*time.Minute, now)
	if got := arns(due); !slices.Equal(got, []string{tasks[0].ARN, tasks[1].ARN}) {
		t.Fatalf("due %v", got)
	}
	if !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("next %v, want %v", next, now.Add(time.Minute))
	}
	if due, next := reclaimDue(tasks[3:], time.Minute, now); len(due) != 0 || !next.IsZero() {
		t.Fatalf("nothing interrupted: due %v next %v", due, next)
	}
}

func TestSpot_withDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   Spot
		want Spot
	}{
		{"Zero", Spot{}, Spot{Warning: 2 * time.Minute, Interval: 10 * time.Second}},
		{"Set", Spot{Warning: time.Second, Rate: 2, Interval: time.Millisecond, Seed: 9}, Spot{Warning: time.Second, Rate: 2, Interval: time.Millisecond, Seed: 9}},
		{"BadRate", Spot{Rate: math.NaN()}, Spot{Warning: 2 * time.Minute, Interval: 10 * time.Second}},
		{"NegativeRate", Spot{Rate: -1}, Spot{Warning: 2 * time.Minute, Interval: 10 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.in.withDefaults(); got != c.want {
				t.Fatalf("withDefaults = %+v, want %+v", got, c.want)
			}
		})
	}
}
