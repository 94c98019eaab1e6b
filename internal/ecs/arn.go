package ecs

import (
	"regexp"
	"strings"
)

// Namespace is the (partition, account, region) a request acts in. Every
// resource lives in exactly one namespace; one namespace never sees another's
// resources.
type Namespace struct {
	Partition string // "aws" unless configured otherwise
	Account   string // 12 digits
	Region    string // e.g. "us-east-1"
	// Principal is the caller's IAM principal ARN (account settings are kept
	// per principal). For Berth's key-based callers it is the account root,
	// arn:aws:iam::<account>:root.
	Principal string
}

// RootPrincipal returns the account root principal ARN of ns.
func (ns Namespace) RootPrincipal() string {
	return "arn:" + ns.Partition + ":iam::" + ns.Account + ":root"
}

// ARN returns arn:<partition>:ecs:<region>:<account>:<resource>.
func (ns Namespace) ARN(resource string) string {
	return "arn:" + ns.Partition + ":ecs:" + ns.Region + ":" + ns.Account + ":" + resource
}

// ClusterARN returns the ARN of the named cluster.
func (ns Namespace) ClusterARN(name string) string { return ns.ARN("cluster/" + name) }

// CapacityProviderARN returns the ARN of the named capacity provider.
func (ns Namespace) CapacityProviderARN(name string) string {
	return ns.ARN("capacity-provider/" + name)
}

// TaskDefinitionARN returns the ARN of family:revision.
func (ns Namespace) TaskDefinitionARN(family string, revision int) string {
	return ns.ARN("task-definition/" + family + ":" + itoa(revision))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// ARN is a parsed ECS ARN.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string // e.g. "cluster/prod", "task-definition/web:3"
}

// ParseARN splits an ARN into its parts; ok is false if s is not an ARN.
func ParseARN(s string) (ARN, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, false
	}
	// Five colon-separated fields, then the resource (which may hold
	// colons); cut in place, without allocating (ARNs are parsed on every
	// Describe call, per resource).
	var f [5]string
	rest := s
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, ":"); !ok {
			return ARN{}, false
		}
	}
	return ARN{Partition: f[1], Service: f[2], Region: f[3], Account: f[4], Resource: rest}, true
}

// InNamespace reports whether the ARN belongs to ns.
func (a ARN) InNamespace(ns Namespace) bool {
	return a.Partition == ns.Partition && a.Region == ns.Region && a.Account == ns.Account && a.Service == "ecs"
}

// Type returns the resource type ("cluster", "service", "task", …).
func (a ARN) Type() string {
	t, _, _ := strings.Cut(a.Resource, "/")
	return t
}

// Path returns the resource after its type, e.g. "prod" for "cluster/prod".
func (a ARN) Path() string {
	_, p, _ := strings.Cut(a.Resource, "/")
	return p
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// ValidName reports whether s is a valid cluster, service, family or
// capacity provider name: 1–255 letters, digits, hyphens and underscores.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ResolveName turns a name-or-ARN reference of the given resource type into
// a name within ns. A reference that is an ARN of another namespace or type
// yields ok=false (the caller reports not found). For ARNs whose path has
// more segments (service/cluster/name), the last segment is returned and the
// preceding ones in parent.
func ResolveName(ns Namespace, ref, typ string) (parent, name string, ok bool) {
	if !strings.HasPrefix(ref, "arn:") {
		return "", ref, ref != ""
	}
	a, isARN := ParseARN(ref)
	if !isARN || !a.InNamespace(ns) || a.Type() != typ {
		return "", "", false
	}
	p := a.Path()
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:], p[i+1:] != ""
	}
	return "", p, p != ""
}
