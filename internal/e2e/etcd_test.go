package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/store/etcd/etcdtest"
)

// TestEtcdStore_ServerOnEtcd runs the server on an in-process etcd: writes
// from concurrent clients, a restart of the server on the same etcd, and
// every acknowledged write read back.
func TestEtcdStore_ServerOnEtcd(t *testing.T) {
	endpoints := etcdtest.Start(t)
	o := options{store: "etcd", etcd: endpoints}
	m := startServer(t, o)
	c := defaultClient(m)
	cx := ctx(t)

	if _, err := c.CreateCluster(cx, &ecs.CreateClusterInput{ClusterName: aws.String("on-etcd")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 5; i++ {
				_, err := c.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
					Family: aws.String("etcd-fam"),
					ContainerDefinitions: []types.ContainerDefinition{{
						Name: aws.String("c"), Image: aws.String("busybox"), Memory: aws.Int32(64),
					}},
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := startServer(t, o)
	c2 := defaultClient(m2)
	d, err := c2.DescribeClusters(cx, &ecs.DescribeClustersInput{Clusters: []string{"on-etcd"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].Status) != "ACTIVE" {
		t.Fatalf("cluster after restart: %+v failures %+v", d.Clusters, d.Failures)
	}
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(c2, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("etcd-fam"), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(cx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.TaskDefinitionArns...)
	}
	if len(arns) != 40 {
		t.Fatalf("%d revisions after restart, want 40", len(arns))
	}
	for i, arn := range arns {
		if want := fmt.Sprintf("arn:aws:ecs:us-east-1:000000000000:task-definition/etcd-fam:%d", i+1); arn != want {
			t.Fatalf("arns[%d] = %s, want %s", i, arn, want)
		}
	}
	td, err := c2.RegisterTaskDefinition(cx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("etcd-fam"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("c"), Image: aws.String("busybox"), Memory: aws.Int32(64)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := td.TaskDefinition.Revision; got != 41 {
		t.Fatalf("next revision %d, want 41", got)
	}
}
