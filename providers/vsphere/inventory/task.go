package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// WaitTask waits for a task by reading its state, starting at 50 ms and
// backing off to 1 s. govmomi's Task.Wait puts a filter on the session's
// shared property collector, which many reconciles at once cannot share
// (and which vcsim crashes on); one read per step needs no collector.
func WaitTask(ctx context.Context, task *object.Task) error {
	delay := 50 * time.Millisecond
	for {
		done, taskErr, err := TaskState(ctx, task.Client(), task.Reference().Value)
		if err != nil {
			return err
		}
		if done {
			return taskErr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// TaskState reads a task's state once. A task vCenter no longer knows is
// done: vCenter forgets finished tasks. taskErr is a finished task's
// failure; it keeps the fault, so callers can test it with fault.Is.
func TaskState(ctx context.Context, c *vim25.Client, ref string) (done bool, taskErr error, err error) {
	var t mo.Task
	moref := types.ManagedObjectReference{Type: "Task", Value: ref}
	if err := property.DefaultCollector(c).RetrieveOne(ctx, moref, []string{"info.state", "info.error"}, &t); err != nil {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return true, nil, nil
		}
		return false, nil, fmt.Errorf("failed to read task %s: %w", ref, err)
	}
	switch t.Info.State {
	case types.TaskInfoStateSuccess:
		return true, nil, nil
	case types.TaskInfoStateError:
		if t.Info.Error != nil {
			return true, taskError{t.Info.Error}, nil
		}
		return true, errors.New("task failed"), nil
	}
	return false, nil, nil
}

// taskError keeps the fault so callers can test it with fault.Is.
type taskError struct{ *types.LocalizedMethodFault }

func (e taskError) Error() string { return e.LocalizedMessage }

// Fault returns the task's fault.
func (e taskError) Fault() types.BaseMethodFault { return e.LocalizedMethodFault.Fault }
