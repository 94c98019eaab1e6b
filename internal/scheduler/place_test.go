package scheduler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPlace_Fit(t *testing.T) {
	task := Request{Count: 1, CPU: 512, Memory: 1024, Group: "family:web"}
	with := func(f func(*Request)) Request { r := task; f(&r); return r }
	tests := []struct {
		name       string
		req        Request
		cands      []Candidate
		want       []string // instance ID per placed task
		wantFail   []Failure
		wantClose  *Failure
		wantUnplac int
	}{
		{name: "OK", req: task, cands: cands(inst("a")), want: []string{"a"}},
		{name: "OK exact fit", req: task, cands: cands(inst("a").cpu(512).mem(1024)), want: []string{"a"}},
		{name: "ResourceCPU", req: task, cands: cands(inst("a").cpu(511)), wantUnplac: 1,
			wantFail: fails("a", ReasonCPU)},
		{name: "ResourceMemory", req: task, cands: cands(inst("a").mem(1023)), wantUnplac: 1,
			wantFail: fails("a", ReasonMemory)},
		{name: "ResourcePorts", req: with(func(r *Request) { r.Ports = []int{8080, 80} }),
			cands: cands(inst("a").ports(80)), wantUnplac: 1, wantFail: fails("a", ReasonPorts)},
		{name: "ResourcePorts agent reserved", req: with(func(r *Request) { r.Ports = []int{22} }),
			cands: cands(inst("a")), wantUnplac: 1, wantFail: fails("a", ReasonPorts)},
		{name: "OK port free in UDP set only", req: with(func(r *Request) { r.Ports = []int{53} }),
			cands: cands(inst("a").udp(53)), want: []string{"a"}},
		{name: "ResourcePortsUDP", req: with(func(r *Request) { r.PortsUDP = []int{53} }),
			cands: cands(inst("a").udp(53)), wantUnplac: 1, wantFail: fails("a", ReasonPortsUDP)},
		{name: "ResourcePorts over 100 reserved", req: with(func(r *Request) { r.Ports = []int{9999} }),
			cands: cands(inst("a").ports(seq(1000, 95)...)), wantUnplac: 1, wantFail: fails("a", ReasonPorts)},
		{name: "OK exactly 100 reserved", req: with(func(r *Request) { r.Ports = []int{9999} }),
			cands: cands(inst("a").ports(seq(1000, 94)...)), want: []string{"a"}},
		{name: "ResourceENI", req: with(func(r *Request) { r.ENI = true }),
			cands: cands(inst("a").enis(0)), wantUnplac: 1, wantFail: fails("a", ReasonENI)},
		{name: "OK ENI not needed", req: task, cands: cands(inst("a").enis(0)), want: []string{"a"}},
		{name: "ResourceGPU", req: with(func(r *Request) { r.GPUs = 2 }),
			cands: cands(inst("a").gpus("g0")), wantUnplac: 1, wantFail: fails("a", ReasonGPU)},
		{name: "Agent", req: task, cands: cands(inst("a").disconnected()), wantUnplac: 1,
			wantFail: fails("a", ReasonAgent)},
		{name: "Attribute missing", req: with(func(r *Request) {
			r.RequiredAttributes = []Attribute{{Name: "ecs.capability.task-eni"}}
		}), cands: cands(inst("a")), wantUnplac: 1, wantFail: fails("a", ReasonAttribute)},
		{name: "Attribute wrong value", req: with(func(r *Request) {
			r.RequiredAttributes = []Attribute{{Name: "ecs.os-type", Value: "windows"}}
		}), cands: cands(inst("a")), wantUnplac: 1, wantFail: fails("a", ReasonAttribute)},
		{name: "OK attribute present without value", req: with(func(r *Request) {
			r.RequiredAttributes = []Attribute{{Name: "ecs.capability.task-eni"}, {Name: "ecs.os-type", Value: "linux"}}
		}), cands: cands(inst("a").attr("ecs.capability.task-eni", "")), want: []string{"a"}},
		{name: "Location", req: with(func(r *Request) { r.AvailabilityZones = []string{"us-east-1b", "us-east-1c"} }),
			cands: cands(inst("a"), inst("b").az("us-east-1c")), want: []string{"b"}},
		{name: "Location none", req: with(func(r *Request) { r.AvailabilityZones = []string{"us-east-1b"} }),
			cands: cands(inst("a")), wantUnplac: 1, wantFail: fails("a", ReasonLocation)},
		{name: "MemberOf", req: with(func(r *Request) {
			r.Constraints = []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ t3.*"}}
		}), cands: cands(inst("a"), inst("b").attr("ecs.instance-type", "t3.large")), want: []string{"b"}},
		{name: "MemberOf unsatisfied", req: with(func(r *Request) {
			r.Constraints = []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ t3.*"}}
		}), cands: cands(inst("a")), wantUnplac: 1, wantFail: fails("a", ReasonMemberOf)},
		{name: "DistinctInstance unsatisfied by an existing group task", req: with(func(r *Request) {
			r.Constraints = []Constraint{{Type: ConstraintDistinctInstance}}
		}), cands: cands(inst("a").group("family:web", 1)), wantUnplac: 1, wantFail: fails("a", ReasonDistinctInstance)},
		{name: "OK distinctInstance ignores other groups", req: with(func(r *Request) {
			r.Constraints = []Constraint{{Type: ConstraintDistinctInstance}}
		}), cands: cands(inst("a").group("family:db", 3)), want: []string{"a"}},
		{name: "first failing check wins", req: with(func(r *Request) { r.GPUs = 1 }),
			cands:      cands(inst("a").mem(10).disconnected(), inst("b").disconnected(), inst("c").disconnected().gpus("g")),
			wantUnplac: 1, wantFail: fails("a", ReasonMemory, "b", ReasonGPU, "c", ReasonAgent),
			wantClose: &Failure{ARN: arn("c"), Reason: ReasonAgent}},
		{name: "constraints after resources", req: with(func(r *Request) {
			r.Constraints = []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:x exists"}}
		}), cands: cands(inst("a").disconnected(), inst("b").cpu(0)), wantUnplac: 1,
			wantFail: fails("a", ReasonAgent, "b", ReasonCPU)},
		{name: "not ACTIVE is no candidate", req: task,
			cands:      cands(inst("a").status("DRAINING"), inst("b").status("INACTIVE"), inst("c").status("REGISTERING")),
			wantUnplac: 1},
		{name: "DRAINING skipped", req: task, cands: cands(inst("a").status("DRAINING"), inst("b").mem(2000)), want: []string{"b"}},
		{name: "no candidates", req: with(func(r *Request) { r.Count = 3 }), wantUnplac: 3},
		{name: "count 0", req: with(func(r *Request) { r.Count = 0 }), cands: cands(inst("a").mem(0))},
		{name: "partial", req: with(func(r *Request) { r.Count = 4; r.Memory = 3000 }),
			cands: cands(inst("a").mem(6500), inst("b").mem(2000)), want: []string{"a", "a"}, wantUnplac: 2,
			wantFail: fails("a", ReasonMemory, "b", ReasonMemory), wantClose: &Failure{ARN: arn("b"), Reason: ReasonMemory}},
		{name: "closest ties to most memory then ARN", req: with(func(r *Request) { r.CPU = 9999 }),
			cands: cands(inst("c").mem(100), inst("a").mem(50), inst("b").mem(100)), wantUnplac: 1,
			wantFail:  fails("a", ReasonCPU, "b", ReasonCPU, "c", ReasonCPU),
			wantClose: &Failure{ARN: arn("b"), Reason: ReasonCPU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Place(tt.req, tt.cands)
			if err != nil {
				t.Fatalf("Place: %v", err)
			}
			if got := placedIDs(plan); !slices.Equal(got, tt.want) {
				t.Errorf("placed on %v, want %v", got, tt.want)
			}
			if plan.Unplaced != tt.wantUnplac {
				t.Errorf("Unplaced = %d, want %d", plan.Unplaced, tt.wantUnplac)
			}
			if !slices.Equal(plan.Failures, tt.wantFail) {
				t.Errorf("Failures = %v, want %v", plan.Failures, tt.wantFail)
			}
			if tt.wantClose != nil && !reflect.DeepEqual(plan.Closest, tt.wantClose) {
				t.Errorf("Closest = %v, want %v", plan.Closest, tt.wantClose)
			}
			if (plan.Closest != nil) != (len(plan.Failures) > 0) {
				t.Errorf("Closest = %v with %d failures", plan.Closest, len(plan.Failures))
			}
			for i, p := range plan.Placements {
				if p.Task != i {
					t.Errorf("Placements[%d].Task = %d", i, p.Task)
				}
			}
		})
	}
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// TestPlace_Charging checks that each placement is charged to its instance
// before the next task of the same request is placed (spec §6.1 step 5).
func TestPlace_Charging(t *testing.T) {
	binpack := []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}
	tests := []struct {
		name     string
		req      Request
		cands    []Candidate
		want     []string
		wantFail []Failure
	}{
		{name: "memory charged", req: Request{Count: 6, Memory: 400, Strategies: binpack},
			cands: cands(inst("a").mem(1000), inst("b").mem(1500)),
			want:  []string{"a", "a", "b", "b", "b"}, wantFail: fails("a", ReasonMemory, "b", ReasonMemory)},
		{name: "cpu charged", req: Request{Count: 3, CPU: 1024, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldCPU}}},
			cands: cands(inst("a").cpu(2048), inst("b").cpu(1024)),
			want:  []string{"b", "a", "a"}},
		{name: "ports taken by the plan's own earlier task", req: Request{Count: 3, Ports: []int{80}},
			cands: cands(inst("a"), inst("b")), want: []string{"a", "b"},
			wantFail: fails("a", ReasonPorts, "b", ReasonPorts)},
		{name: "udp ports taken by the plan's own earlier task", req: Request{Count: 2, PortsUDP: []int{53}},
			cands: cands(inst("a")), want: []string{"a"}, wantFail: fails("a", ReasonPortsUDP)},
		{name: "GPUs charged", req: Request{Count: 3, GPUs: 2},
			cands: cands(inst("a").gpus("g0", "g1", "g2", "g3", "g4")), want: []string{"a", "a"},
			wantFail: fails("a", ReasonGPU)},
		{name: "ENIs charged", req: Request{Count: 3, ENI: true},
			cands: cands(inst("a").enis(2)), want: []string{"a", "a"}, wantFail: fails("a", ReasonENI)},
		{name: "distinctInstance within the plan", req: Request{Count: 3, Group: "service:web",
			Constraints: []Constraint{{Type: ConstraintDistinctInstance}}},
			cands: cands(inst("a"), inst("b")), want: []string{"a", "b"},
			wantFail: fails("a", ReasonDistinctInstance, "b", ReasonDistinctInstance)},
		{name: "memberOf runningTasksCount sees the plan", req: Request{Count: 4,
			Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "runningTasksCount < 2"}}},
			cands: cands(inst("a").running(1), inst("b")), want: []string{"a", "b", "b"}, // sorted
			wantFail: fails("a", ReasonMemberOf, "b", ReasonMemberOf)},
		{name: "memberOf task:group anti-affinity sees the plan", req: Request{Count: 2, Group: "service:web",
			Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "not(task:group == service:web)"}}},
			cands: cands(inst("a")), want: []string{"a"}, wantFail: fails("a", ReasonMemberOf)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Place(tt.req, tt.cands)
			if err != nil {
				t.Fatal(err)
			}
			got := placedIDs(plan)
			if len(tt.req.Strategies) == 0 {
				// Unranked: the order is random, the multiset is not.
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("placed on %v, want %v", got, tt.want)
			}
			if !slices.Equal(plan.Failures, tt.wantFail) {
				t.Errorf("Failures = %v, want %v", plan.Failures, tt.wantFail)
			}
			if plan.Unplaced != tt.req.Count-len(tt.want) {
				t.Errorf("Unplaced = %d, want %d", plan.Unplaced, tt.req.Count-len(tt.want))
			}
		})
	}
}

