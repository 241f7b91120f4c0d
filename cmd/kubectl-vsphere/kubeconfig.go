package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigPath is the file login writes: the first of $KUBECONFIG's
// list, else ~/.kube/config.
func kubeconfigPath(getenv func(string) string) (string, error) {
	for _, path := range filepath.SplitList(getenv("KUBECONFIG")) {
		if path != "" {
			return path, nil
		}
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("failed to find the kubeconfig: set KUBECONFIG or HOME: %w", err)
		}
	}
	return filepath.Join(home, ".kube", "config"), nil
}

// loadKubeconfig reads the kubeconfig at path; a missing file is an empty
// configuration.
func loadKubeconfig(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// updateKubeconfig applies change to the kubeconfig at path and writes
// the result, holding kubectl's lock file (<path>.lock) meanwhile so that
// a concurrent `kubectl config` does not lose either change. change
// returns nil to leave the file alone.
func updateKubeconfig(path string, change func(*clientcmdapi.Config) (*clientcmdapi.Config, error)) error {
	path, err := resolveSymlink(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create the kubeconfig's directory: %w", err)
	}
	unlock, err := lockKubeconfig(path)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := loadKubeconfig(path)
	if err != nil {
		return err
	}
	updated, err := change(cfg)
	if err != nil || updated == nil {
		return err
	}
	return writeKubeconfig(path, updated)
}

// resolveSymlink follows a symlinked kubeconfig, so that the rename in
// writeKubeconfig replaces the file and not the link.
func resolveSymlink(path string) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	switch {
	case err == nil:
		return resolved, nil
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	default:
		return "", fmt.Errorf("failed to resolve the kubeconfig %s: %w", path, err)
	}
}

// lockKubeconfig takes the lock file client-go's ModifyConfig uses.
func lockKubeconfig(path string) (func(), error) {
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("the kubeconfig %s is being changed by another program (delete %s if none is running)", path, lock)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to lock the kubeconfig %s: %w", path, err)
	}
	_ = f.Close()
	return func() { _ = os.Remove(lock) }, nil
}

// writeKubeconfig replaces the file at path with cfg, with mode 0600: a
// temporary file renamed over it, so that a reader never sees half a file
// and a crash leaves the old one.
func writeKubeconfig(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("failed to encode the kubeconfig: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("failed to write the kubeconfig %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after the rename, a no-op
	if err := writeAndClose(tmp, data); err != nil {
		return fmt.Errorf("failed to write the kubeconfig %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to write the kubeconfig %s: %w", path, err)
	}
	return nil
}

func writeAndClose(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}
