package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

const msgFargateASGMix = "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again."

// asgARN is an Auto Scaling group ARN named after the provider.
func asgARN(name string) string {
	return "arn:aws:autoscaling:us-east-1:" + defaultAccount + ":autoScalingGroup:0b4d5f9c-7c1e-4f6a-9e3a-1d2c3b4a5f6e:autoScalingGroupName/asg-" + name
}

// createASGProvider creates an Auto Scaling group provider, with managed
// scaling enabled or left out (disabled).
func createASGProvider(t *testing.T, c *ecs.Client, name string, managedScaling bool) *types.CapacityProvider {
	t.Helper()
	asg := &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN(name))}
	if managedScaling {
		asg.ManagedScaling = &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled}
	}
	out := testkit.Must(c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{Name: aws.String(name), AutoScalingGroupProvider: asg}))(t)
	return out.CapacityProvider
}

func cpARN(name string) string {
	return "arn:aws:ecs:us-east-1:" + defaultAccount + ":capacity-provider/" + name
}

// cpNames returns the names of capacity providers.
func cpNames(cps []types.CapacityProvider) []string {
	out := make([]string, len(cps))
	for i, cp := range cps {
		out[i] = aws.ToString(cp.Name)
	}
	return out
}

func TestDescribeCapacityProviders(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("BuiltinsWithNoNames", func(t *testing.T) {
		out := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{}))(t)
		if !slices.Equal(cpNames(out.CapacityProviders), []string{"FARGATE", "FARGATE_SPOT"}) || out.NextToken != nil {
			t.Fatalf("providers %v next %v", cpNames(out.CapacityProviders), out.NextToken)
		}
		for _, cp := range out.CapacityProviders {
			if cp.Status != types.CapacityProviderStatusActive || cp.Type != types.CapacityProviderTypeFargate ||
				aws.ToString(cp.CapacityProviderArn) != cpARN(aws.ToString(cp.Name)) || cp.AutoScalingGroupProvider != nil {
				t.Fatalf("built-in %+v", cp)
			}
			if cp.Tags != nil {
				t.Fatalf("tags shown without include TAGS: %+v", cp.Tags)
			}
		}
		out = testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{Include: []types.CapacityProviderField{types.CapacityProviderFieldTags}}))(t)
		for _, cp := range out.CapacityProviders {
			if cp.Tags == nil {
				t.Fatal("include TAGS should show tags: []")
			}
		}
	})

	want := []string{"FARGATE", "FARGATE_SPOT"}
	for i := range 12 {
		name := fmt.Sprintf("pg-%02d", i)
		createASGProvider(t, c, name, false)
		want = append(want, name)
	}
	createASGProvider(t, c, "pg-zz-deleted", false)
	testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("pg-zz-deleted")}))(t)

	t.Run("Pagination", func(t *testing.T) {
		for size := int32(1); size <= 10; size++ {
			var got []string
			in := &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(size)}
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("maxResults %d: pagination does not terminate", size)
				}
				out := testkit.Must(c.DescribeCapacityProviders(ctx(t), in))(t)
				if len(out.CapacityProviders) > int(size) {
					t.Fatalf("maxResults %d: page of %d", size, len(out.CapacityProviders))
				}
				got = append(got, cpNames(out.CapacityProviders)...)
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if !slices.Equal(got, want) {
				t.Fatalf("maxResults %d: got %v, want %v", size, got, want)
			}
		}
		out := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{}))(t)
		if len(out.CapacityProviders) != 10 || out.NextToken == nil {
			t.Fatalf("default page: %d providers, next %v", len(out.CapacityProviders), out.NextToken)
		}
	})

	t.Run("ErrMaxResultsBounds", func(t *testing.T) {
		for _, n := range []int32{0, 11} {
			_, err := c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(n)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("ErrTooManyNames", func(t *testing.T) {
		names := make([]string, 101)
		for i := range names {
			names[i] = fmt.Sprintf("n%d", i)
		}
		_, err := c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: names})
		wantErr[*types.InvalidParameterException](t, err)
		out := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: names[:100]}))(t)
		if len(out.Failures) != 100 {
			t.Fatalf("failures %d", len(out.Failures))
		}
	})

	t.Run("ByNameWithMissing", func(t *testing.T) {
		out := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{
			CapacityProviders: []string{"pg-01", cpARN("pg-02"), "FARGATE_SPOT", "nope", "pg-zz-deleted", cpARN("x/pg-03")},
		}))(t)
		if got := cpNames(out.CapacityProviders); !slices.Equal(got, []string{"pg-01", "pg-02", "FARGATE_SPOT", "pg-zz-deleted"}) {
			t.Fatalf("providers %v", got)
		}
		if cp := out.CapacityProviders[3]; cp.Status != types.CapacityProviderStatusInactive {
			t.Fatalf("deleted provider by name: %s", cp.Status)
		}
		if len(out.Failures) != 2 || aws.ToString(out.Failures[0].Arn) != cpARN("nope") || aws.ToString(out.Failures[0].Reason) != "MISSING" ||
			aws.ToString(out.Failures[1].Arn) != cpARN("x/pg-03") {
			t.Fatalf("failures %+v", out.Failures)
		}
	})
}

