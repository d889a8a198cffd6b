package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// The engine on its own: 2 of the last 3 minutes above 5 % errors, with
// the reverse replication within its budget, is a rollback.
func ExampleEvaluate() {
	policy := rollback.Policy{DataLossBudget: time.Minute, Rules: []rollback.Rule{{
		Name:       "errors",
		Query:      rollback.Query{Metric: &rollback.Metric{Namespace: "App", Name: "ErrorRate", Stat: "Average"}, Period: time.Minute},
		Comparator: rollback.GreaterThan, Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 2,
	}}}
	at := time.Date(2026, 11, 2, 10, 0, 30, 0, time.UTC)
	minute := func(m int) time.Time { return time.Date(2026, 11, 2, 9, m, 0, 0, time.UTC) }
	d := rollback.Evaluate(policy, rollback.Observations{
		At:         at,
		Series:     map[string]rollback.Series{"errors": {Points: []rollback.Point{{Time: minute(57), Value: 9}, {Time: minute(58), Value: 1}, {Time: minute(59), Value: 12}}}},
		ReverseLag: &migration.ReplicationLag{Status: "running", Target: 8 * time.Second},
	})
	fmt.Println(d.Verdict)
	fmt.Println(d.Reason)

	// The same breach with the reverse task 10 minutes behind is a freeze.
	d = rollback.Evaluate(policy, rollback.Observations{At: at, Series: map[string]rollback.Series{"errors": {Points: []rollback.Point{{Time: minute(58), Value: 9}, {Time: minute(59), Value: 12}}}},
		ReverseLag: &migration.ReplicationLag{Status: "running", Target: 10 * time.Minute}})
	fmt.Println(d.Verdict)
	// Output:
	// rollback
	// errors: 2 of the last 3 datapoints > 5 (need 2) [12 1 9]
	// freeze
}

// The alarms of the default policy on the fake cloud: one per rule, and
// the composite that invokes the rollback Lambda.
func ExampleEnsurePolicyAlarms() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	policy, err := rollback.DefaultPolicy(env, rollback.DefaultRulesSpec{
		LoadBalancer: "app/green/0123456789abcdef", DMSInstance: "dms-instance-dev", ForwardTaskID: "FWDTASKRESOURCEID", VPNID: "vpn-0123456789abcdef0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	alarms, err := rollback.EnsurePolicyAlarms(ctx, env, cloud.CloudWatch(), policy,
		[]string{"arn:aws:sns:us-east-1:123456789012:migration-notifications-dev"}, []string{rollback.FunctionARN(env)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range cloud.CloudWatch().AlarmNames() {
		fmt.Println(name)
	}
	fmt.Println(alarms.Composite.ARN)
	fmt.Println(rollback.CompositeRule(env, policy))
	// Output:
	// alarm-dms-cdc-latency-dev
	// alarm-green-5xx-rate-dev
	// alarm-green-p99-latency-dev
	// alarm-rollback-dev
	// alarm-server-replication-stalled-dev
	// alarm-vpn-tunnels-down-dev
	// arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-rollback-dev
	// ALARM("alarm-green-5xx-rate-dev") OR ALARM("alarm-green-p99-latency-dev") OR ALARM("alarm-dms-cdc-latency-dev") OR ALARM("alarm-vpn-tunnels-down-dev")
}

// A cutover on the fake cloud's clock and CloudWatch: green starts
// failing once it takes half the traffic, and the controller rolls back.
func ExampleController_Run() {
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	store := newStore(cloud.Clock(), migration.PhaseValidated)
	router := newRouter(cloud.Clock())
	cloud.CloudWatch().SetMetricFunc("App", "ErrorRate", greenDims, func(t time.Time) (float64, bool) {
		split := router.splitAt(t)
		if split.Green >= 50 {
			return 20, true
		}
		return 1, split.Green > 0
	})
	c := &rollback.Controller{
		Env: env, Policy: scenarioPolicy(), Router: router, Store: store, Notifier: &fakeNotifier{}, Replication: newReplication(),
		Metrics: rollback.Source{API: cloud.CloudWatch()}, Owner: "alice@ops",
		Gates: rollback.Gates{MaxForwardLag: 30 * time.Second, RecordTTL: time.Minute},
		OnEvent: func(e rollback.Event) {
			switch e.Type {
			case rollback.EventShift:
				fmt.Println("shifted to", e.Split)
			case rollback.EventRollback:
				fmt.Println("rolled back:", e.Decision.Reason)
			}
		},
	}
	err := c.Run(context.Background(), schedule)
	fmt.Println(errors.Is(err, rollback.ErrRolledBack), store.current())
	// Output:
	// shifted to blue 90 / green 10
	// shifted to blue 75 / green 25
	// shifted to blue 50 / green 50
	// rolled back: errors: 2 of the last 2 datapoints > 5 (need 2) [20 20]
	// true rolled-back
}
