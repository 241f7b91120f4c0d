package vapi

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
)

// dataPlaneProbe is one Data Plane API to probe.
type dataPlaneProbe struct {
	Host     string
	Port     int
	Username string
	Password string
	CAPEM    string
}

// probeTimeout bounds one Data Plane API probe.
const probeTimeout = 10 * time.Second

// probeDataPlaneAPI checks that a Data Plane API answers over TLS that
// verifies against its CA chain, and accepts the credentials (a version
// read needs them).
func probeDataPlaneAPI(ctx context.Context, p dataPlaneProbe) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	hc, err := dataplane.NewHTTPClient([]byte(p.CAPEM), false)
	if err != nil {
		return fmt.Errorf("the certificate authority chain does not parse: %w", err)
	}
	c := &dataplane.Client{
		BaseURL: "https://" + net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		HTTP:    hc, Username: p.Username, Password: p.Password,
	}
	if _, err := c.Detect(ctx); err != nil {
		return err
	}
	if _, err := c.Version(ctx); err != nil {
		return err
	}
	return nil
}
