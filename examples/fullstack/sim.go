package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/mgn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/examples/fullstack/internal/wire"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// simWorld is what surrounds the simulated cloud in -sim and the demo:
// the on-premises side an operator prepares by hand (the source database's
// secret, the activated DataSync agent, the MGN agents on the twelve
// servers, the data to move), the traffic green serves (load balancer and
// VPN metrics, and an error spike on demand), the rollback Lambda's
// handler — the same wiring the real Lambda runs — and the loop that
// evaluates CloudWatch alarms as time passes.
type simWorld struct {
	spec  Spec
	cloud *fakecloud.Cloud

	mu     sync.Mutex
	spikes []window // fake-time windows in which green fails
	stopFn context.CancelFunc
	done   chan struct{}
}

type window struct{ from, to time.Time }

// Simulated data sizes: the reference migration's database and share.
const (
	simShareBytes = 2 << 40 // 2 TB
	simShareFiles = 1_800_000
	simServerDisk = 200 << 30 // each application server's disks
)

func newSimWorld(spec Spec, cloud *fakecloud.Cloud) *simWorld {
	return &simWorld{spec: spec, cloud: cloud}
}

// start prepares the on-premises side (idempotently), green's traffic and
// the Lambda's handler, and starts the alarm loop.
func (w *simWorld) start(ctx context.Context, env migration.Env) error {
	if err := w.onPremises(ctx, env); err != nil {
		return fmt.Errorf("simulated on-premises side: %w", err)
	}
	w.traffic()
	if err := w.tunnels(ctx, env); err != nil {
		return err
	}
	w.cloud.Lambda().SetHandler(rollback.FunctionName(env), func(ctx context.Context, payload []byte) ([]byte, error) {
		return w.invokeRollback(ctx, env, payload)
	})
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.stopFn, w.done = cancel, make(chan struct{})
	go w.alarmLoop(loopCtx)
	return nil
}

// stop ends the alarm loop.
func (w *simWorld) stop() {
	if w == nil || w.stopFn == nil {
		return
	}
	w.stopFn()
	<-w.done
	w.stopFn = nil
}

// alarmLoopMinGap is the least real time between two alarm evaluations.
const alarmLoopMinGap = 20 * time.Millisecond

// alarmLoop evaluates the alarms every simulated 30 seconds, as
// CloudWatch does continuously; actions (SNS, the rollback Lambda) fire
// from here.
func (w *simWorld) alarmLoop(ctx context.Context) {
	defer close(w.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.cloud.Clock().After(30 * time.Second):
		}
		// And at most every alarmLoopMinGap of real time: at a high
		// -sim-speed, 30 simulated seconds are a millisecond or less, and
		// evaluating every alarm that often would take a CPU of its own
		// and starve the platform it watches.
		select {
		case <-ctx.Done():
			return
		case <-time.After(alarmLoopMinGap):
		}
		_, _ = w.cloud.CloudWatch().EvaluateAlarms(ctx)
	}
}

