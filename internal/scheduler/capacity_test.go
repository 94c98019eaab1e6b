package scheduler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func tally(names []string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n]++
	}
	return m
}

func sameCounts(t *testing.T, got, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("counts %v, want %v", got, want)
			return
		}
	}
	for k, v := range got {
		if want[k] != v {
			t.Errorf("counts %v, want %v", got, want)
			return
		}
	}
}

// fargateExample is the worked example of spec §3.4.
var fargateExample = []StrategyItem{{Provider: "FARGATE", Base: 2, Weight: 1}, {Provider: "FARGATE_SPOT", Weight: 3}}

// TestDistribute_WorkedExamples runs every example and documented fact of
// spec §3.4.
func TestDistribute_WorkedExamples(t *testing.T) {
	const F, S = "FARGATE", "FARGATE_SPOT"
	tests := []struct {
		name     string
		strategy []StrategyItem
		current  map[string]int
		n        int
		want     map[string]int
		wantSeq  []string
	}{
		{name: "FARGATE base=2 weight=1 + FARGATE_SPOT weight=3, desired 10 => 4 and 6",
			strategy: fargateExample, n: 10, want: map[string]int{F: 4, S: 6},
			wantSeq: []string{F, F, S, F, S, S, S, F, S, S}},
		{name: "base satisfied first", strategy: fargateExample, n: 2, want: map[string]int{F: 2}},
		{name: "weights 1:1 split evenly", n: 10,
			strategy: []StrategyItem{{Provider: "A", Weight: 1}, {Provider: "B", Weight: 1}},
			want:     map[string]int{"A": 5, "B": 5}, wantSeq: []string{"A", "B", "A", "B", "A", "B", "A", "B", "A", "B"}},
		{name: "weights 1:4 put four on B for every one on A", n: 5,
			strategy: []StrategyItem{{Provider: "A", Weight: 1}, {Provider: "B", Weight: 4}},
			want:     map[string]int{"A": 1, "B": 4}},
		{name: "weights 1:4, ten tasks", n: 10,
			strategy: []StrategyItem{{Provider: "A", Weight: 1}, {Provider: "B", Weight: 4}},
			want:     map[string]int{"A": 2, "B": 8}},
		{name: "weight 0 gets no tasks beyond its base", n: 10,
			strategy: []StrategyItem{{Provider: "A", Base: 3}, {Provider: "B", Weight: 1}},
			want:     map[string]int{"A": 3, "B": 7}},
		{name: "weight 0 item with a base still gets its base", n: 2,
			strategy: []StrategyItem{{Provider: "A", Weight: 1}, {Provider: "B", Base: 2}},
			want:     map[string]int{"B": 2}},
		{name: "weight 0 item without base gets nothing", n: 6,
			strategy: []StrategyItem{{Provider: "A"}, {Provider: "B", Weight: 2}},
			want:     map[string]int{"B": 6}},
		{name: "service: base counts the service's existing tasks", strategy: fargateExample,
			current: map[string]int{F: 2}, n: 8, want: map[string]int{F: 2, S: 6}},
		{name: "service: existing tasks complete the example", strategy: fargateExample,
			current: map[string]int{F: 1, S: 5}, n: 4, want: map[string]int{F: 3, S: 1}},
		{name: "service: providers outside the strategy are ignored", strategy: fargateExample,
			current: map[string]int{"OLD": 7}, n: 10, want: map[string]int{F: 4, S: 6}},
		{name: "single provider", strategy: []StrategyItem{{Provider: "cp", Weight: 1}}, n: 3, want: map[string]int{"cp": 3}},
		{name: "ties to the item listed first", n: 1,
			strategy: []StrategyItem{{Provider: "B", Weight: 2}, {Provider: "A", Weight: 2}},
			want:     map[string]int{"B": 1}},
		{name: "zero tasks", strategy: fargateExample, n: 0, want: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Distribute(tt.strategy, tt.current, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("%d names for %d tasks", len(got), tt.n)
			}
			sameCounts(t, tally(got), tt.want)
			if tt.wantSeq != nil && !slices.Equal(got, tt.wantSeq) {
				t.Errorf("sequence %v, want %v", got, tt.wantSeq)
			}
		})
	}
	t.Run("RunTask: base applies per call", func(t *testing.T) {
		for range 3 {
			got, err := Distribute(fargateExample, nil, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != F {
				t.Errorf("RunTask of 1 went to %s, want the base provider", got[0])
			}
		}
	})
}