func TestCreateCapacityProvider(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("Defaults", func(t *testing.T) {
		cp := createASGProvider(t, c, "plain", false)
		if aws.ToString(cp.CapacityProviderArn) != cpARN("plain") || cp.Status != types.CapacityProviderStatusActive ||
			cp.Type != types.CapacityProviderTypeEc2Autoscaling {
			t.Fatalf("%+v", cp)
		}
		asg := cp.AutoScalingGroupProvider
		if aws.ToString(asg.AutoScalingGroupArn) != asgARN("plain") {
			t.Fatalf("group ARN %s", aws.ToString(asg.AutoScalingGroupArn))
		}
		ms := asg.ManagedScaling
		if ms == nil || ms.Status != types.ManagedScalingStatusDisabled || aws.ToInt32(ms.TargetCapacity) != 100 ||
			aws.ToInt32(ms.MinimumScalingStepSize) != 1 || aws.ToInt32(ms.MaximumScalingStepSize) != 10000 ||
			aws.ToInt32(ms.InstanceWarmupPeriod) != 300 {
			t.Fatalf("managed scaling defaults %+v", ms)
		}
		if asg.ManagedTerminationProtection != types.ManagedTerminationProtectionDisabled {
			t.Fatalf("managedTerminationProtection %q", asg.ManagedTerminationProtection)
		}
		if asg.ManagedDraining != types.ManagedDrainingEnabled {
			t.Fatalf("managedDraining %q", asg.ManagedDraining)
		}
		if cp.Tags == nil || len(cp.Tags) != 0 {
			t.Fatalf("tags %+v", cp.Tags)
		}
		d := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"plain"}}))(t)
		if got := d.CapacityProviders[0].AutoScalingGroupProvider.ManagedScaling; aws.ToInt32(got.TargetCapacity) != 100 || got.Status != types.ManagedScalingStatusDisabled {
			t.Fatalf("described managed scaling %+v", got)
		}
	})

	t.Run("ManagedScalingEnabled", func(t *testing.T) {
		out := testkit.Must(c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name: aws.String("scaled"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
				AutoScalingGroupArn:          aws.String(asgARN("scaled")),
				ManagedScaling:               &types.ManagedScaling{TargetCapacity: aws.Int32(80), MaximumScalingStepSize: aws.Int32(5)},
				ManagedTerminationProtection: types.ManagedTerminationProtectionEnabled,
				ManagedDraining:              types.ManagedDrainingDisabled,
			},
		}))(t)
		asg := out.CapacityProvider.AutoScalingGroupProvider
		ms := asg.ManagedScaling
		if ms.Status != types.ManagedScalingStatusEnabled || aws.ToInt32(ms.TargetCapacity) != 80 ||
			aws.ToInt32(ms.MinimumScalingStepSize) != 1 || aws.ToInt32(ms.MaximumScalingStepSize) != 5 || aws.ToInt32(ms.InstanceWarmupPeriod) != 300 {
			t.Fatalf("managed scaling %+v", ms)
		}
		if asg.ManagedTerminationProtection != types.ManagedTerminationProtectionEnabled || asg.ManagedDraining != types.ManagedDrainingDisabled {
			t.Fatalf("asg %+v", asg)
		}
	})

	t.Run("ErrTerminationProtectionWithoutScaling", func(t *testing.T) {
		for _, ms := range []*types.ManagedScaling{nil, {Status: types.ManagedScalingStatusDisabled}} {
			_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
				Name: aws.String("protected"),
				AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
					AutoScalingGroupArn:          aws.String(asgARN("protected")),
					ManagedScaling:               ms,
					ManagedTerminationProtection: types.ManagedTerminationProtectionEnabled,
				},
			})
			wantErr[*types.InvalidParameterException](t, err)
			wantMsgContains(t, err, "managed termination protection")
		}
	})

	t.Run("ErrInvalidName", func(t *testing.T) {
		for _, name := range []string{"awsprov", "AWS-x", "ecs_x", "ECSx", "fargatex", "Fargate-2", "FARGATE", "FARGATE_SPOT", "bad name", "bad:name"} {
			_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
				Name:                     aws.String(name),
				AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("n"))},
			})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("ErrDuplicateName", func(t *testing.T) {
		createASGProvider(t, c, "dup", false)
		_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("dup"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("dup-other"))},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "already exists")
	})

	t.Run("ErrASGArnReused", func(t *testing.T) {
		createASGProvider(t, c, "owner", false)
		_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("thief"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("owner"))},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "already being used")
		// Once the owner is deleted the group may back a new provider, and
		// the deleted name may be used again.
		testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("owner")}))(t)
		testkit.Must(c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("thief"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("owner"))},
		}))(t)
		cp := testkit.Must(c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("owner"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("owner-2"))},
		}))(t).CapacityProvider
		if cp.Status != types.CapacityProviderStatusActive || cp.UpdateStatus != "" {
			t.Fatalf("re-created provider: %s %s", cp.Status, cp.UpdateStatus)
		}
	})

	t.Run("ErrInvalidASGArn", func(t *testing.T) {
		for _, arn := range []string{"nope", "arn:aws:ec2:us-east-1:" + defaultAccount + ":instance/i-1", ""} {
			_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
				Name:                     aws.String("badarn"),
				AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(arn)},
			})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("ErrModelBounds", func(t *testing.T) {
		cases := []struct {
			name string
			ms   types.ManagedScaling
			msg  string
		}{
			{"target0", types.ManagedScaling{TargetCapacity: aws.Int32(0)},
				"1 validation error detected: Value '0' at 'autoScalingGroupProvider.managedScaling.targetCapacity' failed to satisfy constraint: Member must have value greater than or equal to 1"},
			{"target101", types.ManagedScaling{TargetCapacity: aws.Int32(101)},
				"1 validation error detected: Value '101' at 'autoScalingGroupProvider.managedScaling.targetCapacity' failed to satisfy constraint: Member must have value less than or equal to 100"},
			{"step0", types.ManagedScaling{MinimumScalingStepSize: aws.Int32(0)}, ""},
			{"step10001", types.ManagedScaling{MaximumScalingStepSize: aws.Int32(10001)}, ""},
			{"warmupNegative", types.ManagedScaling{InstanceWarmupPeriod: aws.Int32(-1)}, ""},
			{"minOverMax", types.ManagedScaling{MinimumScalingStepSize: aws.Int32(10), MaximumScalingStepSize: aws.Int32(5)}, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ms := tc.ms
				_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
					Name:                     aws.String("bounds"),
					AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("bounds")), ManagedScaling: &ms},
				})
				wantErr[*types.InvalidParameterException](t, err)
				if tc.msg != "" {
					wantMsg(t, err, tc.msg)
				}
			})
		}
	})

	t.Run("ErrMissingMembers", func(t *testing.T) {
		_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
		_, err = c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{Name: aws.String("noasg")})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrManagedInstancesUnsupported", func(t *testing.T) {
		_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name: aws.String("mi"), Cluster: aws.String("default"),
			ManagedInstancesProvider: &types.CreateManagedInstancesProviderConfiguration{
				InfrastructureRoleArn: aws.String("arn:aws:iam::" + defaultAccount + ":role/infra"),
				InstanceLaunchTemplate: &types.InstanceLaunchTemplate{
					Ec2InstanceProfileArn: aws.String("arn:aws:iam::" + defaultAccount + ":instance-profile/p"),
					NetworkConfiguration:  &types.ManagedInstancesNetworkConfiguration{Subnets: []string{"subnet-1"}},
				},
			},
		})
		wantErr[*types.UnsupportedFeatureException](t, err)
	})

	t.Run("Tags", func(t *testing.T) {
		out := testkit.Must(c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("tagged"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("tagged"))},
			Tags:                     tags("env", "prod"),
		}))(t)
		if tagMap(t, out.CapacityProvider.Tags)["env"] != "prod" {
			t.Fatalf("tags %+v", out.CapacityProvider.Tags)
		}
		d := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"tagged"}}))(t)
		if d.CapacityProviders[0].Tags != nil {
			t.Fatalf("tags without include: %+v", d.CapacityProviders[0].Tags)
		}
		d = testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{
			CapacityProviders: []string{"tagged"}, Include: []types.CapacityProviderField{types.CapacityProviderFieldTags},
		}))(t)
		if tagMap(t, d.CapacityProviders[0].Tags)["env"] != "prod" {
			t.Fatalf("tags with include: %+v", d.CapacityProviders[0].Tags)
		}
		_, err := c.CreateCapacityProvider(ctx(t), &ecs.CreateCapacityProviderInput{
			Name:                     aws.String("badtag"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asgARN("badtag"))},
			Tags:                     tags("aws:x", "y"),
		})
		wantErr[*types.InvalidParameterException](t, err)
	})
}

