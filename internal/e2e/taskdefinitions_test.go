package e2e

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

const msgTaskDefNotFound = "Unable to describe task definition."

func tdARN(family string, rev int) string {
	return fmt.Sprintf("arn:aws:ecs:us-east-1:%s:task-definition/%s:%d", defaultAccount, family, rev)
}

// webContainer is a minimal valid container definition.
func webContainer() types.ContainerDefinition {
	return types.ContainerDefinition{
		Name:         aws.String("web"),
		Image:        aws.String("nginx"),
		Memory:       aws.Int32(128),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
	}
}

// registerTD registers a minimal task definition of family and returns it.
func registerTD(t *testing.T, c *ecs.Client, family string) *types.TaskDefinition {
	t.Helper()
	out := testkit.Must(c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{webContainer()},
	}))(t)
	return out.TaskDefinition
}

func deregisterTD(t *testing.T, c *ecs.Client, ref string) *types.TaskDefinition {
	t.Helper()
	return testkit.Must(c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(ref)}))(t).TaskDefinition
}

func describeTD(t *testing.T, c *ecs.Client, ref string) *types.TaskDefinition {
	t.Helper()
	return testkit.Must(c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)}))(t).TaskDefinition
}

func TestRegisterTaskDefinition(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("RoundTripWithDefaults", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		out := testkit.Must(c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		}))(t)
		td := out.TaskDefinition
		if aws.ToString(td.TaskDefinitionArn) != tdARN("web", 1) || td.Revision != 1 || aws.ToString(td.Family) != "web" {
			t.Fatalf("identity %s rev %d", aws.ToString(td.TaskDefinitionArn), td.Revision)
		}
		if td.Status != types.TaskDefinitionStatusActive {
			t.Fatalf("status %s", td.Status)
		}
		if td.RegisteredAt == nil || td.RegisteredAt.Before(before) || td.RegisteredAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("registeredAt %v", td.RegisteredAt)
		}
		if aws.ToString(td.RegisteredBy) != "arn:aws:iam::"+defaultAccount+":root" {
			t.Fatalf("registeredBy %s", aws.ToString(td.RegisteredBy))
		}
		if td.DeregisteredAt != nil || td.DeleteRequestedAt != nil {
			t.Fatalf("deregisteredAt %v deleteRequestedAt %v", td.DeregisteredAt, td.DeleteRequestedAt)
		}
		// Task-level defaults.
		if td.Volumes == nil || len(td.Volumes) != 0 || td.PlacementConstraints == nil || len(td.PlacementConstraints) != 0 {
			t.Fatalf("volumes %v placementConstraints %v", td.Volumes, td.PlacementConstraints)
		}
		if td.EnableFaultInjection == nil || *td.EnableFaultInjection {
			t.Fatalf("enableFaultInjection %v", td.EnableFaultInjection)
		}
		if !slices.Equal(td.Compatibilities, []types.Compatibility{types.CompatibilityExternal, types.CompatibilityEc2}) {
			t.Fatalf("compatibilities %v", td.Compatibilities)
		}
		if td.NetworkMode != "" || td.RequiresCompatibilities != nil || td.Cpu != nil || td.Memory != nil {
			t.Fatalf("absent members filled: mode %q requires %v cpu %v memory %v", td.NetworkMode, td.RequiresCompatibilities, td.Cpu, td.Memory)
		}
		// Container-level defaults.
		cd := td.ContainerDefinitions[0]
		if cd.Cpu != 0 || cd.Essential == nil || !*cd.Essential {
			t.Fatalf("cpu %d essential %v", cd.Cpu, cd.Essential)
		}
		if cd.Environment == nil || cd.MountPoints == nil || cd.VolumesFrom == nil || cd.SystemControls == nil {
			t.Fatalf("empty lists missing: %+v", cd)
		}
		pm := cd.PortMappings[0]
		if aws.ToInt32(pm.ContainerPort) != 80 || pm.HostPort == nil || *pm.HostPort != 0 || pm.Protocol != types.TransportProtocolTcp {
			t.Fatalf("port mapping %+v (bridge mode: dynamic host port 0, protocol tcp)", pm)
		}
		if out.Tags == nil || len(out.Tags) != 0 {
			t.Fatalf("tags %v", out.Tags)
		}
		// Describe returns exactly what Register returned. (registeredAt is
		// compared to the millisecond by TestTaskDefinitionTimestampsStable.)
		for _, ref := range []string{"web", "web:1", tdARN("web", 1)} {
			got := describeTD(t, c, ref)
			if d := got.RegisteredAt.Sub(*td.RegisteredAt).Abs(); d > time.Millisecond {
				t.Fatalf("describe %s: registeredAt %v, registered %v", ref, got.RegisteredAt, td.RegisteredAt)
			}
			got.RegisteredAt = td.RegisteredAt
			if !reflect.DeepEqual(got, td) {
				t.Fatalf("describe %s differs from register:\n got %+v\nwant %+v", ref, got, td)
			}
		}
	})

	t.Run("AwsvpcHostPort", func(t *testing.T) {
		out := testkit.Must(c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("vpc"),
			NetworkMode:          types.NetworkModeAwsvpc,
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		}))(t)
		if hp := out.TaskDefinition.ContainerDefinitions[0].PortMappings[0].HostPort; aws.ToInt32(hp) != 80 {
			t.Fatalf("awsvpc hostPort %v, want the container port", hp)
		}
		hasENI := slices.ContainsFunc(out.TaskDefinition.RequiresAttributes, func(a types.Attribute) bool {
			return aws.ToString(a.Name) == "ecs.capability.task-eni"
		})
		if !hasENI {
			t.Fatalf("requiresAttributes %+v lacks ecs.capability.task-eni", out.TaskDefinition.RequiresAttributes)
		}
	})

	t.Run("RevisionsIncrementNeverReused", func(t *testing.T) {
		for want := 1; want <= 3; want++ {
			if td := registerTD(t, c, "revs"); int(td.Revision) != want || aws.ToString(td.TaskDefinitionArn) != tdARN("revs", want) {
				t.Fatalf("revision %d, want %d", td.Revision, want)
			}
		}
		deregisterTD(t, c, "revs:3")
		testkit.Must(c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"revs:3"}}))(t)
		if td := registerTD(t, c, "revs"); td.Revision != 4 {
			t.Fatalf("after deleting revision 3, the next is %d, want 4", td.Revision)
		}
		// Families are independent.
		if td := registerTD(t, c, "revs-other"); td.Revision != 1 {
			t.Fatalf("new family starts at %d", td.Revision)
		}
	})

	t.Run("Fargate", func(t *testing.T) {
		reg := func(mode types.NetworkMode, cpu, memory *string) (*ecs.RegisterTaskDefinitionOutput, error) {
			return c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
				Family:                  aws.String("fg"),
				RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
				NetworkMode:             mode,
				Cpu:                     cpu,
				Memory:                  memory,
				ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox")}},
			})
		}
		_, err := reg(types.NetworkModeBridge, aws.String("256"), aws.String("512"))
		wantErr[*types.ClientException](t, err)
		wantMsg(t, err, "Fargate only supports network mode \u2018awsvpc\u2019.")
		_, err = reg("", aws.String("256"), aws.String("512"))
		wantErr[*types.ClientException](t, err)
		_, err = reg(types.NetworkModeAwsvpc, nil, aws.String("512"))
		wantErr[*types.ClientException](t, err)
		wantMsg(t, err, "Fargate requires that 'cpu' be defined at the task level.")
		_, err = reg(types.NetworkModeAwsvpc, aws.String("256"), nil)
		wantErr[*types.ClientException](t, err)
		wantMsg(t, err, "Fargate requires that 'memory' be defined at the task level.")
		for _, pair := range [][2]string{{"256", "4096"}, {"512", "512"}, {"1024", "1024"}, {"4096", "4096"}, {"300", "1024"}} {
			_, err = reg(types.NetworkModeAwsvpc, aws.String(pair[0]), aws.String(pair[1]))
			wantErr[*types.ClientException](t, err)
			wantMsg(t, err, "No Fargate configuration exists for given values.")
		}
		for _, pair := range [][2]string{{"256", "512"}, {"256", "2048"}, {"512", "4096"}, {"1024", "8192"}, {"4096", "30720"}, {"16384", "122880"}} {
			out := testkit.Must(reg(types.NetworkModeAwsvpc, aws.String(pair[0]), aws.String(pair[1])))(t)
			td := out.TaskDefinition
			if aws.ToString(td.Cpu) != pair[0] || aws.ToString(td.Memory) != pair[1] {
				t.Fatalf("cpu %s memory %s", aws.ToString(td.Cpu), aws.ToString(td.Memory))
			}
			if !slices.Contains(td.Compatibilities, types.CompatibilityFargate) || !slices.Equal(td.RequiresCompatibilities, []types.Compatibility{types.CompatibilityFargate}) {
				t.Fatalf("compatibilities %v requires %v", td.Compatibilities, td.RequiresCompatibilities)
			}
		}
		// The vCPU and GB forms are normalised to units and MiB.
		out := testkit.Must(reg(types.NetworkModeAwsvpc, aws.String("1 vCPU"), aws.String("2 GB")))(t)
		if aws.ToString(out.TaskDefinition.Cpu) != "1024" || aws.ToString(out.TaskDefinition.Memory) != "2048" {
			t.Fatalf("normalised cpu %s memory %s", aws.ToString(out.TaskDefinition.Cpu), aws.ToString(out.TaskDefinition.Memory))
		}
	})

	t.Run("ErrModelValidation", func(t *testing.T) {
		_, err := c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, "1 validation error detected: Value null at 'family' failed to satisfy constraint: Member must not be null")
		_, err = c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{Family: aws.String("nocontainers")}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "containerDefinitions")
		_, err = c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("badmode"),
			NetworkMode:          "overlay",
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "enum value set")
	})

	t.Run("ErrClientRules", func(t *testing.T) {
		cases := []struct {
			name string
			in   ecs.RegisterTaskDefinitionInput
			msg  string
		}{
			{"BlankFamily", ecs.RegisterTaskDefinitionInput{Family: aws.String(""), ContainerDefinitions: []types.ContainerDefinition{webContainer()}},
				"Family can not be blank."},
			{"FamilyChars", ecs.RegisterTaskDefinitionInput{Family: aws.String("a:b"), ContainerDefinitions: []types.ContainerDefinition{webContainer()}},
				"Family contains invalid characters."},
			{"NoContainers", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{}},
				"Container list cannot be empty."},
			{"NoImage", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Memory: aws.Int32(64)}}},
				"Container.image should not be null or empty."},
			{"NoMemory", ecs.RegisterTaskDefinitionInput{Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("i")}}},
				"Invalid setting for container 'a'. At least one of 'memory' or 'memoryReservation' must be specified."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				_, err := c.RegisterTaskDefinition(ctx(t), &in)
				wantErr[*types.ClientException](t, err)
				wantMsg(t, err, tc.msg)
			})
		}
	})

	t.Run("Tags", func(t *testing.T) {
		out := testkit.Must(c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("tagged"),
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
			Tags:                 tags("team", "blue"),
		}))(t)
		if tagMap(t, out.Tags)["team"] != "blue" {
			t.Fatalf("register tags %+v", out.Tags)
		}
		d := testkit.Must(c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("tagged")}))(t)
		if d.Tags != nil {
			t.Fatalf("tags without include: %+v", d.Tags)
		}
		d = testkit.Must(c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String("tagged"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		}))(t)
		if tagMap(t, d.Tags)["team"] != "blue" {
			t.Fatalf("tags with include: %+v", d.Tags)
		}
		d = testkit.Must(c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String("web:1"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		}))(t)
		if d.Tags == nil || len(d.Tags) != 0 {
			t.Fatalf("untagged with include: %+v", d.Tags)
		}
		_, err := c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("badtags"),
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
			Tags:                 tags("aws:cloudformation:stack-name", "x"),
		})
		wantErr[*types.InvalidParameterException](t, err)
		var many []types.Tag
		for i := range 51 {
			many = append(many, tags(fmt.Sprintf("k%d", i), "v")...)
		}
		_, err = c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("badtags"),
			ContainerDefinitions: []types.ContainerDefinition{webContainer()},
			Tags:                 many,
		})
		wantErr[*types.InvalidParameterException](t, err)
		out2 := testkit.Must(c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("badtags")}))(t)
		if len(out2.Families) != 0 {
			t.Fatal("a refused registration created a family")
		}
	})
}

