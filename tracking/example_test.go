package tracking_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

// Example sets up the tracking table and the notification topic on the
// simulated cloud, then moves the migration through the Store: a
// transition notifies, a second operator acting on a stale view loses.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}

	key, err := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	if err != nil {
		panic(err)
	}
	table, err := tracking.EnsureTable(ctx, env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key.ARN})
	if err != nil {
		panic(err)
	}
	topic, err := tracking.EnsureTopic(ctx, env, cloud.SNS(), tracking.TopicSpec{
		KMSKeyARN:     key.ARN,
		Subscriptions: []tracking.Subscription{{Protocol: "email", Endpoint: "oncall@bank.example"}},
	})
	if err != nil {
		panic(err)
	}
	notifier, err := tracking.NewNotifier(env, cloud.SNS(), topic.ARN)
	if err != nil {
		panic(err)
	}
	store, err := tracking.NewStore(env, cloud.DynamoDB(), tracking.StoreOptions{Notifier: notifier, Actor: "operator alice"})
	if err != nil {
		panic(err)
	}
	fmt.Println(table.Name, topic.Name)

	unlock, err := store.Lock(ctx, "alice@laptop")
	if err != nil {
		panic(err)
	}
	if err := store.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "platform applied"); err != nil {
		panic(err)
	}
	cloud.Clock().Advance(time.Minute)
	err = store.Transition(ctx, migration.PhasePlanned, migration.PhaseProvisioned, "applied again")
	fmt.Println("second operator:", errors.Is(err, tracking.ErrConflict))
	if err := unlock(ctx); err != nil {
		panic(err)
	}

	st, err := store.Status(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("phase: %s (version %d): %s\n", st.Phase.Phase, st.Phase.Version, st.Phase.Reason)
	for _, e := range st.Events {
		fmt.Printf("event: %s by %s\n", e.Type, e.Actor)
	}
	for _, m := range cloud.SNS().Published(topic.ARN) {
		fmt.Println("notified:", m.Subject)
	}
	// Output:
	// migration-tracking-dev migration-notifications-dev
	// second operator: true
	// phase: provisioned (version 1): platform applied
	// event: lease-acquired by alice@laptop
	// event: transition by operator alice
	// event: lease-released by alice@laptop
	// notified: [cutover dev] planned -> provisioned
}

// ExampleBuildDashboard lists the widgets of a dashboard built from the
// IDs other packages return.
func ExampleBuildDashboard() {
	env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012"}
	body := tracking.BuildDashboard(env, tracking.DashboardSpec{
		DMSInstanceID:   "dms-instance-dev",
		DMSTasks:        []tracking.DMSTask{{Label: "forward", ARN: "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ"}},
		VPNConnectionID: "vpn-0123456789abcdef0",
		VPNTunnelIPs:    []string{"52.0.0.1", "52.0.0.2"},
		AlarmARNs:       []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-green-5xx-rate-dev"},
		RunbookSteps:    []string{"network", "dms", "cutover"},
	})
	if err := body.Validate(); err != nil {
		panic(err)
	}
	for _, w := range body.Widgets {
		title := ""
		switch p := w.Properties.(type) {
		case *tracking.MetricProperties:
			title = p.Title
		case *tracking.AlarmProperties:
			title = p.Title
		case *tracking.TextProperties:
			title = "runbook"
		}
		fmt.Printf("%-6s x=%-2d y=%-2d w=%-2d %s\n", w.Type, w.X, w.Y, w.Width, title)
	}
	// Output:
	// text   x=0  y=0  w=24 runbook
	// metric x=0  y=6  w=12 Migration progress (%)
	// metric x=12 y=6  w=12 Servers
	// metric x=0  y=12 w=12 Phase (index in the lifecycle)
	// metric x=12 y=12 w=12 DMS CDC latency (seconds)
	// metric x=0  y=18 w=12 DMS CDC throughput (rows/second)
	// metric x=12 y=18 w=12 DMS replication instance
	// metric x=0  y=24 w=12 VPN tunnel state (1 = up)
	// metric x=12 y=24 w=12 VPN data (bytes)
	// alarm  x=0  y=30 w=24 Rollback alarms
}