func TestUpdateCapacityProvider(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	createASGProvider(t, c, "up", false)

	t.Run("MergesAndCompletes", func(t *testing.T) {
		out := testkit.Must(c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name: aws.String("up"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
				ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(75)},
			},
		}))(t)
		cp := out.CapacityProvider
		if cp.UpdateStatus != types.CapacityProviderUpdateStatusUpdateComplete {
			t.Fatalf("updateStatus %q", cp.UpdateStatus)
		}
		ms := cp.AutoScalingGroupProvider.ManagedScaling
		if ms.Status != types.ManagedScalingStatusEnabled || aws.ToInt32(ms.TargetCapacity) != 75 ||
			aws.ToInt32(ms.MaximumScalingStepSize) != 10000 || aws.ToInt32(ms.InstanceWarmupPeriod) != 300 {
			t.Fatalf("managed scaling %+v", ms)
		}
		if cp.AutoScalingGroupProvider.ManagedDraining != types.ManagedDrainingEnabled ||
			aws.ToString(cp.AutoScalingGroupProvider.AutoScalingGroupArn) != asgARN("up") {
			t.Fatalf("untouched members changed: %+v", cp.AutoScalingGroupProvider)
		}
		// Only what the update names changes.
		out = testkit.Must(c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name: aws.String(cpARN("up")),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
				ManagedTerminationProtection: types.ManagedTerminationProtectionEnabled,
				ManagedDraining:              types.ManagedDrainingDisabled,
				ManagedScaling:               &types.ManagedScaling{InstanceWarmupPeriod: aws.Int32(60)},
			},
		}))(t)
		asg := out.CapacityProvider.AutoScalingGroupProvider
		if aws.ToInt32(asg.ManagedScaling.TargetCapacity) != 75 || aws.ToInt32(asg.ManagedScaling.InstanceWarmupPeriod) != 60 ||
			asg.ManagedScaling.Status != types.ManagedScalingStatusEnabled ||
			asg.ManagedTerminationProtection != types.ManagedTerminationProtectionEnabled || asg.ManagedDraining != types.ManagedDrainingDisabled {
			t.Fatalf("after second update: %+v %+v", asg, asg.ManagedScaling)
		}
		d := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"up"}}))(t)
		if got := d.CapacityProviders[0]; got.UpdateStatus != types.CapacityProviderUpdateStatusUpdateComplete ||
			aws.ToInt32(got.AutoScalingGroupProvider.ManagedScaling.InstanceWarmupPeriod) != 60 {
			t.Fatalf("described %+v", got)
		}
	})

	t.Run("ErrDisablingScalingUnderTerminationProtection", func(t *testing.T) {
		_, err := c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name: aws.String("up"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
				ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled},
			},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name:                     aws.String("nope"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedDraining: types.ManagedDrainingEnabled},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrFargate", func(t *testing.T) {
		_, err := c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name:                     aws.String("FARGATE"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedDraining: types.ManagedDrainingEnabled},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrModelBounds", func(t *testing.T) {
		_, err := c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name: aws.String("up"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
				ManagedScaling: &types.ManagedScaling{TargetCapacity: aws.Int32(0)},
			},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})
}

