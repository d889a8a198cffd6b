package fakecloud

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type fakeFlowLog struct {
	ID           string            `json:"id"`
	ResourceID   string            `json:"resourceId"`
	TrafficType  string            `json:"trafficType"`
	DestType     string            `json:"destType"`
	LogGroupName string            `json:"logGroupName,omitempty"`
	Destination  string            `json:"destination,omitempty"`
	RoleARN      string            `json:"roleArn,omitempty"`
	MaxAggr      int32             `json:"maxAggregation"`
	LogFormat    string            `json:"logFormat"`
	Tags         map[string]string `json:"tags"`
	Created      time.Time         `json:"created"`
}

// defaultFlowLogFormat is EC2's default record format (version 2 fields).
const defaultFlowLogFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

func init() {
	taggable["fl-"] = func(c *Cloud, id string) (map[string]string, bool) {
		fl, ok := c.EC2().st().FlowLogs[id]
		if !ok {
			return nil, false
		}
		return fl.Tags, true
	}
}

func (f *EC2) flowLogOut(fl *fakeFlowLog) types.FlowLog {
	o := types.FlowLog{
		FlowLogId: aws.String(fl.ID), ResourceId: aws.String(fl.ResourceID), TrafficType: types.TrafficType(fl.TrafficType),
		LogDestinationType: types.LogDestinationType(fl.DestType), FlowLogStatus: aws.String("ACTIVE"),
		CreationTime: aws.Time(fl.Created), MaxAggregationInterval: aws.Int32(fl.MaxAggr), LogFormat: aws.String(fl.LogFormat),
		Tags: toEC2Tags(fl.Tags), DeliverLogsStatus: aws.String("SUCCESS"),
	}
	if fl.DestType == string(types.LogDestinationTypeCloudWatchLogs) {
		o.LogGroupName = aws.String(fl.LogGroupName)
		o.LogDestination = aws.String(f.c.Logs().arn(fl.LogGroupName))
		o.DeliverLogsPermissionArn = aws.String(fl.RoleARN)
		// Delivery fails when the role is missing, as it does in AWS.
		name := fl.RoleARN[strings.LastIndex(fl.RoleARN, "/")+1:]
		if _, ok := f.c.IAM().st().Roles[strings.ToLower(name)]; !ok {
			o.DeliverLogsStatus = aws.String("FAILED")
			o.DeliverLogsErrorMessage = aws.String("Access error")
		}
	} else {
		o.LogDestination = aws.String(fl.Destination)
	}
	return o
}

