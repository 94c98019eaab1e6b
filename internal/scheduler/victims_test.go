package scheduler

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func victimHosts(vs []Victim) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.InstanceARN[len(arnPrefix):])
	}
	return out
}

func TestPickVictims(t *testing.T) {
	const g = "service:web"
	tests := []struct {
		name       string
		req        VictimRequest
		cands      []Candidate
		want       []string // instance IDs, in order
		wantSorted bool     // compare as a multiset
	}{
		{name: "default: zone with most tasks, then instance with most",
			req: VictimRequest{Count: 1, Group: g},
			cands: cands(inst("a1").az("z1").group(g, 2), inst("a2").az("z1").group(g, 1),
				inst("b1").az("z2").group(g, 1), inst("b2").az("z2").group(g, 3), inst("b3").az("z2")),
			want: []string{"b2"}},
		{name: "default rebalances zones step by step",
			req: VictimRequest{Count: 4, Group: g},
			cands: cands(inst("a1").az("z1").group(g, 1), inst("b1").az("z2").group(g, 3), inst("b2").az("z2").group(g, 2),
				inst("c1").az("z3").group(g, 1)),
			want: []string{"b1", "b1", "b2", "b1"}, wantSorted: true},
		{name: "other groups are not victims and do not count",
			req:   VictimRequest{Count: 1, Group: g},
			cands: cands(inst("a").az("z1").group(g, 1).group("service:db", 9), inst("b").az("z2").group(g, 2)),
			want:  []string{"b"}},
		{name: "count beyond the group's tasks", req: VictimRequest{Count: 5, Group: g},
			cands: cands(inst("a").group(g, 1), inst("b").group(g, 1)), want: []string{"a", "b"}, wantSorted: true},
		{name: "instances of any status", req: VictimRequest{Count: 1, Group: g},
			cands: cands(inst("a").status("DRAINING").disconnected().group(g, 2), inst("b").group(g, 1)), want: []string{"a"}},
		{name: "binpack memory: the instance left with the most memory loses the task",
			req:   VictimRequest{Count: 1, Group: g, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}},
			cands: cands(inst("a").mem(1000).group(g, 1), inst("b").mem(3000).group(g, 1), inst("c").mem(2000).group(g, 1)),
			want:  []string{"b"}},
		{name: "binpack cpu", req: VictimRequest{Count: 2, Group: g, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldCPU}}},
			cands: cands(inst("a").cpu(100).group(g, 2), inst("b").cpu(500).group(g, 1)), want: []string{"b", "a"}},
		{name: "spread instanceId", req: VictimRequest{Count: 2, Group: g, Strategies: []Strategy{{Type: StrategySpread, Field: FieldInstanceID}}},
			cands: cands(inst("a").group(g, 1), inst("b").group(g, 3)), want: []string{"b", "b"}},
		{name: "preferred victims first",
			req:   VictimRequest{Count: 1, Group: g},
			cands: withPreferred(cands(inst("a").az("z1").group(g, 1), inst("b").az("z2").group(g, 3)), 0),
			want:  []string{"a"}},
		{name: "random strategy picks a task of the group", req: VictimRequest{Count: 1, Group: g, Strategies: RunTaskDefaultStrategies()},
			cands: cands(inst("a"), inst("b").group(g, 1)), want: []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := PickVictims(tt.req, tt.cands)
			if err != nil {
				t.Fatal(err)
			}
			got := victimHosts(vs)
			want := slices.Clone(tt.want)
			if tt.wantSorted {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("victims on %v, want %v", got, want)
			}
			seen := map[string]bool{}
			for _, v := range vs {
				if seen[v.TaskARN] {
					t.Errorf("task %s chosen twice", v.TaskARN)
				}
				seen[v.TaskARN] = true
			}
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		var re *RequestError
		if _, err := PickVictims(VictimRequest{Count: 1, Strategies: []Strategy{{Type: "spread"}}}, nil); !errors.As(err, &re) {
			t.Errorf("error = %v, want *RequestError", err)
		}
		if _, err := PickVictims(VictimRequest{Count: -1}, nil); !errors.As(err, &re) {
			t.Errorf("error = %v, want *RequestError", err)
		}
	})
}

// withPreferred marks the first task of cs[i] as a preferred victim.
func withPreferred(cs []Candidate, i int) []Candidate {
	cs[i].Tasks[0].Preferred = true
	return cs
}

func TestPickVictims_Determinism(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cs := randomCluster(r, 200)
	for _, st := range [][]Strategy{nil, RunTaskDefaultStrategies(), {{Type: StrategyBinpack, Field: FieldMemory}}} {
		req := VictimRequest{Count: 30, Group: "service:web", Strategies: st, Seed: 3}
		want, err := PickVictims(req, cs)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			shuffled := deepCopy(cs)
			r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
			for i := range shuffled {
				ts := shuffled[i].Tasks
				r.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
			}
			got, err := PickVictims(req, shuffled)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("strategies %v: victims depend on input order", st)
			}
		}
	}
}
