package e2e

import (
	"github.com/berth-dev/berth/internal/testkit"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/api"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
)

// writeCredentials writes a credentials file with key AKIDTEAMA in account
// A and key AKIDTEAMB in account B.
func writeCredentials(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	content := "# two teams\n" +
		"AKIDTEAMA secretA " + accountA + "\n" +
		"\n" +
		"AKIDTEAMB\tsecretB\t" + accountB + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuthSigV4(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{auth: api.AuthSigV4, creds: writeCredentials(t)})
	a := client(m, "AKIDTEAMA", "secretA", "us-east-1")
	b := client(m, "AKIDTEAMB", "secretB", "us-east-1")

	t.Run("SignedRequestsWork", func(t *testing.T) {
		cl := testkit.Must(a.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("shared")}))(t).Cluster
		if want := "arn:aws:ecs:us-east-1:" + accountA + ":cluster/shared"; aws.ToString(cl.ClusterArn) != want {
			t.Fatalf("ARN %s, want %s", aws.ToString(cl.ClusterArn), want)
		}
		td := testkit.Must(a.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		}))(t).TaskDefinition
		if aws.ToString(td.RegisteredBy) != rootOf(accountA) {
			t.Fatalf("registeredBy %s", aws.ToString(td.RegisteredBy))
		}
	})

	t.Run("ErrUnknownKey", func(t *testing.T) {
		_, err := client(m, "AKIDNOBODY", "secretA", "us-east-1").ListClusters(ctx(t), &ecs.ListClustersInput{})
		if code := errorCode(err); code != "UnrecognizedClientException" {
			t.Fatalf("error code %q (%v)", code, err)
		}
		if s := httpStatus(err); s != 403 {
			t.Fatalf("HTTP status %d", s)
		}
		wantMsg(t, err, "The security token included in the request is invalid.")
		// A 12-digit key id is not an account selector under sigv4.
		_, err = client(m, accountA, "secretA", "us-east-1").ListClusters(ctx(t), &ecs.ListClustersInput{})
		if code := errorCode(err); code != "UnrecognizedClientException" || httpStatus(err) != 403 {
			t.Fatalf("12-digit key: %q %d", code, httpStatus(err))
		}
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		_, err := client(m, "AKIDTEAMA", "secretB", "us-east-1").CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("forged")})
		if code := errorCode(err); code != "InvalidSignatureException" {
			t.Fatalf("error code %q (%v)", code, err)
		}
		if s := httpStatus(err); s != 403 {
			t.Fatalf("HTTP status %d", s)
		}
		out := testkit.Must(a.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"forged"}}))(t)
		if len(out.Clusters) != 0 {
			t.Fatal("a request with a wrong signature was executed")
		}
	})

	t.Run("ErrUnsigned", func(t *testing.T) {
		status, body := rawCall(t, m, "AmazonEC2ContainerServiceV20141113", "ListClusters", "{}")
		if status != 403 || !strings.Contains(string(body), "MissingAuthenticationToken") {
			t.Fatalf("unsigned request: %d %s", status, body)
		}
	})

	t.Run("AccountIsolation", func(t *testing.T) {
		testkit.Must(a.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("only-a")}))(t)
		out := testkit.Must(b.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"only-a", "arn:aws:ecs:us-east-1:" + accountA + ":cluster/only-a"}}))(t)
		if len(out.Clusters) != 0 || len(out.Failures) != 2 {
			t.Fatalf("B sees A's cluster: %+v", out)
		}
		if arn := aws.ToString(out.Failures[0].Arn); arn != "arn:aws:ecs:us-east-1:"+accountB+":cluster/only-a" || aws.ToString(out.Failures[0].Reason) != "MISSING" {
			t.Fatalf("failure %s %s", arn, aws.ToString(out.Failures[0].Reason))
		}
		list := testkit.Must(b.ListClusters(ctx(t), &ecs.ListClustersInput{}))(t)
		if len(list.ClusterArns) != 0 {
			t.Fatalf("B lists %v", list.ClusterArns)
		}
		// Everything else of A is invisible to B as well.
		_, err := b.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
		wantErr[*types.ClientException](t, err)
		_, err = b.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:" + accountA + ":cluster/only-a")})
		wantErr[*types.ResourceNotFoundException](t, err)
		_, err = b.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("only-a")})
		wantErr[*types.ClusterNotFoundException](t, err)
		// B may use the same name: it gets its own cluster.
		cl := testkit.Must(b.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("shared")}))(t).Cluster
		if want := "arn:aws:ecs:us-east-1:" + accountB + ":cluster/shared"; aws.ToString(cl.ClusterArn) != want {
			t.Fatalf("B's cluster ARN %s", aws.ToString(cl.ClusterArn))
		}
		listA := testkit.Must(a.ListClusters(ctx(t), &ecs.ListClustersInput{}))(t).ClusterArns
		if slices.Contains(listA, aws.ToString(cl.ClusterArn)) {
			t.Fatalf("A lists B's cluster: %v", listA)
		}
	})

	t.Run("RegionIsolation", func(t *testing.T) {
		eu := client(m, "AKIDTEAMA", "secretA", "eu-west-1")
		out := testkit.Must(eu.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"shared"}}))(t)
		if len(out.Clusters) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Arn) != "arn:aws:ecs:eu-west-1:"+accountA+":cluster/shared" {
			t.Fatalf("eu-west-1 sees the us-east-1 cluster: %+v", out)
		}
		if list := testkit.Must(eu.ListClusters(ctx(t), &ecs.ListClustersInput{}))(t); len(list.ClusterArns) != 0 {
			t.Fatalf("eu-west-1 lists %v", list.ClusterArns)
		}
		cl := testkit.Must(eu.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("shared")}))(t).Cluster
		if want := "arn:aws:ecs:eu-west-1:" + accountA + ":cluster/shared"; aws.ToString(cl.ClusterArn) != want {
			t.Fatalf("ARN %s, want %s", aws.ToString(cl.ClusterArn), want)
		}
		td := testkit.Must(eu.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer()},
		}))(t).TaskDefinition
		if want := "arn:aws:ecs:eu-west-1:" + accountA + ":task-definition/web:1"; aws.ToString(td.TaskDefinitionArn) != want {
			t.Fatalf("task definition ARN %s, want %s (revisions are per region)", aws.ToString(td.TaskDefinitionArn), want)
		}
		cps := testkit.Must(eu.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{}))(t)
		if arn := aws.ToString(cps.CapacityProviders[0].CapacityProviderArn); arn != "arn:aws:ecs:eu-west-1:"+accountA+":capacity-provider/FARGATE" {
			t.Fatalf("built-in provider ARN %s", arn)
		}
	})
}

