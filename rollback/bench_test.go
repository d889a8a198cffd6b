package rollback_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// The benchmarks the design promises for the rollback path: the policy
// engine on its own, and the reaction time of a rollback (simulated
// seconds until the weights are INSYNC on blue, and the API calls it
// takes).

// benchSpec is the default rules' spec the benchmarks watch.
var benchSpec = rollback.DefaultRulesSpec{
	LoadBalancer: "app/green/0123456789abcdef", DMSInstance: "dms-instance-dev", ForwardTaskID: "FWDTASKRESOURCEID", VPNID: "vpn-0123456789abcdef0",
}

// benchWindow returns the observations of the default policy at at: every
// rule's query, keyed as Evaluate reads them, with an hour of one-minute
// (or five-minute) datapoints — more than the policy's window, as a
// GetMetricData over a dashboard-sized range returns — and a healthy
// reverse task. bad makes green's 5xx rate 10 % in the last three minutes.
func benchWindow(tb testing.TB, policy rollback.Policy, at time.Time, bad bool) rollback.Observations {
	tb.Helper()
	const span = time.Hour
	series := func(period time.Duration, value func(i, n int) float64) []rollback.Point {
		end := at.Truncate(period)
		n := int(span / period)
		out := make([]rollback.Point, 0, n)
		for i := range n {
			out = append(out, rollback.Point{Time: end.Add(-time.Duration(n-i) * period), Value: value(i, n)})
		}
		return out
	}
	const requests = 12_000 // per minute
	obs := rollback.Observations{
		At:         at,
		Series:     map[string]rollback.Series{},
		ReverseLag: &migration.ReplicationLag{Task: "dms-task-reverse-dev", Status: "running", Source: time.Second, Target: 3 * time.Second},
	}
	for _, r := range policy.Rules {
		var s rollback.Series
		switch r.Name {
		case rollback.RuleGreen5xxRate:
			s.Points = series(r.Query.Period, func(i, n int) float64 {
				if bad && i >= n-3 {
					return 10
				}
				return 0.2
			})
			s.Samples = series(r.Query.Period, func(int, int) float64 { return requests })
		case rollback.RuleGreenP99Latency:
			s.Points = series(r.Query.Period, func(i, _ int) float64 { return 0.35 + float64(i%7)/100 })
			s.Samples = series(r.Query.Period, func(int, int) float64 { return requests })
		case rollback.RuleDMSCDCLatency:
			s.Points = series(r.Query.Period, func(i, _ int) float64 { return float64(2 + i%5) })
		case rollback.RuleVPNTunnelsDown:
			s.Points = series(r.Query.Period, func(int, int) float64 { return 1 })
		case rollback.RuleReplicationStalls:
			s.Points = series(r.Query.Period, func(int, int) float64 { return 0 })
		default:
			tb.Fatalf("the default policy has a rule %q the benchmark does not observe", r.Name)
		}
		obs.Series[r.Name] = s
	}
	return obs
}

// BenchmarkEvaluate is the pure policy engine over the default rule set:
// five rules, an hour of datapoints each, the previous state of a healthy
// cutover. Continue is the verdict of every evaluation of a healthy
// cutover; Rollback the one that matters for the reaction time.
func BenchmarkEvaluate(b *testing.B) {
	env := migration.Env{Suffix: "dev", Region: fakecloud.DefaultRegion, Account: fakecloud.DefaultAccount}
	policy, err := rollback.DefaultPolicy(env, benchSpec)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 10, 0, 30, 0, time.UTC)
	for _, bc := range []struct {
		name string
		bad  bool
		want rollback.Verdict
	}{
		{name: "continue", want: rollback.Continue},
		{name: "rollback", bad: true, want: rollback.Rollback},
	} {
		b.Run(bc.name, func(b *testing.B) {
			obs := benchWindow(b, policy, at, bc.bad)
			// The previous evaluation of a healthy cutover: every rule ok.
			obs.Previous = rollback.Evaluate(policy, benchWindow(b, policy, at.Add(-time.Minute), false)).State
			rules := float64(len(policy.Rules))
			var d rollback.Decision
			b.ReportAllocs()
			for b.Loop() {
				d = rollback.Evaluate(policy, obs)
			}
			if d.Verdict != bc.want {
				b.Fatalf("verdict %s (%s), want %s", d.Verdict, d.Reason, bc.want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rules, "ns/rule")
		})
	}
}

// insyncRouter is the dns.Router the benchmark measures, noting the
// simulated time its shift to blue was INSYNC (Shift returns then).
type insyncRouter struct {
	*dns.Router
	clock  *fakecloud.Clock
	insync time.Time
}

