package acs

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

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
// integers, numbers, booleans, string lists and string maps. It gives up,
// rather than approximate encoding/json, on:
//
//   - any member name that is not, once unquoted, byte-for-byte the name of
//     a member it handles: unknown members (which json ignores), names that
//     match only case-insensitively, members it chose not to implement
//     (linuxParameters, secrets, elasticNetworkInterfaces, ...);
//   - a member that appears twice in one object (json would merge into the
//     first value);
//   - null anywhere;
//   - a value of the wrong JSON kind, an integer with a fraction or an
//     exponent, a number out of range (json reports all of these);
//   - anything that is not valid JSON, including trailing bytes.
//
// Strings are decoded exactly as encoding/json does: every escape,
// \uXXXX with surrogate pairs (a lone surrogate becomes U+FFFD), and each
// byte of invalid UTF-8 replaced by U+FFFD. Empty arrays and objects give
// empty, non-nil slices and maps, as with json.
//
// Allocation: each task's bytes are copied once into a string, and the
// task's strings that need no decoding (names, images, ARNs, environment,
// ...) are substrings of it. A task's strings thus cost one allocation and
// keep alive only the task's own bytes, about as much as the task itself.

// decodePayload decodes msg, the message of a PayloadMessage frame, or
// reports that encoding/json must (see the contract above).
func decodePayload(msg []byte) (*PayloadMessage, bool) {
	d := payloadDecoder{b: msg}
	p := new(PayloadMessage)
	d.payload(p)
	d.space()
	if d.failed || d.i != len(d.b) {
		return nil, false
	}
	return p, true
}

// payloadDecoder reads JSON from b, at i. Once failed is set every method
// does nothing more and returns a zero value, so that callers check only
// at the end; loops end because firstMember, nextMember, firstElem and
// nextElem return false.
type payloadDecoder struct {
	b      []byte
	i      int
	failed bool

	// While a task is decoded, b ends with it and taskText holds a copy
	// of its bytes, those from b[base:].
	taskText string
	base     int
}

func (d *payloadDecoder) fail() { d.failed = true }

// text returns b[start:end] as a string: within a task a substring of
// taskText, else a copy.
func (d *payloadDecoder) text(start, end int) string {
	if d.taskText != "" {
		return d.taskText[start-d.base : end-d.base]
	}
	return string(d.b[start:end])
}

// space skips JSON white space.
func (d *payloadDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat skips white space and then c if it is next.
func (d *payloadDecoder) eat(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// once fails when the member numbered bit was already seen in this object.
func (d *payloadDecoder) once(seen *uint64, bit uint) {
	if *seen&(1<<bit) != 0 {
		d.fail()
	}
	*seen |= 1 << bit
}

// firstMember reads the '{' of an object; false when the object is empty
// (or on failure). Then nextMember reads the ',' before the next member
// (true) or the '}' (false). name reads a member's name and the ':':
//
//	for more := d.firstMember(); more; more = d.nextMember() {
//		switch string(d.name()) {
//		case "member":
//			// read the value
//		}
//	}
func (d *payloadDecoder) firstMember() bool {
	if d.failed {
		return false
	}
	if !d.eat('{') {
		d.fail()
		return false
	}
	return !d.eat('}')
}

func (d *payloadDecoder) nextMember() bool {
	switch {
	case d.failed:
		return false
	case d.eat(','):
		return true
	case d.eat('}'):
		return false
	}
	d.fail()
	return false
}

// name reads a member name, unquoted, and the ':' after it.
func (d *payloadDecoder) name() []byte {
	start, end, plain := d.plainString()
	var key []byte
	switch {
	case d.failed:
	case plain:
		key = d.b[start:end]
	default:
		key = []byte(d.unescape(start, end))
	}
	if !d.eat(':') {
		d.fail()
	}
	return key
}

// firstElem reads the '[' of an array; false when it is empty (or on
// failure). Then nextElem reads the ',' before the next element (true)
// or the ']' (false).
func (d *payloadDecoder) firstElem() bool {
	if d.failed {
		return false
	}
	if !d.eat('[') {
		d.fail()
		return false
	}
	return !d.eat(']')
}

func (d *payloadDecoder) nextElem() bool {
	switch {
	case d.failed:
		return false
	case d.eat(','):
		return true
	case d.eat(']'):
		return false
	}
	d.fail()
	return false
}

// string reads a JSON string.
func (d *payloadDecoder) string() string {
	start, end, plain := d.plainString()
	switch {
	case d.failed:
		return ""
	case plain:
		return d.text(start, end)
	}
	return d.unescape(start, end)
}

// plainString reads a JSON string whose contents start at b[start]. When
// they are b[start:end], with no escape and valid UTF-8, plain is true;
// else b[start:end] needs no decoding and the rest of the string is left
// for unescape.
func (d *payloadDecoder) plainString() (start, end int, plain bool) {
	if d.failed {
		return 0, 0, false
	}
	if !d.eat('"') {
		d.fail()
		return 0, 0, false
	}
	b := d.b
	start = d.i
	for i := start; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return start, i, true
		case c == '\\':
			return start, i, false
		case c < ' ':
			d.fail() // a control character: invalid JSON
			return 0, 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return start, i, false
			}
			i += size
		}
	}
	d.fail() // unterminated
	return 0, 0, false
}