func TestDescribeTaskDefinition(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	for range 3 {
		registerTD(t, c, "fam")
	}

	t.Run("FamilyIsLatestActive", func(t *testing.T) {
		if td := describeTD(t, c, "fam"); td.Revision != 3 {
			t.Fatalf("revision %d", td.Revision)
		}
		deregisterTD(t, c, "fam:3")
		if td := describeTD(t, c, "fam"); td.Revision != 2 {
			t.Fatalf("after deregistering 3: revision %d", td.Revision)
		}
		deregisterTD(t, c, "fam:1")
		if td := describeTD(t, c, "fam"); td.Revision != 2 {
			t.Fatalf("after deregistering 1: revision %d", td.Revision)
		}
		deregisterTD(t, c, tdARN("fam", 2))
		_, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("fam")})
		wantErr[*types.ClientException](t, err)
		wantMsg(t, err, msgTaskDefNotFound)
		// Each revision stays describable by revision.
		for rev := 1; rev <= 3; rev++ {
			if td := describeTD(t, c, fmt.Sprintf("fam:%d", rev)); td.Status != types.TaskDefinitionStatusInactive {
				t.Fatalf("fam:%d status %s", rev, td.Status)
			}
		}
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		for _, ref := range []string{
			"nofamily", "fam:99", "fam:0", "fam:x", "fam:-1", "bad name",
			tdARN("nofamily", 1),
			"arn:aws:ecs:eu-west-1:" + defaultAccount + ":task-definition/fam:1",
			"arn:aws:ecs:us-east-1:111111111111:task-definition/fam:1",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":task-definition/fam",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":cluster/fam",
		} {
			_, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
			wantErr[*types.ClientException](t, err)
			wantMsg(t, err, msgTaskDefNotFound)
		}
	})
}

