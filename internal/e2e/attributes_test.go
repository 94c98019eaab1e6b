package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The success paths of the attribute operations need a container instance,
// which no implemented operation creates yet: they are covered by the
// control package's tests (internal/control/control_test.go), which seed an
// instance record in the store.
func TestAttributes(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	createCluster(t, c, "attrs")
	createCluster(t, c, "dead")
	deleteCluster(t, c, "dead")
	const instanceID = "0123456789abcdef0123456789abcdef"
	instanceARN := "arn:aws:ecs:us-east-1:" + defaultAccount + ":container-instance/attrs/" + instanceID

	attr := func(name, value, target string) types.Attribute {
		a := types.Attribute{Name: aws.String(name), TargetId: aws.String(target)}
		if value != "" {
			a.Value = aws.String(value)
		}
		return a
	}

	t.Run("ListEmpty", func(t *testing.T) {
		out := testkit.Must(c.ListAttributes(ctx(t), &ecs.ListAttributesInput{
			Cluster: aws.String("attrs"), TargetType: types.TargetTypeContainerInstance,
		}))(t)
		if len(out.Attributes) != 0 || out.NextToken != nil {
			t.Fatalf("%+v", out)
		}
		p := ecs.NewListAttributesPaginator(c, &ecs.ListAttributesInput{
			Cluster: aws.String(clusterARN("attrs")), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack"),
		})
		for p.HasMorePages() {
			if page := testkit.Must(p.NextPage(ctx(t)))(t); len(page.Attributes) != 0 {
				t.Fatalf("%+v", page.Attributes)
			}
		}
	})

	t.Run("ErrTargetNotFound", func(t *testing.T) {
		for _, target := range []string{instanceID, instanceARN} {
			_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{
				Cluster: aws.String("attrs"), Attributes: []types.Attribute{attr("stack", "prod", target)},
			})
			wantErr[*types.TargetNotFoundException](t, err)
			wantMsg(t, err, "Could not find target "+target+". You can view your available container instances with ListContainerInstances.")
			_, err = c.DeleteAttributes(ctx(t), &ecs.DeleteAttributesInput{
				Cluster: aws.String("attrs"), Attributes: []types.Attribute{attr("stack", "", target)},
			})
			wantErr[*types.TargetNotFoundException](t, err)
		}
		// An instance ARN of another cluster is not a target of this one.
		other := "arn:aws:ecs:us-east-1:" + defaultAccount + ":container-instance/elsewhere/" + instanceID
		_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{
			Cluster: aws.String("attrs"), Attributes: []types.Attribute{attr("stack", "prod", other)},
		})
		wantErr[*types.TargetNotFoundException](t, err)
	})

	t.Run("ErrClusterNotFound", func(t *testing.T) {
		_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{
			Cluster: aws.String("nope"), Attributes: []types.Attribute{attr("stack", "prod", instanceID)},
		})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
		_, err = c.DeleteAttributes(ctx(t), &ecs.DeleteAttributesInput{
			Cluster: aws.String("nope"), Attributes: []types.Attribute{attr("stack", "", instanceID)},
		})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{Cluster: aws.String("nope"), TargetType: types.TargetTypeContainerInstance})
		wantErr[*types.ClusterNotFoundException](t, err)
		wantMsg(t, err, msgClusterNotFound)
		// No cluster means "default", which does not exist here.
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{TargetType: types.TargetTypeContainerInstance})
		wantErr[*types.ClusterNotFoundException](t, err)
	})

	t.Run("ErrInactiveCluster", func(t *testing.T) {
		_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{
			Cluster: aws.String("dead"), Attributes: []types.Attribute{attr("stack", "prod", instanceID)},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
		_, err = c.DeleteAttributes(ctx(t), &ecs.DeleteAttributesInput{
			Cluster: aws.String("dead"), Attributes: []types.Attribute{attr("stack", "", instanceID)},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{Cluster: aws.String("dead"), TargetType: types.TargetTypeContainerInstance})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
	})

	t.Run("ErrInvalidAttributes", func(t *testing.T) {
		cases := map[string]types.Attribute{
			"EcsPrefix":        attr("ecs.os-type", "linux", instanceID),
			"EcsPrefixUpper":   attr("ECS.custom", "x", instanceID),
			"BadNameChars":     attr("bad*name", "x", instanceID),
			"LeadingSpace":     attr(" stack", "x", instanceID),
			"BadValueChars":    attr("stack", "a*b", instanceID),
			"NoTarget":         {Name: aws.String("stack"), Value: aws.String("x")},
			"OtherTargetType":  {Name: aws.String("stack"), TargetId: aws.String(instanceID), TargetType: "task"},
			"NameTooLong":      attr(strings.Repeat("a", 129), "x", instanceID),
			"EmptyTargetValue": attr("stack", "x", ""),
		}
		for name, a := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{Cluster: aws.String("attrs"), Attributes: []types.Attribute{a}})
				wantErr[*types.InvalidParameterException](t, err)
			})
		}
		_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{
			Cluster: aws.String("attrs"), Attributes: []types.Attribute{attr("ecs.instance-type", "", instanceID)},
		})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, "Attributes beginning with 'ecs.' are managed by Amazon ECS and cannot be changed.")
		_, err = c.DeleteAttributes(ctx(t), &ecs.DeleteAttributesInput{
			Cluster: aws.String("attrs"), Attributes: []types.Attribute{attr("ecs.instance-type", "", instanceID)},
		})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrTooManyInOneCall", func(t *testing.T) {
		var attrs []types.Attribute
		for i := range 11 {
			attrs = append(attrs, attr("a"+string(rune('a'+i)), "v", instanceID))
		}
		_, err := c.PutAttributes(ctx(t), &ecs.PutAttributesInput{Cluster: aws.String("attrs"), Attributes: attrs})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.DeleteAttributes(ctx(t), &ecs.DeleteAttributesInput{Cluster: aws.String("attrs"), Attributes: attrs})
		wantErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ErrListFilters", func(t *testing.T) {
		_, err := c.ListAttributes(ctx(t), &ecs.ListAttributesInput{
			Cluster: aws.String("attrs"), TargetType: types.TargetTypeContainerInstance, AttributeValue: aws.String("x"),
		})
		wantErr[*types.InvalidParameterException](t, err)
		for _, n := range []int32{0, 101} {
			_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{
				Cluster: aws.String("attrs"), TargetType: types.TargetTypeContainerInstance, MaxResults: aws.Int32(n),
			})
			wantErr[*types.InvalidParameterException](t, err)
		}
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{Cluster: aws.String("attrs"), TargetType: "task"})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{Cluster: aws.String("attrs")}, skipValidation)
		wantErr[*types.InvalidParameterException](t, err)
		wantMsgContains(t, err, "Value null at 'targetType'")
	})
}
