package fakecloud_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

const fakePEM = `-----BEGIN CERTIFICATE-----
MIIBWjCCAQGgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpleGFtcGxl
IENBMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFowFTETMBEGA1UEAxMK
ZXhhbXBsZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD/FoPASFkSv+LjF
LtgcYEo/GceE+sR+/RhC+LIed19pZMXbYNnpNI/KS+3AklW41hkBrXsWdZ0GDAOX
cm3Df6KjQjBAMA4GA1UdDwEB/wQEAwICBDAPBgNVHRMBAf8EBTADAQH/MB0GA1Ud
DgQWBBS9R3ziGdv1dqxMIw9G/+Nct1xwljAKBggqhkjOPQQDAgNHADBEAiAnsZKN
njEoRCP2Q8GZJZHNeHa9BR5A1FJnUH2DrLbuSQIgEiJtI2I3U/cPMD/Kp69sqlJC
5LhtMsefNrvYZz0I1H4=
-----END CERTIFICATE-----`

// dmsWorld is a cloud with dms-vpc-role (propagated), a subnet group, an
// available instance, a certificate, a secret with its access role, and a
// source and a target endpoint.
type dmsWorld struct {
	cloud                       *fakecloud.Cloud
	instance, source, target    string
	cert, secret, role, secret2 string
}

func newDMSWorld(t *testing.T) dmsWorld {
	t.Helper()
	ctx := context.Background()
	cloud := fakecloud.New()
	w := dmsWorld{cloud: cloud}
	im := cloud.IAM()
	_, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dms-vpc-role"), AssumeRolePolicyDocument: aws.String(trustDMS("dms.amazonaws.com"))})
	require.NoError(t, err)
	_, err = im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("dms-vpc-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole")})
	require.NoError(t, err)
	cloud.DMS().AddSubnet("subnet-a", "vpc-1", "us-east-1a")
	cloud.DMS().AddSubnet("subnet-b", "vpc-1", "us-east-1b")
	cloud.Clock().Advance(time.Minute)
	_, err = cloud.DMS().CreateReplicationSubnetGroup(ctx, &dms.CreateReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("g"),
		ReplicationSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-a", "subnet-b"}})
	require.NoError(t, err)
	ri, err := cloud.DMS().CreateReplicationInstance(ctx, &dms.CreateReplicationInstanceInput{ReplicationInstanceIdentifier: aws.String("ri"),
		ReplicationInstanceClass: aws.String("dms.r6i.large"), ReplicationSubnetGroupIdentifier: aws.String("g"), MultiAZ: aws.Bool(true)})
	require.NoError(t, err)
	w.instance = aws.ToString(ri.ReplicationInstance.ReplicationInstanceArn)
	c, err := cloud.DMS().ImportCertificate(ctx, &dms.ImportCertificateInput{CertificateIdentifier: aws.String("ca"), CertificatePem: aws.String(fakePEM)})
	require.NoError(t, err)
	w.cert = aws.ToString(c.Certificate.CertificateArn)
	for i, name := range []string{"src", "tgt"} {
		s, err := cloud.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name),
			SecretString: aws.String(`{"username":"u","password":"p","host":"db.example","port":5432}`)})
		require.NoError(t, err)
		if i == 0 {
			w.secret = aws.ToString(s.ARN)
		} else {
			w.secret2 = aws.ToString(s.ARN)
		}
	}
	r, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("access"), AssumeRolePolicyDocument: aws.String(trustDMS("dms.us-east-1.amazonaws.com"))})
	require.NoError(t, err)
	w.role = aws.ToString(r.Role.Arn)
	_, err = im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("access"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":["` + w.secret + `","` + w.secret2 + `"]}]}`)})
	require.NoError(t, err)
	cloud.Clock().Advance(15 * time.Minute)
	w.source = w.endpoint(t, "source", dmstypes.ReplicationEndpointTypeValueSource, w.secret)
	w.target = w.endpoint(t, "target", dmstypes.ReplicationEndpointTypeValueTarget, w.secret2)
	return w
}

