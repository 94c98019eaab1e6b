package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestUpdateCapacityProvider_ManagedScalingAssociation: turning managed
// scaling on for a provider associated with two clusters is refused (such a
// provider may serve one cluster only); on a single cluster it adds the
// scaling-policy attachment, and turning it off removes it.
func TestUpdateCapacityProvider_ManagedScalingAssociation(t *testing.T) {
	m := startServer(t, options{})
	c := accountClient(m, "210000000001")
	cx := ctx(t)
	createASGProvider(t, c, "cp-sync", false)
	for _, cl := range []string{"sync-a", "sync-b"} {
		testkit.Must(c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String(cl), CapacityProviders: []string{"cp-sync"}}))(t)
	}
	enable := func() error {
		_, err := c.UpdateCapacityProvider(cx, &ecs.UpdateCapacityProviderInput{
			Name: aws.String("cp-sync"),
			AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
				ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled},
			},
		})
		return err
	}
	wantErr[*types.InvalidParameterException](t, enable())

	testkit.Must(c.PutClusterCapacityProviders(cx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String("sync-b"), CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
	}))(t)
	if err := enable(); err != nil {
		t.Fatalf("enable on one cluster: %v", err)
	}
	attachments := func() []types.Attachment {
		d := testkit.Must(c.DescribeClusters(cx, &ecs.DescribeClustersInput{Clusters: []string{"sync-a"}, Include: []types.ClusterField{types.ClusterFieldAttachments}}))(t)
		return d.Clusters[0].Attachments
	}
	if a := attachments(); len(a) != 1 || aws.ToString(a[0].Type) != "as_policy" {
		t.Fatalf("attachments after enabling: %+v", a)
	}
	testkit.Must(c.UpdateCapacityProvider(cx, &ecs.UpdateCapacityProviderInput{
		Name: aws.String("cp-sync"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
			ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled},
		},
	}))(t)
	if a := attachments(); len(a) != 0 {
		t.Fatalf("attachments after disabling: %+v", a)
	}
}
