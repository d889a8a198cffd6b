package fakecloud_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/internal/fakecloud"
)

func ddbS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func ddbN(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// newTable creates an ACTIVE on-demand table with a string pk/sk key.
func newTable(t *testing.T, cloud *fakecloud.Cloud, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := cloud.DynamoDB().CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	cloud.Clock().Advance(time.Minute)
}

func TestDynamoDBTableLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	db := cloud.DynamoDB()
	key, err := cloud.KMS().CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)

	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:                 aws.String("table-1"),
		AttributeDefinitions:      []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:                 []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:               types.BillingModePayPerRequest,
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: key.KeyMetadata.Arn},
		DeletionProtectionEnabled: aws.Bool(true),
		Tags:                      []types.Tag{{Key: aws.String("cutover:env"), Value: aws.String("dev")}},
	})
	require.NoError(t, err)

	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("table-1")})
	require.NoError(t, err)
	assert.Equal(t, types.TableStatusCreating, d.Table.TableStatus)
	assert.Equal(t, aws.ToString(key.KeyMetadata.Arn), aws.ToString(d.Table.SSEDescription.KMSMasterKeyArn))
	assert.Equal(t, types.SSETypeKms, d.Table.SSEDescription.SSEType)

	// While CREATING: items are not reachable and PITR cannot be set yet.
	_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("table-1"), Key: map[string]types.AttributeValue{"pk": ddbS("a")}})
	var rnf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &rnf)
	_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("table-1"), PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	assert.Equal(t, "ContinuousBackupsUnavailableException", awsx.Code(err))

	// The SDK waiter's acceptor sees ACTIVE after a few fake seconds.
	var accept func(context.Context, *dynamodb.DescribeTableInput, *dynamodb.DescribeTableOutput, error) (bool, error)
	dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { accept = o.Retryable })
	cloud.Clock().Advance(10 * time.Second)
	d, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("table-1")})
	require.NoError(t, err)
	retry, err := accept(ctx, nil, d, nil)
	require.NoError(t, err)
	assert.False(t, retry, "ACTIVE ends the wait")

	_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("table-1"), PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	require.NoError(t, err)
	cb, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("table-1")})
	require.NoError(t, err)
	assert.Equal(t, types.PointInTimeRecoveryStatusEnabled, cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)

	// Protected tables are not deleted; UpdateTable is refused while UPDATING.
	_, err = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("table-1")})
	require.ErrorContains(t, err, "protected against deletion")
	_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("table-1"), DeletionProtectionEnabled: aws.Bool(false)})
	require.NoError(t, err)
	_, err = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("table-1")})
	var inUse *types.ResourceInUseException
	require.ErrorAs(t, err, &inUse, "UPDATING")
	cloud.Clock().Advance(10 * time.Second)
	_, err = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("table-1")})
	require.NoError(t, err)
	d, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("table-1")})
	require.NoError(t, err)
	assert.Equal(t, types.TableStatusDeleting, d.Table.TableStatus)
	cloud.Clock().Advance(10 * time.Second)
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("table-1")})
	assert.True(t, awsx.IsNotFound(err))

	// A key that does not exist is refused.
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("table-2"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		SSESpecification:     &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/nope")},
	})
	assert.Equal(t, "ValidationException", awsx.Code(err))
}

func TestDynamoDBConditionalWrites(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	db := cloud.DynamoDB()
	newTable(t, cloud, "tbl")
	key := map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("s")}
	item := map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("s"), "v": ddbN("1")}
	put := func() error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		return err
	}
	require.NoError(t, put())
	err := put()
	var ccf *types.ConditionalCheckFailedException
	require.ErrorAs(t, err, &ccf)
	assert.Equal(t, "ConditionalCheckFailedException", awsx.Code(err))
	assert.Equal(t, ddbN("1"), ccf.Item["v"], "ALL_OLD returns the item that failed the check")

	out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("tbl"), Key: key,
		UpdateExpression:          aws.String("SET v = v + :one"),
		ConditionExpression:       aws.String("v = :cur"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": ddbN("1"), ":cur": ddbN("1")},
		ReturnValues:              types.ReturnValueAllNew})
	require.NoError(t, err)
	assert.Equal(t, ddbN("2"), out.Attributes["v"])

	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("tbl"), Key: key,
		UpdateExpression: aws.String("SET pk = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": ddbS("x")}})
	require.ErrorContains(t, err, "This attribute is part of the key")

	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("tbl"), Key: key,
		ConditionExpression: aws.String("v = :old"), ExpressionAttributeValues: map[string]types.AttributeValue{":old": ddbN("1")}})
	require.ErrorAs(t, err, &ccf)
	assert.Len(t, db.TableItems("tbl"), 1, "a failed condition deletes nothing")

	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("big"), "blob": ddbS(string(bytes.Repeat([]byte("x"), 401*1024)))}})
	require.ErrorContains(t, err, "Item size has exceeded the maximum allowed size")
	_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": ddbS("p")}})
	require.ErrorContains(t, err, "The provided key element does not match the schema")
}