func (w dmsWorld) endpoint(t *testing.T, id string, typ dmstypes.ReplicationEndpointTypeValue, secret string) string {
	t.Helper()
	e, err := w.cloud.DMS().CreateEndpoint(context.Background(), &dms.CreateEndpointInput{EndpointIdentifier: aws.String(id), EndpointType: typ,
		EngineName: aws.String("postgres"), SslMode: dmstypes.DmsSslModeValueVerifyFull, CertificateArn: aws.String(w.cert),
		PostgreSQLSettings: &dmstypes.PostgreSQLSettings{SecretsManagerSecretId: aws.String(secret), SecretsManagerAccessRoleArn: aws.String(w.role)}})
	require.NoError(t, err)
	return aws.ToString(e.Endpoint.EndpointArn)
}

func (w dmsWorld) task(t *testing.T, id string, typ dmstypes.MigrationTypeValue) string {
	t.Helper()
	out, err := w.cloud.DMS().CreateReplicationTask(context.Background(), &dms.CreateReplicationTaskInput{ReplicationTaskIdentifier: aws.String(id),
		MigrationType: typ, ReplicationInstanceArn: aws.String(w.instance), SourceEndpointArn: aws.String(w.source), TargetEndpointArn: aws.String(w.target),
		TableMappings:           aws.String(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"order[_]items"},"rule-action":"include"}]}`),
		ReplicationTaskSettings: aws.String(`{"Logging":{"EnableLogging":true},"ValidationSettings":{"EnableValidation":true}}`)})
	require.NoError(t, err)
	w.cloud.Clock().Advance(2 * time.Minute)
	return aws.ToString(out.ReplicationTask.ReplicationTaskArn)
}

func trustDMS(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

func TestDMSDescribeNoMatchIsTypedNotFound(t *testing.T) {
	cloud := fakecloud.New()
	_, err := cloud.DMS().DescribeReplicationInstances(context.Background(), &dms.DescribeReplicationInstancesInput{
		Filters: []dmstypes.Filter{{Name: aws.String("replication-instance-id"), Values: []string{"none"}}}})
	var nf *dmstypes.ResourceNotFoundFault
	require.True(t, errors.As(err, &nf), "the SDK's DMS waiters match the type: %v", err)
	assert.True(t, awsx.IsNotFound(err))
	_, err = cloud.DMS().DescribeEndpoints(context.Background(), &dms.DescribeEndpointsInput{Filters: []dmstypes.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	assert.Equal(t, "InvalidParameterValueException", awsx.Code(err))
	// Without filters, an empty account lists nothing, without error.
	out, err := cloud.DMS().DescribeEndpoints(context.Background(), &dms.DescribeEndpointsInput{})
	require.NoError(t, err)
	assert.Empty(t, out.Endpoints)
}

func TestDMSInstanceLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cloud.DMS().AddSubnet("subnet-a", "vpc-1", "us-east-1a")
	cloud.DMS().AddSubnet("subnet-b", "vpc-1", "us-east-1b")
	group := &dms.CreateReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("g"), ReplicationSubnetGroupDescription: aws.String("d"), SubnetIds: []string{"subnet-a", "subnet-b"}}
	_, err := cloud.DMS().CreateReplicationSubnetGroup(ctx, group)
	assert.Equal(t, "AccessDeniedFault", awsx.Code(err), "no dms-vpc-role")
	_, err = cloud.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dms-vpc-role"), AssumeRolePolicyDocument: aws.String(trustDMS("dms.amazonaws.com"))})
	require.NoError(t, err)
	_, err = cloud.IAM().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("dms-vpc-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole")})
	require.NoError(t, err)
	_, err = cloud.DMS().CreateReplicationSubnetGroup(ctx, group)
	assert.Equal(t, "AccessDeniedFault", awsx.Code(err), "the new role has not propagated")
	cloud.Clock().Advance(11 * time.Second)
	_, err = cloud.DMS().CreateReplicationSubnetGroup(ctx, group)
	require.NoError(t, err)

	in := &dms.CreateReplicationInstanceInput{ReplicationInstanceIdentifier: aws.String("ri"), ReplicationInstanceClass: aws.String("dms.r6i.large"),
		ReplicationSubnetGroupIdentifier: aws.String("g"), MultiAZ: aws.Bool(true), EngineVersion: aws.String("3.5.4"), PubliclyAccessible: aws.Bool(false),
		DnsNameServers: aws.String("192.168.0.10,192.168.0.2,192.168.1.10,192.168.1.2,10.0.0.2")}
	_, err = cloud.DMS().CreateReplicationInstance(ctx, in)
	assert.Equal(t, "InvalidParameterValueException", awsx.Code(err), "at most four name servers")
	in.DnsNameServers = aws.String("192.168.0.10,dns.example")
	_, err = cloud.DMS().CreateReplicationInstance(ctx, in)
	assert.Equal(t, "InvalidParameterValueException", awsx.Code(err), "addresses, not names")
	in.DnsNameServers = aws.String("192.168.0.10,192.168.0.2")
	out, err := cloud.DMS().CreateReplicationInstance(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, "192.168.0.10,192.168.0.2", aws.ToString(out.ReplicationInstance.DnsNameServers))
	arn := aws.ToString(out.ReplicationInstance.ReplicationInstanceArn)
	assert.Regexp(t, `^arn:aws:dms:us-east-1:123456789012:rep:[A-Z2-7]{26}$`, arn)
	assert.Equal(t, "creating", cloud.DMS().InstanceStatus("ri"))
	_, err = cloud.DMS().CreateReplicationInstance(ctx, in)
	assert.Equal(t, "ResourceAlreadyExistsFault", awsx.Code(err))
	_, err = cloud.DMS().ModifyReplicationInstance(ctx, &dms.ModifyReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn), AllocatedStorage: aws.Int32(100)})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err), "not while creating")
	cloud.Clock().Advance(12 * time.Minute)
	assert.Equal(t, "available", cloud.DMS().InstanceStatus("ri"))

	// Deferred without ApplyImmediately; downgrades refused.
	_, err = cloud.DMS().ModifyReplicationInstance(ctx, &dms.ModifyReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn), EngineVersion: aws.String("3.5.3")})
	assert.Equal(t, "InvalidParameterValueException", awsx.Code(err))
	_, err = cloud.DMS().ModifyReplicationInstance(ctx, &dms.ModifyReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn), ReplicationInstanceClass: aws.String("dms.r6i.xlarge")})
	require.NoError(t, err)
	d, err := cloud.DMS().DescribeReplicationInstances(ctx, &dms.DescribeReplicationInstancesInput{})
	require.NoError(t, err)
	assert.Equal(t, "dms.r6i.large", aws.ToString(d.ReplicationInstances[0].ReplicationInstanceClass))
	assert.Equal(t, "dms.r6i.xlarge", aws.ToString(d.ReplicationInstances[0].PendingModifiedValues.ReplicationInstanceClass))
	assert.True(t, cloud.DMS().ApplyPendingMaintenance("ri"))

	// The group cannot go while the instance uses it.
	_, err = cloud.DMS().DeleteReplicationSubnetGroup(ctx, &dms.DeleteReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("g")})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err))
	_, err = cloud.DMS().DeleteReplicationInstance(ctx, &dms.DeleteReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn)})
	require.NoError(t, err)
	cloud.Clock().Advance(6 * time.Minute)
	assert.Empty(t, cloud.DMS().InstanceStatus("ri"))
}

func TestDMSEndpointRules(t *testing.T) {
	ctx := context.Background()
	w := newDMSWorld(t)
	create := func(edit func(*dms.CreateEndpointInput)) error {
		in := &dms.CreateEndpointInput{EndpointIdentifier: aws.String("e"), EndpointType: dmstypes.ReplicationEndpointTypeValueSource, EngineName: aws.String("postgres"),
			SslMode: dmstypes.DmsSslModeValueVerifyFull, CertificateArn: aws.String(w.cert),
			PostgreSQLSettings: &dmstypes.PostgreSQLSettings{SecretsManagerSecretId: aws.String(w.secret), SecretsManagerAccessRoleArn: aws.String(w.role)}}
		edit(in)
		_, err := w.cloud.DMS().CreateEndpoint(ctx, in)
		return err
	}
	assert.Equal(t, "InvalidParameterCombinationException", awsx.Code(create(func(in *dms.CreateEndpointInput) { in.Password = aws.String("clear") })),
		"Secrets Manager and clear-text credentials are exclusive")
	assert.Equal(t, "InvalidParameterCombinationException", awsx.Code(create(func(in *dms.CreateEndpointInput) { in.PostgreSQLSettings.SecretsManagerAccessRoleArn = nil })))
	assert.Equal(t, "InvalidParameterCombinationException", awsx.Code(create(func(in *dms.CreateEndpointInput) { in.CertificateArn = nil })), "verify-full needs a CA")
	assert.Equal(t, "AccessDeniedFault", awsx.Code(create(func(in *dms.CreateEndpointInput) {
		in.PostgreSQLSettings.SecretsManagerAccessRoleArn = aws.String("arn:aws:iam::123456789012:role/missing")
	})))

	// A certificate or endpoint in use cannot go.
	_, err := w.cloud.DMS().DeleteCertificate(ctx, &dms.DeleteCertificateInput{CertificateArn: aws.String(w.cert)})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err))
	task := w.task(t, "t", dmstypes.MigrationTypeValueFullLoadAndCdc)
	_, err = w.cloud.DMS().DeleteEndpoint(ctx, &dms.DeleteEndpointInput{EndpointArn: aws.String(w.source)})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err))

	// TestConnection reads the secret: without host it fails.
	_, err = w.cloud.SecretsManager().PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(w.secret), SecretString: aws.String(`{"username":"u","password":"p","port":5432}`)})
	require.NoError(t, err)
	_, err = w.cloud.DMS().TestConnection(ctx, &dms.TestConnectionInput{ReplicationInstanceArn: aws.String(w.instance), EndpointArn: aws.String(w.source)})
	require.NoError(t, err)
	w.cloud.Clock().Advance(time.Minute)
	c, err := w.cloud.DMS().DescribeConnections(ctx, &dms.DescribeConnectionsInput{})
	require.NoError(t, err)
	assert.Equal(t, "failed", aws.ToString(c.Connections[0].Status))
	assert.Contains(t, aws.ToString(c.Connections[0].LastFailureMessage), "no host field")
	// And a task fails to start.
	_, err = w.cloud.DMS().StartReplicationTask(ctx, &dms.StartReplicationTaskInput{ReplicationTaskArn: aws.String(task), StartReplicationTaskType: dmstypes.StartReplicationTaskTypeValueStartReplication})
	require.NoError(t, err)
	w.cloud.Clock().Advance(2 * time.Minute)
	assert.Equal(t, "failed", w.cloud.DMS().TaskStatus("t"))
}

func TestDMSTaskStateMachine(t *testing.T) {
	ctx := context.Background()
	w := newDMSWorld(t)
	api := w.cloud.DMS()
	_, err := api.CreateReplicationTask(ctx, &dms.CreateReplicationTaskInput{ReplicationTaskIdentifier: aws.String("bad"), MigrationType: dmstypes.MigrationTypeValueCdc,
		ReplicationInstanceArn: aws.String(w.instance), SourceEndpointArn: aws.String(w.source), TargetEndpointArn: aws.String(w.target), TableMappings: aws.String(`{"rules":[]}`),
		ReplicationTaskSettings: aws.String(`{"Logging":{"EnableLogging":true,"CloudWatchLogGroup":"mine"}}`)})
	assert.Equal(t, "InvalidParameterValueException", awsx.Code(err))
	arn := w.task(t, "t", dmstypes.MigrationTypeValueFullLoadAndCdc)
	assert.Equal(t, "ready", api.TaskStatus("t"))
	assert.Contains(t, api.TaskSettings("t"), `"CloudWatchLogGroup":"dms-tasks-ri"`, "DMS assigns the log group")
	start := func(typ dmstypes.StartReplicationTaskTypeValue) error {
		_, err := api.StartReplicationTask(ctx, &dms.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: typ})
		return err
	}
	stop := func() error {
		_, err := api.StopReplicationTask(ctx, &dms.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)})
		return err
	}
	modify := func() error {
		_, err := api.ModifyReplicationTask(ctx, &dms.ModifyReplicationTaskInput{ReplicationTaskArn: aws.String(arn), ReplicationTaskSettings: aws.String(`{}`)})
		return err
	}
	assert.Equal(t, "InvalidParameterCombinationException", awsx.Code(start(dmstypes.StartReplicationTaskTypeValueResumeProcessing)), "first run: start-replication only")
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(stop()))
	require.NoError(t, start(dmstypes.StartReplicationTaskTypeValueStartReplication))
	assert.Equal(t, "starting", api.TaskStatus("t"))
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(modify()), "modify only when stopped")
	w.cloud.Clock().Advance(2 * time.Minute)
	assert.Equal(t, "running", api.TaskStatus("t"))

	// Table statistics during the full load; the escaped underscore maps
	// to one table named order_items.
	st, err := api.DescribeTableStatistics(ctx, &dms.DescribeTableStatisticsInput{ReplicationTaskArn: aws.String(arn)})
	require.NoError(t, err)
	require.Len(t, st.TableStatistics, 1)
	assert.Equal(t, "order_items", aws.ToString(st.TableStatistics[0].TableName))
	assert.Equal(t, "Pending records", aws.ToString(st.TableStatistics[0].ValidationState))
	_, err = api.DeleteReplicationTask(ctx, &dms.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(arn)})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err), "not while running")
	_, err = api.DeleteReplicationInstance(ctx, &dms.DeleteReplicationInstanceInput{ReplicationInstanceArn: aws.String(w.instance)})
	assert.Equal(t, "InvalidResourceStateFault", awsx.Code(err), "an instance with tasks")

	// After the load: CDC, with latency metrics under the task ARN's
	// resource ID.
	w.cloud.Clock().Advance(10 * time.Minute)
	w.cloud.DMS().SetTaskLatency(arn, 3*time.Second, 8*time.Second)
	now := w.cloud.Clock().Now()
	m, err := w.cloud.CloudWatch().GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-3 * time.Minute)), EndTime: aws.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("t"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/DMS"), MetricName: aws.String("CDCLatencyTarget"), Dimensions: []cwtypes.Dimension{
				{Name: aws.String("ReplicationInstanceIdentifier"), Value: aws.String("ri")},
				{Name: aws.String("ReplicationTaskIdentifier"), Value: aws.String(arn[len(arn)-26:])}}}}}}})
	require.NoError(t, err)
	require.NotEmpty(t, m.MetricDataResults[0].Values)
	assert.Equal(t, 8.0, m.MetricDataResults[0].Values[0])

	require.NoError(t, stop())
	w.cloud.Clock().Advance(2 * time.Minute)
	assert.Equal(t, "stopped", api.TaskStatus("t"))
	assert.Equal(t, "InvalidParameterCombinationException", awsx.Code(start(dmstypes.StartReplicationTaskTypeValueStartReplication)), "ran before: resume or reload")
	require.NoError(t, modify())
	assert.Equal(t, "modifying", api.TaskStatus("t"))
	w.cloud.Clock().Advance(time.Minute)
	assert.Equal(t, "stopped", api.TaskStatus("t"), "back to where it was")
	require.NoError(t, start(dmstypes.StartReplicationTaskTypeValueResumeProcessing))
	w.cloud.Clock().Advance(2 * time.Minute)
	st, err = api.DescribeTableStatistics(ctx, &dms.DescribeTableStatisticsInput{ReplicationTaskArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, "Table completed", aws.ToString(st.TableStatistics[0].TableState), "resume does not reload")

	// The state survives Save and Load.
	var buf bytes.Buffer
	require.NoError(t, w.cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "running", loaded.DMS().TaskStatus("t"))
}