func TestListTaskDefinitions(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	for range 3 {
		registerTD(t, c, "web")
	}
	for range 2 {
		registerTD(t, c, "webapp")
	}
	registerTD(t, c, "api")
	deregisterTD(t, c, "web:2")
	deregisterTD(t, c, "api:1")

	list := func(t *testing.T, in ecs.ListTaskDefinitionsInput) []string {
		t.Helper()
		p := ecs.NewListTaskDefinitionsPaginator(c, &in)
		var got []string
		for p.HasMorePages() {
			got = append(got, testkit.Must(p.NextPage(ctx(t)))(t).TaskDefinitionArns...)
			if len(got) > 100 {
				t.Fatal("paginator does not terminate")
			}
		}
		return got
	}

	t.Run("DefaultActiveAscending", func(t *testing.T) {
		want := []string{tdARN("web", 1), tdARN("web", 3), tdARN("webapp", 1), tdARN("webapp", 2)}
		got := testkit.Must(c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{}))(t).TaskDefinitionArns
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if got := list(t, ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(1)}); !slices.Equal(got, want) {
			t.Fatalf("paginated: got %v, want %v", got, want)
		}
	})

	t.Run("FamilyPrefixIsFullFamily", func(t *testing.T) {
		want := []string{tdARN("web", 1), tdARN("web", 3)}
		if got := list(t, ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), MaxResults: aws.Int32(1)}); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if got := list(t, ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("we")}); len(got) != 0 {
			t.Fatalf("a partial family matched: %v", got)
		}
	})

	t.Run("StatusInactive", func(t *testing.T) {
		want := []string{tdARN("api", 1), tdARN("web", 2)}
		if got := list(t, ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})

	t.Run("SortDesc", func(t *testing.T) {
		want := []string{tdARN("webapp", 2), tdARN("webapp", 1), tdARN("web", 3), tdARN("web", 1)}
		for _, size := range []int32{1, 3, 100} {
			if got := list(t, ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, MaxResults: aws.Int32(size)}); !slices.Equal(got, want) {
				t.Fatalf("maxResults %d: got %v, want %v", size, got, want)
			}
		}
		want = []string{tdARN("web", 3), tdARN("web", 1)}
		if got := list(t, ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, FamilyPrefix: aws.String("web"), MaxResults: aws.Int32(1)}); !slices.Equal(got, want) {
			t.Fatalf("family DESC: got %v, want %v", got, want)
		}
	})

	t.Run("ErrMaxResultsBounds", func(t *testing.T) {
		for _, n := range []int32{0, 101} {
			_, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(n)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})
}

