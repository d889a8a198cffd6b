package rollback

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cutoverkit/cutover/migration"
)

// DefaultRulesSpec names what the default rules watch. The IDs come from
// the packages that create the resources (the green load balancer, dms,
// network) and from the tracking package's progress metrics.
type DefaultRulesSpec struct {
	// LoadBalancer is the green Application Load Balancer's ARN suffix,
	// "app/<name>/<id>": the LoadBalancer dimension of AWS/ApplicationELB.
	LoadBalancer string
	// DMSInstance is the replication instance identifier.
	DMSInstance string
	// ForwardTaskID is the forward task's resource ID — the last part of
	// its ARN, which is the ReplicationTaskIdentifier dimension of AWS/DMS
	// — not the task's name.
	ForwardTaskID string
	// VPNID is the Site-to-Site VPN connection ID (vpn-...).
	VPNID string
	// StalledServers is the metric counting application servers whose
	// replication is stalled. Nil means the tracking package's progress
	// metric: namespace "Cutover", name "StalledServers", dimension
	// Env=<suffix>, statistic Maximum.
	StalledServers *Metric

	// MaxErrorRate is the green 5xx rate, in percent of requests, above
	// which green is failing; 0 means 1 %.
	MaxErrorRate float64
	// MaxP99Latency is the green p99 target response time above which
	// green is failing; 0 means 1.5 s.
	MaxP99Latency time.Duration
	// MaxCDCLatency is the forward task's target latency above which green
	// serves stale data; 0 means 5 minutes.
	MaxCDCLatency time.Duration
	// DataLossBudget is the policy's data-loss budget; 0 means 1 minute.
	DataLossBudget time.Duration
}

var (
	albSuffixRe = regexp.MustCompile(`^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`)
	vpnIDRe     = regexp.MustCompile(`^vpn-[0-9a-f]{8,17}$`)
)

// Validate checks the spec: an ALB ARN suffix, the DMS instance and task
// IDs (the task's resource ID, not its ARN), a VPN connection ID, and
// non-negative thresholds.
func (s DefaultRulesSpec) Validate() error {
	var errs []error
	if !albSuffixRe.MatchString(s.LoadBalancer) {
		errs = append(errs, fmt.Errorf("rules.loadBalancer: %q is not an ALB ARN suffix such as app/green/0123456789abcdef", s.LoadBalancer))
	}
	if err := migration.RuleDMSIdentifier.Check(s.DMSInstance); err != nil {
		errs = append(errs, fmt.Errorf("rules.dmsInstance: %w", err))
	}
	switch {
	case strings.HasPrefix(s.ForwardTaskID, "arn:"):
		errs = append(errs, fmt.Errorf("rules.forwardTaskId: %q is an ARN; the AWS/DMS dimension is its last part, %q", s.ForwardTaskID, s.ForwardTaskID[strings.LastIndex(s.ForwardTaskID, ":")+1:]))
	case s.ForwardTaskID == "" || len(s.ForwardTaskID) > 255:
		errs = append(errs, errors.New("rules.forwardTaskId: required (the task ARN's resource ID)"))
	}
	if !vpnIDRe.MatchString(s.VPNID) && !migration.IsPending(s.VPNID) { // pending in a plan of a new env
		errs = append(errs, fmt.Errorf("rules.vpnId: %q is not a VPN connection ID (vpn-...)", s.VPNID))
	}
	if s.MaxErrorRate < 0 || s.MaxErrorRate > 100 || s.MaxP99Latency < 0 || s.MaxCDCLatency < 0 || s.DataLossBudget < 0 {
		errs = append(errs, errors.New("rules: thresholds must not be negative (and an error rate at most 100 %)"))
	}
	return errors.Join(errs...)
}

// The names of the default rules.
const (
	RuleGreen5xxRate      = "green-5xx-rate"
	RuleGreenP99Latency   = "green-p99-latency"
	RuleDMSCDCLatency     = "dms-cdc-latency"
	RuleVPNTunnelsDown    = "vpn-tunnels-down"
	RuleReplicationStalls = "server-replication-stalled"
)