func TestDynamoDBTransactionCancellationReasons(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	db := cloud.DynamoDB()
	newTable(t, cloud, "tbl")
	db.PutRawItem("tbl", map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("state"), "phase": ddbS("validated"), "version": ddbN("4")})

	tx := func(version string) error {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("state")},
				UpdateExpression:                    aws.String("SET #ph = :to, #v = #v + :one"),
				ConditionExpression:                 aws.String("#ph = :from AND #v = :v"),
				ExpressionAttributeNames:            map[string]string{"#ph": "phase", "#v": "version"},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":to": ddbS("cutting-over"), ":from": ddbS("validated"), ":v": ddbN(version), ":one": ddbN("1")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			{Put: &types.Put{TableName: aws.String("tbl"), Item: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("event#1")},
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}})
		return err
	}
	err := tx("3")
	var tce *types.TransactionCanceledException
	require.ErrorAs(t, err, &tce)
	require.Len(t, tce.CancellationReasons, 2)
	assert.Equal(t, "ConditionalCheckFailed", aws.ToString(tce.CancellationReasons[0].Code))
	assert.Equal(t, ddbN("4"), tce.CancellationReasons[0].Item["version"])
	assert.Equal(t, "None", aws.ToString(tce.CancellationReasons[1].Code))
	assert.Contains(t, tce.Error(), "[ConditionalCheckFailed, None]")
	assert.Len(t, db.TableItems("tbl"), 1, "a cancelled transaction writes nothing")

	require.NoError(t, tx("4"))
	items := db.TableItems("tbl")
	require.Len(t, items, 2)
	assert.Equal(t, ddbN("5"), items[1]["version"])

	// One item twice in a transaction is a validation error.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("tbl"), Item: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("x")}}},
		{Delete: &types.Delete{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("x")}}},
	}})
	require.ErrorContains(t, err, "multiple operations on one item")
}

func TestDynamoDBRaceHasOneWinner(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	db := cloud.DynamoDB()
	newTable(t, cloud, "tbl")
	var wg sync.WaitGroup
	results := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"),
				Item:                map[string]types.AttributeValue{"pk": ddbS("lease"), "sk": ddbS("lease"), "owner": ddbS(fmt.Sprint(i))},
				ConditionExpression: aws.String("attribute_not_exists(pk)")})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won, lost := 0, 0
	for err := range results {
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			won++
		case errors.As(err, &ccf):
			lost++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, 15, lost)
}

func TestDynamoDBQueryPaging(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	db := cloud.DynamoDB()
	newTable(t, cloud, "tbl")
	for i := range 25 {
		db.PutRawItem("tbl", map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS(fmt.Sprintf("event#%03d", i)), "n": ddbN(fmt.Sprint(i))})
	}
	db.PutRawItem("tbl", map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("state#a")})
	db.PutRawItem("tbl", map[string]types.AttributeValue{"pk": ddbS("other"), "sk": ddbS("event#000")})

	collect := func(in *dynamodb.QueryInput) ([]string, int) {
		var out []string
		pages := 0
		p := dynamodb.NewQueryPaginator(db, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			require.NoError(t, err)
			pages++
			for _, it := range page.Items {
				out = append(out, it["sk"].(*types.AttributeValueMemberS).Value)
			}
		}
		return out, pages
	}
	all, pages := collect(&dynamodb.QueryInput{TableName: aws.String("tbl"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": ddbS("p")}, Limit: aws.Int32(10)})
	assert.Len(t, all, 26)
	assert.Equal(t, "event#000", all[0])
	assert.Equal(t, "state#a", all[25])
	assert.Equal(t, 3, pages, "10 + 10 + 6")

	desc, _ := collect(&dynamodb.QueryInput{TableName: aws.String("tbl"), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :e)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": ddbS("p"), ":e": ddbS("event#")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(7)})
	require.Len(t, desc, 25)
	assert.Equal(t, "event#024", desc[0])

	between, _ := collect(&dynamodb.QueryInput{TableName: aws.String("tbl"), KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": ddbS("p"), ":a": ddbS("event#010"), ":b": ddbS("event#012")}})
	assert.Equal(t, []string{"event#010", "event#011", "event#012"}, between)

	// Limit applies before the filter, as in DynamoDB.
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("tbl"), KeyConditionExpression: aws.String("pk = :p"),
		FilterExpression:          aws.String("n >= :twenty"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": ddbS("p"), ":twenty": ddbN("20")}, Limit: aws.Int32(5)})
	require.NoError(t, err)
	assert.Equal(t, int32(0), out.Count)
	assert.Equal(t, int32(5), out.ScannedCount)
	assert.NotEmpty(t, out.LastEvaluatedKey)

	_, err = db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("tbl"), KeyConditionExpression: aws.String("sk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": ddbS("p")}})
	require.ErrorContains(t, err, "Query condition missed key schema element: pk")
}

func TestDynamoDBSaveLoad(t *testing.T) {
	ctx := context.Background()
	cloud := fakecloud.New()
	newTable(t, cloud, "tbl")
	item := map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("s"), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{ddbN("1.5"), &types.AttributeValueMemberBOOL{Value: true}}}, "b": &types.AttributeValueMemberB{Value: []byte{1, 2}},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a"}}, "null": &types.AttributeValueMemberNULL{Value: true}}
	_, err := cloud.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, cloud.Save(&buf))
	loaded, err := fakecloud.Load(&buf, 0)
	require.NoError(t, err)
	got, err := loaded.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": ddbS("p"), "sk": ddbS("s")}})
	require.NoError(t, err)
	assert.Equal(t, item, got.Item)
}
