package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCluster builds n realistic candidates: real-length ARNs, three
// zones, varied free resources, a few task groups and attributes each.
func benchCluster(n int) []Candidate {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([]Candidate, n)
	for i := range out {
		id := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
		c := Candidate{
			ARN:             "arn:aws:ecs:us-east-1:123456789012:container-instance/production/" + id,
			ID:              id,
			Status:          StatusActive,
			AgentConnected:  true,
			AgentVersion:    "1.80.0",
			RemainingCPU:    int64(r.IntN(17)) * 256,
			RemainingMemory: int64(r.IntN(65)) * 256,
			Attributes: map[string]string{
				AttributeAZ:            fmt.Sprintf("us-east-1%c", 'a'+r.IntN(3)),
				"ecs.instance-type":    "m5.xlarge",
				"ecs.os-type":          "linux",
				"ecs.cpu-architecture": "x86_64",
				"ecs.ami-id":           "ami-0abcdef1234567890",
			},
			UsedPorts:         map[int]bool{22: true, 2375: true, 2376: true, 51678: true, 51679: true},
			TaskGroups:        map[string]int{"service:web": r.IntN(4), "service:api": r.IntN(3), "family:batch": r.IntN(2)},
			RunningTasksCount: r.IntN(9),
		}
		out[i] = c
	}
	return out
}

func BenchmarkPlace(b *testing.B) {
	cs := benchCluster(5000)
	spreadAZ := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	binMem := Strategy{Type: StrategyBinpack, Field: FieldMemory}
	base := Request{Count: 10, CPU: 256, Memory: 512, Group: "service:web"}
	cases := []struct {
		name string
		f    func(*Request)
	}{
		{"binpack-memory", func(r *Request) { r.Strategies = []Strategy{binMem} }},
		{"spreadAZ+binpack-memory", func(r *Request) { r.Strategies = []Strategy{spreadAZ, binMem} }},
		{"service-default", func(r *Request) { r.Strategies = ServiceDefaultStrategies() }},
		{"random", func(r *Request) { r.Strategies = RunTaskDefaultStrategies() }},
		{"spreadAZ+binpack+memberOf+distinct", func(r *Request) {
			r.Strategies = []Strategy{spreadAZ, binMem}
			r.Constraints = []Constraint{
				{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ m5.* and attribute:ecs.os-type == linux"},
				{Type: ConstraintDistinctInstance},
			}
		}},
		{"binpack-memory-count1", func(r *Request) { r.Count = 1; r.Strategies = []Strategy{binMem} }},
	}
	for _, tc := range cases {
		req := base
		tc.f(&req)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var placed int
			for i := 0; b.Loop(); i++ {
				req.Seed = uint64(i)
				plan, err := Place(req, cs)
				if err != nil {
					b.Fatal(err)
				}
				placed = len(plan.Placements)
			}
			if placed != req.Count {
				b.Fatalf("placed %d of %d", placed, req.Count)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*req.Count), "ns/task")
		})
	}
}

func BenchmarkParseExpression(b *testing.B) {
	const s = "(attribute:ecs.instance-type =~ m5.* or attribute:ecs.instance-type in [c5.large, c5.xlarge]) and not(task:group == service:db) && runningTasksCount < 10"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseExpression(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDistribute(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Distribute(fargateExample, nil, 1000); err != nil {
			b.Fatal(err)
		}
	}
}
