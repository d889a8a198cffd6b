package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

func TestPlanApplyApplyAgain(t *testing.T) {
	ctx := context.Background()
	a, cloud, _ := testApp(t, 0)
	rb, err := a.runbook(true)
	require.NoError(t, err)

	// plan on an empty cloud lists the creates and writes nothing.
	plan := &migration.Report{}
	mark := len(cloud.Calls())
	require.NoError(t, rb.Plan(ctx, a.env(plan)))
	calls, writes := callsSince(cloud, mark)
	assert.Zero(t, writes, "plan must not write")
	assert.Positive(t, calls)
	counts := plan.Counts()
	assert.GreaterOrEqual(t, counts[migration.ActionCreate], 80, "the whole platform is planned")
	assert.Zero(t, counts[migration.ActionUpdate]+counts[migration.ActionDelete])

	applied := &migration.Report{}
	require.NoError(t, rb.Apply(ctx, a.env(applied)))
	assert.Equal(t, counts[migration.ActionCreate], applied.Counts()[migration.ActionCreate], "apply creates what plan said")

	// The second apply reports only noop and makes zero write calls.
	mark = len(cloud.Calls())
	again := &migration.Report{}
	require.NoError(t, rb.Apply(ctx, a.env(again)))
	for _, c := range again.Changes() {
		assert.Equal(t, migration.ActionNoop, c.Action, "%s", c)
	}
	_, writes = callsSince(cloud, mark)
	assert.Zero(t, writes, "a converged apply makes no write call")

	// And a plan now shows nothing to do.
	replan := &migration.Report{}
	require.NoError(t, rb.Plan(ctx, a.env(replan)))
	assert.False(t, replan.HasChanges(), replan.Summary())
}

// TestRunbookParallelism: the runbook's graph lets independent parts
// provision at once. The network, the key, the operator's secret, MGN and
// the DataSync agents wait for nothing; parts that share no input never
// wait for each other; and the longest chain of dependencies is a fraction
// of the steps, so most run beside others.
func TestRunbookParallelism(t *testing.T) {
	a, _, _ := testApp(t, 0)
	steps := a.platform.steps(migration.Options{})
	deps := map[string][]string{}
	for _, s := range steps {
		deps[s.Name] = s.DependsOn
	}
	// ancestors of a step: every step it transitively waits for.
	var ancestors func(name string, seen map[string]bool) map[string]bool
	ancestors = func(name string, seen map[string]bool) map[string]bool {
		for _, d := range deps[name] {
			if !seen[d] {
				seen[d] = true
				ancestors(d, seen)
			}
		}
		return seen
	}
	var roots []string
	for _, s := range steps {
		if len(s.DependsOn) == 0 {
			roots = append(roots, s.Name)
		}
	}
	assert.Subset(t, roots, []string{stepKey, stepVPC, stepSecret, stepMGN, stepAgents})

	for _, pair := range [][2]string{
		{stepVPC, stepKey}, {stepTable, stepVPC}, {stepTopic, stepSubnets}, {stepZone, stepKey}, {stepMGN, stepNAT},
		{dms.StepInstance, stepZone}, {dms.StepInstance, stepVPN}, {"file-transfer", dms.StepTargetDB}, {stepVPN, dms.StepTasks},
		{"direct-connect", stepVPN}, {"replication-template", stepRoutes}, {validate.StepDocuments, stepRecords},
	} {
		assert.False(t, ancestors(pair[0], map[string]bool{})[pair[1]], "%s waits for %s", pair[0], pair[1])
		assert.False(t, ancestors(pair[1], map[string]bool{})[pair[0]], "%s waits for %s", pair[1], pair[0])
	}

	depth := map[string]int{}
	var level func(string) int
	level = func(name string) int {
		if d, ok := depth[name]; ok {
			return d
		}
		d := 1
		for _, x := range deps[name] {
			d = max(d, level(x)+1)
		}
		depth[name] = d
		return d
	}
	longest := 0
	for _, s := range steps {
		longest = max(longest, level(s.Name))
	}
	assert.Less(t, longest*3, len(steps), "the longest chain (%d) of %d steps", longest, len(steps))
}

// TestCrashDuringApply crashes the platform's apply at writes spread over
// the whole run — before the write takes effect, and after it with the
// response lost — restarts, applies again and checks that nothing was made
// twice: every owned resource of every service is unique by name.
func TestCrashDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("applies the whole platform 14 times")
	}
	ctx := context.Background()
	a, cloud, _ := testApp(t, 0)
	rb, err := a.runbook(true)
	require.NoError(t, err)
	mark := len(cloud.Calls())
	require.NoError(t, rb.Apply(ctx, a.env(nil)))
	_, total := callsSince(cloud, mark)
	require.Greater(t, total, 100)
	baseline := ownedByPath(t, cloud, a.env(nil))

	// The write count varies a little between runs (retries of IAM
	// propagation, the order of parallel steps), so the last sample
	// stays below it.
	for _, k := range []int{1, total / 10, total / 4, total / 2, 3 * total / 4, 9 * total / 10} {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("write %d of %d after=%v", k, total, after), func(t *testing.T) {
				t.Parallel() // each on a cloud of its own
				a, cloud, _ := testApp(t, 0)
				rb, err := a.runbook(true)
				require.NoError(t, err)
				cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: after})
				err = rb.Apply(ctx, a.env(nil))
				require.Error(t, err)
				require.True(t, errors.Is(err, fakecloud.ErrCrash), "the apply died of the crash: %v", err)

				cloud.Restart()
				require.NoError(t, rb.Apply(ctx, a.env(nil)), "the re-run converges")
				assert.Equal(t, baseline, ownedByPath(t, cloud, a.env(nil)), "the same resources as an apply without a crash, none twice")

				mark := len(cloud.Calls())
				require.NoError(t, rb.Apply(ctx, a.env(nil)))
				var writes []string
				for _, c := range cloud.Calls()[mark:] {
					if c.Write && !isBookkeeping(c) {
						writes = append(writes, c.Service+" "+c.Op)
					}
				}
				assert.Empty(t, writes, "and it is converged")
			})
		}
	}
}