// onPremises creates what the operator prepares outside the platform,
// once: a customer managed key and the source database secret encrypted
// with it, the DataSync agent, and the MGN source servers of the spec's
// hosts (as their agents register them).
func (w *simWorld) onPremises(ctx context.Context, env migration.Env) error {
	sm := w.cloud.SecretsManager()
	name := w.spec.DMS.Source.SecretName
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)}); awsx.IsNotFound(err) {
		key, err := w.cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("operator key for on-premises credentials"),
			Tags: []kmstypes.Tag{{TagKey: aws.String("Owner"), TagValue: aws.String("database-team")}}})
		if err != nil {
			return err
		}
		value, _ := json.Marshal(map[string]any{"username": "dms_migration", "password": "simulated-" + env.Suffix + "-Zq8rT2", "host": "pg13.dc1.corp.example", "port": 5432, "engine": "postgres"})
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), KmsKeyId: key.KeyMetadata.Arn, SecretString: aws.String(string(value))}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	agents, err := w.cloud.DataSync().ListAgents(ctx, &datasync.ListAgentsInput{})
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, a := range agents.Agents {
		have[aws.ToString(a.Name)] = true
	}
	for _, n := range w.spec.Files.Source.Agents {
		if !have[n] && !strings.HasPrefix(n, "arn:") {
			w.cloud.DataSync().AddAgent(n)
		}
	}
	known := map[string]bool{}
	pages := mgn.NewDescribeSourceServersPaginator(w.cloud.MGN(), &mgn.DescribeSourceServersInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if awsx.HasCode(err, "UninitializedAccountException") {
			break // agents register once apply initialized MGN; the fake takes them before
		}
		if err != nil {
			return err
		}
		for _, s := range page.Items {
			if s.SourceProperties != nil && s.SourceProperties.IdentificationHints != nil {
				known[aws.ToString(s.SourceProperties.IdentificationHints.Hostname)] = true
			}
		}
	}
	for i, h := range w.spec.Servers.Hosts {
		if known[h] {
			continue
		}
		id := w.cloud.MGN().AddSourceServer(h, map[string]string{"Wave": "1"})
		// Larger servers take longer: 90 minutes to 3 hours of initial sync.
		w.cloud.MGN().SetInitialSync(id, simServerDisk, 90*time.Minute+time.Duration(i%4)*30*time.Minute)
	}
	return nil
}

// traffic scripts green's load balancer (steady requests, fast answers,
// errors only inside a spike window) and the VPN's tunnels (up).
func (w *simWorld) traffic() {
	lb := map[string]string{"LoadBalancer": w.spec.Cutover.GreenLoadBalancer}
	cw := w.cloud.CloudWatch()
	cw.SetMetricFunc("AWS/ApplicationELB", "RequestCount", lb, func(time.Time) (float64, bool) { return 1200, true })
	cw.SetMetricFunc("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, func(t time.Time) (float64, bool) {
		if w.spiking(t) {
			return 150, true // 12.5 %
		}
		return 1, true
	})
	cw.SetMetricFunc("AWS/ApplicationELB", "TargetResponseTime", lb, func(t time.Time) (float64, bool) {
		if w.spiking(t) {
			return 2.4, true
		}
		return 0.18, true
	})
}

// attach scripts the metrics that need IDs apply made: the VPN's tunnels.
func (w *simWorld) attach(out *outputs) {
	if out.vpn.ID != "" && !migration.IsPending(out.vpn.ID) {
		w.tunnelsUp(out.vpn.ID)
	}
}

// tunnels scripts the tunnels of the env's VPN connections that exist
// already (a command after apply, in a new process), so CloudWatch sees
// them up from the first moment the process runs.
func (w *simWorld) tunnels(ctx context.Context, env migration.Env) error {
	out, err := w.cloud.EC2().DescribeVpnConnections(ctx, &ec2.DescribeVpnConnectionsInput{Filters: awsx.OwnedFilters(migration.OwnerTag, env.Suffix, "")})
	if err != nil {
		return err
	}
	for _, v := range out.VpnConnections {
		w.tunnelsUp(aws.ToString(v.VpnConnectionId))
	}
	return nil
}

// tunnelsUp reports both tunnels of a VPN connection up (TunnelState 1).
func (w *simWorld) tunnelsUp(vpnID string) {
	w.cloud.CloudWatch().SetMetricFunc("AWS/VPN", "TunnelState", map[string]string{"VpnId": vpnID}, func(time.Time) (float64, bool) { return 1, true })
}

// spike makes green fail from now for d.
func (w *simWorld) spike(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.cloud.Clock().Now()
	w.spikes = append(w.spikes, window{from: now.Truncate(time.Minute), to: now.Add(d)})
}

// heal ends every spike now: the operator fixed green.
func (w *simWorld) heal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.cloud.Clock().Now()
	for i := range w.spikes {
		if w.spikes[i].to.After(now) {
			w.spikes[i].to = now
		}
	}
}

func (w *simWorld) spiking(t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.spikes {
		if !t.Before(s.from) && t.Before(s.to) {
			return true
		}
	}
	return false
}

