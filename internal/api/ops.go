package api

import (
	"context"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// handler runs one operation on a decoded, validated input.
type handler func(ctx context.Context, ns ecs.Namespace, in wire.Input) (any, error)

// bind adapts a typed control method to a handler.
func bind[In any, Out any, P interface {
	*In
	wire.Input
}](f func(context.Context, ecs.Namespace, *In) (*Out, error)) handler {
	return func(ctx context.Context, ns ecs.Namespace, in wire.Input) (any, error) {
		return f(ctx, ns, (*In)(in.(P)))
	}
}

// handlers returns the implemented operations.
func handlers(c *control.Control) map[string]handler {
	return map[string]handler{
		// Clusters.
		"CreateCluster":               bind(c.CreateCluster),
		"DescribeClusters":            bind(c.DescribeClusters),
		"ListClusters":                bind(c.ListClusters),
		"UpdateCluster":               bind(c.UpdateCluster),
		"UpdateClusterSettings":       bind(c.UpdateClusterSettings),
		"PutClusterCapacityProviders": bind(c.PutClusterCapacityProviders),
		"DeleteCluster":               bind(c.DeleteCluster),
		// Capacity providers.
		"CreateCapacityProvider":    bind(c.CreateCapacityProvider),
		"DescribeCapacityProviders": bind(c.DescribeCapacityProviders),
		"UpdateCapacityProvider":    bind(c.UpdateCapacityProvider),
		"DeleteCapacityProvider":    bind(c.DeleteCapacityProvider),
		// Task definitions.
		"RegisterTaskDefinition":     bind(c.RegisterTaskDefinition),
		"DescribeTaskDefinition":     bind(c.DescribeTaskDefinition),
		"ListTaskDefinitions":        bind(c.ListTaskDefinitions),
		"ListTaskDefinitionFamilies": bind(c.ListTaskDefinitionFamilies),
		"DeregisterTaskDefinition":   bind(c.DeregisterTaskDefinition),
		"DeleteTaskDefinitions":      bind(c.DeleteTaskDefinitions),
		// Account settings.
		"PutAccountSetting":        bind(c.PutAccountSetting),
		"PutAccountSettingDefault": bind(c.PutAccountSettingDefault),
		"DeleteAccountSetting":     bind(c.DeleteAccountSetting),
		"ListAccountSettings":      bind(c.ListAccountSettings),
		// Attributes.
		"PutAttributes":    bind(c.PutAttributes),
		"DeleteAttributes": bind(c.DeleteAttributes),
		"ListAttributes":   bind(c.ListAttributes),
		// Container instances.
		"RegisterContainerInstance":     bind(c.RegisterContainerInstance),
		"DeregisterContainerInstance":   bind(c.DeregisterContainerInstance),
		"DescribeContainerInstances":    bind(c.DescribeContainerInstances),
		"ListContainerInstances":        bind(c.ListContainerInstances),
		"UpdateContainerInstancesState": bind(c.UpdateContainerInstancesState),
		"UpdateContainerAgent":          bind(c.UpdateContainerAgent),
		"DiscoverPollEndpoint": func(ctx context.Context, ns ecs.Namespace, in wire.Input) (any, error) {
			return c.DiscoverPollEndpoint(ctx, ns, baseURLFrom(ctx), in.(*wire.DiscoverPollEndpointRequest))
		},
		// Tasks.
		"RunTask":                      bind(c.RunTask),
		"StartTask":                    bind(c.StartTask),
		"StopTask":                     bind(c.StopTask),
		"DescribeTasks":                bind(c.DescribeTasksAnswer),
		"ListTasks":                    bind(c.ListTasks),
		"SubmitTaskStateChange":        bind(c.SubmitTaskStateChange),
		"SubmitContainerStateChange":   bind(c.SubmitContainerStateChange),
		"SubmitAttachmentStateChanges": bind(c.SubmitAttachmentStateChanges),
		// Services, service deployments and task sets.
		"CreateService":               bind(c.CreateService),
		"UpdateService":               bind(c.UpdateService),
		"DeleteService":               bind(c.DeleteService),
		"DescribeServices":            bind(c.DescribeServices),
		"ListServices":                bind(c.ListServices),
		"ListServicesByNamespace":     bind(c.ListServicesByNamespace),
		"ListServiceDeployments":      bind(c.ListServiceDeployments),
		"DescribeServiceDeployments":  bind(c.DescribeServiceDeployments),
		"DescribeServiceRevisions":    bind(c.DescribeServiceRevisions),
		"StopServiceDeployment":       bind(c.StopServiceDeployment),
		"CreateTaskSet":               bind(c.CreateTaskSet),
		"UpdateTaskSet":               bind(c.UpdateTaskSet),
		"UpdateServicePrimaryTaskSet": bind(c.UpdateServicePrimaryTaskSet),
		"DeleteTaskSet":               bind(c.DeleteTaskSet),
		"DescribeTaskSets":            bind(c.DescribeTaskSets),
		// Tags.
		"TagResource":         bind(c.TagResource),
		"UntagResource":       bind(c.UntagResource),
		"ListTagsForResource": bind(c.ListTagsForResource),
	}
}

// plannedIn says where an operation that is not implemented yet is planned.
func plannedIn(op string) string {
	switch op {
	case "RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
		"RegisterContainerInstance", "DeregisterContainerInstance", "DescribeContainerInstances",
		"ListContainerInstances", "UpdateContainerInstancesState", "UpdateContainerAgent",
		"DiscoverPollEndpoint", "SubmitTaskStateChange", "SubmitContainerStateChange",
		"SubmitAttachmentStateChanges", "UpdateTaskProtection", "GetTaskProtection", "ExecuteCommand":
		return "planned with the task lifecycle and container instances"
	case "ContinueServiceDeployment":
		return "planned with blue/green service deployments (lifecycle hooks)"
	default:
		return "not planned: ECS Daemons and Express Gateway services are outside Berth's scope for now"
	}
}