func TestScaleIn(t *testing.T) {
	const F, S = "FARGATE", "FARGATE_SPOT"
	tests := []struct {
		name     string
		strategy []StrategyItem
		current  map[string]int
		n        int
		wantSeq  []string
		want     map[string]int // providers' remaining counts
	}{
		{name: "worked example back to its base", strategy: fargateExample,
			current: map[string]int{F: 4, S: 6}, n: 8,
			wantSeq: []string{S, S, F, S, S, S, F, S}, want: map[string]int{F: 2, S: 0}},
		{name: "base provider last", strategy: fargateExample,
			current: map[string]int{F: 4, S: 6}, n: 10, want: map[string]int{F: 0, S: 0}},
		{name: "never below base while others have tasks", strategy: fargateExample,
			current: map[string]int{F: 2, S: 1}, n: 1, wantSeq: []string{S}},
		{name: "below-base provider is kept while others have tasks", strategy: fargateExample,
			current: map[string]int{F: 1, S: 3}, n: 3, wantSeq: []string{S, S, S}},
		{name: "providers outside the strategy are drained first", strategy: fargateExample,
			current: map[string]int{F: 2, S: 2, "OLD": 3}, n: 3, wantSeq: []string{"OLD", "OLD", "OLD"}},
		{name: "1:1 ties to the item listed last", n: 1,
			strategy: []StrategyItem{{Provider: "A", Weight: 1}, {Provider: "B", Weight: 1}},
			current:  map[string]int{"A": 2, "B": 2}, wantSeq: []string{"B"}},
		{name: "weight 0 provider loses its tasks first", n: 2,
			strategy: []StrategyItem{{Provider: "A"}, {Provider: "B", Weight: 1}},
			current:  map[string]int{"A": 2, "B": 2}, wantSeq: []string{"A", "A"}},
		{name: "stops when no tasks are left", strategy: fargateExample,
			current: map[string]int{S: 1}, n: 5, wantSeq: []string{S}},
		{name: "nothing to remove", strategy: fargateExample, n: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScaleIn(tt.strategy, tt.current, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSeq != nil && !slices.Equal(got, tt.wantSeq) {
				t.Errorf("sequence %v, want %v", got, tt.wantSeq)
			}
			if tt.want != nil {
				left := cloneMap(tt.current)
				for _, p := range got {
					left[p]--
				}
				sameCounts(t, left, tt.want)
			}
		})
	}
}

// randomStrategy returns a valid strategy of 1..k items.
func randomStrategy(r *rand.Rand, k int) []StrategyItem {
	n := 1 + r.IntN(k)
	st := make([]StrategyItem, n)
	for i := range st {
		st[i] = StrategyItem{Provider: fmt.Sprintf("cp%d", i), Weight: r.IntN(6)}
	}
	st[r.IntN(n)].Weight += 1 + r.IntN(3)
	if r.IntN(2) == 0 {
		st[r.IntN(n)].Base = r.IntN(6)
	}
	return st
}

func TestDistribute_Properties(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := range 3000 {
		st := randomStrategy(r, 5)
		n := r.IntN(60)
		got, err := Distribute(st, nil, n)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("#%d %v n=%d", iter, st, n)
		if len(got) != n {
			t.Fatalf("%s: %d names, want n", name, len(got))
		}
		// Every prefix is itself a distribution: check the invariants
		// after each task.
		counts := map[string]int{}
		var w int
		for _, it := range st {
			w += it.Weight
		}
		for k, p := range got {
			counts[p]++
			total := k + 1
			beyondTotal := 0
			for _, it := range st {
				beyondTotal += max(counts[it.Provider]-it.Base, 0)
			}
			for _, it := range st {
				c := counts[it.Provider]
				if it.Base > 0 && c < min(it.Base, total) {
					t.Fatalf("%s: after %d tasks the base provider has %d (base %d)", name, total, c, it.Base)
				}
				if it.Weight == 0 && c > it.Base {
					t.Fatalf("%s: weight-0 provider %s has %d tasks beyond base %d", name, it.Provider, c, it.Base)
				}
				// Proportions: beyond the base each provider is within one
				// task of its exact weighted share.
				if beyondTotal > 0 && it.Weight > 0 {
					share := float64(it.Weight) * float64(beyondTotal) / float64(w)
					if d := float64(max(c-it.Base, 0)) - share; d >= 1 || d <= -1 {
						t.Fatalf("%s: after %d tasks %s has %d beyond base, share %.2f", name, total, it.Provider, c-it.Base, share)
					}
				}
			}
		}
		// Distributing in two steps equals distributing at once (the
		// algorithm reads only the counts, so services can call it per
		// reconcile pass).
		split := r.IntN(n + 1)
		first, _ := Distribute(st, nil, split)
		rest, _ := Distribute(st, tally(first), n-split)
		if !slices.Equal(append(first, rest...), got) {
			t.Fatalf("%s: split at %d differs", name, split)
		}
	}
}

