package appliance

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/go-viper/mapstructure/v2"
	nativeerrors "github.com/haproxytech/client-native/v6/errors"
	"github.com/haproxytech/client-native/v6/misc"
	"github.com/haproxytech/client-native/v6/models"
)

// runtimeAPI reads the running worker through its stats socket and parses
// the answers into client-native's models as client-native's runtime
// package does (show stat, show info, show servers state). That package
// itself is not used: it links "testing" into the binary (its HAProxy mock).
type runtimeAPI struct {
	sock string
}

// runtimeTimeout bounds one command; the worker pauses its socket while a
// reload is attempted.
const runtimeTimeout = 10 * time.Second

// command sends one command and returns the whole answer (the stats socket
// closes the connection after it in non-interactive mode).
func (r runtimeAPI) command(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", r.sock, runtimeTimeout)
	if err != nil {
		return "", fmt.Errorf("failed to reach haproxy's runtime API at %s: %w", r.sock, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(runtimeTimeout))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", fmt.Errorf("failed to send %q to haproxy's runtime API: %w", cmd, err)
	}
	out, err := io.ReadAll(io.LimitReader(c, 64<<20))
	if err != nil {
		return "", fmt.Errorf("failed to read haproxy's answer to %q: %w", cmd, err)
	}
	return string(out), nil
}

// stats is "show stat" as models.NativeStats: one entry per frontend,
// backend and server (servers carry their backend's name); listener lines
// come with neither name nor type, as client-native leaves them.
func (r runtimeAPI) stats() models.NativeStats {
	st := models.NativeStats{RuntimeAPI: r.sock}
	raw, err := r.command("show stat")
	if err != nil {
		st.Error = err.Error()
		return st
	}
	lines := strings.Split(strings.TrimPrefix(raw, "# "), "\n")
	keys := strings.Split(lines[0], ",")
	st.Stats = []*models.NativeStat{}
	for _, line := range lines[1:] {
		fields := strings.Split(line, ",")
		if len(fields) < len(keys) {
			continue
		}
		item := &models.NativeStat{}
		data := map[string]string{}
		for i, key := range keys {
			if fields[i] != "" {
				data[key] = fields[i]
			}
			if key != "type" {
				continue
			}
			switch fields[i] {
			case "0", "1":
				item.Name, item.Type = fields[0], strings.ToLower(fields[1])
			case "2":
				item.Name, item.Type, item.BackendName = fields[1], "server", fields[0]
			}
		}
		var stats models.NativeStatStats
		if err := decodeWeakly(data, &stats); err != nil {
			continue
		}
		item.Stats = &stats
		st.Stats = append(st.Stats, item)
	}
	return st
}

