package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vmware/govmomi/vim25"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
	"github.com/open-supervisor/supervisor/server/vapi"
)

// vcenterReader reads vCenter through the supervisor's own session, made
// on first use: storage policies and portgroups for the Workload
// Management controllers, everything for the REST API's validation.
type vcenterReader struct {
	sessions *session.Cache
	params   session.Params
}

func (v *vcenterReader) client(ctx context.Context) (*vim25.Client, error) {
	s, err := v.sessions.Get(ctx, v.params)
	if err != nil {
		return nil, err
	}
	return s.Client, nil
}

// List lists vCenter's storage policies.
func (v *vcenterReader) List(ctx context.Context) ([]storagepolicy.Policy, error) {
	c, err := v.client(ctx)
	if err != nil {
		return nil, err
	}
	return (&storagepolicy.Finder{Client: c}).List(ctx)
}

// PortGroupName names a portgroup by managed object id.
func (v *vcenterReader) PortGroupName(ctx context.Context, moref string) (string, bool, error) {
	c, err := v.client(ctx)
	if err != nil {
		return "", false, err
	}
	return (&inventory.PortGroups{Client: c}).PortGroupName(ctx, moref)
}

// serveWorkloadManagementAPI serves vCenter's Workload Management REST
// API in front of vCenter at --vapi-bind-address, over TLS with the given
// certificate, for as long as the manager runs.
func serveWorkloadManagementAPI(mgr ctrl.Manager, o options, vr *vcenterReader, policies *storagepolicy.Cache) error {
	if o.vapiAddr == "" {
		return nil
	}
	if o.vapiCertFile == "" || o.vapiKeyFile == "" {
		return errors.New("--vapi-bind-address needs --vapi-tls-cert-file and --vapi-tls-key-file")
	}
	u, err := vr.params.URL()
	if err != nil {
		return err
	}
	api := vapi.New(vapi.Options{
		VCenter: u, CAFile: o.vcCAFile, Insecure: o.vcInsecure,
		Client: mgr.GetClient(), VCenterClient: vr.client, StoragePolicies: policies,
	})
	front, err := vapi.NewFront(api, u, o.vcCAFile, o.vcInsecure)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: o.vapiAddr, Handler: front, ReadHeaderTimeout: 10 * time.Second}
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- srv.ListenAndServeTLS(o.vapiCertFile, o.vapiKeyFile) }()
		ctrl.Log.Info("Serving the Workload Management API", "address", o.vapiAddr)
		select {
		case err := <-errc:
			return fmt.Errorf("the Workload Management API stopped: %w", err)
		case <-ctx.Done():
			return srv.Shutdown(context.WithoutCancel(ctx))
		}
	}))
}