func TestAuthNoneAccountSelection(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{creds: writeCredentials(t)})

	cases := []struct {
		name, key, secret, account string
	}{
		{"TwelveDigitKeySelectsAccount", "123456789012", "anything", "123456789012"},
		{"OtherKeyUsesDefaultAccount", "AKIDEXAMPLE", "anything", defaultAccount},
		{"ElevenDigitsIsNotAnAccount", "12345678901", "anything", defaultAccount},
		{"CredentialsFileMapsKeys", "AKIDTEAMB", "not-checked", accountB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := client(m, tc.key, tc.secret, "us-west-2")
			cl := testkit.Must(c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("mine")}))(t).Cluster
			if want := "arn:aws:ecs:us-west-2:" + tc.account + ":cluster/mine"; aws.ToString(cl.ClusterArn) != want {
				t.Fatalf("ARN %s, want %s", aws.ToString(cl.ClusterArn), want)
			}
		})
	}

	t.Run("UnsignedUsesDefaults", func(t *testing.T) {
		status, body := rawCall(t, m, "AmazonEC2ContainerServiceV20141113", "CreateCluster", `{"clusterName":"unsigned"}`)
		if status != 200 || !strings.Contains(string(body), `"arn:aws:ecs:us-east-1:`+defaultAccount+`:cluster/unsigned"`) {
			t.Fatalf("unsigned create: %d %s", status, body)
		}
	})
}