func (r *insyncRouter) Shift(ctx context.Context, to migration.Split) (migration.Shifted, error) {
	s, err := r.Router.Shift(ctx, to)
	if err == nil && to == migration.AllBlue {
		r.insync = r.clock.Now()
	}
	return s, err
}

// newReactionFixture is the executor fixture of executor_test.go with the
// records on the fake cloud's Route 53 (a private zone, two services'
// weighted records at 50 %, through the dns package's Router) in place of
// the in-memory router, so the rollback's API calls and the time Route 53
// takes to be INSYNC are the simulated AWS's. The store, the notifier and
// the reverse task are the fixture's doubles.
func newReactionFixture(tb testing.TB) (*executorFixture, *fakecloud.Cloud, *insyncRouter) {
	tb.Helper()
	ctx := context.Background()
	cloud := fakecloud.New(fakecloud.WithClock(fakecloud.NewClock(fakecloud.Epoch)))
	f := newExecutorFixture(migration.PhaseCuttingOver)
	f.env = migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	f.store.clock = cloud.Clock()

	vpc, err := cloud.EC2().CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		tb.Fatal(err)
	}
	zone, err := dns.EnsureZone(ctx, f.env, cloud.Route53(), dns.ZoneSpec{Name: "corp.example.internal", VPCID: aws.ToString(vpc.Vpc.VpcId)})
	if err != nil {
		tb.Fatal(err)
	}
	spec := dns.RecordsSpec{
		ZoneID: zone.ID, ZoneName: zone.Name, TTL: 60,
		Services: []dns.Service{
			{Name: "web", Blue: dns.Target{IPs: []string{"192.168.10.10"}}, Green: dns.Target{Alias: &dns.Alias{DNSName: "internal-web-1.us-east-1.elb.amazonaws.com", HostedZoneID: "Z35SXDOTRQ7X7K"}}},
			{Name: "api", Blue: dns.Target{IPs: []string{"192.168.20.10"}}, Green: dns.Target{IPs: []string{"10.0.1.10", "10.0.2.10"}}},
		},
	}
	if _, err := dns.EnsureRecords(ctx, f.env, cloud.Route53(), spec); err != nil {
		tb.Fatal(err)
	}
	r, err := dns.NewRouter(f.env, cloud.Route53(), zone.ID, spec)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.Shift(ctx, migration.GreenPercent(50)); err != nil {
		tb.Fatal(err)
	}
	router := &insyncRouter{Router: r, clock: cloud.Clock()}
	f.x = &rollback.Executor{Env: f.env, Router: router, Store: f.store, Notifier: f.notifier, Reverse: f.repl}
	return f, cloud, router
}

// BenchmarkRollbackReaction is the executor's Rollback from a 50 % split
// to all blue on the simulated Route 53: the records' change batch, the
// wait for INSYNC, the reverse task, the conditional phase transition,
// the ledger and the notification. Besides ns/op it reports the simulated
// seconds from the request to the weights INSYNC on blue (sim-s/op) and
// the API calls the rollback made (calls/op). Each iteration rolls back a
// fresh fixture, made with the timer stopped.
func BenchmarkRollbackReaction(b *testing.B) {
	ctx := context.Background()
	var simTotal time.Duration
	var calls, writes int
	b.ReportAllocs()
	b.StopTimer()
	for range b.N {
		f, cloud, router := newReactionFixture(b)
		cloud.ResetCalls()
		start := cloud.Clock().Now()
		req := rollback.Request{Reason: "alarm green-5xx-rate", Actor: "lambda"}

		b.StartTimer()
		res, err := f.x.Rollback(ctx, req)
		b.StopTimer()

		if err != nil {
			b.Fatal(err)
		}
		if res.Outcome != rollback.OutcomeRolledBack || f.store.current() != migration.PhaseRolledBack || len(f.notifier.sent) != 1 {
			b.Fatalf("outcome %s, phase %s, %d notifications: not one rollback", res.Outcome, f.store.current(), len(f.notifier.sent))
		}
		if router.insync.IsZero() {
			b.Fatal("the weights were never INSYNC on blue")
		}
		log := cloud.Calls()
		if w, err := router.Weights(ctx); err != nil || w != migration.AllBlue {
			b.Fatalf("weights after the rollback: %s, %v", w, err)
		}
		simTotal += router.insync.Sub(start)
		calls += len(log)
		for _, c := range log {
			if c.Write {
				writes++
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(simTotal.Seconds()/n, "sim-s/op")
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(float64(writes)/n, "writes/op")
}
