package acs

import "github.com/berth-dev/berth/internal/wire"

// This file holds Decode's fast path for PayloadMessage, the frame every
// RunTask batch sends and the only one frequent and large enough for
// encoding/json's reflection to matter (`berth sim` runs thousands of agents
// in one process).
//
// The contract: decodePayload either returns exactly the value that
// json.Unmarshal into a PayloadMessage would, or gives up (ok false), and
// then decode decodes the frame with encoding/json as it always did, so
// that giving up never changes a result or an error. It handles the shape
// Berth's server writes (see CompileTask): the PayloadMessage members, and
// the task, container, volume, port mapping, mount point, volumesFrom,
// dependsOn, dockerConfig and credentials members that are plain strings,
// integers, numbers, booleans, string lists and string maps. The JSON
// itself is read by wire.Decoder, which gives up on anything it does not
// decode exactly as encoding/json does (invalid JSON, trailing bytes, a
// value of the wrong kind, an integer with a fraction or an exponent, a
// number out of range, strings it does not unescape exactly). This file
// gives up, too, on:
//
//   - any member name that is not byte-for-byte the name of a member it
//     handles: unknown members (which json ignores), names that match only
//     case-insensitively or only once unescaped, members it chose not to
//     implement (linuxParameters, secrets, elasticNetworkInterfaces, ...);
//   - a member that appears twice in one object (json would merge into the
//     first value);
//   - null as a member's value or as an element of a list of objects (json
//     would leave the value as it was).
//
// Empty arrays and objects give empty, non-nil slices and maps, as with
// json.

// decodePayload decodes msg, the message of a PayloadMessage frame, or
// reports that encoding/json must (see the contract above).
func decodePayload(msg []byte) (*PayloadMessage, bool) {
	d := payloadDecoder{w: wire.NewDecoder(msg)}
	p := new(PayloadMessage)
	d.payload(p)
	if d.failed || d.w.End() != nil {
		return nil, false
	}
	return p, true
}

// payloadDecoder reads the message with wire's Decoder (the reader of the
// ECS API's generated decoders, whose methods decode only what they decode
// exactly as encoding/json does). Once failed is set every method does
// nothing more and returns a zero value, so that callers check only at the
// end; loops end because firstMember, nextMember, firstElem and nextElem
// return false.
type payloadDecoder struct {
	w      wire.Decoder
	failed bool
	key    []byte // the member name firstMember or nextMember read
}

func (d *payloadDecoder) fail() { d.failed = true }

// check records err (wire's "fall back").
func (d *payloadDecoder) check(err error) {
	if err != nil {
		d.fail()
	}
}

// value fails on null: a null member or element leaves a value as it was
// in encoding/json, which this decoder does not reproduce.
func (d *payloadDecoder) value() bool {
	if d.failed || d.w.Null() {
		d.fail()
		return false
	}
	return true
}

// once fails when the member numbered bit was already seen in this object.
func (d *payloadDecoder) once(seen *uint64, bit uint) {
	if *seen&(1<<bit) != 0 {
		d.fail()
	}
	*seen |= 1 << bit
}

// firstMember reads the '{' of an object and the first member's name;
// false when the object is empty (or on failure). Then nextMember reads
// the next member's name (true) or the '}' (false), and name returns the
// name read:
//
//	for more := d.firstMember(); more; more = d.nextMember() {
//		switch string(d.name()) {
//		case "member":
//			// read the value
//		}
//	}
func (d *payloadDecoder) firstMember() bool {
	if !d.value() {
		return false
	}
	ok, err := d.w.Object()
	if !ok || err != nil {
		d.fail()
		return false
	}
	return d.nextMember()
}

func (d *payloadDecoder) nextMember() bool {
	if d.failed {
		return false
	}
	key, more, err := d.w.Key()
	d.check(err)
	d.key = key
	return more && !d.failed
}

func (d *payloadDecoder) name() []byte { return d.key }

// firstElem reads the '[' of an array; false when it is empty (or on
// failure). Then nextElem reads the ',' before the next element (true)
// or the ']' (false).
func (d *payloadDecoder) firstElem() bool {
	if !d.value() {
		return false
	}
	d.check(d.w.Array())
	return d.nextElem()
}