// ownedByPath counts the live resources the env owns by where they live.
func ownedByPath(t *testing.T, cloud *fakecloud.Cloud, env migration.Env) map[string]int {
	t.Helper()
	owned, err := cloud.TaggedWith(migration.OwnerTag, env.Suffix)
	require.NoError(t, err)
	n := map[string]int{}
	for _, r := range owned {
		if !r.Deleted {
			n[r.Service+"/"+r.Path]++
		}
	}
	return n
}

// TestEFSTarget: with files.target efs, the share lands on an encrypted
// EFS file system in the private subnets that the application servers may
// mount; it plans, applies, converges and destroys like the S3 target.
func TestEFSTarget(t *testing.T) {
	ctx := context.Background()
	a, cloud, _ := testApp(t, 0)
	spec, err := loadSpec(writeSpec(t, [2]string{"target: s3", "target: efs"}, [2]string{"forceDeleteObjects: false", "forceDeleteObjects: true"}))
	require.NoError(t, err)
	require.NoError(t, spec.Validate())
	a.spec = spec
	a.use(a.clients, a.world)
	rb, err := a.runbook(true)
	require.NoError(t, err)

	plan := &migration.Report{}
	require.NoError(t, rb.Plan(ctx, a.env(plan)))
	kinds := map[string]int{}
	for _, c := range plan.Changes() {
		kinds[c.Kind]++
	}
	assert.Equal(t, 1, kinds[migration.KindFileSystem])
	assert.Equal(t, 3, kinds[migration.KindMountTarget], "one per zone")
	assert.Zero(t, kinds["s3-bucket"])

	require.NoError(t, rb.Apply(ctx, a.env(nil)))
	fs := a.platform.out.files.FileSystem
	require.NotEmpty(t, fs.ID)
	assert.Len(t, fs.MountTargets, 3)
	assert.Contains(t, rulesOfGroup(t, cloud, a.platform.out.sgs.App), "out tcp/2049 10.0.0.0/16")

	mark := len(cloud.Calls())
	again := &migration.Report{}
	require.NoError(t, rb.Apply(ctx, a.env(again)))
	assert.False(t, again.HasChanges(), again.Summary())
	_, writes := callsSince(cloud, mark)
	assert.Zero(t, writes)

	require.NoError(t, rb.Destroy(ctx, a.env(nil)))
	assert.Empty(t, leftovers(ctx, a.env(nil), cloud))
}

// rulesOfGroup renders a security group's egress rules as "out tcp/PORT CIDR".
func rulesOfGroup(t *testing.T, cloud *fakecloud.Cloud, id string) []string {
	t.Helper()
	out, err := cloud.EC2().DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	require.NoError(t, err)
	var rules []string
	for _, p := range out.SecurityGroups[0].IpPermissionsEgress {
		for _, r := range p.IpRanges {
			rules = append(rules, fmt.Sprintf("out %s/%d %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToString(r.CidrIp)))
		}
	}
	return rules
}

// TestPublicStagingSubnetRefused: apply refuses to point MGN's template at
// a staging subnet someone made public (a route to the internet gateway in
// its table), naming the subnet and the route, and leaves the template as
// it was.
func TestPublicStagingSubnetRefused(t *testing.T) {
	ctx := context.Background()
	a, cloud, out := testApp(t, 0)
	require.NoError(t, apply(ctx, a, &migration.Report{}), out.String())
	o := a.platform.out
	staging := firstID(o.subnets.Private)
	rts, err := cloud.EC2().DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{awsx.Filter("association.subnet-id", staging)}})
	require.NoError(t, err)
	require.Len(t, rts.RouteTables, 1)
	_, err = cloud.EC2().CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rts.RouteTables[0].RouteTableId, DestinationCidrBlock: aws.String("203.0.113.0/24"), GatewayId: aws.String(o.igw.ID)})
	require.NoError(t, err)

	mark := len(cloud.Calls())
	err = apply(ctx, a, &migration.Report{})
	require.ErrorIs(t, err, migration.ErrPublicSubnet)
	assert.ErrorContains(t, err, "mgn staging subnet: verify subnet "+staging+": its route table "+aws.ToString(rts.RouteTables[0].RouteTableId)+" routes 203.0.113.0/24 to internet gateway "+o.igw.ID)
	for _, c := range cloud.Calls()[mark:] {
		assert.False(t, c.Service == "mgn" && c.Write, "the template is left alone: %s", c.Op)
	}
}