// infoFields maps "show info" names to ProcessInfoItem's JSON names.
var infoFields = map[string]string{
	"Version": "version", "Nbthread": "nbthread", "Nbproc": "processes", "Process_num": "process_num",
	"Pid": "pid", "Uptime_sec": "uptime", "Memmax_MB": "mem_max_mb", "PoolAlloc_MB": "pool_alloc_mb",
	"PoolUsed_MB": "pool_used_mb", "PoolFailed": "pool_failed", "Ulimit-n": "ulimit_n", "Maxsock": "max_sock",
	"Maxconn": "max_conn", "Hard_maxconn": "hard_max_conn", "CurrConns": "curr_conns", "CumConns": "cum_conns",
	"CumReq": "cum_req", "MaxSslConns": "max_ssl_conns", "CurrSslConns": "curr_ssl_conns",
	"CumSslConns": "cum_ssl_conns", "Maxpipes": "max_pipes", "PipesUsed": "pipes_used", "PipesFree": "pipes_free",
	"ConnRate": "conn_rate", "ConnRateLimit": "conn_rate_limit", "MaxConnRate": "max_conn_rate",
	"SessRate": "sess_rate", "SessRateLimit": "sess_rate_limit", "MaxSessRate": "max_sess_rate",
	"SslRate": "ssl_rate", "SslRateLimit": "ssl_rate_limit", "MaxSslRate": "max_ssl_rate",
	"SslFrontendKeyRate": "ssl_frontend_key_rate", "SslFrontendMaxKeyRate": "ssl_frontend_max_key_rate",
	"SslFrontendSessionReuse_pct": "ssl_frontend_session_reuse", "SslBackendKeyRate": "ssl_backend_key_rate",
	"SslBackendMaxKeyRate": "ssl_backend_max_key_rate", "SslCacheLookups": "ssl_cache_lookups",
	"SslCacheMisses": "ssl_cache_misses", "CompressBpsIn": "compress_bps_in", "CompressBpsOut": "compress_bps_out",
	"CompressBpsRateLim": "compress_bps_rate_lim", "ZlibMemUsage": "zlib_mem_usage",
	"MaxZlibMemUsage": "max_zlib_mem_usage", "Tasks": "tasks", "Run_queue": "run_queue", "Idle_pct": "idle_pct",
	"node": "node", "Stopping": "stopping", "Jobs": "jobs", "Unstoppable Jobs": "unstoppable",
	"Listeners": "listeners", "ActivePeers": "active_peers", "ConnectedPeers": "connected_peers",
	"DroppedLogs": "dropped_logs", "BusyPolling": "busy_polling", "FailedResolutions": "failed_resolutions",
	"TotalBytesOut": "total_bytes_out", "BytesOutRate": "bytes_out_rate",
}

// info is "show info" as models.ProcessInfo.
func (r runtimeAPI) info() models.ProcessInfo {
	pi := models.ProcessInfo{RuntimeAPI: r.sock}
	raw, err := r.command("show info")
	if err != nil {
		pi.Error = err.Error()
		return pi
	}
	data := map[string]string{}
	item := &models.ProcessInfoItem{}
	for _, line := range strings.Split(raw, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if name == "Release_date" {
			if d, err := time.Parse("2006/01/02", value); err == nil {
				item.ReleaseDate = strfmt.Date(d)
			}
			continue
		}
		if field, ok := infoFields[name]; ok && value != "" {
			data[field] = value
		}
	}
	if err := decodeWeakly(data, item); err != nil {
		pi.Error = err.Error()
		return pi
	}
	pi.Info = item
	return pi
}

// serversState is "show servers state <backend>" as models.RuntimeServers;
// a backend the worker does not run is client-native's ErrNotFound.
func (r runtimeAPI) serversState(backend string) (models.RuntimeServers, error) {
	raw, err := r.command("show servers state " + backend)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "Can't find backend") {
		return nil, fmt.Errorf("no data for %s: %w", backend, nativeerrors.ErrNotFound)
	}
	lines := strings.Split(raw, "\n")
	if strings.TrimSpace(lines[0]) != "1" {
		return nil, fmt.Errorf("unsupported servers state format %q, want version 1", lines[0])
	}
	out := models.RuntimeServers{}
	for _, line := range lines[1:] {
		f := strings.Split(strings.TrimSpace(line), " ")
		if len(f) < 19 || strings.HasPrefix(f[0], "#") {
			continue
		}
		s := &models.RuntimeServer{ID: f[2], Name: f[3], Address: f[4]}
		if p, err := strconv.ParseInt(f[18], 10, 64); err == nil {
			s.Port = &p
		}
		s.AdminState, _ = misc.GetServerAdminState(f[6])
		switch f[5] {
		case "0":
			s.OperationalState = "down"
		case "1", "2":
			s.OperationalState = "up"
		case "3":
			s.OperationalState = "stopping"
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeWeakly fills out's JSON-tagged fields from strings, as client-native
// decodes runtime answers.
func decodeWeakly(data map[string]string, out any) error {
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: out, WeaklyTypedInput: true, TagName: "json"})
	if err != nil {
		return err
	}
	return d.Decode(data)
}