func (d *payloadDecoder) nextElem() bool {
	if d.failed {
		return false
	}
	more, err := d.w.More()
	d.check(err)
	return more && !d.failed
}

func (d *payloadDecoder) string() (s string) {
	if d.value() {
		d.check(d.w.String(&s))
	}
	return s
}

func (d *payloadDecoder) int64() (n int64) {
	if d.value() {
		d.check(d.w.Int64(&n))
	}
	return n
}

func (d *payloadDecoder) float64() (f float64) {
	if d.value() {
		d.check(d.w.Float64(&f))
	}
	return f
}

func (d *payloadDecoder) bool() (v bool) {
	if d.value() {
		d.check(d.w.Bool(&v))
	}
	return v
}

func (d *payloadDecoder) strings() (list []string) {
	if d.value() {
		d.check(d.w.Strings(&list))
	}
	return list
}

// exact returns a copy of list at its length, non-nil even when empty
// (as json makes it). The lists of a task are short: decoded into an
// array on the stack first, their slices are allocated once.
func exact[T any](list []T) []T {
	out := make([]T, len(list))
	copy(out, list)
	return out
}

func (d *payloadDecoder) stringMap() (m map[string]string) {
	if d.value() {
		d.check(d.w.StringMap(&m))
	}
	return m
}

// ---------------------------------------------------------------------------
// The message types. Each member's bit (once) is its position in its
// switch.

func (d *payloadDecoder) payload(p *PayloadMessage) {
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "containerInstanceArn":
			d.once(&seen, 0)
			p.ContainerInstanceARN = d.string()
		case "clusterArn":
			d.once(&seen, 1)
			p.ClusterARN = d.string()
		case "tasks":
			d.once(&seen, 2)
			p.Tasks = d.tasks()
		case "generatedAt":
			d.once(&seen, 3)
			p.GeneratedAt = d.int64()
		case "messageId":
			d.once(&seen, 4)
			p.MessageID = d.string()
		case "seqNum":
			d.once(&seen, 5)
			p.SeqNum = d.int64()
		case "timeline":
			d.once(&seen, 6)
			n := d.int64()
			p.Timeline = &n
		default:
			d.fail()
		}
	}
}

func (d *payloadDecoder) tasks() []Task {
	var out []Task
	for more := d.firstElem(); more; more = d.nextElem() {
		out = append(out, Task{})
		d.task(&out[len(out)-1])
	}
	if out == nil {
		out = []Task{} // [] decodes to an empty slice, as with json
	}
	return out
}

func (d *payloadDecoder) task(t *Task) {
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "arn":
			d.once(&seen, 0)
			t.ARN = d.string()
		case "taskClusterArn":
			d.once(&seen, 1)
			t.TaskClusterARN = d.string()
		case "containers":
			d.once(&seen, 2)
			t.Containers = d.containers()
		case "desiredStatus":
			d.once(&seen, 3)
			t.DesiredStatus = d.string()
		case "family":
			d.once(&seen, 4)
			t.Family = d.string()
		case "overrides":
			d.once(&seen, 5)
			t.Overrides = d.string()
		case "version":
			d.once(&seen, 6)
			t.Version = d.string()
		case "zone":
			d.once(&seen, 7)
			t.Zone = d.string()
		case "taskDefinitionAccountId":
			d.once(&seen, 8)
			t.TaskDefinitionAccountID = d.string()
		case "volumes":
			d.once(&seen, 9)
			t.Volumes = d.volumes()
		case "roleCredentials":
			d.once(&seen, 10)
			t.RoleCredentials = d.credentials()
		case "executionRoleCredentials":
			d.once(&seen, 11)
			t.ExecutionRoleCredentials = d.credentials()
		case "cpu":
			d.once(&seen, 12)
			t.CPU = d.float64()
		case "memory":
			d.once(&seen, 13)
			t.Memory = d.int64()
		case "pidMode":
			d.once(&seen, 14)
			t.PidMode = d.string()
		case "ipcMode":
			d.once(&seen, 15)
			t.IpcMode = d.string()
		case "agentConfiguration":
			d.once(&seen, 16)
			t.AgentConfiguration = d.string()
		case "launchType":
			d.once(&seen, 17)
			t.LaunchType = d.string()
		case "networkMode":
			d.once(&seen, 18)
			t.NetworkMode = d.string()
		case "serviceName":
			d.once(&seen, 19)
			t.ServiceName = d.string()
		case "group":
			d.once(&seen, 20)
			t.Group = d.string()
		case "enableFaultInjection":
			d.once(&seen, 21)
			t.EnableFaultInjection = d.bool()
		default:
			d.fail()
		}
	}
}