func TestListTaskDefinitionFamilies(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	registerTD(t, c, "web")
	registerTD(t, c, "webapp")
	registerTD(t, c, "webapp")
	registerTD(t, c, "api")
	registerTD(t, c, "worker")
	deregisterTD(t, c, "api:1")
	deregisterTD(t, c, "webapp:1") // webapp:2 is still ACTIVE
	deregisterTD(t, c, "worker:1")
	testkit.Must(c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"worker:1"}}))(t)

	list := func(t *testing.T, in ecs.ListTaskDefinitionFamiliesInput) []string {
		t.Helper()
		p := ecs.NewListTaskDefinitionFamiliesPaginator(c, &in)
		var got []string
		for p.HasMorePages() {
			got = append(got, testkit.Must(p.NextPage(ctx(t)))(t).Families...)
			if len(got) > 100 {
				t.Fatal("paginator does not terminate")
			}
		}
		return got
	}
	cases := []struct {
		name   string
		in     ecs.ListTaskDefinitionFamiliesInput
		expect []string
	}{
		{"DefaultAll", ecs.ListTaskDefinitionFamiliesInput{}, []string{"api", "web", "webapp", "worker"}},
		{"All", ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusAll}, []string{"api", "web", "webapp", "worker"}},
		{"Active", ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusActive}, []string{"web", "webapp"}},
		{"Inactive", ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusInactive}, []string{"api", "worker"}},
		{"Prefix", ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("we")}, []string{"web", "webapp"}},
		{"PrefixWhole", ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("web")}, []string{"web", "webapp"}},
		{"PrefixNone", ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("x")}, nil},
		{"PrefixInactive", ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("w"), Status: types.TaskDefinitionFamilyStatusInactive}, []string{"worker"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int32{1, 2, 100} {
				in := tc.in
				in.MaxResults = aws.Int32(size)
				if got := list(t, in); !slices.Equal(got, tc.expect) {
					t.Fatalf("maxResults %d: got %v, want %v", size, got, tc.expect)
				}
			}
		})
	}

	t.Run("ErrMaxResultsBounds", func(t *testing.T) {
		for _, n := range []int32{0, 101} {
			_, err := c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(n)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})
}