func TestPlace_GPUAssignment(t *testing.T) {
	plan, err := Place(Request{Count: 2, GPUs: 2}, cands(inst("a").gpus("g0", "g1", "g2", "g3")))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, p := range plan.Placements {
		got = append(got, p.GPUs)
	}
	if want := [][]string{{"g0", "g1"}, {"g2", "g3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("GPUs = %v, want %v", got, want)
	}
}

func TestPlace_Strategies(t *testing.T) {
	const g = "service:web"
	spreadAZ := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	spreadHost := Strategy{Type: StrategySpread, Field: FieldInstanceID}
	binMem := Strategy{Type: StrategyBinpack, Field: FieldMemory}
	binCPU := Strategy{Type: StrategyBinpack, Field: FieldCPU}
	tests := []struct {
		name       string
		strategies []Strategy
		count      int
		cands      []Candidate
		want       []string
	}{
		{name: "binpack memory: least remaining memory", strategies: []Strategy{binMem}, count: 1,
			cands: cands(inst("a").mem(4000), inst("b").mem(1200), inst("c").mem(900)), want: []string{"b"}},
		{name: "binpack cpu: least remaining cpu", strategies: []Strategy{binCPU}, count: 1,
			cands: cands(inst("a").cpu(4000).mem(1200), inst("b").cpu(1000).mem(8000)), want: []string{"b"}},
		{name: "binpack memory fills one instance before the next", strategies: []Strategy{binMem}, count: 4,
			cands: cands(inst("a").mem(2048), inst("b").mem(2100)), want: []string{"a", "a", "b", "b"}},
		{name: "spread instanceId: fewest tasks of the group", strategies: []Strategy{spreadHost}, count: 1,
			cands: cands(inst("a").group(g, 2), inst("b").group(g, 1).group("service:other", 5), inst("c").group(g, 3)),
			want:  []string{"b"}},
		{name: "spread host is instanceId", strategies: []Strategy{{Type: StrategySpread, Field: FieldHost}}, count: 1,
			cands: cands(inst("a").group(g, 1), inst("b")), want: []string{"b"}},
		{name: "spread instanceId evens out", strategies: []Strategy{spreadHost, binMem}, count: 5,
			cands: cands(inst("a").group(g, 2), inst("b"), inst("c").mem(4000)),
			want:  []string{"c", "b", "c", "b", "c"}},
		{name: "spread AZ: zone with fewest tasks of the group", strategies: []Strategy{spreadAZ}, count: 1,
			cands: cands(inst("a").az("z1").group(g, 1), inst("b").az("z2").group(g, 2), inst("c").az("z2")),
			want:  []string{"a"}},
		{name: "spread AZ counts tasks on DRAINING instances", strategies: []Strategy{spreadAZ}, count: 1,
			cands: cands(inst("a").az("z1").status("DRAINING").group(g, 3), inst("b").az("z1"), inst("c").az("z2").group(g, 1)),
			want:  []string{"c"}},
		{name: "spread AZ over three zones", strategies: []Strategy{spreadAZ, binMem}, count: 6,
			cands: cands(inst("a1").az("z1"), inst("b1").az("z2").mem(4000), inst("c1").az("z3").mem(2000)),
			want:  []string{"c1", "b1", "a1", "c1", "b1", "a1"}},
		{name: "spread custom attribute, missing attribute is its own bucket", count: 3,
			strategies: []Strategy{{Type: StrategySpread, Field: "attribute:rack"}, binMem},
			cands:      cands(inst("a").attr("rack", "r1").mem(2000), inst("b").attr("rack", "r1").mem(3000), inst("c").mem(4000)),
			want:       []string{"a", "c", "a"}},
		{name: "spread AZ then binpack memory", strategies: []Strategy{spreadAZ, binMem}, count: 4,
			cands: cands(inst("a").az("z1").mem(8000), inst("b").az("z1").mem(3000),
				inst("c").az("z2").mem(2000), inst("d").az("z2").mem(6000)),
			want: []string{"c", "b", "c", "b"}},
		{name: "binpack memory then spread AZ", strategies: []Strategy{binMem, spreadAZ}, count: 1,
			cands: cands(inst("a").az("z1").mem(2000).group(g, 1), inst("b").az("z2").mem(2000), inst("c").az("z3").mem(2500)),
			want:  []string{"b"}},
		{name: "service default: zones then instances", strategies: ServiceDefaultStrategies(), count: 6,
			cands: cands(inst("a1").az("z1"), inst("a2").az("z1"), inst("b1").az("z2"), inst("b2").az("z2"),
				inst("c1").az("z3").group(g, 1), inst("c2").az("z3")),
			want: nil}, // checked by the invariant below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Place(Request{Count: tt.count, Memory: 1000, Group: g, Strategies: tt.strategies, Seed: 7}, tt.cands)
			if err != nil {
				t.Fatal(err)
			}
			got := placedIDs(plan)
			if tt.want == nil {
				// 7 tasks of the group over 3 zones and 6 instances: every
				// instance ends with at most 2, every zone with 2 or 3.
				perHost := map[string]int{"c1": 1}
				for _, id := range got {
					perHost[id]++
				}
				for id, n := range perHost {
					if n > 2 || n < 1 {
						t.Errorf("instance %s has %d tasks of the group (placed %v)", id, n, got)
					}
				}
				for _, z := range []string{"a", "b", "c"} {
					if n := perHost[z+"1"] + perHost[z+"2"]; n < 2 || n > 3 {
						t.Errorf("zone %s has %d tasks (placed %v)", z, n, got)
					}
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("placed on %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPlace_RandomIsUniform checks that random (and no strategy at all)
// picks each feasible instance about equally often across seeds, and that
// infeasible instances are never picked.
func TestPlace_RandomIsUniform(t *testing.T) {
	cs := cands(inst("a"), inst("b"), inst("c"), inst("d"), inst("full").mem(0))
	for _, tc := range []struct {
		name       string
		strategies []Strategy
	}{{"random", RunTaskDefaultStrategies()}, {"none", nil}, {"binpack ties", []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}}} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 4000
			hits := map[string]int{}
			for seed := range uint64(n) {
				plan, err := Place(Request{Count: 1, Memory: 1, Strategies: tc.strategies, Seed: seed}, cs)
				if err != nil {
					t.Fatal(err)
				}
				hits[plan.Placements[0].ID]++
			}
			if hits["full"] != 0 {
				t.Errorf("placed on a full instance %d times", hits["full"])
			}
			for _, id := range []string{"a", "b", "c", "d"} {
				if h := hits[id]; h < n/4*85/100 || h > n/4*115/100 {
					t.Errorf("instance %s chosen %d times of %d, want about %d (%v)", id, h, n, n/4, hits)
				}
			}
		})
	}
	t.Run("random redraws per task", func(t *testing.T) {
		plan, err := Place(Request{Count: 40, Memory: 1, Strategies: RunTaskDefaultStrategies(), Seed: 1}, cs)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range plan.Placements {
			seen[p.ID] = true
		}
		if len(seen) != 4 {
			t.Errorf("40 random tasks used %d instances, want 4", len(seen))
		}
	})
}

// randomCluster builds n candidates with varied resources, zones, groups,
// ports and attributes.
func randomCluster(r *rand.Rand, n int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		b := inst(fmt.Sprintf("%032x", r.Uint64())).
			az(fmt.Sprintf("us-east-1%c", 'a'+r.IntN(3))).
			cpu(int64(r.IntN(8))*512).
			mem(int64(r.IntN(16))*512).
			attr("ecs.instance-type", []string{"m5.large", "t3.small", "c6g.xlarge"}[r.IntN(3)]).
			group("service:web", r.IntN(3)).
			group("service:db", r.IntN(2))
		if r.IntN(10) == 0 {
			b.disconnected()
		}
		if r.IntN(10) == 0 {
			b.status("DRAINING")
		}
		if r.IntN(4) == 0 {
			b.ports(80)
		}
		out[i] = b.obj()
	}
	return out
}

// TestPlace_Determinism checks that the plan depends on the request, seed
// and candidate set, never on the order of the candidates.
func TestPlace_Determinism(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	cs := randomCluster(r, 300)
	reqs := map[string]Request{
		"none":            {Count: 10, Memory: 512, Group: "service:web"},
		"random":          {Count: 10, Memory: 512, Group: "service:web", Strategies: RunTaskDefaultStrategies()},
		"binpack memory":  {Count: 10, Memory: 512, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}},
		"service default": {Count: 10, Memory: 512, Group: "service:web", Strategies: ServiceDefaultStrategies()},
		"spread+binpack, ports, memberOf": {Count: 10, CPU: 256, Memory: 512, Group: "service:web", Ports: []int{80},
			Strategies:  []Strategy{{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}, {Type: StrategyBinpack, Field: FieldCPU}},
			Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type != t3.small"}}},
		"unplaceable": {Count: 3, Memory: 1 << 40},
	}
	var scratch Scratch
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			want, err := Place(req, cs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				shuffled := slices.Clone(cs)
				r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				// Every other run gives the candidates' fingerprints, as
				// callers that cache candidates do: the plan is the same.
				// and every third reuses one Scratch: still the same plan.
				if i%2 == 1 {
					for j := range shuffled {
						shuffled[j].Fingerprint = Fingerprint(shuffled[j].ARN)
					}
				}
				req := req
				if i%3 == 1 {
					req.Scratch = &scratch
				}
				got, err := Place(req, shuffled)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("shuffle %d: plan differs:\n got %v\nwant %v", i, placedIDs(got), placedIDs(want))
				}
			}
		})
	}
	t.Run("seed matters", func(t *testing.T) {
		a, _ := Place(reqs["random"], cs)
		req := reqs["random"]
		req.Seed = 99
		b, _ := Place(req, cs)
		if slices.Equal(placedIDs(a), placedIDs(b)) {
			t.Errorf("seeds 0 and 99 gave the same random plan %v", placedIDs(a))
		}
	})
}