func (d *payloadDecoder) credentials() *IAMRoleCredentials {
	c := new(IAMRoleCredentials)
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "credentialsId":
			d.once(&seen, 0)
			c.CredentialsID = d.string()
		case "roleArn":
			d.once(&seen, 1)
			c.RoleARN = d.string()
		case "accessKeyId":
			d.once(&seen, 2)
			c.AccessKeyID = d.string()
		case "secretAccessKey":
			d.once(&seen, 3)
			c.SecretAccessKey = d.string()
		case "sessionToken":
			d.once(&seen, 4)
			c.SessionToken = d.string()
		case "expiration":
			d.once(&seen, 5)
			c.Expiration = d.string()
		case "credentialScope":
			d.once(&seen, 6)
			c.CredentialScope = d.string()
		default:
			d.fail()
		}
	}
	return c
}

func (d *payloadDecoder) volumes() []Volume {
	var buf [8]Volume
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		var v Volume
		var seen uint64
		for more := d.firstMember(); more; more = d.nextMember() {
			switch string(d.name()) {
			case "name":
				d.once(&seen, 0)
				v.Name = d.string()
			case "type":
				d.once(&seen, 1)
				v.Type = d.string()
			case "host":
				d.once(&seen, 2)
				v.Host = d.hostVolume()
			case "dockerVolumeConfiguration":
				d.once(&seen, 3)
				v.DockerVolumeConfiguration = d.dockerVolume()
			default:
				d.fail()
			}
		}
		list = append(list, v)
	}
	return exact(list)
}

func (d *payloadDecoder) hostVolume() *HostVolumeProperties {
	h := new(HostVolumeProperties)
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "sourcePath":
			d.once(&seen, 0)
			h.SourcePath = d.string()
		default:
			d.fail()
		}
	}
	return h
}

func (d *payloadDecoder) dockerVolume() *DockerVolumeConfiguration {
	c := new(DockerVolumeConfiguration)
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "scope":
			d.once(&seen, 0)
			c.Scope = d.string()
		case "autoprovision":
			d.once(&seen, 1)
			c.Autoprovision = d.bool()
		case "driver":
			d.once(&seen, 2)
			c.Driver = d.string()
		case "driverOpts":
			d.once(&seen, 3)
			c.DriverOpts = d.stringMap()
		case "labels":
			d.once(&seen, 4)
			c.Labels = d.stringMap()
		default:
			d.fail()
		}
	}
	return c
}

func (d *payloadDecoder) containers() []Container {
	var buf [4]Container
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		list = append(list, Container{})
		d.container(&list[len(list)-1])
	}
	return exact(list)
}

