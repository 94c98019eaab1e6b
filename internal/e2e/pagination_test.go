package e2e

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

const msgInvalidToken = "Invalid nextToken."

func wantBadToken(t *testing.T, err error) {
	t.Helper()
	wantErr[*types.InvalidParameterException](t, err)
	wantMsg(t, err, msgInvalidToken)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	for i := range 5 {
		createCluster(t, c, fmt.Sprintf("pc-%d", i))
	}
	for range 3 {
		registerTD(t, c, "alpha")
		registerTD(t, c, "beta")
	}
	for i := range 11 {
		createASGProvider(t, c, fmt.Sprintf("pp-%02d", i), false)
	}
	clusterToken := testkit.Must(c.ListClusters(ctx(t), &ecs.ListClustersInput{MaxResults: aws.Int32(1)}))(t).NextToken
	tdToken := testkit.Must(c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(1), FamilyPrefix: aws.String("alpha")}))(t).NextToken
	famToken := testkit.Must(c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(1)}))(t).NextToken
	cpToken := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(1)}))(t).NextToken
	settingToken := testkit.Must(c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{MaxResults: 1, EffectiveSettings: true}))(t).NextToken
	for name, tok := range map[string]*string{"clusters": clusterToken, "td": tdToken, "families": famToken, "cp": cpToken, "settings": settingToken} {
		if tok == nil || *tok == "" {
			t.Fatalf("%s: no nextToken", name)
		}
	}

	t.Run("ErrTokenFromAnotherOperation", func(t *testing.T) {
		_, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{NextToken: clusterToken})
		wantBadToken(t, err)
		_, err = c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{NextToken: tdToken})
		wantBadToken(t, err)
		_, err = c.ListClusters(ctx(t), &ecs.ListClustersInput{NextToken: famToken})
		wantBadToken(t, err)
		_, err = c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{NextToken: clusterToken})
		wantBadToken(t, err)
		_, err = c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{NextToken: cpToken, EffectiveSettings: true})
		wantBadToken(t, err)
		_, err = c.ListClusters(ctx(t), &ecs.ListClustersInput{NextToken: settingToken})
		wantBadToken(t, err)
		createCluster(t, c, "attr-cluster")
		_, err = c.ListAttributes(ctx(t), &ecs.ListAttributesInput{Cluster: aws.String("attr-cluster"), TargetType: types.TargetTypeContainerInstance, NextToken: clusterToken})
		wantBadToken(t, err)
	})

	t.Run("ErrTokenWithOtherFilters", func(t *testing.T) {
		for _, in := range []ecs.ListTaskDefinitionsInput{
			{NextToken: tdToken},
			{NextToken: tdToken, FamilyPrefix: aws.String("beta")},
			{NextToken: tdToken, FamilyPrefix: aws.String("alpha"), Status: types.TaskDefinitionStatusInactive},
			{NextToken: tdToken, FamilyPrefix: aws.String("alpha"), Sort: types.SortOrderDesc},
		} {
			_, err := c.ListTaskDefinitions(ctx(t), &in)
			wantBadToken(t, err)
		}
		// The same filters continue fine; maxResults may change.
		testkit.Must(c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{NextToken: tdToken, FamilyPrefix: aws.String("alpha"), MaxResults: aws.Int32(5)}))(t)
		_, err := c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{NextToken: famToken, FamilyPrefix: aws.String("a")})
		wantBadToken(t, err)
		_, err = c.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{NextToken: famToken, Status: types.TaskDefinitionFamilyStatusActive})
		wantBadToken(t, err)
		_, err = c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{NextToken: settingToken})
		wantBadToken(t, err)
		_, err = c.ListAccountSettings(ctx(t), &ecs.ListAccountSettingsInput{NextToken: settingToken, EffectiveSettings: true,
			PrincipalArn: aws.String("arn:aws:iam::" + defaultAccount + ":user/someone")})
		wantBadToken(t, err)
	})

	t.Run("ErrTamperedToken", func(t *testing.T) {
		tok := *clusterToken
		payload, sig, ok := strings.Cut(tok, ".")
		if !ok {
			t.Fatalf("token %q has no signature part", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			t.Fatalf("token payload is not base64url: %v", err)
		}
		forged := strings.Replace(string(raw), "pc-0", "pc-3", 1)
		flip := func(s string, i int) string {
			b := []byte(s)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		for name, bad := range map[string]string{
			"PayloadChanged":   base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + sig,
			"PayloadFlipped":   flip(tok, 3),
			"SignatureFlipped": flip(tok, len(tok)-2),
			"NoSignature":      payload,
			"EmptySignature":   payload + ".",
			"Truncated":        tok[:len(tok)-4],
			"Garbage":          "not-a-token",
			"Dots":             "...",
			"LongGarbage":      strings.Repeat("x", 2000),
		} {
			t.Run(name, func(t *testing.T) {
				_, err := c.ListClusters(ctx(t), &ecs.ListClustersInput{NextToken: aws.String(bad)})
				wantBadToken(t, err)
			})
		}
	})

	t.Run("ErrTokenFromAnotherServer", func(t *testing.T) {
		other := defaultClient(startServer(t, options{}))
		for i := range 3 {
			createCluster(t, other, fmt.Sprintf("pc-%d", i))
		}
		_, err := other.ListClusters(ctx(t), &ecs.ListClustersInput{NextToken: clusterToken})
		wantBadToken(t, err)
	})

	t.Run("ErrTokenFromAnotherNamespace", func(t *testing.T) {
		for _, other := range []*ecs.Client{accountClient(m, "999999999999"), accountClient(m, "000000000001"), client(m, "AKIDEXAMPLE", "secret", "eu-west-1")} {
			createCluster(t, other, "pc-0")
			createCluster(t, other, "pc-9")
			_, err := other.ListClusters(ctx(t), &ecs.ListClustersInput{NextToken: clusterToken})
			wantBadToken(t, err)
			_, err = other.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{NextToken: tdToken, FamilyPrefix: aws.String("alpha")})
			wantBadToken(t, err)
			_, err = other.ListTaskDefinitionFamilies(ctx(t), &ecs.ListTaskDefinitionFamiliesInput{NextToken: famToken})
			wantBadToken(t, err)
		}
	})
}

