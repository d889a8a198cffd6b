package fakecloud

// Deliveries between simulated services. Each is set by the file of the
// service that receives (sns.go, lambda.go, eventbridge.go) in its init function, so a
// sender (a CloudWatch alarm action, an SNS subscription) needs no
// knowledge of the receiver. A nil hook drops the delivery, as AWS drops
// a message to a target that does not exist.
//
// Hooks run without the cloud's lock held: call them after releasing it.
var (
	// invokeLambda invokes a Lambda function asynchronously (InvocationType
	// Event) with payload, as CloudWatch alarm actions and SNS do.
	invokeLambda func(c *Cloud, functionARN string, payload []byte) error
	// invokeLambdaAs invokes a Lambda function asynchronously on behalf of
	// the service principal for sourceARN (an EventBridge rule), which
	// the function's resource policy must allow; kind names the
	// invocation in the fake's record ("eventbridge").
	invokeLambdaAs func(c *Cloud, functionARN, principal, sourceARN, kind string, payload []byte) error
	// publishSNS publishes a message to a topic, as CloudWatch alarm
	// actions do.
	publishSNS func(c *Cloud, topicARN, subject, message string) error
	// publishEvent puts an event on the default event bus, as CloudWatch
	// does for every alarm state change; the rules that match it deliver
	// it to their targets.
	publishEvent func(c *Cloud, event []byte)
)
