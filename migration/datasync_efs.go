package migration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// DataSyncEFSRoleSpec returns the role DataSync mounts the target file
// system with, "datasync-efs-access-<suffix>": trusted by
// datasync.amazonaws.com for this account's DataSync resources only
// (aws:SourceAccount and aws:SourceArn, against the confused deputy). It
// holds no permissions policy: the file system's policy (FileSystemPolicy)
// grants it ClientMount, ClientWrite and ClientRootAccess on that file
// system, through a mount target and over TLS, and nothing else does.
func DataSyncEFSRoleSpec(env Env) RoleSpec {
	return RoleSpec{
		Name:        env.Name("datasync-efs-access"),
		Description: "DataSync mounts the migrated file share's EFS file system " + FileSystemName(env),
		Trust: NewPolicy(Statement{
			Effect: "Allow", Principal: ServicePrincipal("datasync.amazonaws.com"), Action: Strings{"sts:AssumeRole"},
			Condition: Condition{
				"StringEquals": {"aws:SourceAccount": {env.Account}},
				"ArnLike":      {"aws:SourceArn": {"arn:aws:datasync:" + env.Region + ":" + env.Account + ":*"}},
			},
		}),
	}
}

// SubnetARN returns the ARN of a subnet of the env's account and Region.
func SubnetARN(env Env, id string) string {
	return "arn:aws:ec2:" + env.Region + ":" + env.Account + ":subnet/" + id
}

// SecurityGroupARN returns the ARN of a security group of the env's
// account and Region.
func SecurityGroupARN(env Env, id string) string {
	return "arn:aws:ec2:" + env.Region + ":" + env.Account + ":security-group/" + id
}

// EnsureEFSLocation makes the env's destination location
// "datasync-target-files-<suffix>" exist and converge for an EFS target:
// the file system fs (EnsureFileSystem's result) under
// spec.EFSSubdirectory, DataSync's network interfaces in the first subnet
// of spec.EFS with the mount targets' security group (fs.SecurityGroupID,
// which accepts NFS from itself), TLS 1.2 in transit, mounted with the
// role of DataSyncEFSRoleSpec, and the env's tags.
//
// The file system and the network configuration are immutable (a
// location of another file system, subnet or group is refused, as is a
// location of the S3 target); the subdirectory, the role and the
// encryption converge. DataSync tests access when it creates the
// location: a new role or file system policy takes a while to apply, so
// the create is retried, bounded, while DataSync reports it cannot
// mount. A location whose parents are pending (dry run) is reported as a
// create without calling AWS. Idempotent.
func EnsureEFSLocation(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec, fs FileSystem) (Location, error) {
	name := targetLocationName(env)
	if err := spec.validateIn(env); err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	if spec.Target != FileTargetEFS {
		return Location{}, fmt.Errorf("ensure datasync location %q: transfer.target is %q, not efs", name, spec.Target)
	}
	l, err := ensureEFSLocation(ctx, env, api, spec, fs, name)
	if err != nil {
		return Location{}, fmt.Errorf("ensure datasync location %q: %w", name, err)
	}
	return l, nil
}