func TestDeregisterTaskDefinition(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	registered := registerTD(t, c, "dereg")

	t.Run("BecomesInactive", func(t *testing.T) {
		td := deregisterTD(t, c, "dereg:1")
		if td.Status != types.TaskDefinitionStatusInactive || td.DeregisteredAt == nil {
			t.Fatalf("status %s deregisteredAt %v", td.Status, td.DeregisteredAt)
		}
		if aws.ToString(td.TaskDefinitionArn) != aws.ToString(registered.TaskDefinitionArn) || td.RegisteredAt.Sub(*registered.RegisteredAt).Abs() > time.Millisecond {
			t.Fatalf("identity changed: %+v", td)
		}
		d := describeTD(t, c, tdARN("dereg", 1))
		if d.Status != types.TaskDefinitionStatusInactive || d.DeregisteredAt.Sub(*td.DeregisteredAt).Abs() > time.Millisecond {
			t.Fatalf("described %s %v", d.Status, d.DeregisteredAt)
		}
		// Deregistering again returns the INACTIVE revision unchanged.
		again := deregisterTD(t, c, "dereg:1")
		if again.Status != types.TaskDefinitionStatusInactive || again.DeregisteredAt.Sub(*td.DeregisteredAt).Abs() > time.Millisecond {
			t.Fatalf("second deregister %s %v", again.Status, again.DeregisteredAt)
		}
	})

	t.Run("ErrNoRevision", func(t *testing.T) {
		registerTD(t, c, "norev")
		_, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("norev")})
		wantErr[*types.ClientException](t, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		for _, ref := range []string{"dereg:7", "ghost:1", tdARN("ghost", 1)} {
			_, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(ref)})
			wantErr[*types.ClientException](t, err)
			wantMsg(t, err, msgTaskDefNotFound)
		}
	})
}