// CreateFlowLogs creates flow logs for VPCs or subnets. Problems with one
// resource come back as Unsuccessful items, not as an error, as in EC2. A
// retried create with the same ClientToken returns the same flow logs.
func (f *EC2) CreateFlowLogs(ctx context.Context, in *ec2.CreateFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error) {
	var out *ec2.CreateFlowLogsOutput
	err := f.c.call(ctx, ec2.ServiceID, "CreateFlowLogs", true, func() error {
		destType := string(in.LogDestinationType)
		if destType == "" {
			destType = string(types.LogDestinationTypeCloudWatchLogs)
		}
		group := aws.ToString(in.LogGroupName)
		if group == "" && destType == string(types.LogDestinationTypeCloudWatchLogs) {
			arn := aws.ToString(in.LogDestination)
			if i := strings.Index(arn, ":log-group:"); i >= 0 {
				group = strings.TrimSuffix(arn[i+len(":log-group:"):], ":*")
			}
		}
		dg := digest(in.ResourceIds, in.ResourceType, in.TrafficType, destType, group, aws.ToString(in.DeliverLogsPermissionArn))
		s := f.st()
		if prev, err := f.tokenCreated("CreateFlowLogs", in.ClientToken, dg); err != nil {
			return err
		} else if prev != "" {
			out = &ec2.CreateFlowLogsOutput{ClientToken: in.ClientToken, FlowLogIds: strings.Split(prev, ",")}
			return nil
		}
		switch {
		case in.TrafficType == "" && in.ResourceType != types.FlowLogsResourceTypeTransitGateway:
			return apiError("MissingParameter", "The request must contain the parameter TrafficType")
		case destType == string(types.LogDestinationTypeCloudWatchLogs) && group == "":
			return apiError("InvalidParameter", "LogGroupName or LogDestination is required for cloud-watch-logs")
		case destType == string(types.LogDestinationTypeCloudWatchLogs) && !strings.HasPrefix(aws.ToString(in.DeliverLogsPermissionArn), "arn:aws:iam::"):
			return apiError("InvalidParameter", "DeliverLogsPermissionArn is required to publish to CloudWatch Logs")
		}
		maxAggr := aws.ToInt32(in.MaxAggregationInterval)
		if maxAggr == 0 {
			maxAggr = 600
		}
		if maxAggr != 60 && maxAggr != 600 {
			return apiError("InvalidParameter", "MaxAggregationInterval must be 60 or 600")
		}
		format := aws.ToString(in.LogFormat)
		if format == "" {
			format = defaultFlowLogFormat
		}
		out = &ec2.CreateFlowLogsOutput{ClientToken: in.ClientToken}
		for _, rid := range in.ResourceIds {
			var exists bool
			switch in.ResourceType {
			case types.FlowLogsResourceTypeVpc:
				_, exists = s.VPCs[rid]
			case types.FlowLogsResourceTypeSubnet:
				_, exists = s.Subnets[rid]
			}
			if !exists {
				out.Unsuccessful = append(out.Unsuccessful, types.UnsuccessfulItem{ResourceId: aws.String(rid), Error: &types.UnsuccessfulItemError{Code: aws.String("InvalidParameter"), Message: aws.String("resource " + rid + " does not exist")}})
				continue
			}
			dup := false
			for _, o := range s.FlowLogs {
				if o.ResourceID == rid && o.TrafficType == string(in.TrafficType) && o.DestType == destType && o.LogGroupName == group && o.Destination == aws.ToString(in.LogDestination) {
					dup = true
				}
			}
			if dup {
				out.Unsuccessful = append(out.Unsuccessful, types.UnsuccessfulItem{ResourceId: aws.String(rid), Error: &types.UnsuccessfulItemError{Code: aws.String("FlowLogAlreadyExists"), Message: aws.String("FlowLogAlreadyExists")}})
				continue
			}
			fl := &fakeFlowLog{
				ID: f.c.newID("fl"), ResourceID: rid, TrafficType: string(in.TrafficType), DestType: destType, LogGroupName: group,
				RoleARN: aws.ToString(in.DeliverLogsPermissionArn), MaxAggr: maxAggr, LogFormat: format,
				Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeVpcFlowLog), Created: f.c.now(),
			}
			if destType != string(types.LogDestinationTypeCloudWatchLogs) {
				fl.Destination = aws.ToString(in.LogDestination)
			}
			s.FlowLogs[fl.ID] = fl
			f.c.created(fl.ID)
			out.FlowLogIds = append(out.FlowLogIds, fl.ID)
		}
		if len(out.FlowLogIds) > 0 {
			f.recordToken("CreateFlowLogs", in.ClientToken, dg, strings.Join(out.FlowLogIds, ","))
		}
		return nil
	})
	return out, err
}

// DescribeFlowLogs lists flow logs by ID and filters (tag:*, flow-log-id,
// resource-id, traffic-type, log-destination-type, log-group-name).
func (f *EC2) DescribeFlowLogs(ctx context.Context, in *ec2.DescribeFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error) {
	var out *ec2.DescribeFlowLogsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DescribeFlowLogs", false, func() error {
		var all []types.FlowLog
		s := f.st()
		for _, id := range sortedKeys(s.FlowLogs) {
			fl := s.FlowLogs[id]
			if len(in.FlowLogIds) > 0 && !slices.Contains(in.FlowLogIds, id) {
				continue
			}
			ok, err := matchFilters(in.Filter, fl.Tags, map[string]string{
				"flow-log-id": id, "resource-id": fl.ResourceID, "traffic-type": fl.TrafficType,
				"log-destination-type": fl.DestType, "log-group-name": fl.LogGroupName, "deliver-log-status": "SUCCESS",
			})
			if err != nil {
				return err
			}
			if ok && !f.c.hidden(id) {
				all = append(all, f.flowLogOut(fl))
			}
		}
		items, next, err := ec2Page(all, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out = &ec2.DescribeFlowLogsOutput{FlowLogs: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteFlowLogs deletes flow logs; unknown IDs come back as Unsuccessful
// items (InvalidFlowLogId.NotFound), not as an error.
func (f *EC2) DeleteFlowLogs(ctx context.Context, in *ec2.DeleteFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.DeleteFlowLogsOutput, error) {
	var out *ec2.DeleteFlowLogsOutput
	err := f.c.call(ctx, ec2.ServiceID, "DeleteFlowLogs", true, func() error {
		out = &ec2.DeleteFlowLogsOutput{}
		for _, id := range in.FlowLogIds {
			if _, ok := f.st().FlowLogs[id]; !ok {
				out.Unsuccessful = append(out.Unsuccessful, types.UnsuccessfulItem{ResourceId: aws.String(id), Error: &types.UnsuccessfulItemError{Code: aws.String("InvalidFlowLogId.NotFound"), Message: aws.String("flow log " + id + " does not exist")}})
				continue
			}
			delete(f.st().FlowLogs, id)
		}
		return nil
	})
	return out, err
}

// FlowLogs returns the IDs of the flow logs, for assertions.
func (f *EC2) FlowLogs() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.st().FlowLogs)
}
