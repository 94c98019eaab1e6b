package control

import (
	"context"
	"crypto/sha256"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/wire"
)

// Fargate tasks (spec §5) run on the server's built-in fleet rather than on
// a container instance. Their lifecycle, as control records it:
//
//	RunTask ─▶ PROVISIONING ──ProvisionFargateTask──▶ PENDING ──fleet reports──▶ RUNNING ─▶ … ─▶ STOPPED
//	           ENI PRECREATED   (ENI ATTACHED: IP, MAC)                                        ENI DELETED
//	   StopTask while PROVISIONING: STOPPED at once (nothing runs yet)
//
// While a Fargate task is not STOPPED, a marker record under "fleet/" lists
// it, so that the fleet finds its tasks without scanning every namespace.
// The marker is written with the task and deleted in the transaction that
// stops it.

// Fargate platform values (spec §5.4).
const (
	fargatePlatformLatest = "1.4.0"
	fargatePlatformFamily = "Linux"
	// fargateEphemeralGiB is the ephemeral storage of platform 1.4.0 when
	// the task definition asks for none.
	fargateEphemeralGiB = 20
)

// ENI attachment values, as ECS shows them on awsvpc tasks.
const (
	attachmentENI = "ElasticNetworkInterface"
	eniPrecreated = "PRECREATED"
	eniAttached   = "ATTACHED"
	eniDeleted    = "DELETED"
)

// fleetPrefix is the key prefix of the fleet's markers:
// fleet/<account>/<region>/<cluster>/<task-id> → fleetRecord.
const fleetPrefix = "fleet/"

// fleetRecord marks a Fargate task that has not STOPPED. It holds nothing:
// the task record is the truth.
type fleetRecord struct{}

func keyFleet(ns ecs.Namespace, cluster, id string) string {
	return fleetPrefix + ns.Account + "/" + ns.Region + "/" + cluster + "/" + id
}

// isFargate reports whether a task runs on the Fargate fleet.
func isFargate(rec *taskRecord) bool { return wire.Val(rec.LaunchType) == wire.LaunchTypeFargate }

// fargateRequest is what RunTask validated of a Fargate request.
type fargateRequest struct {
	platform string // resolved platform version
	subnet   string // the subnet of the task's ENI
}

// checkFargateRequest applies spec §5 to a RunTask request that resolved to
// FARGATE (the definition already requires FARGATE): an awsvpc network
// configuration with 1–16 subnets and at most 5 security groups, no
// placement constraints or strategies, and a known platform version
// (LATEST → 1.4.0; 1.3.0 lacks the 8 and 16 vCPU sizes). Errors are
// InvalidParameterException, PlatformUnknownException and
// PlatformTaskDefinitionIncompatibilityException.
func checkFargateRequest(in *wire.RunTaskRequest, td *taskDefRecord) (fargateRequest, error) {
	if in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil {
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	vpc := in.NetworkConfiguration.AwsvpcConfiguration
	switch {
	case len(vpc.Subnets) == 0:
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "subnets can not be empty.")
	case len(vpc.Subnets) > 16:
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "subnets can have at most 16 items.")
	case len(vpc.SecurityGroups) > 5:
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "securityGroups can have at most 5 items.")
	case len(in.PlacementConstraints) > 0:
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "Task placement constraints are not supported for the FARGATE launch type.")
	case len(in.PlacementStrategy) > 0:
		return fargateRequest{}, ecs.Errorf(ecs.InvalidParameter, "Task placement strategies are not supported for the FARGATE launch type.")
	}
	platform, err := fargatePlatform(wire.Val(in.PlatformVersion), td)
	if err != nil {
		return fargateRequest{}, err
	}
	return fargateRequest{platform: platform, subnet: vpc.Subnets[0]}, nil
}

// fargatePlatform resolves a requested Linux platform version.
func fargatePlatform(version string, td *taskDefRecord) (string, error) {
	switch version {
	case "", "LATEST":
		return fargatePlatformLatest, nil
	case "1.4.0":
		return version, nil
	case "1.3.0":
		if cpu, _ := strconv.Atoi(wire.Val(td.Cpu)); cpu > 4096 {
			return "", ecs.Errorf(ecs.PlatformTaskDefinitionIncompatibility, "The specified platform does not satisfy the task definition's required capabilities.")
		}
		return version, nil
	}
	return "", ecs.Errorf(ecs.PlatformUnknown, "The specified platform version does not exist.")
}