// TestPaginationUnderWrites checks that paginators terminate and return
// every item that exists throughout exactly once while items are added and
// removed between pages.
func TestPaginationUnderWrites(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)

	t.Run("ListClusters", func(t *testing.T) {
		var stable []string
		for i := range 10 {
			name := fmt.Sprintf("m-%02d", i)
			createCluster(t, c, name)
			stable = append(stable, clusterARN(name))
		}
		p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(3)})
		var got []string
		page := 0
		for p.HasMorePages() {
			out := testkit.Must(p.NextPage(ctx(t)))(t)
			got = append(got, out.ClusterArns...)
			page++
			if page > 20 {
				t.Fatal("paginator does not terminate")
			}
			// Between pages: add clusters before and after the cursor, and
			// delete the last one returned (the token's position).
			createCluster(t, c, fmt.Sprintf("a-new-%d", page))
			createCluster(t, c, fmt.Sprintf("z-new-%d", page))
			if n := len(out.ClusterArns); n > 0 && page == 1 {
				last := out.ClusterArns[n-1]
				deleteCluster(t, c, last)
				stable = slices.DeleteFunc(stable, func(s string) bool { return s == last })
			}
		}
		seen := map[string]int{}
		for _, arn := range got {
			seen[arn]++
			if seen[arn] > 1 {
				t.Fatalf("%s returned twice: %v", arn, got)
			}
		}
		for _, arn := range stable {
			if seen[arn] != 1 {
				t.Fatalf("%s missing from %v", arn, got)
			}
		}
		if !slices.IsSorted(got) {
			t.Fatalf("not in order: %v", got)
		}
	})

	t.Run("ListTaskDefinitionsDesc", func(t *testing.T) {
		var stable []string
		for _, f := range []string{"fa", "fb", "fc"} {
			for range 3 {
				stable = append(stable, aws.ToString(registerTD(t, c, f).TaskDefinitionArn))
			}
		}
		p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(2), Sort: types.SortOrderDesc})
		var got []string
		for p.HasMorePages() {
			got = append(got, testkit.Must(p.NextPage(ctx(t)))(t).TaskDefinitionArns...)
			if len(got) > 100 {
				t.Fatal("paginator does not terminate")
			}
			registerTD(t, c, "fb")
			registerTD(t, c, "f0")
		}
		seen := map[string]int{}
		for _, arn := range got {
			if seen[arn]++; seen[arn] > 1 {
				t.Fatalf("%s returned twice", arn)
			}
		}
		for _, arn := range stable {
			if seen[arn] != 1 {
				t.Fatalf("%s missing from %v", arn, got)
			}
		}
	})

	t.Run("DescribeCapacityProviders", func(t *testing.T) {
		stable := []string{"FARGATE", "FARGATE_SPOT"}
		for i := range 6 {
			name := fmt.Sprintf("w-%02d", i)
			createASGProvider(t, c, name, false)
			stable = append(stable, name)
		}
		in := &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(2)}
		var got []string
		for page := 1; ; page++ {
			if page > 20 {
				t.Fatal("pagination does not terminate")
			}
			out := testkit.Must(c.DescribeCapacityProviders(ctx(t), in))(t)
			got = append(got, cpNames(out.CapacityProviders)...)
			createASGProvider(t, c, fmt.Sprintf("v-%02d", page), false)
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		seen := map[string]int{}
		for _, n := range got {
			if seen[n]++; seen[n] > 1 {
				t.Fatalf("%s returned twice: %v", n, got)
			}
		}
		for _, n := range stable {
			if seen[n] != 1 {
				t.Fatalf("%s missing from %v", n, got)
			}
		}
	})
}
