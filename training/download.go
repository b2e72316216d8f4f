package training

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// OxfordPetArchives are the official archives of the Oxford-IIIT Pet dataset
// (https://www.robots.ox.ac.uk/~vgg/data/pets/, CC BY-SA 4.0).
func OxfordPetArchives() []string {
	return []string{
		"https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
		"https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
	}
}

// Download fetches each .tar.gz archive and extracts it into dir. Entries that would escape dir, links and
// special files are refused.
func Download(ctx context.Context, client *http.Client, urls []string, dir string) error {
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, u := range urls {
		if err := downloadOne(ctx, client, u, dir); err != nil {
			return err
		}
	}
	return nil
}

func downloadOne(ctx context.Context, client *http.Client, url, dir string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	if err := ExtractTarGz(resp.Body, dir); err != nil {
		return fmt.Errorf("extract %s: %w", url, err)
	}
	return nil
}

// ExtractTarGz extracts regular files and directories of a gzip-compressed tar stream into dir.
func ExtractTarGz(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(root, filepath.FromSlash(hdr.Name))
		if target != root && !strings.HasPrefix(target, root+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q escapes the target directory", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", hdr.Name, err)
			}
		default:
			return fmt.Errorf("archive entry %q: unsupported type %q (only files and directories)", hdr.Name, hdr.Typeflag)
		}
	}
}