func TestPlace_DoesNotModifyCandidates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cs := randomCluster(r, 50)
	before := deepCopy(cs)
	_, err := Place(Request{Count: 10, CPU: 1, Memory: 1, GPUs: 0, ENI: true, Ports: []int{8080}, Group: "service:web",
		Strategies: ServiceDefaultStrategies()}, cs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cs, before) {
		t.Error("Place modified its candidates")
	}
}

func deepCopy(cs []Candidate) []Candidate {
	out := slices.Clone(cs)
	for i := range out {
		c := &out[i]
		c.Attributes = cloneMap(c.Attributes)
		c.UsedPorts = cloneMap(c.UsedPorts)
		c.UsedPortsUDP = cloneMap(c.UsedPortsUDP)
		c.TaskGroups = cloneMap(c.TaskGroups)
		c.RemainingGPUs = slices.Clone(c.RemainingGPUs)
		c.Tasks = slices.Clone(c.Tasks)
	}
	return out
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestPlace_InvalidRequest(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantField string
		wantMsg   string
		syntax    bool
	}{
		{name: "ErrNegativeCount", req: Request{Count: -1}, wantField: "count"},
		{name: "ErrNegativeCPU", req: Request{CPU: -1}, wantField: "cpu"},
		{name: "ErrNegativeMemory", req: Request{Memory: -1}, wantField: "memory"},
		{name: "ErrNegativeGPUs", req: Request{GPUs: -1}, wantField: "gpu"},
		{name: "ErrPortRange", req: Request{Ports: []int{0}}, wantField: "hostPort", wantMsg: "out of range"},
		{name: "ErrDuplicatePort", req: Request{PortsUDP: []int{53, 53}}, wantField: "hostPort (udp)", wantMsg: "twice"},
		{name: "ErrEmptyRequiredAttribute", req: Request{RequiredAttributes: []Attribute{{Value: "x"}}}, wantField: "requiresAttributes[0].name"},
		{name: "ErrStrategyType", req: Request{Strategies: []Strategy{{Type: "pack"}}}, wantField: "placementStrategy[0].type", wantMsg: `"pack"`},
		{name: "ErrBinpackField", req: Request{Strategies: []Strategy{{Type: "random"}, {Type: "binpack", Field: "disk"}}},
			wantField: "placementStrategy[1].field", wantMsg: "cpu or memory"},
		{name: "ErrBinpackFieldCase", req: Request{Strategies: []Strategy{{Type: "binpack", Field: "MEMORY"}}}, wantField: "placementStrategy[0].field"},
		{name: "ErrSpreadField", req: Request{Strategies: []Strategy{{Type: "spread", Field: "ecs.availability-zone"}}},
			wantField: "placementStrategy[0].field", wantMsg: "attribute:<name>"},
		{name: "ErrSpreadEmptyAttribute", req: Request{Strategies: []Strategy{{Type: "spread", Field: "attribute:"}}}, wantField: "placementStrategy[0].field"},
		{name: "ErrTooManyStrategies", req: Request{Strategies: make([]Strategy, 6)}, wantField: "placementStrategy", wantMsg: "at most 5"},
		{name: "ErrTooManyConstraints", req: Request{Constraints: slices.Repeat([]Constraint{{Type: ConstraintDistinctInstance}}, 11)},
			wantField: "placementConstraints", wantMsg: "at most 10"},
		{name: "ErrConstraintType", req: Request{Constraints: []Constraint{{Type: "sameInstance"}}}, wantField: "placementConstraints[0].type"},
		{name: "ErrDistinctWithExpression", req: Request{Constraints: []Constraint{{Type: ConstraintDistinctInstance, Expression: "x"}}},
			wantField: "placementConstraints[0].expression", wantMsg: "no expression"},
		{name: "ErrMemberOfEmpty", req: Request{Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "  "}}},
			wantField: "placementConstraints[0].expression", wantMsg: "requires an expression"},
		{name: "ErrMemberOfTooLong", req: Request{Constraints: []Constraint{{Type: ConstraintMemberOf,
			Expression: "attribute:a == " + strings.Repeat("x", 2000)}}}, wantField: "placementConstraints[0].expression", wantMsg: "2000"},
		{name: "ErrMemberOfSyntax", req: Request{Constraints: []Constraint{{Type: ConstraintDistinctInstance},
			{Type: ConstraintMemberOf, Expression: "attribute:a =="}}}, wantField: "placementConstraints[1].expression",
			wantMsg: "expected a value", syntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Place(tt.req, cands(inst("a")))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Place error = %v, want a *RequestError", err)
			}
			if re.Field != tt.wantField {
				t.Errorf("Field = %q, want %q (%v)", re.Field, tt.wantField, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			var se *SyntaxError
			if errors.As(err, &se) != tt.syntax {
				t.Errorf("errors.As(*SyntaxError) = %v, want %v", !tt.syntax, tt.syntax)
			}
			if tt.req.Validate() == nil {
				t.Error("Validate accepted what Place rejects")
			}
		})
	}
	t.Run("OK random ignores its field", func(t *testing.T) {
		if err := (Request{Strategies: []Strategy{{Type: "random", Field: "anything"}}}).Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestPlaceOn(t *testing.T) {
	cs := cands(inst("a"), inst("b").mem(1500), inst("c").status("DRAINING"), inst("d").disconnected(), inst("e").attr("role", "db"))
	tests := []struct {
		name     string
		req      Request
		targets  []string
		want     []string
		wantTask []int
		wantFail []Failure
	}{
		{name: "OK by ARN and by ID", req: Request{Memory: 1000}, targets: []string{arn("a"), "b"},
			want: []string{"a", "b"}, wantTask: []int{0, 1}},
		{name: "Missing", req: Request{Memory: 1000}, targets: []string{"zzz", "a"}, want: []string{"a"}, wantTask: []int{1},
			wantFail: []Failure{{ARN: "zzz", Reason: ReasonMissing}}},
		{name: "Inactive", req: Request{Memory: 1000}, targets: []string{"c"}, wantFail: fails("c", ReasonInactive)},
		{name: "Resource and agent", req: Request{Memory: 2000}, targets: []string{"b", "d"},
			wantFail: fails("b", ReasonMemory, "d", ReasonAgent)},
		{name: "same instance twice is charged", req: Request{Memory: 1000}, targets: []string{"b", "b"},
			want: []string{"b"}, wantTask: []int{0}, wantFail: fails("b", ReasonMemory)},
		{name: "memberOf still applies", req: Request{Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:role == db"}}},
			targets: []string{"a", "e"}, want: []string{"e"}, wantTask: []int{1}, wantFail: fails("a", ReasonMemberOf)},
		{name: "strategies ignored", req: Request{Count: 5, Strategies: []Strategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}}},
			targets: []string{"a"}, want: []string{"a"}, wantTask: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlaceOn(tt.req, tt.targets, cs)
			if err != nil {
				t.Fatal(err)
			}
			if got := placedIDs(plan); !slices.Equal(got, tt.want) {
				t.Errorf("placed on %v, want %v", got, tt.want)
			}
			var tasks []int
			for _, p := range plan.Placements {
				tasks = append(tasks, p.Task)
			}
			if !slices.Equal(tasks, tt.wantTask) {
				t.Errorf("tasks %v, want %v", tasks, tt.wantTask)
			}
			if !slices.Equal(plan.Failures, tt.wantFail) {
				t.Errorf("Failures = %v, want %v", plan.Failures, tt.wantFail)
			}
			if plan.Unplaced != len(tt.targets)-len(tt.want) {
				t.Errorf("Unplaced = %d", plan.Unplaced)
			}
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		if _, err := PlaceOn(Request{Strategies: []Strategy{{Type: "x"}}}, []string{"a"}, cs); err == nil {
			t.Error("invalid strategy accepted")
		}
	})
}

// TestPlace_ManyValues covers high-cardinality attributes: more spread
// buckets and more distinct regular expression inputs than the small
// caches hold.
func TestPlace_ManyValues(t *testing.T) {
	var cs []Candidate
	for i := range 60 {
		cs = append(cs, inst(fmt.Sprintf("i%02d", i)).
			attr("rack", fmt.Sprintf("r%02d", i%30)).
			attr("itype", fmt.Sprintf("%c%d.large", "tm"[i%2], i)).obj())
	}
	expr := "attribute:rack exists and (not(attribute:itype =~ m.*) or attribute:itype !~ .*)"
	e, err := ParseExpression(expr)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Place(Request{Count: 30, Memory: 100, Group: "g",
		Strategies:  []Strategy{{Type: StrategySpread, Field: "attribute:rack"}},
		Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: expr}}}, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Placements) != 30 {
		t.Fatalf("placed %d of 30", len(plan.Placements))
	}
	racks := map[string]int{}
	for _, p := range plan.Placements {
		i := slices.IndexFunc(cs, func(c Candidate) bool { return c.ARN == p.ARN })
		if !e.Match(&cs[i]) {
			t.Errorf("placed on %s, which does not match %q", p.ID, expr)
		}
		racks[cs[i].Attributes["rack"]]++
	}
	// Only the t-type instances (even i) qualify: 30 of them over 15 racks,
	// so spread puts two tasks in each rack.
	for r, n := range racks {
		if n != 2 {
			t.Errorf("rack %s got %d tasks, want 2 (%v)", r, n, racks)
		}
	}
	if len(racks) != 15 {
		t.Errorf("%d racks used, want 15", len(racks))
	}
}

