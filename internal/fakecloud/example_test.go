package fakecloud_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// A fake cloud answers with the SDK's types and records every call.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	out, _ := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("env key")})
	_, err := cloud.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/missing")})
	fmt.Println(out.KeyMetadata.KeyState, err != nil)
	for _, c := range cloud.Calls() {
		fmt.Printf("%s %s write=%v code=%q\n", c.Service, c.Op, c.Write, c.Code)
	}
	// Output:
	// Enabled true
	// KMS CreateKey write=true code=""
	// KMS DescribeKey write=false code="NotFoundException"
}