// afterApply loads the on-premises data the replication will move: the
// source database's tables and the file share's bytes.
func (w *simWorld) afterApply(_ context.Context, out *outputs) error {
	w.attach(out)
	tables := []fakecloud.DMSTable{
		{Schema: "public", Name: "accounts", Rows: 4_200_000},
		{Schema: "public", Name: "customers", Rows: 2_900_000},
		{Schema: "public", Name: "transactions", Rows: 310_000_000},
		{Schema: "public", Name: "ledger_entries", Rows: 620_000_000},
		{Schema: "public", Name: "statements", Rows: 48_000_000},
		{Schema: "audit", Name: "events", Rows: 95_000_000},
	}
	// The on-premises database, and the AWS one the forward task fills
	// with the same tables, which the reverse task reads.
	for _, name := range []string{dms.EndpointSource, dms.EndpointReverseSource} {
		if ep, ok := out.dms.Endpoints[name]; ok && !migration.IsPending(ep.ARN) {
			w.cloud.DMS().SetSourceTables(ep.ARN, tables...)
		}
	}
	if loc := out.files.SourceLocation.ARN; loc != "" && !migration.IsPending(loc) {
		w.cloud.DataSync().SetSourceData(loc, simShareBytes, simShareFiles)
	}
	return nil
}

// invokeRollback runs the rollback Lambda's handler as AWS would: built
// from the function's own configuration (its environment variable) by the
// same wiring as the real Lambda's main, on the simulated clients.
func (w *simWorld) invokeRollback(ctx context.Context, env migration.Env, payload []byte) ([]byte, error) {
	fn, err := w.cloud.Lambda().GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(rollback.FunctionName(env))})
	if err != nil {
		return nil, err
	}
	var cfg rollback.LambdaConfig
	if c := fn.Configuration; c == nil || c.Environment == nil || json.Unmarshal([]byte(c.Environment.Variables[rollback.ConfigEnvVar]), &cfg) != nil {
		return nil, fmt.Errorf("rollback lambda: %s missing or unreadable", rollback.ConfigEnvVar)
	}
	lenv := cfg.Env()
	lenv.Clock = w.cloud.Clock()
	h, err := wire.Handler(ctx, lenv, cfg, simClients(w.cloud).wireClients())
	if err != nil {
		return nil, err
	}
	return h.Invoke(ctx, payload)
}

// launched registers instances MGN launched with Systems Manager, as their
// SSM agent does at first boot, tagged for the validation targets.
func (w *simWorld) launched(instanceIDs []string) {
	tags := map[string]string{}
	for k, v := range w.spec.Validation.Targets {
		if len(v) > 0 {
			tags[k] = v[0]
		}
	}
	for _, id := range instanceIDs {
		if id != "" {
			w.cloud.SSM().RegisterInstance(id, tags)
		}
	}
}

// leftovers lists what the simulated cloud still holds with the env's
// ownership tag, except what a destroy keeps on purpose and says so: the
// KMS key pending deletion (cancellable for its window), the target
// database's final snapshot and the tracking table's final backup (the
// migrated data and the migration's history), and secrets in their
// recovery window.
func leftovers(_ context.Context, env migration.Env, cloud *fakecloud.Cloud) []string {
	owned, err := cloud.TaggedWith(migration.OwnerTag, env.Suffix)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, r := range owned {
		if keptOnPurpose(r) {
			continue
		}
		out = append(out, r.String())
	}
	return out
}

func keptOnPurpose(r fakecloud.Tagged) bool {
	path := strings.ToLower(r.Path)
	switch {
	case r.Deleted:
		return true // deleted, still visible for a while (or in its recovery window)
	case r.Service == "mgn" && strings.HasPrefix(path, "jobs"):
		return true // MGN's job history, not a resource
	case r.State == "PendingDeletion":
		return true
	case strings.Contains(path, "snapshot"), strings.Contains(path, "backup"):
		return true
	case r.Service == "secretsmanager" && strings.Contains(strings.ToLower(r.State), "delet"):
		return true
	}
	return false
}