func TestDeleteTaskDefinitions(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	registerTD(t, c, "del") // 1 stays ACTIVE
	registerTD(t, c, "del") // 2 is deregistered, then deleted
	deregisterTD(t, c, "del:2")

	t.Run("Outcomes", func(t *testing.T) {
		out := testkit.Must(c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{
			TaskDefinitions: []string{"del:1", tdARN("del", 2), "del:9", "del"},
		}))(t)
		if len(out.TaskDefinitions) != 1 {
			t.Fatalf("deleted %+v", out.TaskDefinitions)
		}
		td := out.TaskDefinitions[0]
		if td.Status != types.TaskDefinitionStatusDeleteInProgress || td.DeleteRequestedAt == nil || td.Revision != 2 {
			t.Fatalf("deleted revision %d status %s deleteRequestedAt %v", td.Revision, td.Status, td.DeleteRequestedAt)
		}
		if len(out.Failures) != 3 {
			t.Fatalf("failures %+v", out.Failures)
		}
		wantFailure := func(f types.Failure, arn, reason string) {
			t.Helper()
			if aws.ToString(f.Arn) != arn || aws.ToString(f.Reason) != reason {
				t.Fatalf("failure %s %q, want %s %q", aws.ToString(f.Arn), aws.ToString(f.Reason), arn, reason)
			}
		}
		wantFailure(out.Failures[0], tdARN("del", 1), "The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
		wantFailure(out.Failures[1], tdARN("del", 9), "The specified task definition does not exist.")
		wantFailure(out.Failures[2], "del", "The specified task definition identifier is invalid. Specify a valid revision or full ARN.")

		d := describeTD(t, c, "del:2")
		if d.Status != types.TaskDefinitionStatusDeleteInProgress {
			t.Fatalf("described %s", d.Status)
		}
		got := testkit.Must(c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusDeleteInProgress}))(t).TaskDefinitionArns
		if !slices.Equal(got, []string{tdARN("del", 2)}) {
			t.Fatalf("DELETE_IN_PROGRESS list %v", got)
		}
		got = testkit.Must(c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}))(t).TaskDefinitionArns
		if len(got) != 0 {
			t.Fatalf("INACTIVE list %v", got)
		}
		// Deleting it again keeps it DELETE_IN_PROGRESS.
		out = testkit.Must(c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"del:2"}}))(t)
		if len(out.TaskDefinitions) != 1 || out.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress {
			t.Fatalf("second delete %+v failures %+v", out.TaskDefinitions, out.Failures)
		}
		// A deleted revision cannot be deregistered back to INACTIVE.
		if td := deregisterTD(t, c, "del:2"); td.Status != types.TaskDefinitionStatusDeleteInProgress {
			t.Fatalf("deregister of a deleted revision: %s", td.Status)
		}
	})

	t.Run("ErrTooMany", func(t *testing.T) {
		refs := make([]string, 11)
		for i := range refs {
			refs[i] = fmt.Sprintf("del:%d", i+1)
		}
		_, err := c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: refs})
		wantErr[*types.InvalidParameterException](t, err)
	})
}

// TestTaskDefinitionTimestampsStable checks that registeredAt and
// deregisteredAt, as Register and Deregister answer them, never change
// afterwards: not when the record is read back (Describe), rewritten
// (Deregister, TagResource, DeleteTaskDefinitions) or reloaded by a restart.
func TestTaskDefinitionTimestampsStable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := startServer(t, options{dataDir: dir})
	c := defaultClient(m)
	const n = 20
	registered := map[int]time.Time{}
	deregistered := map[int]time.Time{}
	for range n {
		td := registerTD(t, c, "stamps")
		registered[int(td.Revision)] = *td.RegisteredAt
	}
	for rev := 1; rev <= n; rev += 2 {
		deregistered[rev] = *deregisterTD(t, c, fmt.Sprintf("stamps:%d", rev)).DeregisteredAt
	}
	for rev := 1; rev <= n; rev += 4 {
		testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(tdARN("stamps", rev)), Tags: tags("k", "v")}))(t)
		testkit.Must(c.DeleteTaskDefinitions(ctx(t), &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{fmt.Sprintf("stamps:%d", rev)}}))(t)
	}
	var drift []string
	check := func(when string, c *ecs.Client) {
		for rev := 1; rev <= n; rev++ {
			td := describeTD(t, c, fmt.Sprintf("stamps:%d", rev))
			if !td.RegisteredAt.Equal(registered[rev]) {
				drift = append(drift, fmt.Sprintf("%s: stamps:%d registeredAt %v, answered %v", when, rev, td.RegisteredAt.Format(time.RFC3339Nano), registered[rev].Format(time.RFC3339Nano)))
			}
			if want, ok := deregistered[rev]; ok && !td.DeregisteredAt.Equal(want) {
				drift = append(drift, fmt.Sprintf("%s: stamps:%d deregisteredAt %v, answered %v", when, rev, td.DeregisteredAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano)))
			}
		}
	}
	check("before restart", c)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	check("after restart", defaultClient(startServer(t, options{dataDir: dir})))
	if len(drift) > 0 {
		t.Fatalf("timestamps drifted between calls: %v", drift)
	}
}
