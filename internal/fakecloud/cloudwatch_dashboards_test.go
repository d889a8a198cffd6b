package fakecloud_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func TestDashboardBodyValidation(t *testing.T) {
	ctx := context.Background()
	metric := `{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"region":"us-east-1","period":60,"metrics":[["AWS/DMS","CDCLatencySource","ReplicationInstanceIdentifier","dms-instance-dev","ReplicationTaskIdentifier","ABC"],[{"expression":"m1*2","id":"e1"}]]}}`
	tests := []struct {
		name, body, want string
	}{
		{"valid", `{"widgets":[` + metric + `,{"type":"text","x":12,"y":0,"width":12,"height":6,"properties":{"markdown":"# steps"}},{"type":"alarm","properties":{"alarms":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"]}}]}`, ""},
		{"empty widgets", `{"widgets":[]}`, ""},
		{"not JSON", `{"widgets":`, "should be an object"},
		{"no widgets", `{}`, "'widgets'"},
		{"x out of range", `{"widgets":[{"type":"text","x":24,"y":0,"properties":{"markdown":"m"}}]}`, "/widgets/0/x] should be between 0 and 23"},
		{"x without y", `{"widgets":[{"type":"text","x":1,"properties":{"markdown":"m"}}]}`, "both x and y"},
		{"width 25", `{"widgets":[{"type":"text","width":25,"properties":{"markdown":"m"}}]}`, "/widgets/0/width] should be between 1 and 24"},
		{"height 0", `{"widgets":[{"type":"text","height":0,"properties":{"markdown":"m"}}]}`, "/widgets/0/height]"},
		{"unknown type", `{"widgets":[{"type":"chart","properties":{}}]}`, "allowed values"},
		{"text without markdown", `{"widgets":[{"type":"text","properties":{}}]}`, "'markdown'"},
		{"metric without region", `{"widgets":[{"type":"metric","properties":{"metrics":[["A","B"]]}}]}`, "'region'"},
		{"period not a multiple of 60", `{"widgets":[{"type":"metric","properties":{"region":"us-east-1","period":90,"metrics":[["A","B"]]}}]}`, "period] should be a multiple of 60"},
		{"dimension without value", `{"widgets":[{"type":"metric","properties":{"region":"us-east-1","metrics":[["A","B","Dim"]]}}]}`, "DimensionName, DimensionValue"},
		{"options not last", `{"widgets":[{"type":"metric","properties":{"region":"us-east-1","metrics":[["A",{},"B"]]}}]}`, "rendering-properties object last"},
		{"alarm widget without alarms", `{"widgets":[{"type":"alarm","properties":{"alarms":[]}}]}`, "1 to 100 items"},
		{"alarm widget with a topic ARN", `{"widgets":[{"type":"alarm","properties":{"alarms":["arn:aws:sns:us-east-1:123456789012:t"]}}]}`, "alarm ARN"},
		{"log widget without SOURCE", `{"widgets":[{"type":"log","properties":{"region":"us-east-1","query":"fields @message"}}]}`, "SOURCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := fakecloud.New()
			_, err := cloud.CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(tt.body)})
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []string{"d"}, cloud.CloudWatch().DashboardNames())
				return
			}
			assert.Equal(t, "InvalidParameterInput", awsx.Code(err))
			assert.ErrorContains(t, err, tt.want)
			assert.Empty(t, cloud.CloudWatch().DashboardNames())
		})
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = `{"type":"text","properties":{"markdown":"m"}}`
	}
	_, err := fakecloud.New().CloudWatch().PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(`{"widgets":[` + strings.Join(many, ",") + `]}`)})
	assert.ErrorContains(t, err, "more than 500")
}

func TestDashboardLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	cw := cloud.CloudWatch()
	body := func(md string) *string {
		return aws.String(fmt.Sprintf(`{"widgets":[{"type":"text","properties":{"markdown":%q}}]}`, md))
	}
	_, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: body("v1"),
		Tags: []cwtypes.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}}})
	require.NoError(t, err)
	_, err = cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-dev"), DashboardBody: body("v2"),
		Tags: []cwtypes.Tag{{Key: aws.String("other"), Value: aws.String("x")}}})
	require.NoError(t, err)
	got, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("migration-dev")})
	require.NoError(t, err)
	assert.Contains(t, aws.ToString(got.DashboardBody), "v2")
	assert.Equal(t, "arn:aws:cloudwatch::123456789012:dashboard/migration-dev", aws.ToString(got.DashboardArn))
	tags, _ := cw.DashboardTags("migration-dev")
	assert.Equal(t, map[string]string{"cutover:env": "dev"}, tags, "tags on update are ignored, as in CloudWatch")

	// TagResource and UntagResource are how an existing dashboard's tags
	// change.
	arn := aws.ToString(got.DashboardArn)
	_, err = cw.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: []cwtypes.Tag{{Key: aws.String("Project"), Value: aws.String("m")}}})
	require.NoError(t, err)
	_, err = cw.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"cutover:env"}})
	require.NoError(t, err)
	lt, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	require.NoError(t, err)
	require.Len(t, lt.Tags, 1)
	assert.Equal(t, "Project", aws.ToString(lt.Tags[0].Key))
	_, err = cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch::123456789012:dashboard/nope")})
	assert.True(t, awsx.IsNotFound(err))

	_, err = cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("migration-prod"), DashboardBody: body("p")})
	require.NoError(t, err)
	list, err := cw.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: aws.String("migration-d")})
	require.NoError(t, err)
	require.Len(t, list.DashboardEntries, 1)

	_, err = cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"migration-dev", "nope"}})
	assert.True(t, awsx.IsNotFound(err))
	assert.Len(t, cw.DashboardNames(), 2, "all or nothing")
	_, err = cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"migration-dev"}})
	require.NoError(t, err)
	_, err = cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("migration-dev")})
	assert.True(t, awsx.IsNotFound(err))
}