// setFargate gives a new Fargate task what ECS shows before its network
// interface exists: the platform version and family, the ephemeral storage
// (the definition's, else 20 GiB), the availability zone of its subnet,
// and an ElasticNetworkInterface attachment PRECREATED in that subnet.
func setFargate(rec *taskRecord, ns ecs.Namespace, td *taskDefRecord, fg fargateRequest) {
	t := &rec.Task
	t.PlatformVersion = wire.Ptr(fg.platform)
	t.PlatformFamily = wire.Ptr(fargatePlatformFamily)
	size := int32(fargateEphemeralGiB)
	if es := td.EphemeralStorage; es != nil && wire.Val(es.SizeInGiB) > 0 {
		size = *es.SizeInGiB
	}
	t.EphemeralStorage = &wire.EphemeralStorage{SizeInGiB: wire.Ptr(size)}
	t.AvailabilityZone = wire.Ptr(subnetZone(ns.Region, fg.subnet))
	t.Attachments = []wire.Attachment{{
		Id:      wire.Ptr(uuidFrom(rec.ID + "/eni")),
		Type:    wire.Ptr(attachmentENI),
		Status:  wire.Ptr(eniPrecreated),
		Details: []wire.KeyValuePair{{Name: wire.Ptr("subnetId"), Value: wire.Ptr(fg.subnet)}},
	}}
}

// subnetZone is the availability zone Berth places a subnet in: one of the
// region's zones a–c, fixed per subnet name (the fleet has no real subnets,
// but a subnet's tasks always share a zone, as in a VPC).
func subnetZone(region, subnet string) string {
	sum := sha256.Sum256([]byte(subnet))
	return region + string(rune('a'+sum[0]%3))
}

// eniIndex returns the index of the task's ENI attachment, or -1.
func eniIndex(rec *taskRecord) int {
	for i, a := range rec.Attachments {
		if wire.Val(a.Type) == attachmentENI {
			return i
		}
	}
	return -1
}

// eniDetail returns one detail of an attachment ("" if absent).
func eniDetail(a wire.Attachment, name string) string {
	for _, d := range a.Details {
		if wire.Val(d.Name) == name {
			return wire.Val(d.Value)
		}
	}
	return ""
}