func (d *payloadDecoder) container(c *Container) {
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "command":
			d.once(&seen, 0)
			c.Command = d.strings()
		case "cpu":
			d.once(&seen, 1)
			c.CPU = d.int64()
		case "credentialSpecs":
			d.once(&seen, 2)
			c.CredentialSpecs = d.strings()
		case "entryPoint":
			d.once(&seen, 3)
			c.EntryPoint = d.strings()
		case "environment":
			d.once(&seen, 4)
			c.Environment = d.stringMap()
		case "essential":
			d.once(&seen, 5)
			c.Essential = d.bool()
		case "image":
			d.once(&seen, 6)
			c.Image = d.string()
		case "links":
			d.once(&seen, 7)
			c.Links = d.strings()
		case "memory":
			d.once(&seen, 8)
			c.Memory = d.int64()
		case "name":
			d.once(&seen, 9)
			c.Name = d.string()
		case "overrides":
			d.once(&seen, 10)
			c.Overrides = d.string()
		case "portMappings":
			d.once(&seen, 11)
			c.PortMappings = d.portMappings()
		case "mountPoints":
			d.once(&seen, 12)
			c.MountPoints = d.mountPoints()
		case "privileged":
			d.once(&seen, 13)
			b := d.bool()
			c.Privileged = &b
		case "networkInterfaceNames":
			d.once(&seen, 14)
			c.NetworkInterfaceNames = d.strings()
		case "volumesFrom":
			d.once(&seen, 15)
			c.VolumesFrom = d.volumesFrom()
		case "dockerConfig":
			d.once(&seen, 16)
			c.DockerConfig = d.dockerConfig()
		case "healthCheckType":
			d.once(&seen, 17)
			c.HealthCheckType = d.string()
		case "logsAuthStrategy":
			d.once(&seen, 18)
			c.LogsAuthStrategy = d.string()
		case "dependsOn":
			d.once(&seen, 19)
			c.DependsOn = d.dependsOn()
		case "startTimeout":
			d.once(&seen, 20)
			c.StartTimeout = d.int64()
		case "stopTimeout":
			d.once(&seen, 21)
			c.StopTimeout = d.int64()
		case "containerArn":
			d.once(&seen, 22)
			c.ContainerARN = d.string()
		default:
			d.fail()
		}
	}
}

func (d *payloadDecoder) portMappings() []PortMapping {
	var buf [8]PortMapping
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		var pm PortMapping
		var seen uint64
		for more := d.firstMember(); more; more = d.nextMember() {
			switch string(d.name()) {
			case "containerPort":
				d.once(&seen, 0)
				pm.ContainerPort = d.int64()
			case "hostPort":
				d.once(&seen, 1)
				pm.HostPort = d.int64()
			case "containerPortRange":
				d.once(&seen, 2)
				pm.ContainerPortRange = d.string()
			case "protocol":
				d.once(&seen, 3)
				pm.Protocol = d.string()
			default:
				d.fail()
			}
		}
		list = append(list, pm)
	}
	return exact(list)
}

func (d *payloadDecoder) mountPoints() []MountPoint {
	var buf [8]MountPoint
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		var mp MountPoint
		var seen uint64
		for more := d.firstMember(); more; more = d.nextMember() {
			switch string(d.name()) {
			case "sourceVolume":
				d.once(&seen, 0)
				mp.SourceVolume = d.string()
			case "containerPath":
				d.once(&seen, 1)
				mp.ContainerPath = d.string()
			case "readOnly":
				d.once(&seen, 2)
				mp.ReadOnly = d.bool()
			default:
				d.fail()
			}
		}
		list = append(list, mp)
	}
	return exact(list)
}

func (d *payloadDecoder) volumesFrom() []VolumeFrom {
	var buf [8]VolumeFrom
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		var vf VolumeFrom
		var seen uint64
		for more := d.firstMember(); more; more = d.nextMember() {
			switch string(d.name()) {
			case "sourceContainer":
				d.once(&seen, 0)
				vf.SourceContainer = d.string()
			case "readOnly":
				d.once(&seen, 1)
				vf.ReadOnly = d.bool()
			default:
				d.fail()
			}
		}
		list = append(list, vf)
	}
	return exact(list)
}

func (d *payloadDecoder) dependsOn() []ContainerDependency {
	var buf [8]ContainerDependency
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		var dep ContainerDependency
		var seen uint64
		for more := d.firstMember(); more; more = d.nextMember() {
			switch string(d.name()) {
			case "containerName":
				d.once(&seen, 0)
				dep.ContainerName = d.string()
			case "condition":
				d.once(&seen, 1)
				dep.Condition = d.string()
			default:
				d.fail()
			}
		}
		list = append(list, dep)
	}
	return exact(list)
}

func (d *payloadDecoder) dockerConfig() *DockerConfig {
	c := new(DockerConfig)
	var seen uint64
	for more := d.firstMember(); more; more = d.nextMember() {
		switch string(d.name()) {
		case "version":
			d.once(&seen, 0)
			c.Version = d.string()
		case "config":
			d.once(&seen, 1)
			c.Config = d.string()
		case "hostConfig":
			d.once(&seen, 2)
			c.HostConfig = d.string()
		default:
			d.fail()
		}
	}
	return c
}