func ensureEFSLocation(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec, fs FileSystem, name string) (Location, error) {
	subnet := spec.EFS.SubnetIDs[0]
	if AnyPending(fs.ID, fs.SecurityGroupID, subnet) {
		env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: Pending(name), Action: ActionCreate})
		return Location{Name: name, ARN: Pending(name)}, nil
	}
	if fs.ID == "" || fs.ARN == "" || fs.SecurityGroupID == "" {
		return Location{}, fmt.Errorf("the file system's ID, ARN and security group are required (EnsureFileSystem's result)")
	}
	subnetARN := SubnetARN(env, subnet)
	groups := []string{SecurityGroupARN(env, fs.SecurityGroupID)}
	role := RoleARN(env, DataSyncEFSRoleSpec(env))
	subdir := spec.efsSubdir()
	found, err := findLocation(ctx, env, api, name)
	if err != nil {
		return Location{}, err
	}
	tags := env.NameTags(name)
	if found == nil {
		if env.DryRun {
			env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: Pending(name), Action: ActionCreate})
			return Location{Name: name, ARN: Pending(name)}, nil
		}
		var arn string
		// DataSync mounts the file system to test access: retry while a
		// new role, policy or mount target is not in effect yet.
		err := env.Retry(ctx, []string{"InvalidRequestException"}, func(ctx context.Context) error {
			out, err := api.CreateLocationEfs(ctx, &datasync.CreateLocationEfsInput{
				EfsFilesystemArn: aws.String(fs.ARN), Subdirectory: aws.String(subdir),
				Ec2Config:           &dstypes.Ec2Config{SubnetArn: aws.String(subnetARN), SecurityGroupArns: groups},
				InTransitEncryption: dstypes.EfsInTransitEncryptionTls12, FileSystemAccessRoleArn: aws.String(role), Tags: dataSyncTagList(tags),
			})
			if err == nil {
				arn = aws.ToString(out.LocationArn)
			}
			return err
		})
		if err != nil {
			return Location{}, fmt.Errorf("create efs location: %w", err)
		}
		env.Report(Change{Kind: KindDataSyncLocation, Name: name, ID: arn, Action: ActionCreate})
		return Location{Name: name, ARN: arn}, nil
	}
	scheme, host, path := splitURI(found.uri)
	if scheme != "efs" || !strings.HasSuffix(host, "."+fs.ID) {
		return Location{}, fmt.Errorf("file system is immutable: %s is %s, the spec wants file system %s; delete the location (and the task) and apply again", found.arn, found.uri, fs.ID)
	}
	d, err := api.DescribeLocationEfs(ctx, &datasync.DescribeLocationEfsInput{LocationArn: aws.String(found.arn)})
	if err != nil {
		return Location{}, fmt.Errorf("describe %s: %w", found.arn, err)
	}
	var haveSubnet string
	var haveGroups []string
	if d.Ec2Config != nil {
		haveSubnet, haveGroups = aws.ToString(d.Ec2Config.SubnetArn), d.Ec2Config.SecurityGroupArns
	}
	if haveSubnet != subnetARN || !slices.Equal(slices.Sorted(slices.Values(haveGroups)), groups) {
		return Location{}, fmt.Errorf("ec2Config is immutable: %s uses subnet %s and groups %v, the spec wants %s and %v; delete the location (and the task) and apply again",
			found.arn, haveSubnet, haveGroups, subnetARN, groups)
	}
	var diff []FieldDiff
	if path != cleanSubdir(subdir) {
		diff = append(diff, FieldDiff{Field: "subdirectory", From: path, To: cleanSubdir(subdir)})
	}
	if have := aws.ToString(d.FileSystemAccessRoleArn); have != role {
		diff = append(diff, FieldDiff{Field: "fileSystemAccessRole", From: have, To: role})
	}
	if d.InTransitEncryption != dstypes.EfsInTransitEncryptionTls12 {
		diff = append(diff, FieldDiff{Field: "inTransitEncryption", From: string(d.InTransitEncryption), To: string(dstypes.EfsInTransitEncryptionTls12)})
	}
	var c Converge
	c.FixAll(diff, func() error {
		if _, err := api.UpdateLocationEfs(ctx, &datasync.UpdateLocationEfsInput{LocationArn: aws.String(found.arn), Subdirectory: aws.String(subdir),
			FileSystemAccessRoleArn: aws.String(role), InTransitEncryption: dstypes.EfsInTransitEncryptionTls12}); err != nil {
			return fmt.Errorf("update %s: %w", found.arn, err)
		}
		return nil
	})
	c.Tags(found.tags, tags, tagDataSync(ctx, api, found.arn))
	if err := c.Apply(env, Change{Kind: KindDataSyncLocation, Name: name, ID: found.arn}); err != nil {
		return Location{}, err
	}
	return Location{Name: name, ARN: found.arn}, nil
}

// DeleteEFSLocation deletes the env's destination location of an EFS
// target (not the file system: see DeleteFileSystem). Same rules as
// DeleteSourceLocation.
func DeleteEFSLocation(ctx context.Context, env Env, api DataSyncAPI, spec FileTransferSpec) error {
	if err := spec.validateIn(env); err != nil {
		return fmt.Errorf("delete datasync location %q: %w", targetLocationName(env), err)
	}
	return deleteLocation(ctx, env, api, targetLocationName(env))
}

// ensureEFSFileTransfer is EnsureFileTransfer for an EFS target.
func ensureEFSFileTransfer(ctx context.Context, env Env, c FileTransferClients, spec FileTransferSpec) (FileTransfer, error) {
	var ft FileTransfer
	var err error
	// The role first: the file system's policy names it.
	if ft.Role, err = EnsureRole(ctx, env, c.IAM, DataSyncEFSRoleSpec(env)); err != nil {
		return ft, err
	}
	if ft.LogGroup, err = EnsureDataSyncLogs(ctx, env, c.Logs, spec); err != nil {
		return ft, err
	}
	if ft.SourceLocation, err = EnsureSourceLocation(ctx, env, c.DataSync, c.Secrets, spec); err != nil {
		return ft, err
	}
	if ft.FileSystem, err = EnsureFileSystem(ctx, env, FileSystemClients{EFS: c.EFS, EC2: c.EC2}, spec.fileSystemSpec(env)); err != nil {
		return ft, err
	}
	if ft.TargetLocation, err = EnsureEFSLocation(ctx, env, c.DataSync, spec, ft.FileSystem); err != nil {
		return ft, err
	}
	links := TaskLinks{SourceLocationARN: ft.SourceLocation.ARN, DestinationLocationARN: ft.TargetLocation.ARN, LogGroupARN: ft.LogGroup.ARN}
	if ft.Task, err = EnsureTransferTask(ctx, env, c.DataSync, spec, links); err != nil {
		return ft, err
	}
	return ft, nil
}

// deleteEFSFileTransfer is DeleteFileTransfer for an EFS target, after
// the task.
func deleteEFSFileTransfer(ctx context.Context, env Env, c FileTransferClients, spec FileTransferSpec) error {
	errs := []error{
		DeleteSourceLocation(ctx, env, c.DataSync, spec),
		DeleteEFSLocation(ctx, env, c.DataSync, spec),
		DeleteDataSyncLogs(ctx, env, c.Logs, spec),
	}
	fsErr := DeleteFileSystem(ctx, env, FileSystemClients{EFS: c.EFS, EC2: c.EC2}, spec.fileSystemSpec(env))
	errs = append(errs, fsErr)
	if fsErr == nil {
		errs = append(errs, DeleteRole(ctx, env, c.IAM, DataSyncEFSRoleSpec(env)))
	} else {
		role := DataSyncEFSRoleSpec(env).Name
		env.Report(Change{Kind: KindRole, Name: role, Action: ActionNoop, Note: "kept: the file system stays and its policy names the role"})
	}
	return errors.Join(errs...)
}
