package scheduler

import (
	"time"
)

const arnPrefix = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/"

// arn returns the test ARN of instance id.
func arn(id string) string { return arnPrefix + id }

// cb builds test candidates: ACTIVE, agent connected, 4 vCPU, 8 GiB, in
// zone us-east-1a, Linux x86_64, with the agent's default reserved ports.
type cb struct{ c Candidate }

func inst(id string) *cb {
	return &cb{c: Candidate{
		ARN:             arn(id),
		ID:              id,
		Status:          StatusActive,
		AgentConnected:  true,
		AgentVersion:    "1.80.0",
		EC2InstanceID:   "i-" + id,
		RegisteredAt:    time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		Attributes:      map[string]string{AttributeAZ: "us-east-1a", "ecs.os-type": "linux", "ecs.cpu-architecture": "x86_64", "ecs.instance-type": "m5.large"},
		RemainingCPU:    4096,
		RemainingMemory: 8192,
		UsedPorts:       map[int]bool{22: true, 2375: true, 2376: true, 51678: true, 51679: true},
		RemainingENIs:   2,
	}}
}

func (b *cb) az(z string) *cb            { b.c.Attributes[AttributeAZ] = z; return b }
func (b *cb) cpu(n int64) *cb            { b.c.RemainingCPU = n; return b }
func (b *cb) mem(n int64) *cb            { b.c.RemainingMemory = n; return b }
func (b *cb) status(s string) *cb        { b.c.Status = s; return b }
func (b *cb) disconnected() *cb          { b.c.AgentConnected = false; return b }
func (b *cb) enis(n int) *cb             { b.c.RemainingENIs = n; return b }
func (b *cb) gpus(ids ...string) *cb     { b.c.RemainingGPUs = ids; return b }
func (b *cb) attr(k, v string) *cb       { b.c.Attributes[k] = v; return b }
func (b *cb) noAttr(k string) *cb        { delete(b.c.Attributes, k); return b }
func (b *cb) running(n int) *cb          { b.c.RunningTasksCount = n; return b }
func (b *cb) version(v string) *cb       { b.c.AgentVersion = v; return b }
func (b *cb) ec2(id string) *cb          { b.c.EC2InstanceID = id; return b }
func (b *cb) registered(t time.Time) *cb { b.c.RegisteredAt = t; return b }

func (b *cb) ports(ps ...int) *cb {
	for _, p := range ps {
		b.c.UsedPorts[p] = true
	}
	return b
}

func (b *cb) udp(ps ...int) *cb {
	if b.c.UsedPortsUDP == nil {
		b.c.UsedPortsUDP = map[int]bool{}
	}
	for _, p := range ps {
		b.c.UsedPortsUDP[p] = true
	}
	return b
}

// group records n live tasks of group g (in TaskGroups, RunningTasksCount
// and Tasks, each task reserving 256 CPU and 512 MiB).
func (b *cb) group(g string, n int) *cb {
	if b.c.TaskGroups == nil {
		b.c.TaskGroups = map[string]int{}
	}
	for range n {
		b.c.TaskGroups[g]++
		b.c.RunningTasksCount++
		b.c.Tasks = append(b.c.Tasks, TaskInfo{
			ARN:   "arn:aws:ecs:us-east-1:123456789012:task/prod/" + b.c.ID + "-" + g + "-" + string(rune('a'+len(b.c.Tasks))),
			Group: g, CPU: 256, Memory: 512,
		})
	}
	return b
}

func (b *cb) obj() Candidate { return b.c }

func cands(bs ...*cb) []Candidate {
	out := make([]Candidate, len(bs))
	for i, b := range bs {
		out[i] = b.obj()
	}
	return out
}

// placedIDs returns the instance ID of each placement, in task order.
func placedIDs(p Plan) []string {
	var out []string
	for _, pl := range p.Placements {
		out = append(out, pl.ID)
	}
	return out
}

// fails builds expected failures from (id, reason) pairs.
func fails(pairs ...string) []Failure {
	var out []Failure
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Failure{ARN: arn(pairs[i]), Reason: pairs[i+1]})
	}
	return out
}
