// Command bootstrap is a minimal Lambda main used to test that BuildZip is
// reproducible (the real rollback main is composed by the example
// program, which wires the tracking store, router and DMS tasks).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in map[string]any) (map[string]any, error) { return in, nil })
}