func TestScaleIn_Properties(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for iter := range 3000 {
		st := randomStrategy(r, 4)
		current := map[string]int{}
		for _, it := range st {
			current[it.Provider] = r.IntN(8)
		}
		if r.IntN(4) == 0 {
			current["legacy"] = r.IntN(3)
		}
		total := 0
		for _, v := range current {
			total += v
		}
		n := r.IntN(total + 3)
		got, err := ScaleIn(st, current, n)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("#%d %v %v n=%d", iter, st, current, n)
		if len(got) != min(n, total) {
			t.Fatalf("%s: %d removals, want %d", name, len(got), min(n, total))
		}
		left := cloneMap(current)
		for _, p := range got {
			left[p]--
			if left[p] < 0 {
				t.Fatalf("%s: removed a task %s does not have", name, p)
			}
			for _, it := range st {
				if it.Base > 0 && p == it.Provider && left[p] < it.Base {
					for q, c := range left {
						if q != p && c > 0 {
							t.Fatalf("%s: base provider taken to %d while %s has %d", name, left[p], q, c)
						}
					}
				}
			}
		}
	}
}

// TestScaleIn_UndoesDistribute checks the mirror property for two providers
// (Fargate/Fargate Spot, the common case): scaling in by one returns the
// counts Distribute would have produced for one task fewer. (With three or
// more providers the rounding of the two directions can differ by one task
// in rare cases; the proportions still hold.)
func TestScaleIn_UndoesDistribute(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for iter := range 2000 {
		st := randomStrategy(r, 2)
		n := r.IntN(40)
		out, _ := Distribute(st, nil, n)
		cur := tally(out)
		for m := n; m > 0; m-- {
			rm, err := ScaleIn(st, cur, 1)
			if err != nil {
				t.Fatal(err)
			}
			cur[rm[0]]--
			want, _ := Distribute(st, nil, m-1)
			w := tally(want)
			for _, it := range st {
				if cur[it.Provider] != w[it.Provider] {
					t.Fatalf("#%d %v: scaling %d -> %d gives %v, Distribute(%d) gives %v", iter, st, m, m-1, cur, m-1, w)
				}
			}
		}
	}
}

func TestValidateProviderStrategy(t *testing.T) {
	tests := []struct {
		name     string
		strategy []StrategyItem
		field    string
		msg      string
	}{
		{"ErrEmpty", nil, "capacityProviderStrategy", "empty"},
		{"ErrTooMany", slices.Repeat([]StrategyItem{{Weight: 1}}, 21), "capacityProviderStrategy", "at most 20"},
		{"ErrNoName", []StrategyItem{{Weight: 1}}, "capacityProviderStrategy[0].capacityProvider", "empty"},
		{"ErrWeightRange", []StrategyItem{{Provider: "a", Weight: 1001}}, "capacityProviderStrategy[0].weight", "between 0 and 1000"},
		{"ErrNegativeWeight", []StrategyItem{{Provider: "a", Weight: -1}}, "capacityProviderStrategy[0].weight", "between"},
		{"ErrBaseRange", []StrategyItem{{Provider: "a", Weight: 1, Base: 100001}}, "capacityProviderStrategy[0].base", "between 0 and 100000"},
		{"ErrDuplicate", []StrategyItem{{Provider: "a", Weight: 1}, {Provider: "a", Weight: 1}}, "capacityProviderStrategy[1].capacityProvider", "more than once"},
		{"ErrTwoBases", []StrategyItem{{Provider: "a", Weight: 1, Base: 1}, {Provider: "b", Base: 1}}, "capacityProviderStrategy", "only one"},
		{"ErrAllWeightsZero", []StrategyItem{{Provider: "a", Base: 1}, {Provider: "b"}}, "capacityProviderStrategy", "weight greater than zero"},
		{"ErrSingleZeroWeight", []StrategyItem{{Provider: "a"}}, "capacityProviderStrategy", "weight greater than zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateProviderStrategy(tt.strategy)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want *RequestError", err)
			}
			if re.Field != tt.field || !strings.Contains(re.Message, tt.msg) {
				t.Errorf("error = %v, want field %q mentioning %q", err, tt.field, tt.msg)
			}
			if _, err := Distribute(tt.strategy, nil, 1); err == nil {
				t.Error("Distribute accepted an invalid strategy")
			}
			if _, err := ScaleIn(tt.strategy, nil, 1); err == nil {
				t.Error("ScaleIn accepted an invalid strategy")
			}
		})
	}
	t.Run("ErrNegativeCount", func(t *testing.T) {
		if _, err := Distribute(fargateExample, nil, -1); err == nil {
			t.Error("Distribute accepted n < 0")
		}
		if _, err := ScaleIn(fargateExample, nil, -1); err == nil {
			t.Error("ScaleIn accepted n < 0")
		}
	})
}
