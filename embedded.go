package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/embedded"
	testenv "github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/vcsim"
)

// embeddedStack is vcsim, etcd and kube-apiserver started for `make run`.
type embeddedStack struct {
	sim    *vcsim.Simulator
	env    *testenv.Environment
	config *rest.Config
	dir    string
}

func startEmbedded(ctx context.Context, o *options) (*embeddedStack, error) {
	log := ctrl.Log.WithName("embedded")
	dir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &embeddedStack{dir: dir}

	log.Info("Starting the vCenter simulator")
	if s.sim, err = vcsim.Start(ctx, vcsim.Options{BootDelay: o.bootDelay}); err != nil {
		return nil, err
	}
	log.Info("Starting etcd and kube-apiserver")
	if s.env, err = testenv.Start(o.assetsDir); err != nil {
		s.stop()
		return nil, err
	}
	user, err := s.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("failed to create the admin user: %w", err)
	}
	s.config = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o600); err != nil {
		s.stop()
		return nil, err
	}

	c, err := client.New(s.config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := embedded.Create(ctx, c, embedded.Objects(s.sim)); err != nil {
		s.stop()
		return nil, err
	}

	o.vcServer = s.sim.URL.String()
	o.vcUsername = s.sim.Username
	o.vcPassword = s.sim.Password
	o.vcCAFile = s.sim.CAFile
	o.datacenter, o.cluster = vcsim.Datacenter, vcsim.Cluster
	o.contentLibrary = vcsim.ContentLibrary
	o.defaultNetwork = embedded.WorkloadNetwork
	return s, nil
}

// addToManager runs the simulated guest and announces readiness.
func (s *embeddedStack) addToManager(mgr ctrl.Manager) error {
	if err := mgr.Add(s.sim.Guest); err != nil {
		return err
	}
	return mgr.Add(ctrlRunnable(func(ctx context.Context) error {
		if err := s.waitReady(ctx, mgr.GetClient()); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		if err := s.writeEnv(); err != nil {
			return err
		}
		fmt.Printf("\nSupervisor ready\n\n  source %s\n  kubectl get virtualmachineclasses -n %s\n  govc ls /%s/vm\n\n",
			filepath.Join(s.dir, "env"), embedded.Namespace, vcsim.Datacenter)
		<-ctx.Done()
		return nil
	}))
}

// waitReady waits for the default classes in ns1 and the published images.
func (s *embeddedStack) waitReady(ctx context.Context, c client.Client) error {
	for {
		var classes vmopv1.VirtualMachineClassList
		var images vmopv1.ClusterVirtualMachineImageList
		if c.List(ctx, &classes, client.InNamespace(embedded.Namespace)) == nil && len(classes.Items) >= 16 &&
			c.List(ctx, &images) == nil && len(images.Items) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeEnv writes the shell environment for kubectl and govc.
func (s *embeddedStack) writeEnv() error {
	env := fmt.Sprintf(`export KUBECONFIG=%s
export GOVC_URL=%s
export GOVC_USERNAME='%s'
export GOVC_PASSWORD='%s'
export GOVC_INSECURE=1
export GOVC_DATACENTER=%s
export PATH=%s:$PATH
`, filepath.Join(s.dir, "kubeconfig"), s.sim.URL.String(), s.sim.Username, s.sim.Password, vcsim.Datacenter, s.env.BinaryAssetsDirectory)
	return os.WriteFile(filepath.Join(s.dir, "env"), []byte(env), 0o600)
}

func (s *embeddedStack) stop() {
	if s.env != nil {
		_ = s.env.Stop()
	}
	if s.sim != nil {
		s.sim.Stop()
	}
	_ = os.Remove(filepath.Join(s.dir, "env"))
}

type ctrlRunnable func(context.Context) error

func (f ctrlRunnable) Start(ctx context.Context) error { return f(ctx) }