// DefaultPolicy returns the default rollback policy:
//
//   - green-5xx-rate: 100 × (HTTPCode_Target_5XX_Count +
//     HTTPCode_ELB_5XX_Count) / RequestCount of the green ALB
//     (AWS/ApplicationELB, LoadBalancer), Sum per minute, above 1 % in 2
//     of 3 minutes, counted only in minutes with at least 50 requests
//     (FILL makes a minute without 5xx a 0); no data is inconclusive.
//   - green-p99-latency: TargetResponseTime p99 above 1.5 s in 3 of 5
//     minutes, counted only in minutes with at least 100 requests
//     (RequestCount).
//   - dms-cdc-latency: CDCLatencyTarget of the forward task (AWS/DMS,
//     ReplicationInstanceIdentifier + ReplicationTaskIdentifier), Maximum
//     per 5 minutes, above 300 s in 2 of 2; no data (the forward task
//     stopped at the database switch) is not breaching.
//   - vpn-tunnels-down: TunnelState of the VPN connection (AWS/VPN,
//     VpnId; the connection-level value is the fraction of tunnels up),
//     Maximum per minute, at most 0 in 3 of 3 minutes: every tunnel down
//     for three minutes. The VPN reports continuously, so missing data
//     breaches.
//   - server-replication-stalled: the tracking package's StalledServers
//     metric above 0 for 10 minutes. DryRun: a stalled server replication
//     does not hurt green's traffic, so it notifies and never rolls back.
//
// Every rule clears after 3 good datapoints and tolerates 2 consecutive
// provider errors. The data-loss budget is 1 minute.
func DefaultPolicy(env migration.Env, spec DefaultRulesSpec) (Policy, error) {
	if err := spec.Validate(); err != nil {
		return Policy{}, fmt.Errorf("default rollback policy: %w", err)
	}
	orDefault := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	durDefault := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	alb := func(name, stat string) Metric {
		return Metric{Namespace: "AWS/ApplicationELB", Name: name, Dimensions: map[string]string{"LoadBalancer": spec.LoadBalancer}, Stat: stat}
	}
	// tracking.PublishProgress publishes it: namespace Cutover, dimension
	// env (lower case, as tracking.DimensionEnv).
	stalled := Metric{Namespace: "Cutover", Name: "StalledServers", Dimensions: map[string]string{"env": env.Suffix}, Stat: "Maximum"}
	if spec.StalledServers != nil {
		stalled = *spec.StalledServers
	}
	p := Policy{
		DataLossBudget: durDefault(spec.DataLossBudget, time.Minute),
		Rules: []Rule{
			{
				Name:        RuleGreen5xxRate,
				Description: "5xx responses of the green load balancer, in percent of its requests",
				Query: Query{
					Expression: "100 * (FILL(t5xx, 0) + FILL(elb5xx, 0)) / requests",
					Metrics: map[string]Metric{
						"t5xx":     alb("HTTPCode_Target_5XX_Count", "Sum"),
						"elb5xx":   alb("HTTPCode_ELB_5XX_Count", "Sum"),
						"requests": alb("RequestCount", "Sum"),
					},
					SamplesID: "requests",
					Period:    time.Minute,
				},
				Comparator: GreaterThan, Threshold: orDefault(spec.MaxErrorRate, 1),
				EvaluationPeriods: 3, DatapointsToAlarm: 2, Missing: MissingInconclusive, MinSamples: 50,
				ClearAfter: 3, ErrorLimit: 2,
			},
			{
				Name:        RuleGreenP99Latency,
				Description: "p99 target response time of the green load balancer, in seconds",
				Query:       Query{Metric: ptr(alb("TargetResponseTime", "p99")), Samples: ptr(alb("RequestCount", "Sum")), Period: time.Minute},
				Comparator:  GreaterThan, Threshold: durDefault(spec.MaxP99Latency, 1500*time.Millisecond).Seconds(),
				EvaluationPeriods: 5, DatapointsToAlarm: 3, Missing: MissingInconclusive, MinSamples: 100,
				ClearAfter: 3, ErrorLimit: 2,
			},
			{
				Name:        RuleDMSCDCLatency,
				Description: "target latency of the forward DMS task, in seconds",
				Query: Query{Metric: &Metric{Namespace: "AWS/DMS", Name: "CDCLatencyTarget", Stat: "Maximum", Dimensions: map[string]string{
					"ReplicationInstanceIdentifier": spec.DMSInstance, "ReplicationTaskIdentifier": spec.ForwardTaskID,
				}}, Period: 5 * time.Minute},
				Comparator: GreaterThan, Threshold: durDefault(spec.MaxCDCLatency, 5*time.Minute).Seconds(),
				// Missing data does not count: once the database has
				// switched (see Replication.SwitchDatabase) the forward
				// task is stopped and reports nothing, and before every
				// step the gates bound its lag from the task itself.
				EvaluationPeriods: 2, DatapointsToAlarm: 2, Missing: MissingNotBreaching,
				ClearAfter: 3, ErrorLimit: 2,
			},
			{
				Name:        RuleVPNTunnelsDown,
				Description: "fraction of the VPN connection's tunnels up; 0 means every tunnel is down",
				Query:       Query{Metric: &Metric{Namespace: "AWS/VPN", Name: "TunnelState", Stat: "Maximum", Dimensions: map[string]string{"VpnId": spec.VPNID}}, Period: time.Minute},
				Comparator:  LessThanOrEqual, Threshold: 0,
				EvaluationPeriods: 3, DatapointsToAlarm: 3, Missing: MissingBreaching,
				ClearAfter: 3, ErrorLimit: 2,
			},
			{
				Name:        RuleReplicationStalls,
				Description: "application servers whose replication is stalled (notify only)",
				Query:       Query{Metric: &stalled, Period: 5 * time.Minute},
				Comparator:  GreaterThan, Threshold: 0,
				EvaluationPeriods: 2, DatapointsToAlarm: 2, Missing: MissingNotBreaching,
				ClearAfter: 3, ErrorLimit: 2, DryRun: true,
			},
		},
	}
	if err := p.Validate(); err != nil {
		return Policy{}, fmt.Errorf("default rollback policy: %w", err)
	}
	return p, nil
}

func ptr[T any](v T) *T { return &v }