func TestDeleteCapacityProvider(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("ErrWhileAssociated", func(t *testing.T) {
		createASGProvider(t, c, "busy", false)
		testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("holder"), CapacityProviders: []string{"busy"}}))(t)
		_, err := c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("busy")})
		wantErr[*types.ClientException](t, err)
		wantMsg(t, err, "The capacity provider cannot be deleted because it is associated with cluster: holder. Remove the capacity provider from the cluster and try again.")
		testkit.Must(c.PutClusterCapacityProviders(ctx(t), &ecs.PutClusterCapacityProvidersInput{
			Cluster: aws.String("holder"), CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
		}))(t)
		testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("busy")}))(t)
	})

	t.Run("SuccessInactiveDeleteComplete", func(t *testing.T) {
		createASGProvider(t, c, "bye", false)
		out := testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String(cpARN("bye"))}))(t)
		cp := out.CapacityProvider
		if cp.Status != types.CapacityProviderStatusInactive || cp.UpdateStatus != types.CapacityProviderUpdateStatusDeleteComplete ||
			aws.ToString(cp.Name) != "bye" {
			t.Fatalf("%+v", cp)
		}
		d := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"bye"}}))(t)
		if len(d.CapacityProviders) != 1 || d.CapacityProviders[0].Status != types.CapacityProviderStatusInactive {
			t.Fatalf("described %+v failures %+v", d.CapacityProviders, d.Failures)
		}
		all := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{}))(t)
		if slices.Contains(cpNames(all.CapacityProviders), "bye") {
			t.Fatal("an INACTIVE provider is listed")
		}
		// A deleted provider cannot be deleted, updated or associated again.
		_, err := c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("bye")})
		wantErr[*types.ClientException](t, err)
		_, err = c.UpdateCapacityProvider(ctx(t), &ecs.UpdateCapacityProviderInput{
			Name: aws.String("bye"), AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedDraining: types.ManagedDrainingEnabled},
		})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("x"), CapacityProviders: []string{"bye"}})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("never")})
		wantErr[*types.ClientException](t, err)
	})

	t.Run("ErrFargate", func(t *testing.T) {
		for _, name := range []string{"FARGATE", "FARGATE_SPOT", cpARN("FARGATE")} {
			_, err := c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String(name)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})
}

