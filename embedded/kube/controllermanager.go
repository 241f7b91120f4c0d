package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const controllerManagerBinary = "kube-controller-manager"

// controllers are the kube-controller-manager controllers the embedded
// control plane runs: what the supervisor's controllers and its users rely
// on in any cluster. Workload controllers (Deployments, Jobs, nodes,
// endpoints) are left out: no Pods run on the supervisor's control plane,
// and each controller costs CPU on a developer's machine.
var controllers = []string{
	// Deletes objects whose owners are gone: the cascade of every
	// TanzuKubernetesCluster, VSphereMachine and VSphereCluster.
	"garbage-collector-controller",
	// Empties and removes deleted namespaces (`kubectl delete namespace`).
	"namespace-controller",
	// Lift the kubernetes.io/pvc-protection and pv-protection finalizers
	// that the StorageObjectInUseProtection admission plugin adds.
	"persistentvolumeclaim-protection-controller",
	"persistentvolume-protection-controller",
	// Every namespace's default ServiceAccount, and the tokens of
	// kubernetes.io/service-account-token Secrets.
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	// Folds ClusterRoles labelled aggregate-to-edit/view into edit and
	// view: vSphere Namespaces' access roles cover VMs and clusters.
	"clusterrole-aggregation-controller",
}

// namespaceSyncPeriod is how often the namespace controller looks again
// at every namespace (5 minutes by default). A namespace whose content
// still has finalizers (VirtualMachines whose VMs are being destroyed) is
// otherwise retried only after 8 seconds; looking every second brings
// that down to the controller's fixed 5-second delay after an event.
const namespaceSyncPeriod = time.Second

// controllerManagerStartTimeout bounds how long the controllers may take
// to start.
const controllerManagerStartTimeout = time.Minute

// controllerManagerStopTimeout is how long kube-controller-manager has to
// exit after SIGTERM before it is killed.
const controllerManagerStopTimeout = 10 * time.Second

// controllerManager is a running kube-controller-manager.
type controllerManager struct {
	cmd *exec.Cmd
	// exited is closed once the process ended; err is then its exit error.
	exited chan struct{}
	err    error
	// logPath receives its stdout and stderr.
	logPath string
	logFile *os.File
	// tempDir is removed on stop; "" when the files are in a state dir.
	tempDir string
}

// startControllerManager starts kube-controller-manager against env's API
// server, with a client certificate of its own in system:masters (the
// controllers run with its credentials, as
// --use-service-account-credentials=false has them), no leader election
// (it is the only instance), no serving endpoint, and the API server's
// service-account signing key for the token controller. Its log goes to
// stateDir (a temporary directory if ""). It returns once the controllers
// run: the service-account controller has created the default namespace's
// ServiceAccount. On error it leaves nothing behind.
func startControllerManager(env *envtest.Environment, admin *rest.Config, assetsDir, stateDir string) (_ *controllerManager, reterr error) {
	cm := &controllerManager{exited: make(chan struct{})}
	dir := stateDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kube-controller-manager-"); err != nil {
			return nil, fmt.Errorf("failed to create kube-controller-manager's directory: %w", err)
		}
		cm.tempDir = dir
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create kube-controller-manager's directory: %w", err)
	}
	defer func() {
		if reterr != nil {
			_ = cm.stop()
		}
	}()

	user, err := env.AddUser(envtest.User{Name: controllerManagerBinary, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to create kube-controller-manager's user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to write kube-controller-manager's kubeconfig: %w", err)
	}
	kubeconfigPath := filepath.Join(dir, controllerManagerBinary+".kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return nil, fmt.Errorf("failed to write kube-controller-manager's kubeconfig: %w", err)
	}
	// envtest generates the key the API server signs service-account
	// tokens with (--service-account-signing-key-file) in its cert dir.
	saKey := filepath.Join(env.ControlPlane.GetAPIServer().CertDir, "sa-signer.key")
	if _, err := os.Stat(saKey); err != nil {
		return nil, fmt.Errorf("the API server's service-account signing key: %w", err)
	}

	cm.logPath = filepath.Join(dir, controllerManagerBinary+".log")
	if cm.logFile, err = os.Create(cm.logPath); err != nil {
		return nil, fmt.Errorf("failed to create kube-controller-manager's log: %w", err)
	}
	cm.cmd = exec.Command(filepath.Join(assetsDir, controllerManagerBinary),
		"--kubeconfig="+kubeconfigPath,
		"--controllers="+strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0",
		"--service-account-private-key-file="+saKey,
		"--namespace-sync-period="+namespaceSyncPeriod.String(),
		// The API server is local and shared with nothing else: don't
		// throttle a cascade of a whole cluster's objects at 20 requests/s.
		"--kube-api-qps=100", "--kube-api-burst=200",
	)
	cm.cmd.Stdout, cm.cmd.Stderr = cm.logFile, cm.logFile
	if err := cm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start %s: %w", cm.cmd.Path, err)
	}
	go func() {
		cm.err = cm.cmd.Wait()
		close(cm.exited)
	}()
	if err := cm.waitForControllers(admin); err != nil {
		return nil, err
	}
	return cm, nil
}

// waitForControllers returns once the default namespace has its default
// ServiceAccount, which the service-account controller creates as soon as
// the controllers run, or with the log's end if the process exited.
func (cm *controllerManager) waitForControllers(admin *rest.Config) error {
	c, err := client.New(admin, client.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), controllerManagerStartTimeout)
	defer cancel()
	var last error
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case <-cm.exited:
			return false, fmt.Errorf("kube-controller-manager exited (%v); its log %s ends:\n%s", cm.err, cm.logPath, LogTail(cm.logPath, 20))
		default:
		}
		last = c.Get(ctx, client.ObjectKey{Namespace: corev1.NamespaceDefault, Name: "default"}, &corev1.ServiceAccount{})
		if apierrors.IsNotFound(last) {
			return false, nil
		}
		return last == nil, nil
	})
	if wait.Interrupted(err) {
		return fmt.Errorf("kube-controller-manager's controllers did not start within %s (last error: %v); see %s",
			controllerManagerStartTimeout, last, cm.logPath)
	}
	return err
}

// stop ends the process (SIGTERM, then SIGKILL after
// controllerManagerStopTimeout) and removes its temporary directory.
func (cm *controllerManager) stop() error {
	var errs []error
	if cm.cmd != nil && cm.cmd.Process != nil {
		_ = cm.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-cm.exited:
		case <-time.After(controllerManagerStopTimeout):
			_ = cm.cmd.Process.Kill()
			<-cm.exited
		}
	}
	if cm.logFile != nil {
		errs = append(errs, cm.logFile.Close())
	}
	if cm.tempDir != "" {
		errs = append(errs, os.RemoveAll(cm.tempDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to stop kube-controller-manager: %w", err)
	}
	return nil
}

// LogTail returns the last n lines of the file at path (a log, for an error
// saying why a process ended).
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
