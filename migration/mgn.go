package migration

import "context"

// ProgressRecorder records migration progress; the tracking Store
// implements it. Implementations must be safe for concurrent use: wave
// helpers record servers in parallel.
type ProgressRecorder interface {
	RecordServer(ctx context.Context, s ServerStatus) error
	RecordTransfer(ctx context.Context, t TransferStatus) error
}