// TestPlace_StickyBestMatchesFullScan checks the shortcut of stickyBest:
// with binpack first, Place keeps filling the instance that won the last
// task without scanning again, and its plans must be exactly those of a
// scan for every task, over random clusters, chains, constraints, ports
// and seeds (including amounts of zero, where the shortcut is off).
func TestPlace_StickyBestMatchesFullScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	binpack := []Strategy{{Type: StrategyBinpack, Field: FieldMemory}, {Type: StrategyBinpack, Field: FieldCPU}}
	later := []Strategy{
		{Type: StrategySpread, Field: "attribute:ecs.availability-zone"},
		{Type: StrategySpread, Field: "instanceId"},
		{Type: StrategyRandom},
		{Type: StrategyBinpack, Field: FieldCPU},
	}
	shortcuts := 0
	for i := range 400 {
		cs := randomCluster(r, 1+r.IntN(60))
		req := Request{Count: 1 + r.IntN(10), CPU: int64(r.IntN(3)) * 256, Memory: int64(r.IntN(4)) * 256,
			Group: "service:web", Seed: r.Uint64(),
			Strategies: []Strategy{binpack[r.IntN(2)]}}
		for range r.IntN(3) {
			req.Strategies = append(req.Strategies, later[r.IntN(len(later))])
		}
		if r.IntN(4) == 0 {
			req.Ports = []int{80}
		}
		if r.IntN(4) == 0 {
			req.Constraints = []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type != t3.small"}}
		}
		if r.IntN(5) == 0 {
			req.Constraints = append(req.Constraints, Constraint{Type: ConstraintDistinctInstance})
		}
		want, err := place(req, cs, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := place(req, cs, true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d (%+v): plan with the shortcut %v, with a scan per task %v", i, req, placedIDs(got), placedIDs(want))
		}
		if pl := newPlacer(mustCompile(t, req), cs); pl.stickyBest() && len(want.Placements) > 1 {
			shortcuts++
		}
	}
	if shortcuts < 100 {
		t.Fatalf("the shortcut applied in only %d cases", shortcuts)
	}
}

func mustCompile(t *testing.T, req Request) *compiled {
	t.Helper()
	cp, err := compile(&req)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}
