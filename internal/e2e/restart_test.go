package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

// TestRestartKeepsAcknowledgedWrites runs many concurrent writes, closes the
// server cleanly, starts a new one on the same data directory and checks
// that every write that got an answer is there. (A restart without a clean
// Close cannot be tested in-process: bolt's file lock is held until Close.)
func TestRestartKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	const (
		ops      = 200
		workers  = 16
		families = 5
	)
	dir := t.TempDir()
	m1 := startServer(t, options{dataDir: dir})
	// The writers use their own transport so that its idle connections can
	// be closed before the server is: a connection the transport dialled
	// but never used is "new" to the server, and http.Server.Shutdown waits
	// 5 s before it treats such a connection as idle.
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	t.Cleanup(tr.CloseIdleConnections)
	c1 := ecs.New(ecs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(m1.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: tr},
	})

	var (
		mu        sync.Mutex
		clusters  = map[string]string{} // name → status acknowledged last
		revisions = map[string][]int{}  // family → acknowledged revisions
		arns      = map[string]string{} // task definition ARN → family
		settings  = map[string]string{} // principal → value
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range work {
				c := ctx(t)
				switch i % 4 {
				case 0:
					name := fmt.Sprintf("c-%03d", i)
					out, err := c1.CreateCluster(c, &ecs.CreateClusterInput{ClusterName: aws.String(name), Tags: tags("i", fmt.Sprint(i))})
					if err != nil {
						t.Errorf("create %s: %v", name, err)
						continue
					}
					status := aws.ToString(out.Cluster.Status)
					if i%8 == 0 {
						del, err := c1.DeleteCluster(c, &ecs.DeleteClusterInput{Cluster: aws.String(name)})
						if err != nil {
							t.Errorf("delete %s: %v", name, err)
							continue
						}
						status = aws.ToString(del.Cluster.Status)
					}
					mu.Lock()
					clusters[name] = status
					mu.Unlock()
				case 1, 2:
					family := fmt.Sprintf("fam-%d", i%families)
					out, err := c1.RegisterTaskDefinition(c, &ecs.RegisterTaskDefinitionInput{
						Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{webContainer()},
					})
					if err != nil {
						t.Errorf("register %s: %v", family, err)
						continue
					}
					mu.Lock()
					revisions[family] = append(revisions[family], int(out.TaskDefinition.Revision))
					arns[aws.ToString(out.TaskDefinition.TaskDefinitionArn)] = family
					mu.Unlock()
				case 3:
					principal := fmt.Sprintf("arn:aws:iam::%s:user/u-%03d", defaultAccount, i)
					value := []string{"enabled", "disabled"}[i/4%2]
					_, err := c1.PutAccountSetting(c, &ecs.PutAccountSettingInput{
						Name: types.SettingNameAwsvpcTrunking, Value: aws.String(value), PrincipalArn: aws.String(principal),
					})
					if err != nil {
						t.Errorf("put setting %s: %v", principal, err)
						continue
					}
					mu.Lock()
					settings[principal] = value
					mu.Unlock()
				}
			}
		})
	}
	for i := range ops {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Concurrent registrations got distinct, gapless revisions.
	for family, revs := range revisions {
		slices.Sort(revs)
		for i, r := range revs {
			if r != i+1 {
				t.Fatalf("%s: revisions %v are not 1..%d", family, revs, len(revs))
			}
		}
	}
	// A page token taken before the restart stays valid after it.
	first := testkit.Must(c1.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(7)}))(t)
	if first.NextToken == nil {
		t.Fatal("expected more than one page")
	}
	tr.CloseIdleConnections()
	if err := m1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	m2 := startServer(t, options{dataDir: dir})
	c2 := defaultClient(m2)

	t.Run("Clusters", func(t *testing.T) {
		names := make([]string, 0, len(clusters))
		for name := range clusters {
			names = append(names, name)
		}
		slices.Sort(names)
		out := testkit.Must(c2.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: names, Include: []types.ClusterField{types.ClusterFieldTags}}))(t)
		if len(out.Failures) != 0 || len(out.Clusters) != len(names) {
			t.Fatalf("%d clusters, failures %+v", len(out.Clusters), out.Failures)
		}
		var active []string
		for _, cl := range out.Clusters {
			name := aws.ToString(cl.ClusterName)
			if got := aws.ToString(cl.Status); got != clusters[name] {
				t.Errorf("%s: status %s, acknowledged %s", name, got, clusters[name])
			}
			if len(cl.Tags) != 1 {
				t.Errorf("%s: tags %+v", name, cl.Tags)
			}
			if clusters[name] == "ACTIVE" {
				active = append(active, clusterARN(name))
			}
		}
		var listed []string
		p := ecs.NewListClustersPaginator(c2, &ecs.ListClustersInput{MaxResults: aws.Int32(10)})
		for p.HasMorePages() {
			listed = append(listed, testkit.Must(p.NextPage(ctx(t)))(t).ClusterArns...)
		}
		slices.Sort(active)
		if !slices.Equal(listed, active) {
			t.Fatalf("listed %d clusters, want the %d ACTIVE ones", len(listed), len(active))
		}
	})

	t.Run("TaskDefinitions", func(t *testing.T) {
		for arn, family := range arns {
			td := describeTD(t, c2, arn)
			if aws.ToString(td.Family) != family || td.Status != types.TaskDefinitionStatusActive {
				t.Fatalf("%s: %s %s", arn, aws.ToString(td.Family), td.Status)
			}
		}
		var listed []string
		p := ecs.NewListTaskDefinitionsPaginator(c2, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(7)})
		for p.HasMorePages() {
			listed = append(listed, testkit.Must(p.NextPage(ctx(t)))(t).TaskDefinitionArns...)
		}
		if len(listed) != len(arns) {
			t.Fatalf("listed %d task definitions, acknowledged %d", len(listed), len(arns))
		}
		// The next registration continues each family's sequence.
		for family, revs := range revisions {
			if td := registerTD(t, c2, family); int(td.Revision) != len(revs)+1 {
				t.Fatalf("%s: next revision %d, want %d", family, td.Revision, len(revs)+1)
			}
		}
		fams := testkit.Must(c2.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{}))(t).Families
		if len(fams) != len(revisions) {
			t.Fatalf("families %v", fams)
		}
	})

	t.Run("PageTokenSurvivesRestart", func(t *testing.T) {
		out := testkit.Must(c2.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(7), NextToken: first.NextToken}))(t)
		if len(out.TaskDefinitionArns) == 0 || slices.Contains(first.TaskDefinitionArns, out.TaskDefinitionArns[0]) {
			t.Fatalf("second page %v after first %v", out.TaskDefinitionArns, first.TaskDefinitionArns)
		}
	})

	t.Run("Settings", func(t *testing.T) {
		for principal, value := range settings {
			got := testkit.Must(c2.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{PrincipalArn: aws.String(principal)}))(t).Settings
			if len(got) != 1 || aws.ToString(got[0].Value) != value || got[0].Name != types.SettingNameAwsvpcTrunking {
				t.Fatalf("%s: %+v, acknowledged %s", principal, got, value)
			}
		}
	})
}