// unescape reads the rest of the string whose contents start at b[start]
// and need no decoding up to b[i], and decodes it as encoding/json does.
func (d *payloadDecoder) unescape(start, i int) string {
	b := d.b
	var s strings.Builder
	if q := closingQuote(b, i); q >= 0 {
		s.Grow(q - start) // enough, but for invalid UTF-8
	}
	s.Write(b[start:i])
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return s.String()
		case c < ' ':
			d.fail()
			return ""
		case c < utf8.RuneSelf && c != '\\':
			j := i + 1
			for j < len(b) && b[j] >= ' ' && b[j] < utf8.RuneSelf && b[j] != '\\' && b[j] != '"' {
				j++
			}
			s.Write(b[i:j])
			i = j
		case c >= utf8.RuneSelf:
			// Valid UTF-8 is kept; each byte of invalid UTF-8 decodes
			// as RuneError, U+FFFD.
			r, size := utf8.DecodeRune(b[i:])
			s.WriteRune(r)
			i += size
		case i+1 >= len(b):
			d.fail()
			return ""
		default: // an escape
			i++
			switch e := b[i]; e {
			case '"', '\\', '/':
				s.WriteByte(e)
			case 'b':
				s.WriteByte('\b')
			case 'f':
				s.WriteByte('\f')
			case 'n':
				s.WriteByte('\n')
			case 'r':
				s.WriteByte('\r')
			case 't':
				s.WriteByte('\t')
			case 'u':
				r := hex4(b, i+1)
				if r < 0 {
					d.fail()
					return ""
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair only with a \uXXXX that completes it;
					// else U+FFFD, and what follows is read on its
					// own.
					r2 := rune(-1)
					if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						r2 = hex4(b, i+3)
					}
					if pair := utf16.DecodeRune(r, r2); pair != unicode.ReplacementChar {
						r = pair
						i += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				s.WriteRune(r)
			default:
				d.fail()
				return ""
			}
			i++
		}
	}
	d.fail()
	return ""
}

// closingQuote returns the index of the quote that ends the string that
// b[i] is in, or -1. b[i] must not be the second byte of an escape.
func closingQuote(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return -1
}

// hex4 is the value of the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a JSON number and returns it as written.
func (d *payloadDecoder) number() []byte {
	if d.failed {
		return nil
	}
	d.space()
	b, i := d.b, d.i
	digits := func() bool {
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		d.fail()
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			d.fail()
			return nil
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			d.fail()
			return nil
		}
	}
	lit := b[d.i:i]
	d.i = i
	return lit
}

// int64 reads a number as json does into an int64: no fraction, no
// exponent, in range.
func (d *payloadDecoder) int64() int64 {
	lit := d.number()
	if d.failed {
		return 0
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		d.fail()
	}
	return n
}

// float64 reads a number as json does into a float64.
func (d *payloadDecoder) float64() float64 {
	lit := d.number()
	if d.failed {
		return 0
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		d.fail()
	}
	return f
}

func (d *payloadDecoder) bool() bool {
	if d.failed {
		return false
	}
	d.space()
	switch {
	case bytes.HasPrefix(d.b[d.i:], []byte("true")):
		d.i += len("true")
		return true
	case bytes.HasPrefix(d.b[d.i:], []byte("false")):
		d.i += len("false")
		return false
	}
	d.fail()
	return false
}

func (d *payloadDecoder) strings() []string {
	var buf [8]string
	list := buf[:0]
	for more := d.firstElem(); more; more = d.nextElem() {
		list = append(list, d.string())
	}
	return exact(list)
}

// exact returns a copy of list at its length, non-nil even when empty
// (as json makes it). The lists of a task are short: decoded into an
// array on the stack first, their slices are allocated once.
func exact[T any](list []T) []T {
	out := make([]T, len(list))
	copy(out, list)
	return out
}

func (d *payloadDecoder) stringMap() map[string]string {
	m := map[string]string{}
	for more := d.firstMember(); more; more = d.nextMember() {
		k := d.string()
		if !d.eat(':') {
			d.fail()
		}
		m[k] = d.string() // a repeated key: the last wins, as with json
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

// tasks reads the task list, each task with its own copy of its bytes.
func (d *payloadDecoder) tasks() []Task {
	d.space()
	var buf [16]int
	ends := objectEnds(d.b, d.i, buf[:0])
	out := make([]Task, 0, len(ends))
	for more := d.firstElem(); more; more = d.nextElem() {
		d.space()
		k := len(out)
		if k == len(ends) || ends[k] <= d.i {
			d.fail()
			break
		}
		all, end := d.b, ends[k]
		d.b, d.taskText, d.base = all[:end], string(all[d.i:end]), d.i
		out = append(out, Task{})
		d.task(&out[k])
		d.b, d.taskText = all, ""
		if d.i != end {
			d.fail()
		}
	}
	return out
}

// objectEnds appends to ends the index just past each object that is an
// element of the array at b[i], as far as it can tell by matching
// brackets outside strings. The decoder of each object checks the rest.
func objectEnds(b []byte, i int, ends []int) []int {
	if i >= len(b) || b[i] != '[' {
		return ends
	}
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			if i = closingQuote(b, i+1); i < 0 {
				return ends
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			switch depth {
			case 0:
				return ends
			case 1:
				ends = append(ends, i+1)
			}
		}
	}
	return ends
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
