package e2e

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/testkit"
)

// listTags returns a resource's tags as a map.
func listTags(t *testing.T, c *ecs.Client, arn string) map[string]string {
	t.Helper()
	out := testkit.Must(c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t)
	if out.Tags == nil {
		t.Fatalf("%s: tags should be [] when empty", arn)
	}
	return tagMap(t, out.Tags)
}

func TestTags(t *testing.T) {
	t.Parallel()
	m := startServer(t, options{})
	c := defaultClient(m)
	createCluster(t, c, "tagme")
	createASGProvider(t, c, "tagcp", false)
	registerTD(t, c, "tagtd")
	resources := map[string]string{
		"Cluster":          clusterARN("tagme"),
		"CapacityProvider": cpARN("tagcp"),
		"TaskDefinition":   tdARN("tagtd", 1),
	}

	for kind, arn := range resources {
		t.Run(kind, func(t *testing.T) {
			t.Run("StartsEmpty", func(t *testing.T) {
				if got := listTags(t, c, arn); len(got) != 0 {
					t.Fatalf("%v", got)
				}
			})
			t.Run("TagMerges", func(t *testing.T) {
				testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("a", "1", "b", "2")}))(t)
				testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("b", "20", "c", "")}))(t)
				got := listTags(t, c, arn)
				if len(got) != 3 || got["a"] != "1" || got["b"] != "20" || got["c"] != "" {
					t.Fatalf("%v", got)
				}
			})
			t.Run("UntagRemovesAndIgnoresMissing", func(t *testing.T) {
				testkit.Must(c.UntagResource(ctx(t), &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "never"}}))(t)
				got := listTags(t, c, arn)
				if len(got) != 2 || got["b"] != "20" {
					t.Fatalf("%v", got)
				}
			})
			t.Run("ErrReservedPrefix", func(t *testing.T) {
				for _, tg := range [][]types.Tag{tags("aws:x", "1"), tags("Aws:x", "1"), tags("x", "aws:1")} {
					_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tg})
					wantErr[*types.InvalidParameterException](t, err)
				}
				_, err := c.UntagResource(ctx(t), &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"aws:x"}})
				wantErr[*types.InvalidParameterException](t, err)
				if got := listTags(t, c, arn); len(got) != 2 {
					t.Fatalf("refused calls changed tags: %v", got)
				}
			})
			t.Run("ErrInvalidTag", func(t *testing.T) {
				for _, tg := range [][]types.Tag{tags("", "v"), tags("bad*key", "v"), tags("k", "bad*value"), tags("dup", "1", "dup", "2")} {
					_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tg})
					wantErr[*types.InvalidParameterException](t, err)
				}
			})
			t.Run("ErrOver50", func(t *testing.T) {
				var many []types.Tag
				for i := range 48 {
					many = append(many, tags(fmt.Sprintf("k%02d", i), "v")...)
				}
				// 2 existing + 48 = 50: allowed.
				testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: many}))(t)
				// Overwriting existing keys does not count.
				testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k00", "w")}))(t)
				_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("one-more", "v")})
				wantErr[*types.LimitExceededException](t, err)
				if got := listTags(t, c, arn); len(got) != 50 || got["k00"] != "w" {
					t.Fatalf("%d tags, k00=%q", len(got), got["k00"])
				}
			})
		})
	}

	t.Run("TagsShownByDescribe", func(t *testing.T) {
		cl := describeCluster(t, c, "tagme", types.ClusterFieldTags)
		if tagMap(t, cl.Tags)["b"] != "20" {
			t.Fatalf("cluster tags %+v", cl.Tags)
		}
		d := testkit.Must(c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String("tagtd:1"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		}))(t)
		if tagMap(t, d.Tags)["b"] != "20" {
			t.Fatalf("task definition tags %+v", d.Tags)
		}
		cp := testkit.Must(c.DescribeCapacityProviders(ctx(t), &ecs.DescribeCapacityProvidersInput{
			CapacityProviders: []string{"tagcp"}, Include: []types.CapacityProviderField{types.CapacityProviderFieldTags},
		}))(t)
		if tagMap(t, cp.CapacityProviders[0].Tags)["b"] != "20" {
			t.Fatalf("capacity provider tags %+v", cp.CapacityProviders[0].Tags)
		}
	})

	t.Run("ErrResourceNotFound", func(t *testing.T) {
		for _, arn := range []string{
			clusterARN("ghost"),
			cpARN("ghost"),
			tdARN("tagtd", 9),
			tdARN("ghost", 1),
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":task-definition/tagtd",
			"arn:aws:ecs:eu-west-1:" + defaultAccount + ":cluster/tagme",
			"arn:aws:ecs:us-east-1:111111111111:cluster/tagme",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":service/tagme/web",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":task/tagme/0123456789abcdef0123456789abcdef",
		} {
			_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k", "v")})
			wantErr[*types.ResourceNotFoundException](t, err)
			_, err = c.UntagResource(ctx(t), &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k"}})
			wantErr[*types.ResourceNotFoundException](t, err)
			_, err = c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			wantErr[*types.ResourceNotFoundException](t, err)
		}
	})

	t.Run("ErrInactiveCluster", func(t *testing.T) {
		createCluster(t, c, "tag-dead")
		testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN("tag-dead")), Tags: tags("k", "v")}))(t)
		deleteCluster(t, c, "tag-dead")
		_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(clusterARN("tag-dead")), Tags: tags("k", "v")})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
		_, err = c.UntagResource(ctx(t), &ecs.UntagResourceInput{ResourceArn: aws.String(clusterARN("tag-dead")), TagKeys: []string{"k"}})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
		_, err = c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(clusterARN("tag-dead"))})
		wantErr[*types.InvalidParameterException](t, err)
		wantMsg(t, err, msgClusterInactive)
	})

	t.Run("DeletedCapacityProvider", func(t *testing.T) {
		createASGProvider(t, c, "tag-cp-gone", false)
		testkit.Must(c.DeleteCapacityProvider(ctx(t), &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("tag-cp-gone")}))(t)
		_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(cpARN("tag-cp-gone")), Tags: tags("k", "v")})
		wantErr[*types.ResourceNotFoundException](t, err)
		_, err = c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(cpARN("tag-cp-gone"))})
		wantErr[*types.ResourceNotFoundException](t, err)
	})

	t.Run("InactiveTaskDefinitionKeepsTags", func(t *testing.T) {
		registerTD(t, c, "tag-old")
		testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(tdARN("tag-old", 1)), Tags: tags("k", "v")}))(t)
		deregisterTD(t, c, "tag-old:1")
		if got := listTags(t, c, tdARN("tag-old", 1)); got["k"] != "v" {
			t.Fatalf("%v", got)
		}
		testkit.Must(c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(tdARN("tag-old", 1)), Tags: tags("k2", "v")}))(t)
	})

	t.Run("ErrShortServiceArn", func(t *testing.T) {
		for _, arn := range []string{
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":service/web",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":task/0b4d5f9c-7c1e-4f6a-9e3a-1d2c3b4a5f6e",
			"arn:aws:ecs:us-east-1:" + defaultAccount + ":container-instance/0b4d5f9c-7c1e-4f6a-9e3a-1d2c3b4a5f6e",
		} {
			_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k", "v")})
			wantErr[*types.InvalidParameterException](t, err)
			wantMsgContains(t, err, "short ARN format")
		}
	})

	t.Run("ErrNotAnECSArn", func(t *testing.T) {
		for _, arn := range []string{"tagme", "arn:aws:iam::" + defaultAccount + ":role/x", "arn:aws:ecs:us-east-1:" + defaultAccount + ":widget/x"} {
			_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags("k", "v")})
			wantErr[*types.InvalidParameterException](t, err)
			_, err = c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			wantErr[*types.InvalidParameterException](t, err)
		}
	})

	t.Run("ErrFargateProvider", func(t *testing.T) {
		_, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(cpARN("FARGATE")), Tags: tags("k", "v")})
		wantErr[*types.InvalidParameterException](t, err)
	})
}