func TestPutClusterCapacityProviders(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	createASGProvider(t, c, "asg-a", false)
	createASGProvider(t, c, "asg-b", false)
	createASGProvider(t, c, "managed", true)
	createCluster(t, c, "pcp")
	createCluster(t, c, "other")
	createCluster(t, c, "inactive")
	deleteCluster(t, c, "inactive")

	put := func(cluster string, providers []string, strategy ...types.CapacityProviderStrategyItem) (*ecs.PutClusterCapacityProvidersOutput, error) {
		if strategy == nil {
			strategy = []types.CapacityProviderStrategyItem{}
		}
		if providers == nil {
			providers = []string{}
		}
		return c.PutClusterCapacityProviders(ctx(t), &ecs.PutClusterCapacityProvidersInput{
			Cluster: aws.String(cluster), CapacityProviders: providers, DefaultCapacityProviderStrategy: strategy,
		})
	}
	mustPut := func(cluster string, providers []string, strategy ...types.CapacityProviderStrategyItem) *ecs.PutClusterCapacityProvidersOutput {
		t.Helper()
		out, err := put(cluster, providers, strategy...)
		if err != nil {
			t.Fatalf("PutClusterCapacityProviders %s %v: %v", cluster, providers, err)
		}
		return out
	}
	item := func(name string, base, weight int32) types.CapacityProviderStrategyItem {
		return types.CapacityProviderStrategyItem{CapacityProvider: aws.String(name), Base: base, Weight: weight}
	}

	t.Run("Fargate", func(t *testing.T) {
		out := mustPut("pcp", []string{"FARGATE", "FARGATE_SPOT"}, item("FARGATE", 2, 1), item("FARGATE_SPOT", 0, 3))
		cl := out.Cluster
		if !slices.Equal(cl.CapacityProviders, []string{"FARGATE", "FARGATE_SPOT"}) {
			t.Fatalf("providers %v", cl.CapacityProviders)
		}
		wantStrategy(t, cl.DefaultCapacityProviderStrategy, "FARGATE", 2, 1, "FARGATE_SPOT", 0, 3)
		if aws.ToString(cl.AttachmentsStatus) != "UPDATE_COMPLETE" || len(cl.Attachments) != 0 {
			t.Fatalf("attachmentsStatus %q attachments %+v", aws.ToString(cl.AttachmentsStatus), cl.Attachments)
		}
		d := describeCluster(t, c, "pcp")
		if !slices.Equal(d.CapacityProviders, []string{"FARGATE", "FARGATE_SPOT"}) {
			t.Fatalf("described providers %v", d.CapacityProviders)
		}
		wantStrategy(t, d.DefaultCapacityProviderStrategy, "FARGATE", 2, 1, "FARGATE_SPOT", 0, 3)
	})

	t.Run("AllWeightsZeroStoredAsIs", func(t *testing.T) {
		// The all-zero check happens when a strategy is used (spec §3.2).
		out := mustPut("pcp", []string{"FARGATE"}, item("FARGATE", 0, 0))
		wantStrategy(t, out.Cluster.DefaultCapacityProviderStrategy, "FARGATE", 0, 0)
	})

	t.Run("ErrUnknownProvider", func(t *testing.T) {
		_, err := put("pcp", []string{"FARGATE", "ghost"})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "ghost")
	})

	t.Run("ErrStrategyNamesUnassociatedProvider", func(t *testing.T) {
		_, err := put("pcp", []string{"FARGATE"}, item("FARGATE_SPOT", 0, 1))
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
	})

	t.Run("ErrTwoBases", func(t *testing.T) {
		_, err := put("pcp", []string{"FARGATE", "FARGATE_SPOT"}, item("FARGATE", 1, 1), item("FARGATE_SPOT", 1, 1))
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrFargateASGMix", func(t *testing.T) {
		_, err := put("pcp", []string{"FARGATE", "asg-a"}, item("FARGATE", 0, 1), item("asg-a", 0, 1))
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgFargateASGMix)
		// Associating both kinds is fine; only a strategy may not mix them.
		mustPut("pcp", []string{"FARGATE", "asg-a"}, item("asg-a", 0, 1))
	})

	t.Run("ErrStrategyShape", func(t *testing.T) {
		_, err := put("pcp", []string{"FARGATE"}, item("FARGATE", 0, 1), item("FARGATE", 0, 2))
		wantErr[*types.InvalidParameterException](t, err)
		_, err = put("pcp", []string{"FARGATE"}, item(cpARN("FARGATE"), 0, 1))
		wantErr[*types.InvalidParameterException](t, err)
		_, err = put("pcp", []string{"FARGATE"}, item("FARGATE", 0, 1001))
		wantErr[*types.InvalidParameterException](t, err)
		_, err = put("pcp", []string{"FARGATE", "FARGATE"})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ManagedScalingProviderOnOneClusterOnly", func(t *testing.T) {
		out := mustPut("pcp", []string{"managed", "asg-a"}, item("managed", 1, 1))
		if aws.ToString(out.Cluster.AttachmentsStatus) != "UPDATE_COMPLETE" {
			t.Fatalf("attachmentsStatus %q", aws.ToString(out.Cluster.AttachmentsStatus))
		}
		if len(out.Cluster.Attachments) != 1 {
			t.Fatalf("attachments %+v", out.Cluster.Attachments)
		}
		a := out.Cluster.Attachments[0]
		details := map[string]string{}
		for _, kv := range a.Details {
			details[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		if aws.ToString(a.Type) != "as_policy" || details["capacityProviderName"] != "managed" || details["scalingPolicyName"] == "" {
			t.Fatalf("attachment %+v details %v", a, details)
		}
		d := describeCluster(t, c, "pcp", types.ClusterFieldAttachments)
		if len(d.Attachments) != 1 || aws.ToString(d.Attachments[0].Id) != aws.ToString(a.Id) || aws.ToString(d.AttachmentsStatus) != "UPDATE_COMPLETE" {
			t.Fatalf("described attachments %+v status %q", d.Attachments, aws.ToString(d.AttachmentsStatus))
		}

		_, err := put("other", []string{"managed"})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "already associated with cluster 'pcp'")
		// A provider without managed scaling may serve several clusters.
		mustPut("other", []string{"asg-a"})
		// Re-putting the same provider on its own cluster is fine.
		mustPut("pcp", []string{"managed", "asg-a"}, item("managed", 1, 1))
	})

	t.Run("ClearWithEmptyLists", func(t *testing.T) {
		out := mustPut("pcp", []string{})
		cl := out.Cluster
		if cl.CapacityProviders == nil || len(cl.CapacityProviders) != 0 || cl.DefaultCapacityProviderStrategy == nil || len(cl.DefaultCapacityProviderStrategy) != 0 {
			t.Fatalf("providers %v strategy %v", cl.CapacityProviders, cl.DefaultCapacityProviderStrategy)
		}
		if len(cl.Attachments) != 0 {
			t.Fatalf("attachments %+v", cl.Attachments)
		}
		// The managed provider is free for the other cluster now.
		mustPut("other", []string{"managed"})
		mustPut("other", []string{})
	})

	t.Run("ErrTooManyProviders", func(t *testing.T) {
		providers := []string{"FARGATE", "FARGATE_SPOT"}
		for i := range 19 {
			name := fmt.Sprintf("many-%02d", i)
			createASGProvider(t, c, name, false)
			providers = append(providers, name)
		}
		mustPut("pcp", providers[:20])
		_, err := put("pcp", providers)
		wantErr[*types.LimitExceededException](t, err)
		if d := describeCluster(t, c, "pcp"); len(d.CapacityProviders) != 20 {
			t.Fatalf("a refused put changed the cluster: %d providers", len(d.CapacityProviders))
		}
		mustPut("pcp", nil)
	})

	t.Run("ErrClusterNotFound", func(t *testing.T) {
		_, err := put("nope", []string{"FARGATE"})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
	})

	t.Run("ErrInactiveCluster", func(t *testing.T) {
		_, err := put("inactive", []string{"FARGATE"})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
	})

	t.Run("ErrMissingMembers", func(t *testing.T) {
		_, err := c.PutClusterCapacityProviders(ctx(t), &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("pcp")}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "Member must not be null")
	})
}