// privateDNSName is the EC2 private DNS name of an address in a region.
func privateDNSName(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// FleetTask is a Fargate task the fleet should hold: where it lives, its
// statuses, its private address once provisioned, and the ACS form the
// fleet's engine runs.
type FleetTask struct {
	Namespace  ecs.Namespace
	Cluster    string
	ID         string
	ARN        string
	LastStatus string
	Desired    string
	// PrivateIP is the address of the task's ENI once it is ATTACHED.
	PrivateIP string
	Task      acs.Task
}

// fleetTasks calls fn, in key order, for each task with a fleet marker
// under prefix (fleetPrefix or a narrower one) whose record has not
// STOPPED, with its namespace (partition from its ARN) and cluster.
func (c *Control) fleetTasks(prefix string, fn func(ns ecs.Namespace, cluster, id string, rec *taskRecord)) {
	var keys []string
	c.view.scan(prefix, "", false, func(key string, _ any) bool {
		keys = append(keys, key)
		return true
	})
	for _, key := range keys {
		parts := strings.Split(strings.TrimPrefix(key, fleetPrefix), "/")
		if len(parts) != 4 {
			continue
		}
		ns := ecs.Namespace{Account: parts[0], Region: parts[1]}
		cluster, id := parts[2], parts[3]
		rec := c.view.task(keyTask(ns, cluster, id))
		if rec == nil || wire.Val(rec.LastStatus) == taskStopped {
			continue
		}
		a, ok := ecs.ParseARN(wire.Val(rec.TaskArn))
		if !ok {
			continue
		}
		ns.Partition = a.Partition
		ns.Principal = ns.RootPrincipal()
		fn(ns, cluster, id, rec)
	}
}

// FleetTasks returns, from the view, every Fargate task of every namespace
// that has not STOPPED, compiled for the fleet's engine (sorted by key),
// and the view revision they reflect: a consumer waits with WaitChange
// from that revision and reads again. It is safe for concurrent use.
func (c *Control) FleetTasks() ([]FleetTask, store.Rev) {
	c.view.mu.RLock()
	rev := c.view.rev
	c.view.mu.RUnlock()
	var out []FleetTask
	c.fleetTasks(fleetPrefix, func(ns ecs.Namespace, cluster, id string, rec *taskRecord) {
		ref, ok := parseTaskDefRef(ns, wire.Val(rec.TaskDefinitionArn))
		if !ok {
			return
		}
		td, _ := c.view.get(keyTaskDef(ns, ref.family, ref.revision)).(*taskDefRecord)
		if td == nil {
			return
		}
		ft := FleetTask{
			Namespace: ns, Cluster: cluster, ID: id, ARN: wire.Val(rec.TaskArn),
			LastStatus: wire.Val(rec.LastStatus), Desired: wire.Val(rec.DesiredStatus),
			Task: acs.CompileTask(&td.TaskDefinition, &rec.Task),
		}
		if i := eniIndex(rec); i >= 0 && wire.Val(rec.Attachments[i].Status) == eniAttached {
			ft.PrivateIP = eniDetail(rec.Attachments[i], "privateIPv4Address")
		}
		out = append(out, ft)
	})
	return out, rev
}

// ProvisionFargateTask records that the fleet has given a PROVISIONING
// Fargate task its network interface: the ENI attachment becomes ATTACHED
// with its id, MAC address, private DNS name and private address; every
// container gets a networkInterfaces entry with that address; the task is
// CONNECTED and moves to PENDING. It does nothing for a task that is no
// longer PROVISIONING (stopped meanwhile, or provisioned already), so the
// fleet may call it again. A task that is not a Fargate task is
// InvalidParameterException; an unknown task or cluster is the error
// DescribeTasks would give.
func (c *Control) ProvisionFargateTask(ctx context.Context, ns ecs.Namespace, cluster, id, privateIP, mac, eniID string) error {
	now := c.nowUTC()
	_, err := c.updateTask(ctx, ns, &cluster, &id, func(_ tx, rec *taskRecord) error {
		i := eniIndex(rec)
		if !isFargate(rec) || i < 0 {
			return ecs.Errorf(ecs.InvalidParameter, "The task is not a Fargate task.")
		}
		if wire.Val(rec.LastStatus) != taskProvisioning {
			return errUnchanged
		}
		att := &rec.Attachments[i]
		att.Status = wire.Ptr(eniAttached)
		att.Details = []wire.KeyValuePair{
			{Name: wire.Ptr("subnetId"), Value: wire.Ptr(eniDetail(*att, "subnetId"))},
			{Name: wire.Ptr("networkInterfaceId"), Value: wire.Ptr(eniID)},
			{Name: wire.Ptr("macAddress"), Value: wire.Ptr(mac)},
			{Name: wire.Ptr("privateDnsName"), Value: wire.Ptr(privateDNSName(ns.Region, privateIP))},
			{Name: wire.Ptr("privateIPv4Address"), Value: wire.Ptr(privateIP)},
		}
		for j := range rec.Containers {
			rec.Containers[j].NetworkInterfaces = []wire.NetworkInterface{{AttachmentId: att.Id, PrivateIpv4Address: wire.Ptr(privateIP)}}
		}
		rec.LastStatus = wire.Ptr(taskPending)
		rec.Connectivity = wire.Ptr(wire.ConnectivityConnected)
		rec.ConnectivityAt = wire.NewTime(now)
		return nil
	})
	return err
}

// deleteENI marks a stopped task's ENI attachment DELETED.
func deleteENI(rec *taskRecord) {
	if i := eniIndex(rec); i >= 0 {
		rec.Attachments[i].Status = wire.Ptr(eniDeleted)
	}
}
